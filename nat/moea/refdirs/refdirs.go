// Package refdirs makes the reference directions that NSGA-III niches around: points on the unit
// simplex {w >= 0, sum w = 1} in M dimensions.
//
//   - DasDennis: the structured lattice of Das & Dennis (1998) with p partitions,
//     C(p+M-1, M-1) points, in pymoo's order.
//   - TwoLayer: Deb & Jain's (2014) boundary layer plus an inner layer shrunk towards the centre
//     (w' = w/2 + 1/(2M)), for many objectives where one layer would need too many points.
//   - Riesz: any number of well-spread points by minimising the Riesz s-energy (Blank, Deb,
//     Dhebar, Bandaru, Seada, "Generating well-spaced points on a unit simplex for evolutionary
//     many-objective optimization", IEEE TEVC 2021), seeded.
//
// It is not an algorithm: nsga3 takes whatever directions it is given.
package refdirs

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Count is the number of Das-Dennis directions for M objectives and p partitions,
// C(p+M-1, M-1). It returns -1 if the count does not fit in an int.
func Count(m, p int) int {
	if m < 1 || p < 0 {
		return 0
	}
	// C(p+m-1, m-1) computed incrementally; exact because each prefix product is a binomial.
	c := 1
	for i := 1; i < m; i++ {
		if c > math.MaxInt/(p+i) {
			return -1
		}
		c = c * (p + i) / i
	}
	return c
}

// maxDirections bounds the lattices this package builds, to turn a typo into an error rather than
// an out-of-memory crash.
const maxDirections = 1 << 22

// DasDennis returns the Das-Dennis directions with p partitions in m dimensions: every vector
// (k_1, ..., k_m)/p with non-negative integers summing to p. The order is pymoo's (first
// coordinate ascending, recursively).
func DasDennis(m, p int) ([][]float64, error) {
	if m < 1 {
		return nil, fmt.Errorf("refdirs: %d dimensions, want at least 1", m)
	}
	if p < 1 && m > 1 {
		return nil, fmt.Errorf("refdirs: %d partitions, want at least 1", p)
	}
	if m == 1 {
		return [][]float64{{1}}, nil
	}
	n := Count(m, p)
	if n < 0 || n > maxDirections {
		return nil, fmt.Errorf("refdirs: %d dimensions with %d partitions give too many directions (%d)", m, p, n)
	}
	out := make([][]float64, 0, n)
	buf := make([]float64, n*m)
	cur := make([]int, m)
	var rec func(depth, left int)
	rec = func(depth, left int) {
		if depth == m-1 {
			cur[depth] = left
			row := buf[len(out)*m : (len(out)+1)*m : (len(out)+1)*m]
			for i, k := range cur {
				row[i] = float64(k) / float64(p)
			}
			out = append(out, row)
			return
		}
		for k := 0; k <= left; k++ {
			cur[depth] = k
			rec(depth+1, left-k)
		}
	}
	rec(0, p)
	return out, nil
}

// TwoLayer returns Deb & Jain's two-layer directions: the Das-Dennis lattice with outer
// partitions followed by the lattice with inner partitions scaled towards the centroid,
// w' = w/2 + 1/(2m). For m = 8, outer 3 and inner 2 that is 120 + 36 = 156 directions.
func TwoLayer(m, outer, inner int) ([][]float64, error) {
	a, err := DasDennis(m, outer)
	if err != nil {
		return nil, fmt.Errorf("refdirs: outer layer: %w", err)
	}
	b, err := DasDennis(m, inner)
	if err != nil {
		return nil, fmt.Errorf("refdirs: inner layer: %w", err)
	}
	for _, w := range b {
		for i := range w {
			w[i] = 0.5*w[i] + 0.5/float64(m)
		}
	}
	return append(a, b...), nil
}

// RieszOptions tune Riesz; the zero value gives pymoo's defaults.
type RieszOptions struct {
	// S is the energy exponent s (default 2m, pymoo's choice).
	S float64
	// MaxIter caps the gradient steps (default 1000).
	MaxIter int
	// Precision stops when the mean movement of a step falls below it (default 1e-5).
	Precision float64
}

// Riesz returns n directions in m dimensions spread by minimising the Riesz s-energy
// sum_{i<j} 1/|w_i - w_j|^s on the simplex, from a seeded start. The procedure follows pymoo's
// RieszEnergyReferenceDirectionFactory: the gradient is projected onto the plane sum = 0 and
// normalised by its largest row norm, Adam (alpha 0.005) takes the step, points are projected
// back onto the simplex, the best energy seen is kept, and Adam restarts with half the step after
// 30 steps without improvement. Where this differs from pymoo: the start is not pymoo's k-means
// reduction of a dense lattice but the m corners plus a farthest-point selection from 50n seeded
// random simplex points, and the projection is the exact Euclidean projection onto the simplex
// (Duchi et al. 2008) rather than pymoo's recursive one. The same seed always gives the same
// directions.
func Riesz(m, n int, seed uint64, opt RieszOptions) ([][]float64, error) {
	if m < 2 {
		return nil, fmt.Errorf("refdirs: Riesz needs at least 2 dimensions, got %d", m)
	}
	if n < m {
		return nil, fmt.Errorf("refdirs: Riesz needs at least as many points as dimensions (%d), got %d", m, n)
	}
	if n > 100000 {
		return nil, errors.New("refdirs: Riesz is quadratic in the number of points; more than 100000 asked")
	}
	s := opt.S
	if s == 0 {
		s = 2 * float64(m)
	}
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = 1000
	}
	prec := opt.Precision
	if prec == 0 {
		prec = 1e-5
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed5eed5eed5eed))
	X := initialSpread(rng, m, n)

	best := cloneRows(X)
	bestE := math.Inf(1)
	grad := make([][]float64, n)
	for i := range grad {
		grad[i] = make([]float64, m)
	}
	adam := newAdam(n, m, 0.005)
	notImproved := 0
	next := cloneRows(X)
	tmp := make([]float64, m)
	for iter := 0; iter < maxIter; iter++ {
		e := energyGrad(X, s, grad)
		// Project the gradient onto sum = 0 and normalise by the largest row norm.
		maxNorm := 0.0
		for _, g := range grad {
			mean := 0.0
			for _, v := range g {
				mean += v
			}
			mean /= float64(m)
			nn := 0.0
			for k := range g {
				g[k] -= mean
				nn += g[k] * g[k]
			}
			maxNorm = max(maxNorm, math.Sqrt(nn))
		}
		maxNorm = max(maxNorm, 1e-24)
		for _, g := range grad {
			for k := range g {
				g[k] /= maxNorm
			}
		}
		adam.step(X, grad, next)
		for i := range next {
			projectSimplex(next[i], tmp)
		}
		if e < bestE {
			bestE = e
			copyRows(best, X)
			notImproved = 0
		} else {
			notImproved++
		}
		delta := 0.0
		for i := range X {
			d := 0.0
			for k := range X[i] {
				d += math.Abs(next[i][k] - X[i][k])
			}
			delta += d / float64(m)
		}
		delta /= float64(n)
		if delta < prec || math.IsNaN(e) {
			break
		}
		if notImproved > 30 {
			adam = newAdam(n, m, adam.alpha/2)
			copyRows(next, best)
			notImproved = 0
		}
		X, next = next, X
	}
	if e := energyGrad(X, s, grad); e < bestE {
		copyRows(best, X)
	}
	return best, nil
}

// initialSpread returns the m corners followed by a farthest-point selection of n-m points among
// 50n uniform random points of the simplex.
func initialSpread(rng *rand.Rand, m, n int) [][]float64 {
	X := make([][]float64, 0, n)
	for i := 0; i < m; i++ {
		w := make([]float64, m)
		w[i] = 1
		X = append(X, w)
	}
	pool := make([][]float64, 50*n)
	for i := range pool {
		w := make([]float64, m)
		sum := 0.0
		for k := range w {
			w[k] = rng.ExpFloat64()
			sum += w[k]
		}
		for k := range w {
			w[k] /= sum
		}
		pool[i] = w
	}
	dmin := make([]float64, len(pool))
	for i, p := range pool {
		dmin[i] = math.Inf(1)
		for _, x := range X {
			dmin[i] = min(dmin[i], sqDist(p, x))
		}
	}
	for len(X) < n {
		bi := 0
		for i := range dmin {
			if dmin[i] > dmin[bi] {
				bi = i
			}
		}
		x := pool[bi]
		X = append(X, x)
		for i, p := range pool {
			dmin[i] = min(dmin[i], sqDist(p, x))
		}
	}
	return X
}

// energyGrad returns log(mean_{i<j} |x_i - x_j|^-s) and writes its gradient (divided by the
// energy sum, as pymoo does) into grad.
func energyGrad(X [][]float64, s float64, grad [][]float64) float64 {
	n := len(X)
	eps := math.Pow(10, -320/(s+2))
	for _, g := range grad {
		clear(g)
	}
	energy := 0.0
	m := len(X[0])
	diff := make([]float64, m)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			d2 := 0.0
			for k := 0; k < m; k++ {
				diff[k] = X[i][k] - X[j][k]
				d2 += diff[k] * diff[k]
			}
			d := max(math.Sqrt(d2), eps)
			ds := math.Pow(d, s)
			energy += 1 / ds
			c := -s / (ds * d * d)
			for k := 0; k < m; k++ {
				grad[i][k] += c * diff[k]
				grad[j][k] -= c * diff[k]
			}
		}
	}
	for _, g := range grad {
		for k := range g {
			g[k] /= energy
		}
	}
	pairs := float64(n) * float64(n-1) / 2
	return math.Log(energy) - math.Log(pairs)
}

type adam struct {
	alpha, b1, b2, eps float64
	t                  int
	mo, ve             [][]float64
}

func newAdam(n, m int, alpha float64) *adam {
	a := &adam{alpha: alpha, b1: 0.9, b2: 0.999, eps: 1e-8}
	a.mo, a.ve = make([][]float64, n), make([][]float64, n)
	for i := range a.mo {
		a.mo[i], a.ve[i] = make([]float64, m), make([]float64, m)
	}
	return a
}

// step writes x - alpha * mhat / (sqrt(vhat) + eps) into out.
func (a *adam) step(x, g, out [][]float64) {
	a.t++
	c1 := 1 - math.Pow(a.b1, float64(a.t))
	c2 := 1 - math.Pow(a.b2, float64(a.t))
	for i := range x {
		for k := range x[i] {
			a.mo[i][k] = a.b1*a.mo[i][k] + (1-a.b1)*g[i][k]
			a.ve[i][k] = a.b2*a.ve[i][k] + (1-a.b2)*g[i][k]*g[i][k]
			mh := a.mo[i][k] / c1
			vh := a.ve[i][k] / c2
			out[i][k] = x[i][k] - a.alpha*mh/(math.Sqrt(vh)+a.eps)
		}
	}
}

// projectSimplex replaces v by its Euclidean projection onto the unit simplex (Duchi, Shalev-
// Shwartz, Singer, Chandra, ICML 2008). tmp has v's length.
func projectSimplex(v, tmp []float64) {
	copy(tmp, v)
	slices.Sort(tmp)
	slices.Reverse(tmp)
	cum, theta := 0.0, 0.0
	for i, u := range tmp {
		cum += u
		t := (cum - 1) / float64(i+1)
		if u-t > 0 {
			theta = t
		}
	}
	sum := 0.0
	for i := range v {
		v[i] = max(v[i]-theta, 0)
		sum += v[i]
	}
	for i := range v {
		v[i] /= sum
	}
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

func cloneRows(X [][]float64) [][]float64 {
	out := make([][]float64, len(X))
	for i := range X {
		out[i] = append([]float64(nil), X[i]...)
	}
	return out
}

func copyRows(dst, src [][]float64) {
	for i := range src {
		copy(dst[i], src[i])
	}
}
