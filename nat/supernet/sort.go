package supernet

import (
	"math"
	"sort"

	"github.com/natgo/nat/nat/space"
)

// SortChannels reorders every searched block's expanded channels by importance (L1 norm of their
// weights in the projection convolution, largest first) and each squeeze-excite's hidden units by
// the L1 norm of their expansion weights, as OFA does before training elastic width: afterwards the
// first c channels are the most important ones. The network function is unchanged; momentum
// buffers are permuted with their weights. Stored batch-norm statistics are permuted too.
func (n *Supernet) SortChannels() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.maxPlan.Layers {
		if l.Kind != space.KindMBConv || l.Expand == 1 {
			continue
		}
		get := func(s string) *Param { p, _ := n.params.get(l.Name + s); return p }
		proj := get(".project.w") // [Mid, Out]
		mid, out := proj.Dims[0], proj.Dims[1]
		perm := importanceOrder(mid, func(i int) float64 { return l1(proj.Value[i*out : (i+1)*out]) })
		permuteAxis(get(".project.w"), 0, perm)
		permuteAxis(get(".expand.w"), 1, perm)
		permuteAxis(get(".dw.w"), 2, perm)
		for _, pre := range []string{".expand", ".dw"} {
			g, b, m, v := bnNames(l.Name + pre)
			for _, nm := range []string{g, b, m, v} {
				p, _ := n.params.get(nm)
				permuteAxis(p, 0, perm)
			}
		}
		if l.SE {
			permuteAxis(get(".se.w1"), 0, perm)
			permuteAxis(get(".se.w2"), 1, perm)
			permuteAxis(get(".se.b2"), 0, perm)
			w2 := get(".se.w2") // [R, Mid]
			r := w2.Dims[0]
			hp := importanceOrder(r, func(i int) float64 { return l1(w2.Value[i*mid : (i+1)*mid]) })
			permuteAxis(get(".se.w2"), 0, hp)
			permuteAxis(get(".se.w1"), 1, hp)
			permuteAxis(get(".se.b1"), 0, hp)
		}
	}
	n.ImportanceSorted = true
}

func l1(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += math.Abs(float64(x))
	}
	return s
}

// importanceOrder returns indices sorted by decreasing score (stable).
func importanceOrder(size int, score func(int) float64) []int {
	perm := make([]int, size)
	sc := make([]float64, size)
	for i := range perm {
		perm[i] = i
		sc[i] = score(i)
	}
	sort.SliceStable(perm, func(a, b int) bool { return sc[perm[a]] > sc[perm[b]] })
	return perm
}

// permuteAxis reorders p (value and momentum) along axis so that new index i holds old perm[i].
func permuteAxis(p *Param, axis int, perm []int) {
	for _, v := range [][]float32{p.Value, p.Momentum} {
		if v == nil {
			continue
		}
		outer, inner := 1, 1
		for i := 0; i < axis; i++ {
			outer *= p.Dims[i]
		}
		for i := axis + 1; i < len(p.Dims); i++ {
			inner *= p.Dims[i]
		}
		n := p.Dims[axis]
		old := append([]float32(nil), v...)
		for o := 0; o < outer; o++ {
			for i := 0; i < n; i++ {
				copy(v[(o*n+i)*inner:(o*n+i+1)*inner], old[(o*n+perm[i])*inner:(o*n+perm[i]+1)*inner])
			}
		}
	}
}
