package nsga3

import (
	"math"
	"slices"
)

// associator assigns normalised individuals to reference lines (step 6 of Survival) without
// computing every individual-line distance, and gives exactly the result of the full scan:
//
//   - niche[c]: the line j of smallest squared perpendicular distance d2 = |N|^2 - (N.u_j)^2,
//     computed in floating point exactly as the full scan computes it, ties to the lowest j;
//   - colArg[j], for every line j that some individual is associated with: the individual of
//     smallest d2 to line j, ties to the lowest index.
//
// Lines and individuals live in the positive orthant, so the angle between an individual and
// a line is at most 90 degrees and obeys the triangle inequality with the angles between lines:
// angle(N, u_j) >= angle(u_k, u_j) - angle(N, u_k). An individual is first compared with the
// line that a lookup table guesses for its position on the simplex and then only with the lines
// close enough to that one to possibly be nearer; a line's closest individual is sought among
// its own individuals and then among those of nearby lines, skipping a whole group when a lower
// bound on its distances exceeds the best found. Every bound is inflated (angles by about 1e-7
// rad, distances by 1e-9 of |N|^2) far beyond the rounding error of the distances it is
// compared with, so a skipped distance can never win or tie. Individuals that the bounds handle
// badly (at the ideal point, or far from every line) are compared with every line.
//
// This is a hand-written geometric pruning for NSGA-III's one hot loop (no library does it); on
// DTLZ2 with 5 objectives it computes about 2,200 of the 210 x ~390 distances per generation.
// It is off (every call goes to the full scan) for one objective and for 12 or more, where its
// guess table is too coarse to pay.
type associator struct {
	m    int
	refs [][]float64 // unit directions
	// nbr[k] lists other lines by increasing angle to line k (at most maxNeighbors of them).
	nbr       [][]neighbor
	truncated bool // whether the lists omit some lines
	// sinHalfGap is the sine of half the smallest angle between two distinct lines: individuals
	// nearer than that to their own line are never special (see associate).
	sinHalfGap float64
	// Guess table over the simplex: cell (a_0, .., a_{M-2}) of resolution res (the point
	// N / sum(N) rounded to multiples of 1/res) holds its nearest line, filled on first use.
	res   int
	table []int32
	// disabled sends every call to the full scan (see newAssociator).
	disabled bool

	// scratch
	sinT    []float64 // per individual: overestimated sine of its angle to its own line
	start   []int     // individuals grouped by line: members[start[j]:start[j+1]]
	members []int
	special []int // individuals compared with every line in the second pass
	nnMin   []float64
	nnMax   []float64
	sinMax  []float64
}

type neighbor struct {
	j int32
	// cos is the cosine of the angle to the line; sinLo and cosLo describe a slightly smaller
	// angle (for lower bounds).
	cos, sinLo, cosLo float64
}

const (
	maxNeighbors = 48
	// angleSlack overestimates the sine of an individual's angle to a line (the sine computed from
	// a rounded d2 is off by at most about 3e-8).
	angleSlack = 1e-7
	// distSlack is the margin, relative to |N|^2, by which a lower bound must exceed the best
	// distance before it skips anything (rounding errors are about 1e-15 relative).
	distSlack = 1e-9
	// maxTable bounds the guess table's size.
	maxTable = 1 << 16
)

func newAssociator(refs [][]float64) *associator {
	m, h := len(refs[0]), len(refs)
	a := &associator{m: m, refs: refs, nbr: make([][]neighbor, h)}
	// The resolution: about four cells per line, within maxTable entries.
	for r := 1; m >= 2 && r < maxTable; r++ {
		size := 1
		for t := 0; t < m-1 && size <= maxTable; t++ {
			size *= r + 1
		}
		if size > maxTable {
			break
		}
		a.res = r
		if binom(r+m-1, m-1) >= 4*h {
			break
		}
	}
	if a.res < 2 {
		// One objective, or too many for a useful guess table (12 and more): the pruned search
		// would scan most lines anyway, and then more slowly than the full scan.
		a.disabled = true
		return a
	}
	minSin := 1.0
	kept := min(h-1, maxNeighbors)
	a.truncated = kept < h-1
	all := make([]neighbor, h*kept)
	scratch := make([]neighbor, 0, h-1)
	for k, uk := range refs {
		scratch = scratch[:0]
		for j, uj := range refs {
			if j == k {
				continue
			}
			c := 0.0
			for t := range uk {
				c += uk[t] * uj[t]
			}
			scratch = append(scratch, neighbor{j: int32(j), cos: min(c, 1)})
		}
		if a.truncated {
			selectNearest(scratch, kept)
		}
		list := all[k*kept : (k+1)*kept : (k+1)*kept]
		copy(list, scratch[:kept])
		slices.SortFunc(list, compareNeighbors)
		for t := range list {
			e := &list[t]
			e.sinLo = max(0, math.Sqrt(max(0, 1-e.cos*e.cos))-angleSlack)
			e.cosLo = math.Sqrt(1 - e.sinLo*e.sinLo)
			if e.sinLo > 0 {
				minSin = min(minSin, e.sinLo)
			}
		}
		a.nbr[k] = list
	}
	// sin(phi/2) = sqrt((1 - cos phi) / 2).
	a.sinHalfGap = math.Sqrt((1 - math.Sqrt(1-minSin*minSin)) / 2)
	if a.res > 0 {
		size := 1
		for t := 0; t < m-1; t++ {
			size *= a.res + 1
		}
		a.table = make([]int32, size)
		for i := range a.table {
			a.table[i] = -1
		}
	}
	return a
}

// compareNeighbors orders by decreasing cosine (increasing angle), then by line index.
func compareNeighbors(x, y neighbor) int {
	switch {
	case x.cos > y.cos:
		return -1
	case x.cos < y.cos:
		return 1
	}
	return int(x.j) - int(y.j)
}

// selectNearest moves the k first entries of list in compareNeighbors' order to its front, in
// some order (quickselect: a full sort of every line's list would cost milliseconds per run).
func selectNearest(list []neighbor, k int) {
	lo, hi := 0, len(list)
	for hi-lo > 1 {
		// Median of three as the pivot, moved to list[lo].
		mid := lo + (hi-lo)/2
		if compareNeighbors(list[mid], list[lo]) < 0 {
			list[mid], list[lo] = list[lo], list[mid]
		}
		if compareNeighbors(list[hi-1], list[lo]) < 0 {
			list[hi-1], list[lo] = list[lo], list[hi-1]
		}
		if compareNeighbors(list[hi-1], list[mid]) < 0 {
			list[hi-1], list[mid] = list[mid], list[hi-1]
		}
		list[lo], list[mid] = list[mid], list[lo]
		pivot := list[lo]
		// Lomuto partition: entries before the pivot to list[lo+1:p+1].
		p := lo
		for i := lo + 1; i < hi; i++ {
			if compareNeighbors(list[i], pivot) < 0 {
				p++
				list[p], list[i] = list[i], list[p]
			}
		}
		list[lo], list[p] = list[p], list[lo]
		switch {
		case p == k || p == k-1:
			return
		case p > k:
			hi = p
		default:
			lo = p + 1
		}
	}
}

func binom(n, k int) int {
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i
		if r > 1<<30 {
			return r
		}
	}
	return r
}

// guess returns a line near the individual n (non-negative, not all zero).
func (a *associator) guess(n []float64, sum float64) int {
	if a.res == 0 {
		return 0
	}
	m, r := a.m, a.res
	idx, stride := 0, 1
	var cell [16]float64
	q := cell[:0]
	if m > len(cell) {
		q = make([]float64, 0, m)
	}
	used := 0
	for k := 0; k < m-1; k++ {
		c := min(int(n[k]/sum*float64(r)+0.5), r)
		idx += c * stride
		stride *= r + 1
		q = append(q, float64(c))
		used += c
	}
	if g := a.table[idx]; g >= 0 {
		return int(g)
	}
	q = append(q, float64(max(0, r-used)))
	best, arg := math.Inf(-1), 0
	for j, u := range a.refs {
		p := 0.0
		for k, v := range q {
			p += u[k] * v
		}
		if p > best {
			best, arg = p, j
		}
	}
	a.table[idx] = int32(arg)
	return arg
}

// dot is N.u in the order of the full scan (left to right over the objectives).
func dot(u []float64, cols [][]float64, c int) float64 {
	switch len(u) {
	case 3:
		return u[0]*cols[0][c] + u[1]*cols[1][c] + u[2]*cols[2][c]
	case 5:
		return u[0]*cols[0][c] + u[1]*cols[1][c] + u[2]*cols[2][c] + u[3]*cols[3][c] + u[4]*cols[4][c]
	}
	p := u[0] * cols[0][c]
	for k := 1; k < len(u); k++ {
		p += u[k] * cols[k][c]
	}
	return p
}

// safeSin overestimates the sine of the angle whose squared sine is d2/nn.
func safeSin(d2, nn float64) float64 {
	return min(1, math.Sqrt(max(0, d2)/nn)+angleSlack)
}

// associate fills niche and best (each individual's line and fp d2 to it) and colArg[j] for the
// lines used by some individual (colArg of other lines is left at -1). cols holds the normalised
// objectives by column, nn their squared norms. It reports false, having done nothing, when the
// values are not finite and non-negative or the associator is disabled; the caller then runs
// the full scan.
func (a *associator) associate(cols [][]float64, nn, best []float64, niche, colArg []int) bool {
	if a.disabled {
		return false
	}
	nc, h, m := len(nn), len(a.refs), a.m
	for k := 0; k < m; k++ {
		for _, v := range cols[k][:nc] {
			if !(v >= 0) || math.IsInf(v, 1) {
				return false
			}
		}
	}
	for _, v := range nn {
		if math.IsInf(v, 1) {
			return false
		}
	}
	a.sinT = growF(a.sinT, nc)
	a.special = a.special[:0]
	var nbuf [16]float64
	nvec := nbuf[:0]
	if m > len(nbuf) {
		nvec = make([]float64, 0, m)
	}
	// Pass 1: each individual's line.
	for c := 0; c < nc; c++ {
		nnc := nn[c]
		nvec = nvec[:0]
		sum := 0.0
		for k := 0; k < m; k++ {
			nvec = append(nvec, cols[k][c])
			sum += cols[k][c]
		}
		if !(nnc > 1e-200) || !(sum > 0) {
			a.scanAll(cols, nnc, c, best, niche)
			a.sinT[c] = math.Inf(1) // always special
			continue
		}
		g := a.guess(nvec, sum)
		p := dot(a.refs[g], cols, c)
		bd, bj := nnc-p*p, g
		sinG := safeSin(bd, nnc)
		cosG := math.Sqrt(1 - sinG*sinG)
		sinB, cosB := sinG, cosG
		list := a.nbr[g]
		t := 0
		for ; t < len(list); t++ {
			e := &list[t]
			// Line e.j can only be nearer if angle(u_g, u_j) <= theta_g + theta_best.
			if e.cos < cosG*cosB-sinG*sinB-1e-12 {
				break
			}
			j := int(e.j)
			p := dot(a.refs[j], cols, c)
			if d := nnc - p*p; d < bd || (d == bd && j < bj) {
				if d < bd {
					sinB = safeSin(d, nnc)
					cosB = math.Sqrt(1 - sinB*sinB)
				}
				bd, bj = d, j
			}
		}
		if t == len(list) && a.truncated {
			a.scanAll(cols, nnc, c, best, niche)
		} else {
			best[c], niche[c] = bd, bj
		}
		a.sinT[c] = safeSin(best[c], nnc)
	}

	// The individuals farthest from their lines (at most about 1.5%, and none within half the
	// smallest gap between lines) are special: compared with every used line in the second
	// pass, so that the others' largest angle, which bounds how far that pass looks, stays small.
	var hist [256]int32
	for _, v := range a.sinT[:nc] {
		if !math.IsInf(v, 1) {
			hist[min(255, int(v*256))]++
		}
	}
	tau, cum, limit := 0.0, int32(0), int32(max(4, nc/64))
	for b := 255; b >= 0; b-- {
		if cum+hist[b] > limit {
			tau = float64(b+1) / 256
			break
		}
		cum += hist[b]
	}
	tau = max(tau, a.sinHalfGap)
	isSpecial := func(c int) bool { return a.sinT[c] > tau }
	for c := 0; c < nc; c++ {
		if isSpecial(c) {
			a.special = append(a.special, c)
		}
	}

	// Individuals grouped by line, with each group's bounds (special ones excluded).
	a.start = grow(a.start, h+1)
	clear(a.start)
	for c := 0; c < nc; c++ {
		a.start[niche[c]+1]++
	}
	for j := 0; j < h; j++ {
		a.start[j+1] += a.start[j]
	}
	a.members = grow(a.members, nc)
	a.nnMin, a.nnMax, a.sinMax = growF(a.nnMin, h), growF(a.nnMax, h), growF(a.sinMax, h)
	for j := 0; j < h; j++ {
		a.nnMin[j], a.nnMax[j], a.sinMax[j] = math.Inf(1), 0, 0
	}
	fill := grow(colArg, h) // the next free slot of each group, reusing colArg as scratch
	copy(fill, a.start[:h])
	nnMinAll, nnMaxAll, sinMaxAll := math.Inf(1), 0.0, 0.0
	for c := 0; c < nc; c++ {
		j := niche[c]
		a.members[fill[j]] = c
		fill[j]++
		if isSpecial(c) {
			continue
		}
		a.nnMin[j], a.nnMax[j] = min(a.nnMin[j], nn[c]), max(a.nnMax[j], nn[c])
		a.sinMax[j] = max(a.sinMax[j], a.sinT[c])
		nnMinAll, nnMaxAll, sinMaxAll = min(nnMinAll, nn[c]), max(nnMaxAll, nn[c]), max(sinMaxAll, a.sinT[c])
	}
	cosMaxAll := math.Sqrt(1 - sinMaxAll*sinMaxAll)

	// Pass 2: the closest individual of every used line.
	for j := 0; j < h; j++ {
		colArg[j] = -1
	}
	for j := 0; j < h; j++ {
		group := a.members[a.start[j]:a.start[j+1]]
		if len(group) == 0 {
			continue
		}
		bd, bc := math.Inf(1), -1
		consider := func(c int, d float64) {
			if d < bd || (d == bd && c < bc) {
				bd, bc = d, c
			}
		}
		for _, c := range group {
			consider(c, best[c]) // its own line: the distance pass 1 computed
		}
		u := a.refs[j]
		for _, c := range a.special {
			if niche[c] != j {
				p := dot(u, cols, c)
				consider(c, nn[c]-p*p)
			}
		}
		list := a.nbr[j]
		t := 0
		for ; t < len(list); t++ {
			e := &list[t]
			// Every further group: angle >= phi - theta_max over all non-special individuals.
			if lb := lowerBound(e, nnMinAll, sinMaxAll, cosMaxAll); lb > bd+distSlack*nnMaxAll {
				break
			}
			k := int(e.j)
			if a.nnMax[k] == 0 {
				continue // no non-special members
			}
			sinK := a.sinMax[k]
			if lb := lowerBound(e, a.nnMin[k], sinK, math.Sqrt(1-sinK*sinK)); lb > bd+distSlack*a.nnMax[k] {
				continue
			}
			for _, c := range a.members[a.start[k]:a.start[k+1]] {
				if !isSpecial(c) {
					p := dot(u, cols, c)
					consider(c, nn[c]-p*p)
				}
			}
		}
		if t == len(list) && a.truncated {
			// The list ended before the bound did: every individual.
			for c := 0; c < nc; c++ {
				if niche[c] != j && !isSpecial(c) {
					p := dot(u, cols, c)
					consider(c, nn[c]-p*p)
				}
			}
		}
		colArg[j] = bc
	}
	return true
}

// lowerBound is a lower bound of nnMin * sin^2(phi - theta) for the angle phi of e and any
// angle theta whose sine is at most sinT (cosT its cosine): 0 when phi <= theta.
func lowerBound(e *neighbor, nnMin, sinT, cosT float64) float64 {
	if e.sinLo <= sinT && e.cosLo >= cosT {
		return 0
	}
	s := e.sinLo*cosT - e.cosLo*sinT // sin(phi_lo - theta)
	if s <= 0 {
		return 0
	}
	return nnMin * s * s * (1 - 1e-12)
}

// scanAll is the full scan for one individual.
func (a *associator) scanAll(cols [][]float64, nnc float64, c int, best []float64, niche []int) {
	bd, bj := math.Inf(1), -1
	for j, u := range a.refs {
		p := dot(u, cols, c)
		if d := nnc - p*p; d < bd {
			bd, bj = d, j
		}
	}
	if bj < 0 { // all NaN: as the full scan leaves it
		bj = 0
	}
	best[c], niche[c] = bd, bj
}
