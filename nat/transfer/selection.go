package transfer

import (
	"math"

	"github.com/natgo/nat/nat/moea/sorting"
)

// SelectSpread chooses k rows of F (minimised objective vectors, one per candidate) that spread
// along the trade-off front. This is the subset-selection step of the loop (nat-algorithm.md
// 3.2c); the rule, deterministic and the same for any number of objectives:
//
//  1. Sort the candidates into non-dominated fronts and take whole fronts, best first, while they
//     fit in k.
//  2. From the first front that does not fit, take its extreme points first: for each objective
//     in order, the member best in that objective (so the front's ends, e.g. the most accurate
//     and the cheapest subnet, are always evaluated).
//  3. Fill the remaining places greedily by farthest-point (max-min) sampling in the front's
//     objectives normalised to [0, 1]: repeatedly add the member whose nearest already chosen
//     member of that front is farthest away. This spreads the picks evenly along the front
//     instead of clustering where the predicted front is dense.
//
// Ties go to the lower index. NAT's released code uses a small GA minimising the largest gap on
// the second objective; max-min sampling is a one-pass greedy approximation of the same goal that
// also covers more than two objectives.
func SelectSpread(F [][]float64, k int) []int {
	if k <= 0 || len(F) == 0 {
		return nil
	}
	if len(F) <= k {
		out := make([]int, len(F))
		for i := range out {
			out[i] = i
		}
		return out
	}
	fronts, _ := sorting.NonDominatedSort(F, 0)
	var chosen []int
	for _, front := range fronts {
		need := k - len(chosen)
		if need <= 0 {
			break
		}
		if len(front) <= need {
			chosen = append(chosen, front...)
			continue
		}
		chosen = append(chosen, spread(F, front, need)...)
	}
	return chosen
}

// spread picks need members of front by extremes then max-min distance.
func spread(F [][]float64, front []int, need int) []int {
	m := len(F[front[0]])
	lo, hi := make([]float64, m), make([]float64, m)
	for j := 0; j < m; j++ {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		for _, i := range front {
			lo[j] = math.Min(lo[j], F[i][j])
			hi[j] = math.Max(hi[j], F[i][j])
		}
	}
	norm := func(i, j int) float64 {
		if hi[j] > lo[j] {
			return (F[i][j] - lo[j]) / (hi[j] - lo[j])
		}
		return 0
	}
	taken := make([]bool, len(front))
	var picks []int // positions in front
	for j := 0; j < m && len(picks) < need; j++ {
		best := -1
		for p, i := range front {
			if best < 0 || F[i][j] < F[front[best]][j] {
				best = p
			}
		}
		if !taken[best] {
			taken[best] = true
			picks = append(picks, best)
		}
	}
	dmin := make([]float64, len(front))
	for p := range front {
		dmin[p] = math.Inf(1)
	}
	update := func(q int) {
		for p, i := range front {
			d := 0.0
			for j := 0; j < m; j++ {
				x := norm(i, j) - norm(front[q], j)
				d += x * x
			}
			dmin[p] = math.Min(dmin[p], d)
		}
	}
	for _, q := range picks {
		update(q)
	}
	for len(picks) < need {
		best := -1
		for p := range front {
			if taken[p] {
				continue
			}
			if best < 0 || dmin[p] > dmin[best] {
				best = p
			}
		}
		taken[best] = true
		picks = append(picks, best)
		update(best)
	}
	out := make([]int, len(picks))
	for i, p := range picks {
		out[i] = front[p]
	}
	return out
}
