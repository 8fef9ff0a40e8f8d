package ops

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// depthwiseBroadcasting is the plain formulation (per-tap Mul against a [1,1,1,C] operand), kept
// to measure what BroadcastRows buys.
func depthwiseBroadcasting(x, kernel *Node, stride int) *Node {
	dims := x.Shape().Dimensions
	h, w, c := dims[1], dims[2], dims[3]
	k := kernel.Shape().Dimensions[0]
	ho, wo := OutSize(h, k, stride), OutSize(w, k, stride)
	xp := PadHW(x, k/2)
	var sum *Node
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			tap := Slice(xp, AxisRange(), AxisRange(i, i+stride*(ho-1)+1).Stride(stride), AxisRange(j, j+stride*(wo-1)+1).Stride(stride), AxisRange())
			term := Mul(tap, Reshape(Slice(kernel, AxisElem(i), AxisElem(j), AxisRange()), 1, 1, 1, c))
			if sum == nil {
				sum = term
			} else {
				sum = Add(sum, term)
			}
		}
	}
	return sum
}

// depthwiseConvGeneral is the library's grouped convolution.
func depthwiseConvGeneral(x, kernel *Node, stride int) *Node {
	k, c := kernel.Shape().Dimensions[0], kernel.Shape().Dimensions[2]
	return Convolve(x, Reshape(kernel, k, k, 1, c)).StridePerAxis(stride, stride).PadSame().ChannelGroupCount(c).Done()
}

func benchDepthwise(b *testing.B, fn func(x, k *Node, s int) *Node, grad bool) {
	benchDepthwiseCfg(b, fn, grad, 64, 14, 96, 5)
}

func benchDepthwiseCfg(b *testing.B, fn func(x, k *Node, s int) *Node, grad bool, batch, hw, c, kk int) {
	be := backend(b)
	rng := rand.New(rand.NewPCG(1, 1))
	x := tensors.FromShape(shapes.Make(dtypes.Float32, batch, hw, hw, c))
	tensors.MustMutableFlatData[float32](x, func(f []float32) {
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
	})
	k := tensors.FromShape(shapes.Make(dtypes.Float32, kk, kk, c))
	exec, err := NewExec(be, func(x, k *Node) []*Node {
		y := fn(x, k, 1)
		if !grad {
			return []*Node{y}
		}
		loss := ReduceAllSum(Square(y))
		return Gradient(loss, x, k)
	})
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	if _, err := exec.Exec(x, k); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		outs, err := exec.Exec(x, k)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
}

// Depthwise k5 on [64,14,14,96], forward and forward+backward, in three formulations:
// go test -run XXX -bench Depthwise ./nat/supernet/ops/
func BenchmarkDepthwiseForward(b *testing.B) { benchDepthwise(b, Depthwise, false) }
func BenchmarkDepthwiseBroadcastingForward(b *testing.B) {
	benchDepthwise(b, depthwiseBroadcasting, false)
}
func BenchmarkDepthwiseConvGeneralForward(b *testing.B) {
	benchDepthwise(b, depthwiseConvGeneral, false)
}
func BenchmarkDepthwiseGradient(b *testing.B) { benchDepthwise(b, Depthwise, true) }
func BenchmarkDepthwiseBroadcastingGradient(b *testing.B) {
	benchDepthwise(b, depthwiseBroadcasting, true)
}

// depthwiseIm2colDot gathers the k*k taps and contracts them with a batched DotGeneral (batch C).
func depthwiseIm2colDot(x, kernel *Node, stride int) *Node {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	k := kernel.Shape().Dimensions[0]
	ho, wo := OutSize(h, k, stride), OutSize(w, k, stride)
	xp := PadHW(x, k/2)
	taps := make([]*Node, 0, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			taps = append(taps, Slice(xp, AxisRange(), AxisRange(i, i+stride*(ho-1)+1).Stride(stride), AxisRange(j, j+stride*(wo-1)+1).Stride(stride), AxisRange()))
		}
	}
	t := Reshape(Concatenate(taps, 3), b*ho*wo, k*k, c)
	y := DotGeneral(t, []int{1}, []int{2}, Reshape(kernel, k*k, c), []int{0}, []int{1}) // [C, N]
	return Reshape(Transpose(y, 0, 1), b, ho, wo, c)
}

func BenchmarkDepthwiseIm2colDotForward(b *testing.B)  { benchDepthwise(b, depthwiseIm2colDot, false) }
func BenchmarkDepthwiseIm2colDotGradient(b *testing.B) { benchDepthwise(b, depthwiseIm2colDot, true) }

// batchNormAutodiff is BatchNormBatch differentiated by GoMLX, to measure what
// BatchNormTrain's hand-written backward buys.
func batchNormAutodiff(x, gamma, beta *Node) *Node {
	y, _, _ := BatchNormBatch(x, gamma, beta)
	return y
}

func benchBatchNorm(b *testing.B, fn func(x, g, bt *Node) *Node) {
	be := backend(b)
	rng := rand.New(rand.NewPCG(1, 1))
	x := tensors.FromShape(shapes.Make(dtypes.Float32, 64, 16, 16, 144))
	tensors.MustMutableFlatData[float32](x, func(f []float32) {
		for i := range f {
			f[i] = float32(rng.NormFloat64())
		}
	})
	g := tensors.FromShape(shapes.Make(dtypes.Float32, 144))
	bt := tensors.FromShape(shapes.Make(dtypes.Float32, 144))
	exec, err := NewExec(be, func(x, g, bt *Node) []*Node {
		return Gradient(ReduceAllSum(Square(fn(x, g, bt))), x, g, bt)
	})
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	for i := 0; i < b.N+1; i++ {
		if i == 1 {
			b.ResetTimer()
		}
		outs, err := exec.Exec(x, g, bt)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range outs {
			o.FinalizeAll()
		}
	}
}

// Batch norm forward+backward on [64,16,16,144]:
// go test ./nat/supernet/ops -run XXX -bench BatchNorm -count 3
func BenchmarkBatchNormHandBackward(b *testing.B) {
	benchBatchNorm(b, func(x, g, bt *Node) *Node { y, _, _ := BatchNormTrain(x, g, bt); return y })
}
func BenchmarkBatchNormAutodiff(b *testing.B) { benchBatchNorm(b, batchNormAutodiff) }
