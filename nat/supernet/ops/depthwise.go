package ops

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads best unqualified
)

// DepthwiseMethod names a formulation of the depthwise convolution. The Go backend has no native
// depthwise kernel (see gomlx_v0_28_2.go), so each is a composition of ops it runs fast.
type DepthwiseMethod int

const (
	// DepthwiseAuto picks per layer: DepthwiseToeplitz2D on small maps (see
	// max2DToeplitzInflation), else DepthwiseToeplitz unless its extra arithmetic, W/k, exceeds
	// maxToeplitzInflation, then DepthwiseSlices (the fastest in
	// `go test ./nat/supernet/ops -run XXX -bench DepthwiseMethods -benchtime 4x -v`, which
	// times them side by side).
	DepthwiseAuto DepthwiseMethod = iota
	// DepthwiseSlices sums k*k shifted (strided) slices of the padded input, each times one row
	// of per-channel weights: O(k*k) graph ops and passes over the activation.
	DepthwiseSlices
	// DepthwiseToeplitz turns the convolution along the width into a batched matrix product
	// (batch = channel) with a banded Toeplitz matrix built from the kernel, after gathering the
	// k kernel rows along the height: O(k) graph ops, and the arithmetic runs in the backend's
	// matmul kernel, at the price of W/k times the multiply-adds.
	DepthwiseToeplitz
	// DepthwiseToeplitz2D is one batched matrix product per channel over the whole map: the
	// input channel-major, [C, B, H*W], times T2[c, (h,w), (ho,wo)] = kernel[h-ho*s+k/2,
	// w-wo*s+k/2, c] (zero outside the kernel), built from the kernel by a MatMul with a constant
	// 0/1 tensor. No padding and no row gathers; H*W multiply-adds per output instead of k*k, so
	// it suits small maps with large kernels (fewer than direct convolution's for 4x4 with k7).
	DepthwiseToeplitz2D
)

// String returns the method's name as flags spell it.
func (m DepthwiseMethod) String() string {
	switch m {
	case DepthwiseAuto:
		return "auto"
	case DepthwiseSlices:
		return "slices"
	case DepthwiseToeplitz:
		return "toeplitz"
	case DepthwiseToeplitz2D:
		return "toeplitz2d"
	}
	return fmt.Sprintf("DepthwiseMethod(%d)", int(m))
}

// DepthwiseMethods lists every method, DepthwiseAuto first.
func DepthwiseMethods() []DepthwiseMethod {
	return []DepthwiseMethod{DepthwiseAuto, DepthwiseSlices, DepthwiseToeplitz, DepthwiseToeplitz2D}
}

// ParseDepthwiseMethod parses "auto", "slices", "toeplitz" or "toeplitz2d".
func ParseDepthwiseMethod(s string) (DepthwiseMethod, error) {
	for _, m := range DepthwiseMethods() {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("unknown depthwise method %q (want auto, slices, toeplitz or toeplitz2d)", s)
}

// Depthwise is a depthwise convolution with "same" padding (k/2): x [B,H,W,C] and kernel [k,k,C]
// give [B,Ho,Wo,C] with Ho = OutSize(H,k,stride). It uses DepthwiseAuto.
func Depthwise(x, kernel *Node, stride int) *Node {
	return DepthwiseBy(DepthwiseAuto, x, kernel, stride)
}

// DepthwiseBy is Depthwise computed by the given method. All methods give the same result up to
// float rounding.
func DepthwiseBy(m DepthwiseMethod, x, kernel *Node, stride int) *Node {
	switch resolveDepthwise(m, x, kernel) {
	case DepthwiseSlices:
		return depthwiseSlices(x, kernel, stride)
	case DepthwiseToeplitz:
		return depthwiseToeplitz(x, kernel, stride)
	case DepthwiseToeplitz2D:
		return depthwiseToeplitz2D(x, kernel, stride)
	}
	panic(fmt.Sprintf("ops.Depthwise: %v", m))
}

// resolveDepthwise checks the shapes and turns DepthwiseAuto into the method it stands for.
func resolveDepthwise(m DepthwiseMethod, x, kernel *Node) DepthwiseMethod {
	dims := x.Shape().Dimensions
	kd := kernel.Shape().Dimensions
	if len(dims) != 4 || len(kd) != 3 || kd[0] != kd[1] || kd[2] != dims[3] || kd[0]%2 != 1 {
		panic(fmt.Sprintf("ops.Depthwise: kernel %v does not fit input %v (want [k,k,%d], k odd)", kd, dims, dims[len(dims)-1]))
	}
	if m == DepthwiseAuto {
		k, h, w := kd[0], dims[1], dims[2]
		switch {
		case h*w <= max2DToeplitzPixels && h*w <= max2DToeplitzInflation*k*k:
			m = DepthwiseToeplitz2D
		case w <= maxToeplitzInflation*k:
			m = DepthwiseToeplitz
		default:
			m = DepthwiseSlices
		}
	}
	return m
}

// max2DToeplitzInflation is the largest factor of extra multiply-adds, H*W/(k*k), at which
// DepthwiseAuto picks DepthwiseToeplitz2D, and max2DToeplitzPixels the largest map (H*W) it is
// used on (its constant band has k*k*H*W*Ho*Wo entries). Measured side by side
// (BenchmarkDepthwiseMethodsSmallMaps and ...MediumMaps, batch 128): on every map of 8x8 or
// smaller with k5 or k7 and on 5x5 and 4x4 with k3 it is the fastest, 1.2x to 8x faster than
// the 1-D Toeplitz in training; on 10x10 it is 1.2x faster in inference and level (k5) or 1.1x
// faster (k7) in training; at factor 7 (k3 on 8x8) and on 12x12 and 14x14 with k7 the two are
// level, so the 1-D form, with its smaller constants, is kept there.
const (
	max2DToeplitzInflation = 4
	max2DToeplitzPixels    = 100
)

// maxToeplitzInflation is the largest factor of extra multiply-adds, W/k, at which DepthwiseAuto
// still picks DepthwiseToeplitz. Measured side by side (BenchmarkDepthwiseMethods, when the band
// still covered the padded width, (W+k-1)/k): at factor 6 (k3 on width 16) Toeplitz is as fast
// in inference and 1.4x faster in training; at 11 (k3 on width 32) the slices are 1.3x faster;
// k5 and k7 on widths up to 28 favour Toeplitz by 1.2x to 2.5x.
const maxToeplitzInflation = 6

// depthwiseSlices is DepthwiseSlices. On the Go backend it is two orders of magnitude faster
// than a grouped ConvGeneral (765 ms -> a few ms for k3 on [64,14,14,96]).
func depthwiseSlices(x, kernel *Node, stride int) *Node {
	dims := x.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	k := kernel.Shape().Dimensions[0]
	ho, wo := OutSize(h, k, stride), OutSize(w, k, stride)
	// The k*k taps are cheap slices: recompute them in the backward pass (gradient checkpointing)
	// instead of keeping k*k activation-sized tensors alive.
	xp := PadHW(x, k/2).Checkpoint()
	kflat := Reshape(kernel, k*k, c)
	var sum *Node
	for i := 0; i < k; i++ {
		// Slice the rows once per kernel row, then the columns per kernel column.
		rows := Slice(xp, AxisRange(), AxisRange(i, i+stride*(ho-1)+1).Stride(stride), AxisRange(), AxisRange())
		for j := 0; j < k; j++ {
			tap := Slice(rows, AxisRange(), AxisRange(), AxisRange(j, j+stride*(wo-1)+1).Stride(stride), AxisRange())
			wt := Slice(kflat, AxisElem(i*k+j), AxisRange()) // [1,C]
			term := Reshape(Mul(Reshape(tap, b*ho*wo, c), BroadcastRows(wt, b*ho*wo)), b, ho, wo, c)
			if sum == nil {
				sum = term
			} else {
				sum = Add(sum, term)
			}
		}
	}
	return sum.StopCheckpoint()
}

// depthwiseToeplitz is DepthwiseToeplitz. With the input channel-major and padded on the height
// only, xp [C,B,Hp,W], the k kernel rows' strided height slices are concatenated on the width
// axis, lhs [C, B*Ho, k*W]; the kernel becomes, per channel, the banded matrix
// T[c, i*W+q, o] = kernel[i, q-o*stride+k/2, c] where that tap exists (zero elsewhere: the band
// itself does the width's zero padding), built as one small MatMul of the kernel with a constant
// 0/1 tensor so that its gradient flows back to the kernel; and the convolution is the batched
// product lhs @ T -> [C, B*Ho, Wo].
func depthwiseToeplitz(x, kernel *Node, stride int) *Node {
	t := newToeplitzConv(x, kernel, stride)
	// The gathered rows are k activation-sized copies: recompute them in the backward pass.
	lhs := t.gather(t.padded(TransposeAllDims(x, 3, 0, 1, 2).Checkpoint())).StopCheckpoint()
	return t.product(lhs, t.matrix(kernel))
}

// DepthwiseTrain is DepthwiseBy for graphs that are differentiated: where the method is
// DepthwiseToeplitz or DepthwiseToeplitz2D its backward is written by hand (withGradient). GoMLX's own differentiation
// of the batched product makes the backend transpose the gathered rows, k times the input's size,
// for the kernel's gradient; the hand-written one transposes only the output gradient, and
// recomputes the gathered rows instead of keeping them.
func DepthwiseTrain(m DepthwiseMethod, x, kernel *Node, stride int) *Node {
	switch m = resolveDepthwise(m, x, kernel); m {
	case DepthwiseToeplitz2D:
		return depthwiseToeplitz2DTrain(x, kernel, stride)
	case DepthwiseSlices:
		return depthwiseSlices(x, kernel, stride)
	}
	t := newToeplitzConv(x, kernel, stride)
	var xp, toeplitz *Node
	return withGradient([]*Node{x, kernel}, func(in []*Node) *Node {
		xp = t.padded(TransposeAllDims(in[0], 3, 0, 1, 2))
		toeplitz = t.matrix(in[1])
		return t.product(t.gather(xp), toeplitz)
	}, func(v *Node) []*Node {
		vt := Reshape(TransposeAllDims(v, 3, 0, 1, 2), t.c, t.b*t.ho, t.wo)
		// Input: the gathered rows' gradient, scattered back to their padded rows and cropped.
		dlhs := Reshape(DotGeneral(vt, []int{2}, []int{0}, toeplitz, []int{2}, []int{0}), t.c, t.b, t.ho, t.k, t.w)
		zero := ScalarZero(x.Graph(), x.DType())
		var dxp *Node
		for i := 0; i < t.k; i++ {
			slab := Reshape(Slice(dlhs, AxisRange(), AxisRange(), AxisRange(), AxisElem(i), AxisRange()), t.c, t.b, t.ho, t.w)
			placed := Pad(slab, zero, PadAxis{}, PadAxis{},
				PadAxis{Start: i, End: t.hp - (i + stride*(t.ho-1) + 1), Interior: stride - 1}, PadAxis{})
			if dxp == nil {
				dxp = placed
			} else {
				dxp = Add(dxp, placed)
			}
		}
		dx := TransposeAllDims(Slice(dxp, AxisRange(), AxisRange(), AxisRange(t.p, t.p+t.h), AxisRange()), 1, 2, 3, 0)
		// Kernel: dT = v^T lhs per channel, then through the band back to the k x k taps.
		dT := DotGeneral(Transpose(vt, 1, 2), []int{2}, []int{0}, t.gather(xp), []int{1}, []int{0}) // [C, Wo, k*W]
		dT = Reshape(TransposeAllDims(Reshape(dT, t.c, t.wo, t.k, t.w), 0, 2, 3, 1), t.c*t.k, t.w*t.wo)
		dkt := DotGeneral(dT, []int{1}, nil, t.band, []int{1}, nil) // [C*k, k]
		return []*Node{dx, TransposeAllDims(Reshape(dkt, t.c, t.k, t.k), 1, 2, 0)}
	})
}

// toeplitzConv holds one Toeplitz depthwise convolution's sizes and its constant band, and builds
// the pieces both the differentiated and the hand-differentiated forms use.
type toeplitzConv struct {
	b, h, w, c, k, p, ho, wo, hp, stride int
	band                                 *Node // [k, W*Wo], see toeplitzBand
}

func newToeplitzConv(x, kernel *Node, stride int) *toeplitzConv {
	dims := x.Shape().Dimensions
	t := &toeplitzConv{b: dims[0], h: dims[1], w: dims[2], c: dims[3], k: kernel.Shape().Dimensions[0], stride: stride}
	t.p = t.k / 2
	t.ho, t.wo = OutSize(t.h, t.k, stride), OutSize(t.w, t.k, stride)
	t.hp = t.h + 2*t.p
	t.band = toeplitzBand(x.Graph(), x.DType(), t.k, t.w, t.wo, stride)
	return t
}

// padded pads the height of a channel-major xt [C,B,H,W] by k/2 zeros, by Concatenate so that it
// stays differentiable (Pad has no gradient in GoMLX v0.28.2). The width needs no padding: the
// band leaves out the taps that would fall on it.
func (t *toeplitzConv) padded(xt *Node) *Node {
	if t.p == 0 {
		return xt
	}
	zh := Zeros(xt.Graph(), shapes.Make(xt.DType(), t.c, t.b, t.p, t.w))
	return Concatenate([]*Node{zh, xt, zh}, 2)
}

// gather concatenates the k kernel rows' strided height slices of xp [C,B,Hp,W] on the width
// axis: lhs [C, B*Ho, k*W].
func (t *toeplitzConv) gather(xp *Node) *Node {
	rows := make([]*Node, t.k)
	for i := range rows {
		rows[i] = Slice(xp, AxisRange(), AxisRange(), AxisRange(i, i+t.stride*(t.ho-1)+1).Stride(t.stride), AxisRange())
	}
	return Reshape(Concatenate(rows, 3), t.c, t.b*t.ho, t.k*t.w)
}

// matrix is the kernel [k,k,C] as per-channel banded matrices [C, k*W, Wo].
func (t *toeplitzConv) matrix(kernel *Node) *Node {
	kt := Reshape(TransposeAllDims(kernel, 2, 0, 1), t.c*t.k, t.k) // rows (c,i), columns j
	return Reshape(MatMul(kt, t.band), t.c, t.k*t.w, t.wo)
}

// product is lhs @ matrix per channel, back in NHWC: [B,Ho,Wo,C].
func (t *toeplitzConv) product(lhs, matrix *Node) *Node {
	y := DotGeneral(lhs, []int{2}, []int{0}, matrix, []int{1}, []int{0}) // [C, B*Ho, Wo]
	return TransposeAllDims(Reshape(y, t.c, t.b, t.ho, t.wo), 1, 2, 3, 0)
}

// toeplitzBand is the constant band[j, q*wo+o] = 1 where q == o*stride + j - k/2 is a column of
// the unpadded input (0 <= q < w), shaped [k, w*wo].
func toeplitzBand(g *Graph, dtype dtypes.DType, k, w, wo, stride int) *Node {
	return ConvertDType(Reshape(Const(g, oneDBand(k, w, wo, stride)), k, w*wo), dtype)
}

// toeplitz2D holds one 2-D Toeplitz depthwise convolution's sizes and its constant band.
type toeplitz2D struct {
	b, h, w, c, k, ho, wo int
	band                  *Node // [k*k, H*W*Ho*Wo], see toeplitz2DBand
}

func newToeplitz2D(x, kernel *Node, stride int) *toeplitz2D {
	dims := x.Shape().Dimensions
	t := &toeplitz2D{b: dims[0], h: dims[1], w: dims[2], c: dims[3], k: kernel.Shape().Dimensions[0]}
	t.ho, t.wo = OutSize(t.h, t.k, stride), OutSize(t.w, t.k, stride)
	t.band = toeplitz2DBand(x.Graph(), x.DType(), t.k, t.h, t.w, t.ho, t.wo, stride)
	return t
}

// matrix is the kernel [k,k,C] as per-channel matrices [C, H*W, Ho*Wo].
func (t *toeplitz2D) matrix(kernel *Node) *Node {
	kt := Reshape(TransposeAllDims(kernel, 2, 0, 1), t.c, t.k*t.k)
	return Reshape(MatMul(kt, t.band), t.c, t.h*t.w, t.ho*t.wo)
}

// channelMajor is x [B,H,W,C] as [C, B, H*W].
func (t *toeplitz2D) channelMajor(x *Node) *Node {
	return Reshape(TransposeAllDims(x, 3, 0, 1, 2), t.c, t.b, t.h*t.w)
}

// product is xt [C,B,H*W] @ matrix per channel, back in NHWC: [B,Ho,Wo,C].
func (t *toeplitz2D) product(xt, matrix *Node) *Node {
	y := DotGeneral(xt, []int{2}, []int{0}, matrix, []int{1}, []int{0}) // [C, B, Ho*Wo]
	return TransposeAllDims(Reshape(y, t.c, t.b, t.ho, t.wo), 1, 2, 3, 0)
}

// depthwiseToeplitz2D is DepthwiseToeplitz2D, differentiated by GoMLX.
func depthwiseToeplitz2D(x, kernel *Node, stride int) *Node {
	t := newToeplitz2D(x, kernel, stride)
	return t.product(t.channelMajor(x), t.matrix(kernel))
}

// depthwiseToeplitz2DTrain is depthwiseToeplitz2D with a hand-written backward: GoMLX's would
// contract the channel-major input on its batch axis, which the Go backend does by transposing
// it; here the input is transposed once, straight from NHWC to [C, H*W, B].
func depthwiseToeplitz2DTrain(x, kernel *Node, stride int) *Node {
	t := newToeplitz2D(x, kernel, stride)
	var xs, mat *Node
	return withGradient([]*Node{x, kernel}, func(in []*Node) *Node {
		xs, mat = in[0], t.matrix(in[1])
		return t.product(t.channelMajor(xs), mat)
	}, func(v *Node) []*Node {
		vt := Reshape(TransposeAllDims(v, 3, 0, 1, 2), t.c, t.b, t.ho*t.wo)
		dxt := DotGeneral(vt, []int{2}, []int{0}, mat, []int{2}, []int{0}) // [C, B, H*W]
		dx := TransposeAllDims(Reshape(dxt, t.c, t.b, t.h, t.w), 1, 2, 3, 0)
		xT := Reshape(TransposeAllDims(xs, 3, 1, 2, 0), t.c, t.h*t.w, t.b)
		dT := DotGeneral(xT, []int{2}, []int{0}, vt, []int{1}, []int{0}) // [C, H*W, Ho*Wo]
		dk := DotGeneral(Reshape(dT, t.c, t.h*t.w*t.ho*t.wo), []int{1}, nil, t.band, []int{1}, nil)
		return []*Node{dx, TransposeAllDims(Reshape(dk, t.c, t.k, t.k), 1, 2, 0)}
	})
}

// toeplitz2DBand is the constant band[i*k+j, ((h*w0+q)*ho0+o)*wo0+r] = 1 where h == o*stride+i-k/2
// and q == r*stride+j-k/2 (the tap (i,j) links input (h,q) to output (o,r)), shaped
// [k*k, H*W*Ho*Wo].
func toeplitz2DBand(g *Graph, dtype dtypes.DType, k, h, w, ho, wo, stride int) *Node {
	// The band is the outer product of a height band [i, h, o] and a width band [j, q, r]; built
	// in the graph from those two small constants, it keeps the graph's constants at k*(H*Ho+W*Wo)
	// values instead of k*k*H*W*Ho*Wo (up to 2 MB a layer): with the full band as a constant,
	// building and compiling a new architecture took 52-168 ms for inference and 72-178 ms for
	// training; with the product, 6-8 ms and 30-37 ms (median and largest subnets, alternating
	// builds; results/bench/supernet.md).
	rows := oneDBand(k, h, ho, stride) // [k, h, ho]
	cols := oneDBand(k, w, wo, stride) // [k, w, wo]
	bh := Reshape(Const(g, rows), k, 1, h, 1, ho, 1)
	bw := Reshape(Const(g, cols), 1, k, 1, w, 1, wo)
	return ConvertDType(Reshape(Mul(bh, bw), k*k, h*w*ho*wo), dtype)
}

// oneDBand is band[j, q, o] = 1 where q == o*stride + j - k/2 is inside [0, n), flattened.
func oneDBand(k, n, no, stride int) []float32 {
	band := make([]float32, k*n*no)
	for j := 0; j < k; j++ {
		for o := 0; o < no; o++ {
			if q := o*stride + j - k/2; q >= 0 && q < n {
				band[(j*n+q)*no+o] = 1
			}
		}
	}
	return band
}
