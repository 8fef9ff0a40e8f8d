// Package sorting ranks objective vectors: Pareto dominance (plain and constrained), fast
// non-dominated sorting into fronts, and NSGA-II's crowding distance. All objectives are
// minimised.
//
// It is not a survival step: nsga2 and nsga3 build theirs from these pieces.
package sorting

import (
	"math"
	"slices"
)

// Dominates reports whether a Pareto-dominates b: a is no worse in every objective and strictly
// better in at least one.
func Dominates(a, b []float64) bool {
	better := false
	for i, x := range a {
		y := b[i]
		if x > y {
			return false
		}
		if x < y {
			better = true
		}
	}
	return better
}

// ConstrainedDominates is Deb's constrained domination: a feasible solution (violation 0)
// dominates an infeasible one, of two infeasible ones the smaller violation dominates, and two
// feasible ones compare by Pareto dominance.
func ConstrainedDominates(a []float64, cvA float64, b []float64, cvB float64) bool {
	switch {
	case cvA <= 0 && cvB <= 0:
		return Dominates(a, b)
	case cvA <= 0:
		return true
	case cvB <= 0:
		return false
	default:
		return cvA < cvB
	}
}

// NonDominatedSort splits the rows of F into fronts: fronts[0] holds the indices of the
// non-dominated rows, fronts[1] those dominated only by fronts[0], and so on. Identical rows share
// a front. When stopAfter > 0 the fronts are cut after the first front that brings the number of
// ranked rows to at least stopAfter (pymoo's n_stop_if_ranked). Each front lists its rows in
// increasing index order; rank[i] is the front of row i, or -1 when it was cut off.
//
// Up to 2048 rows the method is dominance bitsets (see Sorter): M sorts and n^2 M / 64 word
// operations. Larger populations, and any with a NaN, use ENS-SS (Zhang, Tian, Cheng, Jin, "An
// efficient approach to non-dominated sorting for evolutionary multiobjective optimization",
// IEEE TEVC 2015): rows are visited in lexicographic order, so a row can only be dominated by
// rows visited before it, and each row is placed in the first front none of whose members
// dominates it. Both do the same job as Deb's fast non-dominated sort with far fewer
// comparisons, and give the same result. A Sorter reuses its scratch memory between calls.
func NonDominatedSort(F [][]float64, stopAfter int) (fronts [][]int, rank []int) {
	return NonDominatedSortKnown(F, stopAfter, 0)
}

// NonDominatedSortKnown is NonDominatedSort for rows whose first mutual rows are known to be
// mutually non-dominated (NSGA-III's parents after a generation whose survivors all came from
// the first front): ENS-SS then never compares pairs among them, which saves a quarter of its
// work on a merged population of parents and offspring (the bitset method does not need the
// hint). The result is the same as NonDominatedSort's when the promise holds.
func NonDominatedSortKnown(F [][]float64, stopAfter, mutual int) (fronts [][]int, rank []int) {
	var s Sorter
	return s.SortKnown(F, stopAfter, mutual)
}

// nonDominatedSortENS is ENS-SS, for populations too large for dominance bitsets.
func nonDominatedSortENS(F [][]float64, stopAfter, mutual int) (fronts [][]int, rank []int) {
	n := len(F)
	rank = make([]int, n)
	if n == 0 {
		return nil, rank
	}
	m := len(F[0])
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		fa, fb := F[a], F[b]
		for k := range fa {
			if fa[k] < fb[k] {
				return -1
			}
			if fa[k] > fb[k] {
				return 1
			}
		}
		return a - b
	})
	// A contiguous copy in visiting order keeps the inner loop in cache.
	flat := make([]float64, n*m)
	for p, i := range order {
		copy(flat[p*m:(p+1)*m], F[i])
	}
	// Each row is first compared on the two objectives where it is relatively best (smallest
	// after scaling every objective to [0, 1]): few rows beat it on both, so most
	// non-dominating members are rejected by two predictable comparisons. This matters when
	// most rows are mutually non-dominated, the normal case with many objectives.
	lo := append([]float64(nil), flat[:m]...)
	hi := append([]float64(nil), flat[:m]...)
	for p := 1; p < n; p++ {
		for k, v := range flat[p*m : (p+1)*m] {
			lo[k] = min(lo[k], v)
			hi[k] = max(hi[k], v)
		}
	}
	var byPos []*frontPair // fronts as positions in visiting order, with their values by column
	for p := 0; p < n; p++ {
		fp := flat[p*m : (p+1)*m : (p+1)*m]
		// The two objectives where fp is relatively best.
		first, second := 0, 0
		b1, b2 := math.Inf(1), math.Inf(1)
		for k, v := range fp {
			if hi[k] > lo[k] {
				sc := (v - lo[k]) / (hi[k] - lo[k])
				switch {
				case sc < b1:
					second, b2 = first, b1
					first, b1 = k, sc
				case sc < b2:
					second, b2 = k, sc
				}
			}
		}
		known := order[p] < mutual
		k := 0
		for ; k < len(byPos); k++ {
			// A row of the known set is only compared with members from outside it.
			if !byPos[k].other.dominates(fp, first, second) && (known || !byPos[k].known.dominates(fp, first, second)) {
				break
			}
		}
		if k == len(byPos) {
			fc := &frontPair{known: newFrontCols(m, 0), other: newFrontCols(m, 0)}
			if k == 0 {
				// The first front is usually large: one allocation instead of repeated growth.
				fc.known, fc.other = newFrontCols(m, min(mutual, n)), newFrontCols(m, n-min(mutual, n))
			}
			byPos = append(byPos, fc)
		}
		if known {
			byPos[k].known.add(p, fp)
		} else {
			byPos[k].other.add(p, fp)
		}
	}
	fronts = make([][]int, len(byPos))
	for k, f := range byPos {
		front := make([]int, 0, len(f.known.pos)+len(f.other.pos))
		for _, p := range append(f.known.pos, f.other.pos...) {
			front = append(front, order[p])
			rank[order[p]] = k
		}
		fronts[k] = front
	}
	if stopAfter > 0 {
		count := 0
		for k, f := range fronts {
			count += len(f)
			if count >= stopAfter {
				for _, g := range fronts[k+1:] {
					for _, i := range g {
						rank[i] = -1
					}
				}
				fronts = fronts[:k+1]
				break
			}
		}
	}
	for _, f := range fronts {
		slices.Sort(f)
	}
	return fronts, rank
}

// frontCols is one front under construction: the visiting positions of its members and their
// objective values stored column by column, so that the first test of a dominance check scans
// one contiguous column.
type frontCols struct {
	pos  []int
	cols [][]float64
}

// frontPair is a front's members split into those of the known mutually non-dominated set and
// the others.
type frontPair struct{ known, other *frontCols }

func newFrontCols(m, capacity int) *frontCols {
	f := &frontCols{cols: make([][]float64, m)}
	if capacity > 0 {
		f.pos = make([]int, 0, capacity)
		buf := make([]float64, capacity*m)
		for c := range f.cols {
			f.cols[c] = buf[c*capacity : c*capacity : (c+1)*capacity]
		}
	}
	return f
}

func (f *frontCols) add(p int, fp []float64) {
	f.pos = append(f.pos, p)
	for k, v := range fp {
		f.cols[k] = append(f.cols[k], v)
	}
}

// dominates reports whether some member (each visited before fp in lexicographic order)
// dominates fp; identical vectors do not dominate each other. Objectives first and second are
// tested before the others. Members are scanned newest first: they are lexicographically
// closest to fp and the likeliest to dominate it.
func (f *frontCols) dominates(fp []float64, first, second int) bool {
	c1, c2 := f.cols[first], f.cols[second]
	c2 = c2[:len(c1)]
	f1, f2 := fp[first], fp[second]
	for j := len(c1) - 1; j >= 0; j-- {
		if c1[j] > f1 || c2[j] > f2 {
			continue
		}
		// Branch-free over the objectives: whether the member passes is unpredictable, so
		// early exits would cost more in mispredictions than they save.
		var worse, better uint8
		for k, c := range f.cols {
			v := c[j]
			worse |= b2u(v > fp[k])
			better |= b2u(v < fp[k])
		}
		if worse == 0 && better != 0 {
			return true
		}
	}
	return false
}

// b2u converts a comparison to 0 or 1 without a branch (the compiler emits SETcc).
func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// CrowdingDistance is NSGA-II's crowding distance of the rows of F (one front): for each
// objective the rows are sorted, the two extremes get +Inf, and every other row adds the gap
// between its two neighbours divided by the objective's range; the sum is divided by M as
// pymoo does (which does not change the order). An objective whose values are all equal adds
// nothing.
func CrowdingDistance(F [][]float64) []float64 {
	n := len(F)
	cd := make([]float64, n)
	if n == 0 {
		return cd
	}
	if n <= 2 {
		for i := range cd {
			cd[i] = math.Inf(1)
		}
		return cd
	}
	m := len(F[0])
	idx := make([]int, n)
	for k := 0; k < m; k++ {
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case F[a][k] < F[b][k]:
				return -1
			case F[a][k] > F[b][k]:
				return 1
			}
			return 0
		})
		lo, hi := F[idx[0]][k], F[idx[n-1]][k]
		cd[idx[0]] = math.Inf(1)
		cd[idx[n-1]] = math.Inf(1)
		span := hi - lo
		if span == 0 {
			continue
		}
		for j := 1; j < n-1; j++ {
			cd[idx[j]] += (F[idx[j+1]][k] - F[idx[j-1]][k]) / span
		}
	}
	for i := range cd {
		if !math.IsInf(cd[i], 1) {
			cd[i] /= float64(m)
		}
	}
	return cd
}
