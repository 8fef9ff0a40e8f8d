package supernet

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/space"
)

// fdCheck compares autodiff and central finite differences (float64) of
// loss = sum(forward(params, x) * R) with respect to sampled entries of the named parameters.
func fdCheck(t *testing.T, net *Supernet, names []string, x *tensors.Tensor, forward func(b *builder, x *Node) *Node, checkNames []string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(21, 22))
	vals := make([][]float64, len(names))
	for i, nm := range names {
		p, _ := net.params.get(nm)
		vals[i] = make([]float64, p.Size())
		for j, v := range p.Value {
			vals[i][j] = float64(v)
		}
	}
	var weight *tensors.Tensor
	lossOf := func(in []*Node) *Node {
		byName := map[string]*Node{}
		for i, nm := range names {
			byName[nm] = in[1+i]
		}
		b := &builder{kernels: net.Space.Kernels, get: func(nm string) *Node {
			n, ok := byName[nm]
			if !ok {
				t.Fatalf("forward reads %q, not in usedParams", nm)
			}
			return n
		}, mode: bnBatch}
		y := forward(b, in[0])
		if weight == nil {
			wr := rand.New(rand.NewPCG(5, 6))
			w := make([]float64, y.Shape().Size())
			for i := range w {
				w[i] = wr.Float64()*2 - 1
			}
			weight = tensors.FromFlatDataAndDimensions(w, y.Shape().Dimensions...)
		}
		return ReduceAllSum(Mul(y, Const(y.Graph(), weight)))
	}
	args := func(over int, idx int, delta float64) []any {
		out := []any{x}
		for i, nm := range names {
			p, _ := net.params.get(nm)
			v := vals[i]
			if i == over {
				v = append([]float64(nil), v...)
				v[idx] += delta
			}
			out = append(out, tensors.FromFlatDataAndDimensions(v, p.Dims...))
		}
		return out
	}
	be := net.backend
	if _, err := ExecOnce(be, func(in []*Node) *Node { return lossOf(in) }, args(-1, 0, 0)...); err != nil {
		t.Fatal(err)
	}
	gradExec := MustNewExec(be, func(in []*Node) []*Node { return Gradient(lossOf(in), in[1:]...) })
	defer gradExec.Finalize()
	lossExec := MustNewExec(be, func(in []*Node) *Node { return lossOf(in) })
	defer lossExec.Finalize()
	grads, err := gradExec.Exec(args(-1, 0, 0)...)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for i, nm := range names {
		want := false
		for _, c := range checkNames {
			want = want || contains(nm, c)
		}
		if !want {
			continue
		}
		g := tensors.MustCopyFlatData[float64](grads[i])
		for trial := 0; trial < 3; trial++ {
			idx := rng.IntN(len(vals[i]))
			f := func(d float64) float64 {
				out, err := lossExec.Exec1(args(i, idx, d)...)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float64](out)[0]
			}
			const h = 1e-5
			fd := (f(h) - f(-h)) / (2 * h)
			if math.Abs(fd-g[idx]) > 1e-5*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s[%d]: autodiff %.9g, finite difference %.9g", nm, idx, g[idx], fd)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no parameter matched checkNames")
	}
}

func randomInput(dims ...int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(9, 9))
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// perturbIdentity makes the kernel transforms non-trivial so their gradients are exercised.
func perturbTransforms(net *Supernet) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, p := range net.params.list {
		if contains(p.Name, ".dw.t") || contains(p.Name, ".b") {
			for i := range p.Value {
				p.Value[i] += float32(0.1 * rng.NormFloat64())
			}
		}
	}
}

func TestFiniteDifferenceGradientThroughBlock(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	perturbTransforms(net)
	// Stage 2's first block: expand, strided depthwise (k5 via the 7->5 transform), SE, BN, and
	// the stage's activation switched to h-swish.
	a := sp.Largest()
	a.Resolution = 8
	a.Kernels[4] = 5 // stage 2, layer 0 (stage 1 has 4 layers)
	plan, err := sp.Plan(a)
	if err != nil {
		t.Fatal(err)
	}
	var layer space.Layer
	for _, l := range plan.Layers {
		if l.Name == "s2.l0" {
			layer = l
		}
	}
	layer.Act = space.HSwish
	if !layer.SE || layer.Stride != 2 || layer.Kernel != 5 {
		t.Fatalf("unexpected test layer %+v", layer)
	}
	one := space.Plan{Layers: []space.Layer{layer}}
	names := usedParams(one, bnBatch, net.storedKernel, sp.Kernels)
	x := randomInput(3, 6, 6, layer.InC)
	fdCheck(t, net, names, x, func(b *builder, x *Node) *Node { return b.mbconv(layer, x) },
		[]string{".expand.w", ".dw.w", ".dw.t7to5", ".se.", ".project.w", ".bn.gamma", ".bn.beta"})
}

func TestFiniteDifferenceGradientThroughSubnet(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	perturbTransforms(net)
	a := sp.Smallest()
	a.Kernels[0] = 3
	a.Kernels[len(a.Kernels)-1] = 5
	plan, err := sp.Plan(a)
	if err != nil {
		t.Fatal(err)
	}
	names := usedParams(plan, bnBatch, net.storedKernel, sp.Kernels)
	x := randomInput(2, a.Resolution, a.Resolution, sp.InChannels)
	fdCheck(t, net, names, x, func(b *builder, x *Node) *Node { return b.forward(plan, x, nil) },
		[]string{"stem.conv.w", "first.dw.w", "s1.l0.dw.t5to3", "s5.l1.dw.w", "final_expand.w", "feature_mix.w", "classifier.b"})
}
