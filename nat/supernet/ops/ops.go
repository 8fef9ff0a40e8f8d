package ops

import (
	"fmt"

	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads best unqualified
)

// BNEpsilon is the batch-norm epsilon (PyTorch's and OFA's default).
const BNEpsilon = 1e-5

// Pointwise is a 1x1 convolution: x [B,H,W,Cin] times w [Cin,Cout] -> [B,H,W,Cout].
// It is a Reshape plus one MatMul: on the Go backend a 1x1 ConvGeneral is about 70x slower.
// For graphs that are differentiated, PointwiseTrain is faster.
func Pointwise(x, w *Node) *Node {
	b, h, wd, cin, cout := pointwiseDims(x, w)
	return Reshape(MatMul(Reshape(x, b*h*wd, cin), w), b, h, wd, cout)
}

// PointwiseTrain is Pointwise with a hand-written backward (withGradient): the weight gradient
// x^T v transposes only the smaller of x and v, where GoMLX's own differentiation makes the
// backend transpose both. In a graph without gradients it only adds work: use Pointwise there.
func PointwiseTrain(x, w *Node) *Node {
	b, h, wd, cin, cout := pointwiseDims(x, w)
	n := b * h * wd
	y := withGradient([]*Node{x, w}, func(in []*Node) *Node {
		return MatMul(Reshape(in[0], n, cin), in[1])
	}, func(v *Node) []*Node {
		xf := Reshape(x, n, cin)
		dx := DotGeneral(v, []int{1}, nil, w, []int{1}, nil) // v w^T: [n,Cin]
		var dw *Node
		if cin <= cout {
			dw = MatMul(Transpose(xf, 0, 1), v) // [Cin,n] @ [n,Cout]
		} else {
			dw = Transpose(MatMul(Transpose(v, 0, 1), xf), 0, 1) // ([Cout,n] @ [n,Cin])^T
		}
		return []*Node{Reshape(dx, x.Shape().Dimensions...), dw}
	})
	return Reshape(y, b, h, wd, cout)
}

func pointwiseDims(x, w *Node) (b, h, wd, cin, cout int) {
	dims := x.Shape().Dimensions
	b, h, wd, cin = dims[0], dims[1], dims[2], dims[3]
	if w.Shape().Dimensions[0] != cin {
		panic(fmt.Sprintf("ops.Pointwise: input has %d channels, weights %v", cin, w.Shape().Dimensions))
	}
	return b, h, wd, cin, w.Shape().Dimensions[1]
}

// PadHW pads the two spatial axes of x [B,H,W,C] with p zeros on each side. It concatenates
// zeros rather than calling Pad, whose gradient GoMLX v0.28.2 lacks (see gomlx_v0_28_2.go).
func PadHW(x *Node, p int) *Node {
	if p == 0 {
		return x
	}
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	zh := ZerosLikeDims(x, b, p, w, c)
	x = Concatenate([]*Node{zh, x, zh}, 1)
	zw := ZerosLikeDims(x, b, h+2*p, p, c)
	return Concatenate([]*Node{zw, x, zw}, 2)
}

// ZerosLikeDims returns zeros of x's dtype with the given dimensions.
func ZerosLikeDims(x *Node, dims ...int) *Node {
	s := x.Shape().Clone()
	s.Dimensions = dims
	return Zeros(x.Graph(), s)
}

// OutSize is the spatial output size of a "same"-padded (pad k/2) convolution with odd kernel k
// and stride s on an input of size n: floor((n-1)/s)+1, as in PyTorch and OFA.
func OutSize(n, k, s int) int { return (n+2*(k/2)-k)/s + 1 }

// Conv2D is a dense k x k convolution with "same" padding through im2col: the k*k shifted slices
// are concatenated on the channel axis and multiplied by w [k*k*Cin, Cout] (row index
// (i*k+j)*Cin + c). It is used for the stem, where Cin is tiny.
func Conv2D(x, w *Node, k, stride int) *Node {
	dims := x.Shape().Dimensions
	b, h, wd, cin := dims[0], dims[1], dims[2], dims[3]
	if w.Shape().Dimensions[0] != k*k*cin {
		panic(fmt.Sprintf("ops.Conv2D: weights %v do not fit k=%d Cin=%d", w.Shape().Dimensions, k, cin))
	}
	ho, wo := OutSize(h, k, stride), OutSize(wd, k, stride)
	xp := PadHW(x, k/2)
	taps := make([]*Node, 0, k*k)
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			taps = append(taps, Slice(xp, AxisRange(),
				AxisRange(i, i+stride*(ho-1)+1).Stride(stride),
				AxisRange(j, j+stride*(wo-1)+1).Stride(stride), AxisRange()))
		}
	}
	cols := Concatenate(taps, 3)
	y := MatMul(Reshape(cols, b*ho*wo, k*k*cin), w)
	return Reshape(y, b, ho, wo, w.Shape().Dimensions[1])
}

// BroadcastRows repeats a row vector w [1,C] (or [C]) to [n,C] as the outer product
// ones[n,1] @ w. On the Go backend an element-wise op against a broadcast operand runs a slow
// index iterator, and the gradient of a broadcast is a slow ReduceSum; through MatMul, the
// forward is a copy-speed kernel and the gradient (ones[1,n] @ g) a fast column sum.
func BroadcastRows(w *Node, n int) *Node {
	c := w.Shape().Size()
	ones := Ones(w.Graph(), shapes.Make(w.DType(), n, 1))
	return MatMul(ones, Reshape(w, 1, c))
}

// ColumnSums sums x [N,C] over its rows as ones[1,N] @ x -> [C], for the same reason.
func ColumnSums(x *Node) *Node {
	d := x.Shape().Dimensions
	ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, d[0]))
	return Reshape(MatMul(ones, x), d[1])
}

// BatchStats returns the per-channel mean and (biased) variance of x [B,H,W,C] over B, H and W.
func BatchStats(x *Node) (mean, variance *Node) {
	d := x.Shape().Dimensions
	n, c := d[0]*d[1]*d[2], d[3]
	flat := Reshape(x, n, c)
	mean = MulScalar(ColumnSums(flat), 1.0/float64(n))
	centred := Sub(flat, BroadcastRows(mean, n))
	variance = MulScalar(ColumnSums(Square(centred)), 1.0/float64(n))
	return mean, variance
}

// BatchNormTrain normalises x [B,H,W,C] with its own batch statistics and applies gamma and beta
// (each [C], already sliced to x's channels): y = x̂*gamma + beta with x̂ = (x-mean)/sqrt(var+eps).
// It returns the batch mean and variance as well (for recalibration; no gradient flows through
// them). Written by hand because GoMLX's batch norm sizes its variables to the channel count it
// sees and cannot share a sliced, larger variable; its gradient is the textbook formula
// (withGradient), every per-channel sum and broadcast a MatMul the backend runs without
// transposing:
//
//	dbeta = sum(v), dgamma = sum(v*x̂), dx = gamma/sqrt(var+eps) * (v - dbeta/n - x̂*dgamma/n)
func BatchNormTrain(x, gamma, beta *Node) (y, mean, variance *Node) {
	dims := x.Shape().Dimensions
	c := dims[len(dims)-1]
	n := x.Shape().Size() / c
	var xhat, inv *Node
	y = withGradient([]*Node{x, gamma, beta}, func(in []*Node) *Node {
		flat := Reshape(in[0], n, c)
		mean = MulScalar(ColumnSums(flat), 1.0/float64(n))
		centred := Sub(flat, TileRows(mean, n))
		variance = MulScalar(ColumnSums(Square(centred)), 1.0/float64(n))
		inv = Rsqrt(AddScalar(variance, BNEpsilon))
		xhat = Mul(centred, TileRows(inv, n))
		return Reshape(Add(Mul(xhat, TileRows(in[1], n)), TileRows(in[2], n)), dims...)
	}, func(v *Node) []*Node {
		vf := Reshape(v, n, c)
		dbeta := ColumnSums(vf)
		dgamma := ColumnSums(Mul(vf, xhat))
		a := Mul(gamma, inv)
		// dx = a*v - a*dbeta/n - x̂*(a*dgamma/n), each per-channel factor tiled once.
		dx := Sub(Mul(vf, TileRows(a, n)),
			Add(TileRows(MulScalar(Mul(a, dbeta), 1.0/float64(n)), n), Mul(xhat, TileRows(MulScalar(Mul(a, dgamma), 1.0/float64(n)), n))))
		return []*Node{Reshape(dx, dims...), dgamma, dbeta}
	})
	return y, mean, variance
}

// TileRows repeats a row vector w [C] (or [1,C]) to [n,C] like BroadcastRows, but as one block
// of up to tileBlock rows (BroadcastRows) concatenated with itself: the Go backend copies at
// memory speed, about twice as fast as the outer product for the whole tensor. Its automatic
// gradient is a slice and an Add per block, so it is for graphs whose backward is written by
// hand (withGradient); BroadcastRows is the one to differentiate.
func TileRows(w *Node, n int) *Node {
	if n <= tileBlock {
		return BroadcastRows(w, n)
	}
	blk := BroadcastRows(w, tileBlock)
	parts := make([]*Node, 0, n/tileBlock+1)
	for range n / tileBlock {
		parts = append(parts, blk)
	}
	if r := n % tileBlock; r > 0 {
		parts = append(parts, Slice(blk, AxisRange(0, r)))
	}
	return Concatenate(parts, 0)
}

// tileBlock is TileRows' block height.
const tileBlock = 128

// BatchNormBatch is BatchNormTrain without the hand-written backward, for graphs that are not
// differentiated (batch-norm recalibration), where withGradient would only add work.
func BatchNormBatch(x, gamma, beta *Node) (y, mean, variance *Node) {
	mean, variance = BatchStats(x)
	return scaleShift(x, gamma, beta, mean, variance), mean, variance
}

// BatchNormInfer normalises x with running statistics (each [C]).
func BatchNormInfer(x, gamma, beta, mean, variance *Node) *Node {
	return scaleShift(x, gamma, beta, mean, variance)
}

func scaleShift(x, gamma, beta, mean, variance *Node) *Node {
	dims := x.Shape().Dimensions
	c := dims[len(dims)-1]
	n := x.Shape().Size() / c
	a := Mul(gamma, Rsqrt(AddScalar(variance, BNEpsilon)))
	b := Sub(beta, Mul(mean, a))
	flat := Reshape(x, n, c)
	return Reshape(Add(Mul(flat, BroadcastRows(a, n)), BroadcastRows(b, n)), dims...)
}

// ReLU6 is min(max(x,0),6).
func ReLU6(x *Node) *Node { return MinScalar(MaxScalar(x, 0.0), 6.0) }

// HSigmoid is relu6(x+3)/6 (MobileNetV3).
func HSigmoid(x *Node) *Node { return MulScalar(ReLU6(AddScalar(x, 3.0)), 1.0/6.0) }

// HSwish is x*relu6(x+3)/6 (MobileNetV3).
func HSwish(x *Node) *Node { return Mul(x, HSigmoid(x)) }

// ReLU is max(x,0).
func ReLU(x *Node) *Node { return MaxScalar(x, 0.0) }

// Mish is x*tanh(softplus(x)).
func Mish(x *Node) *Node {
	sp := Log(OnePlus(Exp(MinScalar(x, 20.0))))
	sp = Where(GreaterThan(x, Scalar(x.Graph(), x.DType(), 20.0)), x, sp)
	return Mul(x, Tanh(sp))
}

// Activate applies the named activation ("relu", "h_swish", "h_sigmoid", "mish", "none" or "").
func Activate(name string, x *Node) *Node {
	switch name {
	case "relu":
		return ReLU(x)
	case "h_swish":
		return HSwish(x)
	case "h_sigmoid":
		return HSigmoid(x)
	case "mish":
		return Mish(x)
	case "none", "":
		return x
	}
	panic(fmt.Sprintf("ops.Activate: unknown activation %q", name))
}

// Linear is x [N,Cin] @ w [Cin,Cout] (+ bias [Cout] when not nil).
func Linear(x, w, bias *Node) *Node {
	y := MatMul(x, w)
	if bias != nil {
		y = Add(y, Reshape(bias, 1, bias.Shape().Dimensions[0]))
	}
	return y
}

// SqueezeExcite is MobileNetV3's squeeze-excite: global average pool, Linear to the reduced width,
// ReLU, Linear back, h-sigmoid gate, times x. Weights are sliced by the caller:
// w1 [C,R], b1 [R], w2 [R,C], b2 [C].
func SqueezeExcite(x, w1, b1, w2, b2 *Node) *Node {
	dims := x.Shape().Dimensions
	pooled := ReduceMean(x, 1, 2) // [B,C]
	s := ReLU(Linear(pooled, w1, b1))
	gate := HSigmoid(Linear(s, w2, b2))
	// Broadcast the gate over H*W with a batched outer product (see BroadcastRows for why).
	b, hw, c := dims[0], dims[1]*dims[2], dims[3]
	ones := Ones(x.Graph(), shapes.Make(x.DType(), b, hw, 1))
	gateHW := DotGeneral(ones, []int{2}, []int{0}, Reshape(gate, b, 1, c), []int{1}, []int{0}) // [B,HW,C]
	return Mul(x, Reshape(gateHW, dims...))
}
