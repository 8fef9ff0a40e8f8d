package moea

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// FuncProblem is a Problem made of plain values: real (or integer-valued) variables with bounds
// and a batch evaluation function.
type FuncProblem struct {
	// Lower and Upper bound every variable (inclusive); they must have the same length.
	Lower, Upper []float64
	// Objectives is M, Constraints the number of inequality constraints g(x) <= 0.
	Objectives, Constraints int
	// Func evaluates a batch as Problem.Evaluate does.
	Func func(ctx context.Context, X, F, G [][]float64) error
	// RepairFunc, if set, normalises a genome in place (see Repairer).
	RepairFunc func(x []float64)
}

// Bounds implements Problem.
func (p *FuncProblem) Bounds() (lower, upper []float64) { return p.Lower, p.Upper }

// NumObjectives implements Problem.
func (p *FuncProblem) NumObjectives() int { return p.Objectives }

// NumConstraints implements Problem.
func (p *FuncProblem) NumConstraints() int { return p.Constraints }

// Evaluate implements Problem.
func (p *FuncProblem) Evaluate(ctx context.Context, X, F, G [][]float64) error {
	if p.Func == nil {
		return errors.New("moea: FuncProblem has no Func")
	}
	return p.Func(ctx, X, F, G)
}

// Repair implements Repairer (a no-op without RepairFunc).
func (p *FuncProblem) Repair(x []float64) {
	if p.RepairFunc != nil {
		p.RepairFunc(x)
	}
}

// IntegerProblem is a problem over integer genomes, NAT's case: gene i takes the integers
// Lower[i]..Upper[i]. The search works on float64 vectors that the integer operators keep
// integral; IntegerProblem converts them to []int for Evaluate and Repair, so those functions
// only ever see genomes. Use it with integer operators (operators.IntegerPolynomialMutation,
// operators.UniformCrossover or operators.TwoPointCrossover); real operators would produce
// fractional values, which IntegerProblem rounds.
type IntegerProblem struct {
	// Lower and Upper are the inclusive integer bounds of every gene.
	Lower, Upper []int
	// Objectives is M, the number of objectives; Constraints the number of g(x) <= 0 constraints.
	Objectives, Constraints int
	// Evaluate fills F[i] (and G[i] when Constraints > 0) for every genome. Called once per
	// generation with the whole batch of new individuals: a surrogate predicts them in one call.
	Evaluate func(ctx context.Context, genomes [][]int, F, G [][]float64) error
	// Repair, if set, normalises a genome in place; the result must stay within bounds.
	Repair func(genome []int)
}

// Problem returns the float64 view of p that Minimize takes. It validates the bounds.
func (p *IntegerProblem) Problem() (Problem, error) {
	if len(p.Lower) == 0 || len(p.Lower) != len(p.Upper) {
		return nil, fmt.Errorf("moea: IntegerProblem has %d lower and %d upper bounds", len(p.Lower), len(p.Upper))
	}
	if p.Evaluate == nil {
		return nil, errors.New("moea: IntegerProblem has no Evaluate function")
	}
	if p.Objectives < 1 {
		return nil, fmt.Errorf("moea: IntegerProblem has %d objectives, want at least 1", p.Objectives)
	}
	ip := &intProblem{p: p, lower: make([]float64, len(p.Lower)), upper: make([]float64, len(p.Upper))}
	for i := range p.Lower {
		if p.Lower[i] > p.Upper[i] {
			return nil, fmt.Errorf("moea: IntegerProblem gene %d has bounds [%d, %d]", i, p.Lower[i], p.Upper[i])
		}
		ip.lower[i], ip.upper[i] = float64(p.Lower[i]), float64(p.Upper[i])
	}
	return ip, nil
}

// Genome converts a float64 vector of an integer problem to its genome (rounding to nearest).
func Genome(x []float64) []int {
	g := make([]int, len(x))
	for i, v := range x {
		g[i] = int(math.Round(v))
	}
	return g
}

type intProblem struct {
	p            *IntegerProblem
	lower, upper []float64
}

func (q *intProblem) Bounds() (lower, upper []float64) { return q.lower, q.upper }
func (q *intProblem) NumObjectives() int               { return q.p.Objectives }
func (q *intProblem) NumConstraints() int              { return q.p.Constraints }

func (q *intProblem) Evaluate(ctx context.Context, X, F, G [][]float64) error {
	genomes := make([][]int, len(X))
	buf := make([]int, len(X)*len(q.lower))
	for i, x := range X {
		g := buf[i*len(q.lower) : (i+1)*len(q.lower) : (i+1)*len(q.lower)]
		for j, v := range x {
			g[j] = int(math.Round(v))
		}
		genomes[i] = g
	}
	return q.p.Evaluate(ctx, genomes, F, G)
}

// Repair rounds x to integers within bounds and then applies the user's hook.
func (q *intProblem) Repair(x []float64) {
	g := make([]int, len(x))
	for i, v := range x {
		r := int(math.Round(v))
		r = max(q.p.Lower[i], min(q.p.Upper[i], r))
		g[i] = r
	}
	if q.p.Repair != nil {
		q.p.Repair(g)
	}
	for i, v := range g {
		x[i] = float64(v)
	}
}
