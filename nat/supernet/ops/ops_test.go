package ops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

func backend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// randTensor returns a float64 tensor with entries uniform in [-1,1).
func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = 2*rng.Float64() - 1
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// checkGradients compares GoMLX's reverse-mode gradients of sum(fn(inputs) * r), r a fixed random
// tensor, against central finite differences in float64 on a sample of entries of every input.
func checkGradients(t *testing.T, fn func(in []*Node) *Node, inputs ...*tensors.Tensor) {
	t.Helper()
	be := backend(t)
	rng := rand.New(rand.NewPCG(7, 9))
	var weight *tensors.Tensor
	lossFn := func(in []*Node) *Node {
		y := fn(in)
		if weight == nil {
			weight = randTensor(rng, y.Shape().Dimensions...)
		}
		return ReduceAllSum(Mul(y, Const(y.Graph(), weight)))
	}
	// The first call only fixes weight's shape.
	if _, err := ExecOnce(be, func(in []*Node) *Node { return lossFn(in) }, anySlice(inputs)...); err != nil {
		t.Fatal(err)
	}
	gradExec, err := NewExec(be, func(in []*Node) []*Node {
		loss := lossFn(in)
		return append([]*Node{loss}, Gradient(loss, in...)...)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer gradExec.Finalize()
	lossExec, err := NewExec(be, func(in []*Node) *Node { return lossFn(in) })
	if err != nil {
		t.Fatal(err)
	}
	defer lossExec.Finalize()
	outs, err := gradExec.Exec(anySlice(inputs)...)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-5
	for k, in := range inputs {
		grad := tensors.MustCopyFlatData[float64](outs[1+k])
		base := tensors.MustCopyFlatData[float64](in)
		for trial := 0; trial < 6; trial++ {
			idx := rng.IntN(len(base))
			eval := func(delta float64) float64 {
				v := append([]float64(nil), base...)
				v[idx] += delta
				args := anySlice(inputs)
				args[k] = tensors.FromFlatDataAndDimensions(v, in.Shape().Dimensions...)
				out, err := lossExec.Exec1(args...)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float64](out)[0]
			}
			fd := (eval(h) - eval(-h)) / (2 * h)
			if d := math.Abs(fd - grad[idx]); d > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("input %d element %d: autodiff gradient %.9g, finite difference %.9g", k, idx, grad[idx], fd)
			}
		}
	}
}

func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

func TestPointwiseMatchesNaiveConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, w := randTensor(rng, 2, 3, 4, 5), randTensor(rng, 5, 6)
	got, err := ExecOnce(backend(t), func(x, w *Node) *Node { return Pointwise(x, w) }, x, w)
	if err != nil {
		t.Fatal(err)
	}
	xv, wv, gv := tensors.MustCopyFlatData[float64](x), tensors.MustCopyFlatData[float64](w), tensors.MustCopyFlatData[float64](got)
	for p := 0; p < 2*3*4; p++ {
		for o := 0; o < 6; o++ {
			want := 0.0
			for c := 0; c < 5; c++ {
				want += xv[p*5+c] * wv[c*6+o]
			}
			if math.Abs(gv[p*6+o]-want) > 1e-12 {
				t.Fatalf("pixel %d out %d: got %g want %g", p, o, gv[p*6+o], want)
			}
		}
	}
}

// naiveDepthwise is the textbook loop, for reference.
func naiveDepthwise(x []float64, b, h, w, c int, k []float64, ks, stride int) []float64 {
	p := ks / 2
	ho, wo := OutSize(h, ks, stride), OutSize(w, ks, stride)
	out := make([]float64, b*ho*wo*c)
	for n := 0; n < b; n++ {
		for i := 0; i < ho; i++ {
			for j := 0; j < wo; j++ {
				for ch := 0; ch < c; ch++ {
					s := 0.0
					for di := 0; di < ks; di++ {
						for dj := 0; dj < ks; dj++ {
							y, xx := i*stride+di-p, j*stride+dj-p
							if y < 0 || y >= h || xx < 0 || xx >= w {
								continue
							}
							s += x[((n*h+y)*w+xx)*c+ch] * k[(di*ks+dj)*c+ch]
						}
					}
					out[((n*ho+i)*wo+j)*c+ch] = s
				}
			}
		}
	}
	return out
}

func TestDepthwiseMatchesNaiveLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, m := range DepthwiseMethods() {
		for _, train := range []bool{false, true} {
			// Maps from 1x1 up, kernels wider than the map, strides 1 and 2.
			for _, tc := range []struct{ h, w, k, s int }{{5, 5, 3, 1}, {6, 7, 3, 2}, {7, 6, 5, 2}, {9, 9, 7, 1}, {4, 4, 7, 2}, {8, 5, 7, 2}, {2, 2, 7, 1}, {3, 3, 5, 2}, {1, 1, 3, 1}, {2, 3, 3, 2}} {
				x, k := randTensor(rng, 2, tc.h, tc.w, 3), randTensor(rng, tc.k, tc.k, 3)
				got, err := ExecOnce(backend(t), func(x, k *Node) *Node {
					if train {
						return DepthwiseTrain(m, x, k, tc.s)
					}
					return DepthwiseBy(m, x, k, tc.s)
				}, x, k)
				if err != nil {
					t.Fatal(err)
				}
				want := naiveDepthwise(tensors.MustCopyFlatData[float64](x), 2, tc.h, tc.w, 3, tensors.MustCopyFlatData[float64](k), tc.k, tc.s)
				gv := tensors.MustCopyFlatData[float64](got)
				if len(gv) != len(want) {
					t.Fatalf("%v train=%v %+v: got %d values, want %d", m, train, tc, len(gv), len(want))
				}
				for i := range want {
					if math.Abs(gv[i]-want[i]) > 1e-12 {
						t.Fatalf("%v train=%v %+v: element %d got %g want %g", m, train, tc, i, gv[i], want[i])
					}
				}
			}
		}
	}
}

func TestParseDepthwiseMethod(t *testing.T) {
	for _, m := range DepthwiseMethods() {
		got, err := ParseDepthwiseMethod(m.String())
		if err != nil || got != m {
			t.Errorf("ParseDepthwiseMethod(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := ParseDepthwiseMethod("im2col"); err == nil || !strings.Contains(err.Error(), `"im2col"`) {
		t.Errorf("ParseDepthwiseMethod(im2col): error %v does not name the bad value", err)
	}
}

func TestConv2DMatchesDepthwiseOnOneChannel(t *testing.T) {
	// With one input and one output channel a dense conv is a depthwise conv.
	rng := rand.New(rand.NewPCG(5, 6))
	x, k := randTensor(rng, 2, 7, 7, 1), randTensor(rng, 3, 3, 1)
	got, err := ExecOnce(backend(t), func(x, k *Node) *Node { return Conv2D(x, Reshape(k, 9, 1), 3, 2) }, x, k)
	if err != nil {
		t.Fatal(err)
	}
	want := naiveDepthwise(tensors.MustCopyFlatData[float64](x), 2, 7, 7, 1, tensors.MustCopyFlatData[float64](k), 3, 2)
	gv := tensors.MustCopyFlatData[float64](got)
	for i := range want {
		if math.Abs(gv[i]-want[i]) > 1e-12 {
			t.Fatalf("element %d got %g want %g", i, gv[i], want[i])
		}
	}
}

func TestGradientsOfEachOp(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	t.Run("pointwise-train-expand", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { return PointwiseTrain(in[0], in[1]) }, randTensor(rng, 2, 3, 3, 4), randTensor(rng, 4, 5))
	})
	t.Run("pointwise-train-project", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { return PointwiseTrain(in[0], in[1]) }, randTensor(rng, 2, 3, 3, 6), randTensor(rng, 6, 3))
	})
	t.Run("batchnorm-batch", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { y, _, _ := BatchNormBatch(in[0], in[1], in[2]); return y },
			randTensor(rng, 3, 2, 2, 4), randTensor(rng, 4), randTensor(rng, 4))
	})
	t.Run("batchnorm-train-tiled", func(t *testing.T) {
		// More rows than TileRows' block, and not a multiple of it.
		checkGradients(t, func(in []*Node) *Node { y, _, _ := BatchNormTrain(in[0], in[1], in[2]); return y },
			randTensor(rng, 3, 7, 7, 3), randTensor(rng, 3), randTensor(rng, 3))
	})
	t.Run("pointwise", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { return Pointwise(in[0], in[1]) }, randTensor(rng, 2, 3, 3, 4), randTensor(rng, 4, 5))
	})
	for _, m := range DepthwiseMethods()[1:] {
		t.Run("depthwise-stride2-k5-"+m.String(), func(t *testing.T) {
			checkGradients(t, func(in []*Node) *Node { return DepthwiseBy(m, in[0], in[1], 2) }, randTensor(rng, 2, 6, 5, 3), randTensor(rng, 5, 5, 3))
		})
		t.Run("depthwise-train-stride2-k5-"+m.String(), func(t *testing.T) {
			checkGradients(t, func(in []*Node) *Node { return DepthwiseTrain(m, in[0], in[1], 2) }, randTensor(rng, 2, 6, 5, 3), randTensor(rng, 5, 5, 3))
		})
		t.Run("depthwise-train-stride1-k7-"+m.String(), func(t *testing.T) {
			checkGradients(t, func(in []*Node) *Node { return DepthwiseTrain(m, in[0], in[1], 1) }, randTensor(rng, 2, 4, 6, 2), randTensor(rng, 7, 7, 2))
		})
		t.Run("depthwise-stride1-k3-"+m.String(), func(t *testing.T) {
			checkGradients(t, func(in []*Node) *Node { return DepthwiseBy(m, in[0], in[1], 1) }, randTensor(rng, 2, 4, 5, 2), randTensor(rng, 3, 3, 2))
		})
		t.Run("depthwise-train-stride2-k7-small-map-"+m.String(), func(t *testing.T) {
			checkGradients(t, func(in []*Node) *Node { return DepthwiseTrain(m, in[0], in[1], 2) }, randTensor(rng, 3, 3, 2, 2), randTensor(rng, 7, 7, 2))
		})
	}
	t.Run("conv2d-stem", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { return Conv2D(in[0], in[1], 3, 2) }, randTensor(rng, 2, 5, 6, 2), randTensor(rng, 18, 4))
	})
	t.Run("batchnorm-train", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { y, _, _ := BatchNormTrain(in[0], in[1], in[2]); return y },
			randTensor(rng, 3, 2, 2, 4), randTensor(rng, 4), randTensor(rng, 4))
	})
	t.Run("squeeze-excite", func(t *testing.T) {
		checkGradients(t, func(in []*Node) *Node { return SqueezeExcite(in[0], in[1], in[2], in[3], in[4]) },
			randTensor(rng, 2, 3, 3, 8), randTensor(rng, 8, 2), randTensor(rng, 2), randTensor(rng, 2, 8), randTensor(rng, 8))
	})
	t.Run("activations", func(t *testing.T) {
		for _, name := range []string{"relu", "h_swish", "h_sigmoid", "mish"} {
			// Scale away from the kinks at 0 and +-3 where finite differences are not defined.
			checkGradients(t, func(in []*Node) *Node { return Activate(name, in[0]) }, randTensor(rng, 40))
		}
	})
}

func TestRsqrtGradientRegistered(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := randTensor(rng, 10)
	v := tensors.MustCopyFlatData[float64](x)
	for i := range v {
		v[i] = 0.5 + math.Abs(v[i])
	}
	checkGradients(t, func(in []*Node) *Node { return Rsqrt(in[0]) }, tensors.FromFlatDataAndDimensions(v, 10))
}

var _ = dtypes.Float32
