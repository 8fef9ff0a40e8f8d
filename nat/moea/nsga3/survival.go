package nsga3

import (
	"math"
	"slices"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/sorting"
)

// Survival is NSGA-III's environmental selection (pymoo's ReferenceDirectionSurvival). It keeps,
// across generations, the ideal point, the worst point seen and the extreme points, as pymoo
// does. The steps, with the places where pymoo (and so this code) departs from Deb & Jain 2014:
//
//  1. Constraints: when some individuals are infeasible, survival runs on the feasible ones
//     only and the best infeasible ones by violation fill any remaining places (pymoo's
//     filter_infeasible; the paper's constrained NSGA-III instead uses constrained domination
//     throughout).
//  2. Non-dominated sorting stops once the fronts hold n individuals (the paper's S_t). When the
//     parents all came from one first front they are known to be mutually non-dominated, which
//     the sort uses on populations too large for its bitset method (an exact shortcut, not a
//     change of result).
//  3. Ideal point: the minimum of every objective over all feasible individuals seen so far
//     (the paper uses the current S_t only).
//  4. Extreme points: for each axis the individual minimising the achievement scalarising
//     function max_k f'_k / w_k with w = 1 on that axis and 1e-6 elsewhere (as in the paper),
//     after setting translated values f' below 1e-3 to 0 (pymoo), chosen among the current
//     first front and the previous generation's extreme points (pymoo keeps them; the paper
//     recomputes them from S_t).
//  5. Intercepts: the hyperplane through the extreme points, solved by Gaussian elimination.
//     Degenerate cases fall back to the worst point of the current first front: a singular
//     system, a plane that does not reproduce the right-hand side (numpy's allclose), or an
//     intercept <= 1e-6. An intercept beyond the worst value ever seen is clipped to it (pymoo's
//     addition). Any axis whose range is <= 1e-6 takes the worst of the population (pymoo).
//  6. Normalisation f' = (f - ideal) / (nadir - ideal), association to the reference line of
//     smallest perpendicular distance (computed with geometric pruning, exactly as a scan of
//     every individual-line pair would: see associator).
//  7. Niching (the paper's Algorithm 4): repeatedly take the niches with the smallest count
//     among those with candidates in the last front, in random order; an empty niche takes its
//     closest candidate, a non-empty one a random candidate. As in pymoo all minimum-count
//     niches of a round are filled at once (the paper picks one niche at a time); unlike pymoo,
//     which shuffles before taking the closest, exact distance ties go to the first candidate.
//  8. The answer (Opt) is pymoo's: the first-front individuals that are the closest individual
//     to some reference line that has an associated individual; the whole first front if none.
type Survival struct {
	refs  [][]float64 // unit-length reference directions
	m     int
	ideal []float64
	worst []float64
	// extremes are the extreme points of the previous generation (nil at first).
	extremes [][]float64
	// Opt is the answer after the last call of Do.
	Opt moea.Population
	// prevMutual are the last survivors when they all came from the first front.
	prevMutual moea.Population
	// randomNiching replaces niching by a uniform choice from the last front; only the tests set
	// it, to show that they detect a survival step without niche preservation.
	randomNiching bool

	assoc *associator

	// scratch
	sorter  sorting.Sorter
	colBuf  []float64
	nn      []float64
	best    []float64
	dot     []float64
	niche   []int
	dist    []float64
	count   []int
	colMin  []float64
	colArg  []int
	candBuf []int
}

// NewSurvival returns the survival step for the given reference directions.
//
// It also works on its own, to pick k well-spread individuals from an evaluated population (the
// "NSGA-III niching" variant of NAT's candidate subset selection):
//
//	s, err := nsga3.NewSurvival(dirs)
//	picked := s.Do(moea.NewRun(problem, moea.NewRand(seed), &moea.State{}), pop, k)
//
// Every individual given to Do must have len(refDirs[0]) objectives.
func NewSurvival(refDirs [][]float64) (*Survival, error) {
	if err := checkRefDirs(refDirs); err != nil {
		return nil, err
	}
	m := len(refDirs[0])
	s := &Survival{m: m, ideal: make([]float64, m), worst: make([]float64, m)}
	for i := range s.ideal {
		s.ideal[i] = math.Inf(1)
		s.worst[i] = math.Inf(-1)
	}
	s.refs = make([][]float64, len(refDirs))
	for i, w := range refDirs {
		n := 0.0
		for _, v := range w {
			n += v * v
		}
		n = math.Sqrt(n)
		u := make([]float64, m)
		for k, v := range w {
			u[k] = v / n
		}
		s.refs[i] = u
	}
	s.assoc = newAssociator(s.refs)
	return s, nil
}

// Ideal returns the current ideal point (read only).
func (s *Survival) Ideal() []float64 { return s.ideal }

// Do returns the n survivors of pop, drawing ties from run.Rand.
func (s *Survival) Do(run *moea.Run, pop moea.Population, n int) moea.Population {
	feasible := make(moea.Population, 0, len(pop))
	var infeasible moea.Population
	for _, ind := range pop {
		if ind.Feasible() {
			feasible = append(feasible, ind)
		} else {
			infeasible = append(infeasible, ind)
		}
	}
	if len(infeasible) == 0 {
		return s.do(run, pop, n)
	}
	slices.SortStableFunc(infeasible, func(a, b *moea.Individual) int {
		switch {
		case a.CV < b.CV:
			return -1
		case a.CV > b.CV:
			return 1
		}
		return 0
	})
	var out moea.Population
	if len(feasible) > 0 {
		out = s.do(run, feasible, min(n, len(feasible)))
	} else {
		s.Opt = moea.Population{infeasible[0]}
	}
	if rest := n - len(out); rest > 0 {
		out = append(out, infeasible[:min(rest, len(infeasible))]...)
	}
	return out
}

func (s *Survival) do(run *moea.Run, pop moea.Population, n int) moea.Population {
	m := s.m
	F := pop.Objectives()
	for _, f := range F {
		for k, v := range f {
			s.ideal[k] = min(s.ideal[k], v)
			s.worst[k] = max(s.worst[k], v)
		}
	}
	// Survivors that all came from one first front are mutually non-dominated; when they lead
	// this population (NSGA-III's parents followed by offspring), the sort skips their pairs.
	mutual := 0
	if len(s.prevMutual) > 0 && len(s.prevMutual) <= len(pop) {
		mutual = len(s.prevMutual)
		for i, ind := range s.prevMutual {
			if pop[i] != ind {
				mutual = 0
				break
			}
		}
	}
	fronts, _ := s.sorter.SortKnown(F, n, mutual)
	nadir := s.updateNadir(F, fronts[0])

	// Individuals considered: the fronts up to the splitting one, in front order.
	cand := s.candBuf[:0]
	for _, f := range fronts {
		cand = append(cand, f...)
	}
	s.candBuf = cand
	nc := len(cand)
	lastStart := nc - len(fronts[len(fronts)-1])

	// Association: perpendicular distance of each normalised individual to each reference line.
	// |N - (N.u)u|^2 = |N|^2 - (N.u)^2 for unit u; the winner's distance is then recomputed
	// directly to avoid the cancellation of that form.
	nr := len(s.refs)
	s.niche = grow(s.niche, nc)
	s.dist = growF(s.dist, nc)
	s.colArg = grow(s.colArg, nr)
	denom := make([]float64, m)
	for k := range denom {
		denom[k] = nadir[k] - s.ideal[k]
		if denom[k] == 0 {
			denom[k] = 1e-12
		}
	}
	// Normalised objectives stored by column (cols[k][c]) so that the dot products with every
	// reference direction run as long, bounds-check-free loops over the candidates.
	s.colBuf = growF(s.colBuf, m*nc)
	cols := make([][]float64, m)
	for k := range cols {
		cols[k] = s.colBuf[k*nc : (k+1)*nc : (k+1)*nc]
	}
	s.nn = growF(s.nn, nc)
	s.best = growF(s.best, nc)
	nn, best := s.nn, s.best
	for c, idx := range cand {
		f := F[idx]
		sq := 0.0
		for k := 0; k < m; k++ {
			v := (f[k] - s.ideal[k]) / denom[k]
			cols[k][c] = v
			sq += v * v
		}
		nn[c] = sq
		best[c] = math.Inf(1)
	}
	niche := s.niche
	if !s.assoc.associate(cols, nn, best, niche, s.colArg) {
		s.fullScan(cols, nn, best, niche)
	}
	for c := range cand {
		u := s.refs[niche[c]]
		p := 0.0
		for k := 0; k < m; k++ {
			p += cols[k][c] * u[k]
		}
		d := 0.0
		for k := 0; k < m; k++ {
			r := cols[k][c] - p*u[k]
			d += r * r
		}
		s.dist[c] = math.Sqrt(d)
	}

	// Opt: first-front members that are the closest individual of a reference line that has an
	// associated individual.
	used := make([]bool, nr)
	for c := 0; c < nc; c++ {
		used[s.niche[c]] = true
	}
	isClosest := make([]bool, nc)
	for j := 0; j < nr; j++ {
		if used[j] && s.colArg[j] >= 0 {
			isClosest[s.colArg[j]] = true
		}
	}
	s.Opt = s.Opt[:0:0]
	for c := 0; c < len(fronts[0]); c++ {
		if isClosest[c] {
			s.Opt = append(s.Opt, pop[cand[c]])
		}
	}
	if len(s.Opt) == 0 {
		for c := 0; c < len(fronts[0]); c++ {
			s.Opt = append(s.Opt, pop[cand[c]])
		}
	}

	if nc <= n {
		out := make(moea.Population, nc)
		for c, idx := range cand {
			out[c] = pop[idx]
		}
		s.rememberMutual(out, len(fronts) == 1)
		return out
	}
	// Niche counts of the individuals before the last front.
	s.count = grow(s.count, nr)
	clear(s.count)
	for c := 0; c < lastStart; c++ {
		s.count[s.niche[c]]++
	}
	chosen := s.niching(run, lastStart, nc, n-lastStart)
	out := make(moea.Population, 0, n)
	for c := 0; c < lastStart; c++ {
		out = append(out, pop[cand[c]])
	}
	for _, c := range chosen {
		out = append(out, pop[cand[c]])
	}
	s.rememberMutual(out, len(fronts) == 1)
	return out
}

// fullScan is the association by computing every individual-line distance: the reference for
// associator (which gives the same result faster) and its fallback for values it does not
// handle.
func (s *Survival) fullScan(cols [][]float64, nn, best []float64, niche []int) {
	m, nc, nr := s.m, len(nn), len(s.refs)
	for c := range best {
		best[c] = math.Inf(1)
	}
	s.colMin = growF(s.colMin, nr)
	s.colArg = grow(s.colArg, nr)
	for j := range s.colMin {
		s.colMin[j] = math.Inf(1)
		s.colArg[j] = -1
	}
	s.dot = growF(s.dot, nc)
	dot := s.dot
	for j, u := range s.refs {
		var colMin float64
		var colArg int
		switch m {
		case 3:
			colMin, colArg = assoc3(j, u, cols, nn, best, niche)
		case 5:
			colMin, colArg = assoc5(j, u, cols, nn, best, niche)
		default:
			u0 := u[0]
			c0 := cols[0][:len(dot)]
			for c := range dot {
				dot[c] = u0 * c0[c]
			}
			for k := 1; k < m; k++ {
				uk := u[k]
				ck := cols[k][:len(dot)]
				for c := range dot {
					dot[c] += uk * ck[c]
				}
			}
			colMin, colArg = math.Inf(1), -1
			nn := nn[:len(dot)]
			best := best[:len(dot)]
			niche := niche[:len(dot)]
			for c, p := range dot {
				d2 := nn[c] - p*p
				if d2 < best[c] {
					best[c], niche[c] = d2, j
				}
				if d2 < colMin {
					colMin, colArg = d2, c
				}
			}
		}
		s.colMin[j], s.colArg[j] = colMin, colArg
	}
}

// rememberMutual records the survivors when they all belong to one first front.
func (s *Survival) rememberMutual(out moea.Population, firstFrontOnly bool) {
	if firstFrontOnly {
		s.prevMutual = out
	} else {
		s.prevMutual = nil
	}
}

// niching picks k of the candidates lo..hi-1 (the last front) by the niche-preserving rule.
func (s *Survival) niching(run *moea.Run, lo, hi, k int) []int {
	r := run.Rand
	if s.randomNiching {
		perm := r.Perm(hi - lo)[:k]
		for i := range perm {
			perm[i] += lo
		}
		return perm
	}
	nr := len(s.refs)
	// The last front grouped by niche (a counting sort): group j is
	// members[start[j] : start[j]+avail[j]], and picked members are swapped past the end.
	start := make([]int, nr+1)
	for c := lo; c < hi; c++ {
		start[s.niche[c]+1]++
	}
	for j := 0; j < nr; j++ {
		start[j+1] += start[j]
	}
	avail := make([]int, nr)
	members := make([]int, hi-lo)
	for c := lo; c < hi; c++ {
		j := s.niche[c]
		members[start[j]+avail[j]] = c
		avail[j]++
	}
	chosen := make([]int, 0, k)
	var niches []int
	for len(chosen) < k {
		// Niches that still have candidates, with the minimum count among them.
		niches = niches[:0]
		minCount := math.MaxInt
		for j := 0; j < nr; j++ {
			if avail[j] == 0 {
				continue
			}
			switch c := s.count[j]; {
			case c < minCount:
				minCount = c
				niches = append(niches[:0], j)
			case c == minCount:
				niches = append(niches, j)
			}
		}
		r.Shuffle(len(niches), func(a, b int) { niches[a], niches[b] = niches[b], niches[a] })
		if need := k - len(chosen); len(niches) > need {
			niches = niches[:need]
		}
		for _, j := range niches {
			group := members[start[j] : start[j]+avail[j]]
			var pick int
			if s.count[j] == 0 {
				// The closest to the reference line (the first of equals).
				for t := 1; t < len(group); t++ {
					if s.dist[group[t]] < s.dist[group[pick]] {
						pick = t
					}
				}
			} else {
				pick = r.IntN(len(group))
			}
			chosen = append(chosen, group[pick])
			group[pick], group[len(group)-1] = group[len(group)-1], group[pick]
			avail[j]--
			s.count[j]++
		}
	}
	return chosen
}

// updateNadir updates the extreme points from the first front (indices nds into F) and returns
// the nadir estimate of step 5 of the type comment.
func (s *Survival) updateNadir(F [][]float64, nds []int) []float64 {
	m := s.m
	// Candidates: previous extremes, then the first front (pymoo's order: ties go to the first).
	// The achievement scalarising function with weight 1 on axis a and 1e6 elsewhere is
	// max(v_a, 1e6 * max_{k != a} v_k) over the translated values v (below 1e-3 set to 0), so
	// the largest and second largest v of a candidate give all M values in O(M).
	bestASF := make([]float64, m)
	bestRow := make([][]float64, m)
	for a := range bestASF {
		bestASF[a] = math.Inf(1)
	}
	consider := func(f []float64) {
		top, second := math.Inf(-1), math.Inf(-1)
		topK := -1
		for k := 0; k < m; k++ {
			v := f[k] - s.ideal[k]
			if v < 1e-3 {
				v = 0
			}
			if v > top {
				second, top, topK = top, v, k
			} else if v > second {
				second = v
			}
		}
		for a := 0; a < m; a++ {
			other := top
			if a == topK {
				other = second
			}
			va := f[a] - s.ideal[a]
			if va < 1e-3 {
				va = 0
			}
			asf := max(va, 1e6*other)
			if m == 1 {
				asf = va
			}
			if asf < bestASF[a] {
				bestASF[a], bestRow[a] = asf, f
			}
		}
	}
	for _, f := range s.extremes {
		consider(f)
	}
	for _, i := range nds {
		consider(F[i])
	}
	ext := make([][]float64, m)
	for a := range ext {
		ext[a] = append([]float64(nil), bestRow[a]...)
	}
	s.extremes = ext

	worstPop := make([]float64, m)
	worstFront := make([]float64, m)
	for k := range worstPop {
		worstPop[k], worstFront[k] = math.Inf(-1), math.Inf(-1)
	}
	for _, f := range F {
		for k, v := range f {
			worstPop[k] = max(worstPop[k], v)
		}
	}
	for _, i := range nds {
		for k, v := range F[i] {
			worstFront[k] = max(worstFront[k], v)
		}
	}

	nadir := make([]float64, m)
	ok := false
	A := make([][]float64, m)
	for i := range A {
		A[i] = make([]float64, m)
		for k := range A[i] {
			A[i][k] = ext[i][k] - s.ideal[k]
		}
	}
	if plane, solved := solveOnes(A); solved {
		ok = true
		// numpy.allclose(A @ plane, 1): |a - 1| <= 1e-8 + 1e-5.
		for i := range A {
			dot := 0.0
			for k := range plane {
				dot += A[i][k] * plane[k]
			}
			if !(math.Abs(dot-1) <= 1e-8+1e-5) {
				ok = false
			}
		}
		for k := range plane {
			intercept := 1 / plane[k]
			if !(intercept > 1e-6) || math.IsInf(intercept, 0) {
				ok = false
			}
			nadir[k] = s.ideal[k] + intercept
		}
		if ok {
			for k := range nadir {
				if nadir[k] > s.worst[k] {
					nadir[k] = s.worst[k]
				}
			}
		}
	}
	if !ok {
		copy(nadir, worstFront)
	}
	for k := range nadir {
		if nadir[k]-s.ideal[k] <= 1e-6 {
			nadir[k] = worstPop[k]
		}
	}
	return nadir
}

// solveOnes solves A x = 1 by Gaussian elimination with partial pivoting on an M x M system
// (M is the number of objectives, so a hand-written elimination is cheaper than a library call
// per generation). It reports false when a pivot is exactly zero, as LAPACK's getrf does.
func solveOnes(A [][]float64) ([]float64, bool) {
	m := len(A)
	a := make([][]float64, m)
	for i := range A {
		a[i] = make([]float64, m+1)
		copy(a[i], A[i])
		a[i][m] = 1
	}
	for col := 0; col < m; col++ {
		piv := col
		for r := col + 1; r < m; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		if a[piv][col] == 0 || math.IsNaN(a[piv][col]) {
			return nil, false
		}
		a[col], a[piv] = a[piv], a[col]
		for r := col + 1; r < m; r++ {
			f := a[r][col] / a[col][col]
			if f == 0 {
				continue
			}
			for c := col; c <= m; c++ {
				a[r][c] -= f * a[col][c]
			}
		}
	}
	x := make([]float64, m)
	for r := m - 1; r >= 0; r-- {
		v := a[r][m]
		for c := r + 1; c < m; c++ {
			v -= a[r][c] * x[c]
		}
		x[r] = v / a[r][r]
	}
	return x, true
}

// assoc3 and assoc5 are the association pass for one reference direction j (unit vector u) in
// the common cases of 3 and 5 objectives, fused into one loop over the candidates: squared
// perpendicular distance |N|^2 - (N.u)^2, the best direction of each candidate so far, and the
// closest candidate to this direction.
func assoc3(j int, u []float64, cols [][]float64, nn, best []float64, niche []int) (float64, int) {
	u0, u1, u2 := u[0], u[1], u[2]
	n := len(nn)
	c0, c1, c2 := cols[0][:n], cols[1][:n], cols[2][:n]
	best, niche = best[:n], niche[:n]
	colMin, colArg := math.Inf(1), -1
	for c := 0; c < n; c++ {
		p := u0*c0[c] + u1*c1[c] + u2*c2[c]
		d2 := nn[c] - p*p
		if d2 < best[c] {
			best[c], niche[c] = d2, j
		}
		if d2 < colMin {
			colMin, colArg = d2, c
		}
	}
	return colMin, colArg
}

func assoc5(j int, u []float64, cols [][]float64, nn, best []float64, niche []int) (float64, int) {
	u0, u1, u2, u3, u4 := u[0], u[1], u[2], u[3], u[4]
	n := len(nn)
	c0, c1, c2, c3, c4 := cols[0][:n], cols[1][:n], cols[2][:n], cols[3][:n], cols[4][:n]
	best, niche = best[:n], niche[:n]
	colMin, colArg := math.Inf(1), -1
	for c := 0; c < n; c++ {
		p := u0*c0[c] + u1*c1[c] + u2*c2[c] + u3*c3[c] + u4*c4[c]
		d2 := nn[c] - p*p
		if d2 < best[c] {
			best[c], niche[c] = d2, j
		}
		if d2 < colMin {
			colMin, colArg = d2, c
		}
	}
	return colMin, colArg
}

func grow(v []int, n int) []int {
	if cap(v) < n {
		return make([]int, n)
	}
	return v[:n]
}

func growF(v []float64, n int) []float64 {
	if cap(v) < n {
		return make([]float64, n)
	}
	return v[:n]
}
