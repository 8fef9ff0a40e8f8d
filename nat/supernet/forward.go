package supernet

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads best unqualified
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet/ops"
)

// bnMode says how batch norms normalise.
type bnMode int

const (
	bnBatch   bnMode = iota // batch statistics (training and recalibration)
	bnRunning               // running statistics (inference)
)

// builder emits one subnet's forward graph. get returns the node of a named variable at its
// stored size; the builder slices what the subnet uses.
type builder struct {
	kernels []int // the space's kernel sizes, ascending (for the transform chain)
	get     func(name string) *Node
	mode    bnMode
	dw      ops.DepthwiseMethod // how depthwise convolutions are formulated
	// train says the graph is differentiated: ops with hand-written backward passes are used.
	train bool
	// In bnBatch mode, every batch norm's batch mean and variance, in order, with its name prefix.
	statNames []string
	stats     []*Node
}

// sliceTo keeps the first sizes[i] entries of each axis.
func sliceTo(x *Node, sizes ...int) *Node {
	dims := x.Shape().Dimensions
	if len(dims) != len(sizes) {
		panic(fmt.Sprintf("supernet: slicing %v to %v", dims, sizes))
	}
	same := true
	specs := make([]SliceAxisSpec, len(sizes))
	for i, s := range sizes {
		if s > dims[i] {
			panic(fmt.Sprintf("supernet: slicing %v to %v: larger than the variable", dims, sizes))
		}
		same = same && s == dims[i]
		specs[i] = AxisRange(0, s)
	}
	if same {
		return x
	}
	return Slice(x, specs...)
}

func (b *builder) pointwise(x, w *Node) *Node {
	if b.train {
		return ops.PointwiseTrain(x, w)
	}
	return ops.Pointwise(x, w)
}

func (b *builder) depthwise(x, kernel *Node, stride int) *Node {
	if b.train {
		return ops.DepthwiseTrain(b.dw, x, kernel, stride)
	}
	return ops.DepthwiseBy(b.dw, x, kernel, stride)
}

func (b *builder) bn(prefix string, x *Node) *Node {
	c := x.Shape().Dimensions[x.Rank()-1]
	gn, bn, mn, vn := bnNames(prefix)
	gamma, beta := sliceTo(b.get(gn), c), sliceTo(b.get(bn), c)
	if b.mode == bnRunning {
		return ops.BatchNormInfer(x, gamma, beta, sliceTo(b.get(mn), c), sliceTo(b.get(vn), c))
	}
	bnFn := ops.BatchNormBatch
	if b.train {
		bnFn = ops.BatchNormTrain
	}
	y, mean, variance := bnFn(x, gamma, beta)
	b.statNames = append(b.statNames, prefix)
	b.stats = append(b.stats, mean, variance)
	return y
}

// depthwiseKernel returns layer's depthwise kernel [k,k,c]: the stored (largest) kernel's first c
// channels, shrunk step by step to k through the centre crops and OFA's transform matrices.
func (b *builder) depthwiseKernel(layer string, k, c int) *Node {
	full := b.get(layer + ".dw.w")
	kmax := full.Shape().Dimensions[0]
	kern := sliceTo(full, kmax, kmax, c)
	cur := kmax
	for cur > k {
		next := 0
		for _, kk := range b.kernels {
			if kk < cur {
				next = kk
			}
		}
		if next == 0 || next < k {
			panic(fmt.Sprintf("supernet: cannot shrink %s's %dx%d kernel to %d with kernels %v", layer, cur, cur, k, b.kernels))
		}
		s := (cur - next) / 2
		centre := Slice(kern, AxisRange(s, s+next), AxisRange(s, s+next), AxisRange())
		// OFA applies F.linear(filter_as_rows, M): new[j] = sum_i M[j,i] old[i] per channel.
		kern = Reshape(MatMul(b.get(transformName(layer, cur, next)), Reshape(centre, next*next, c)), next, next, c)
		cur = next
	}
	return kern
}

// forward emits the subnet's logits for images x [B,r,r,Cin]. dropMask is nil (no dropout) or a
// [B, featureMix] mask already scaled by 1/(1-p).
func (b *builder) forward(plan space.Plan, x, dropMask *Node) *Node {
	for _, l := range plan.Layers {
		switch l.Kind {
		case space.KindConv:
			w := sliceTo(b.get(l.Name+".conv.w"), l.Kernel*l.Kernel*l.InC, l.OutC)
			x = ops.Activate(string(l.Act), b.bn(l.Name+".conv", ops.Conv2D(x, w, l.Kernel, l.Stride)))
		case space.KindMBConv:
			x = b.mbconv(l, x)
		case space.KindFinalExpand:
			x = b.pointwise(x, sliceTo(b.get(l.Name+".w"), l.InC, l.OutC))
			x = ops.Activate(string(l.Act), b.bn(l.Name, x))
			x = ReduceMean(x, 1, 2) // global average pool -> [B,C]
		case space.KindFeatureMix:
			x = ops.Activate(string(l.Act), ops.Linear(x, sliceTo(b.get(l.Name+".w"), l.InC, l.OutC), nil))
			if dropMask != nil {
				x = Mul(x, dropMask)
			}
		case space.KindClassifier:
			x = ops.Linear(x, sliceTo(b.get(l.Name+".w"), l.InC, l.OutC), sliceTo(b.get(l.Name+".b"), l.OutC))
		default:
			panic(fmt.Sprintf("supernet: unknown layer kind %q", l.Kind))
		}
	}
	return x
}

func (b *builder) mbconv(l space.Layer, x *Node) *Node {
	in := x
	h := x
	act := string(l.Act)
	if l.Expand != 1 {
		h = b.pointwise(h, sliceTo(b.get(l.Name+".expand.w"), l.InC, l.MidC))
		h = ops.Activate(act, b.bn(l.Name+".expand", h))
	}
	h = b.depthwise(h, b.depthwiseKernel(l.Name, l.Kernel, l.MidC), l.Stride)
	h = ops.Activate(act, b.bn(l.Name+".dw", h))
	if l.SE {
		h = ops.SqueezeExcite(h,
			sliceTo(b.get(l.Name+".se.w1"), l.MidC, l.SEMidC), sliceTo(b.get(l.Name+".se.b1"), l.SEMidC),
			sliceTo(b.get(l.Name+".se.w2"), l.SEMidC, l.MidC), sliceTo(b.get(l.Name+".se.b2"), l.MidC))
	}
	h = b.pointwise(h, sliceTo(b.get(l.Name+".project.w"), l.MidC, l.OutC))
	h = b.bn(l.Name+".project", h)
	if l.Residual {
		h = Add(h, in)
	}
	return h
}

// usedParams lists, in a fixed order, the variables a plan's forward reads in the given mode,
// given the stored kernel size of each layer (storedKernel) and the space's kernels.
func usedParams(plan space.Plan, mode bnMode, storedKernel func(layer string) int, kernels []int) []string {
	var names []string
	bn := func(prefix string) {
		g, b, m, v := bnNames(prefix)
		names = append(names, g, b)
		if mode == bnRunning {
			names = append(names, m, v)
		}
	}
	for _, l := range plan.Layers {
		switch l.Kind {
		case space.KindConv:
			names = append(names, l.Name+".conv.w")
			bn(l.Name + ".conv")
		case space.KindMBConv:
			if l.Expand != 1 {
				names = append(names, l.Name+".expand.w")
				bn(l.Name + ".expand")
			}
			names = append(names, l.Name+".dw.w")
			cur := storedKernel(l.Name)
			for cur > l.Kernel {
				next := 0
				for _, kk := range kernels {
					if kk < cur {
						next = kk
					}
				}
				if next == 0 {
					break
				}
				names = append(names, transformName(l.Name, cur, next))
				cur = next
			}
			bn(l.Name + ".dw")
			if l.SE {
				names = append(names, l.Name+".se.w1", l.Name+".se.b1", l.Name+".se.w2", l.Name+".se.b2")
			}
			names = append(names, l.Name+".project.w")
			bn(l.Name + ".project")
		case space.KindFinalExpand:
			names = append(names, l.Name+".w")
			bn(l.Name)
		case space.KindFeatureMix:
			names = append(names, l.Name+".w")
		case space.KindClassifier:
			names = append(names, l.Name+".w", l.Name+".b")
		}
	}
	return names
}

// mergeNames appends the names of b missing from a.
func mergeNames(a, b []string) []string {
	seen := make(map[string]bool, len(a))
	for _, s := range a {
		seen[s] = true
	}
	out := append([]string(nil), a...)
	for _, s := range b {
		if !seen[s] {
			out = append(out, s)
			seen[s] = true
		}
	}
	return out
}

// crossEntropy is the mean over the batch of -sum_j target_j log softmax(logits)_j.
func crossEntropy(logits, target *Node) *Node {
	return Neg(ReduceAllMean(ReduceSum(Mul(target, LogSoftmax(logits, -1)), -1)))
}

// smoothedOneHot is (1-eps)*onehot + eps/classes.
func smoothedOneHot(labels *Node, classes int, eps float64) *Node {
	oh := OneHot(labels, classes, dtypes.Float32)
	if eps == 0 {
		return oh
	}
	return AddScalar(MulScalar(oh, 1-eps), eps/float64(classes))
}

// correctCount is the number of rows whose arg-max equals the label.
func correctCount(logits, labels *Node) *Node {
	pred := ArgMax(logits, -1, dtypes.Int32)
	return ReduceAllSum(ConvertDType(Equal(pred, labels), dtypes.Float32))
}
