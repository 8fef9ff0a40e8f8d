// Package operators holds the variation and selection operators of NAT's evolutionary search:
// SBX and polynomial mutation for real variables; uniform and two-point crossover, integer
// polynomial mutation and random resetting for integer genomes; binary tournament selection;
// duplicate elimination; and Mating, the loop that turns a population into new, repaired,
// unique offspring.
//
// Every operator draws its randomness from the *rand.Rand it is handed (the run's source), so a
// seeded run is reproducible. Operators write children in place and never modify parents.
//
// It is not a survival step (see nsga2 and nsga3) and knows nothing of objectives beyond the
// comparison function a tournament is given.
package operators

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Crossover makes two children from two parents. lower and upper bound every variable; the
// children c1, c2 have the parents' length and are overwritten.
type Crossover interface {
	Cross(r *rand.Rand, lower, upper, p1, p2, c1, c2 []float64)
}

// Mutation changes x in place within bounds.
type Mutation interface {
	Mutate(r *rand.Rand, lower, upper, x []float64)
}

// SBX is simulated binary crossover (Deb & Agrawal 1995) as pymoo 0.6 implements it: with
// probability Prob per mating, each variable is crossed with probability ProbVar (unless the
// parents are within 1e-14 or the bounds coincide), using the bounded spread factor; the two
// children swap that variable with probability ProbBin; results are clipped to the bounds.
type SBX struct {
	Eta     float64 // distribution index (pymoo's NSGA-III default: 30)
	Prob    float64 // probability that a mating crosses at all (NSGA-III default: 1.0)
	ProbVar float64 // per-variable crossing probability (pymoo default: 0.5)
	ProbBin float64 // per-variable probability of exchanging the two children's values (0.5)
}

// NewSBX returns SBX with pymoo's per-variable defaults (ProbVar 0.5, ProbBin 0.5).
func NewSBX(eta, prob float64) SBX { return SBX{Eta: eta, Prob: prob, ProbVar: 0.5, ProbBin: 0.5} }

// Cross implements Crossover.
func (s SBX) Cross(r *rand.Rand, lower, upper, p1, p2, c1, c2 []float64) {
	copy(c1, p1)
	copy(c2, p2)
	if r.Float64() >= s.Prob {
		return
	}
	for i := range p1 {
		if r.Float64() >= s.ProbVar {
			continue
		}
		if math.Abs(p1[i]-p2[i]) <= 1e-14 || lower[i] == upper[i] {
			continue
		}
		y1, y2 := min(p1[i], p2[i]), max(p1[i], p2[i])
		xl, xu := lower[i], upper[i]
		delta := y2 - y1
		u := r.Float64()
		bq := sbxBetaQ(1+2*(y1-xl)/delta, s.Eta, u)
		v1 := 0.5 * ((y1 + y2) - bq*delta)
		bq = sbxBetaQ(1+2*(xu-y2)/delta, s.Eta, u)
		v2 := 0.5 * ((y1 + y2) + bq*delta)
		if r.Float64() < s.ProbBin {
			v1, v2 = v2, v1
		}
		c1[i] = clip(v1, xl, xu)
		c2[i] = clip(v2, xl, xu)
	}
}

func sbxBetaQ(beta, eta, u float64) float64 {
	alpha := 2 - powPos(beta, -(eta+1))
	if u <= 1/alpha {
		return powPos(u*alpha, 1/(eta+1))
	}
	return powPos(1/(2-u*alpha), 1/(eta+1))
}

// powPos is x^y for the x > 0 of SBX and polynomial mutation: by repeated squaring when y is a
// small integer (eta + 1 with the usual integral eta), otherwise as exp(y log x). Both are
// several times faster than math.Pow and accurate to a few ulps, far below what the operators'
// randomness can tell apart. Other x go to math.Pow.
func powPos(x, y float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Pow(x, y)
	}
	if y == math.Trunc(y) && math.Abs(y) <= 64 {
		e := int(math.Abs(y))
		r, b := 1.0, x
		for e > 0 {
			if e&1 == 1 {
				r *= b
			}
			b *= b
			e >>= 1
		}
		if y < 0 {
			return 1 / r
		}
		return r
	}
	return math.Exp(y * math.Log(x))
}

// PolynomialMutation is Deb's bounded polynomial mutation as pymoo 0.6 implements it: an
// individual is mutated with probability Prob (pymoo's PM default 0.9; 0 means 1), and then each
// variable with probability ProbVar (0 means pymoo's default min(0.5, 1/n)).
type PolynomialMutation struct {
	Eta     float64 // distribution index (pymoo's NSGA-III default: 20)
	Prob    float64 // per-individual probability; 0 means 1 (pymoo's PM uses 0.9)
	ProbVar float64 // per-variable probability; 0 means min(0.5, 1/n)
}

// Mutate implements Mutation.
func (m PolynomialMutation) Mutate(r *rand.Rand, lower, upper, x []float64) {
	if m.Prob > 0 && m.Prob < 1 && r.Float64() > m.Prob {
		return
	}
	p := perVar(m.ProbVar, len(x))
	for i := range x {
		if r.Float64() >= p || lower[i] == upper[i] {
			continue
		}
		x[i] = polyMutate(r, x[i], lower[i], upper[i], m.Eta)
	}
}

func perVar(p float64, n int) float64 {
	if p > 0 {
		return p
	}
	return min(0.5, 1/float64(n))
}

func polyMutate(r *rand.Rand, x, xl, xu, eta float64) float64 {
	d1 := (x - xl) / (xu - xl)
	d2 := (xu - x) / (xu - xl)
	pw := 1 / (eta + 1)
	u := r.Float64()
	var dq float64
	if u <= 0.5 {
		val := 2*u + (1-2*u)*powPos(1-d1, eta+1)
		dq = powPos(val, pw) - 1
	} else {
		val := 2*(1-u) + 2*(u-0.5)*powPos(1-d2, eta+1)
		dq = 1 - powPos(val, pw)
	}
	return clip(x+dq*(xu-xl), xl, xu)
}

// IntegerPolynomialMutation is polynomial mutation for integer genes: each gene mutates with
// probability ProbVar (0 means 1/n; NAT uses eta 1.0) as a real value on [lb-0.5, ub+0.5], then
// is rounded to the nearest integer and clipped to [lb, ub] (pymoo's IntegerFromFloatMutation,
// used by NAT's released search code).
type IntegerPolynomialMutation struct {
	Eta     float64
	ProbVar float64
}

// Mutate implements Mutation.
func (m IntegerPolynomialMutation) Mutate(r *rand.Rand, lower, upper, x []float64) {
	p := m.ProbVar
	if p <= 0 {
		p = 1 / float64(len(x))
	}
	const margin = 0.5 - 1e-9
	for i := range x {
		if r.Float64() >= p || lower[i] == upper[i] {
			continue
		}
		v := polyMutate(r, x[i], lower[i]-margin, upper[i]+margin, m.Eta)
		x[i] = clip(math.Round(v), lower[i], upper[i])
	}
}

// RandomResetting replaces each integer gene, with probability ProbVar (0 means 1/n), by an
// integer drawn uniformly from its bounds.
type RandomResetting struct {
	ProbVar float64
}

// Mutate implements Mutation.
func (m RandomResetting) Mutate(r *rand.Rand, lower, upper, x []float64) {
	p := m.ProbVar
	if p <= 0 {
		p = 1 / float64(len(x))
	}
	for i := range x {
		if r.Float64() >= p {
			continue
		}
		lo, hi := int64(math.Ceil(lower[i])), int64(math.Floor(upper[i]))
		if hi < lo {
			continue
		}
		x[i] = float64(lo + r.Int64N(hi-lo+1))
	}
}

// UniformCrossover exchanges each gene between the two children with probability 1/2, for a
// mating that crosses at all (probability Prob; NAT uses 0.9). Integer-valued parents give
// integer-valued children.
type UniformCrossover struct {
	Prob float64
}

// Cross implements Crossover.
func (c UniformCrossover) Cross(r *rand.Rand, lower, upper, p1, p2, c1, c2 []float64) {
	copy(c1, p1)
	copy(c2, p2)
	if r.Float64() >= c.Prob {
		return
	}
	for i := range p1 {
		if r.Float64() < 0.5 {
			c1[i], c2[i] = p2[i], p1[i]
		}
	}
}

// TwoPointCrossover swaps the genes between two distinct cut points drawn uniformly from
// 1..n-1 (pymoo's PointCrossover(n_points=2)), for a mating that crosses at all (probability
// Prob; NAT uses 0.9).
type TwoPointCrossover struct {
	Prob float64
}

// Cross implements Crossover.
func (c TwoPointCrossover) Cross(r *rand.Rand, lower, upper, p1, p2, c1, c2 []float64) {
	copy(c1, p1)
	copy(c2, p2)
	n := len(p1)
	if n < 2 || r.Float64() >= c.Prob {
		return
	}
	a := 1 + r.IntN(n-1)
	b := a
	if n > 2 {
		for b == a {
			b = 1 + r.IntN(n-1)
		}
	}
	if a > b {
		a, b = b, a
	}
	if a == b { // n == 2: a single cut point
		b = n
	}
	for i := a; i < b; i++ {
		c1[i], c2[i] = p2[i], p1[i]
	}
}

// Validate checks the settings of the operators this package defines and returns an error
// naming the first bad field; unknown implementations are accepted as they are.
func Validate(c Crossover, m Mutation) error {
	if c == nil || m == nil {
		return fmt.Errorf("operators: need a crossover and a mutation")
	}
	prob := func(name string, p float64) error {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("operators: %s = %v, want a probability in [0, 1]", name, p)
		}
		return nil
	}
	switch v := c.(type) {
	case SBX:
		if !(v.Eta >= 0) {
			return fmt.Errorf("operators: SBX.Eta = %v, want >= 0", v.Eta)
		}
		for _, e := range []error{prob("SBX.Prob", v.Prob), prob("SBX.ProbVar", v.ProbVar), prob("SBX.ProbBin", v.ProbBin)} {
			if e != nil {
				return e
			}
		}
	case UniformCrossover:
		if err := prob("UniformCrossover.Prob", v.Prob); err != nil {
			return err
		}
	case TwoPointCrossover:
		if err := prob("TwoPointCrossover.Prob", v.Prob); err != nil {
			return err
		}
	}
	switch v := m.(type) {
	case PolynomialMutation:
		if !(v.Eta >= 0) {
			return fmt.Errorf("operators: PolynomialMutation.Eta = %v, want >= 0", v.Eta)
		}
		if err := prob("PolynomialMutation.Prob", v.Prob); err != nil {
			return err
		}
		return prob("PolynomialMutation.ProbVar", v.ProbVar)
	case IntegerPolynomialMutation:
		if !(v.Eta >= 0) {
			return fmt.Errorf("operators: IntegerPolynomialMutation.Eta = %v, want >= 0", v.Eta)
		}
		return prob("IntegerPolynomialMutation.ProbVar", v.ProbVar)
	case RandomResetting:
		return prob("RandomResetting.ProbVar", v.ProbVar)
	}
	return nil
}

func clip(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
