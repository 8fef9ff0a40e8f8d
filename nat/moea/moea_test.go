package moea_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/moea"
)

// oneStep is a minimal algorithm: a fixed population evaluated once per generation.
type oneStep struct{ pop moea.Population }

func (a *oneStep) Setup(run *moea.Run) error { return nil }
func (a *oneStep) Initialize(ctx context.Context, run *moea.Run) error {
	if err := run.Evaluate(ctx, a.pop); err != nil {
		return err
	}
	run.State.Population, run.State.Opt = a.pop, a.pop
	return nil
}
func (a *oneStep) Next(ctx context.Context, run *moea.Run) error { return run.Evaluate(ctx, a.pop) }

type never struct{}

func (never) Done(*moea.State) bool { return false }

type after int

func (n after) Done(s *moea.State) bool { return s.Generation >= int(n) }

func TestMinimizeCountsAndConstraints(t *testing.T) {
	calls := 0
	p := &moea.FuncProblem{
		Lower: []float64{0}, Upper: []float64{1}, Objectives: 2, Constraints: 2,
		Func: func(ctx context.Context, X, F, G [][]float64) error {
			calls++
			for i, x := range X {
				F[i][0], F[i][1] = x[0], 1-x[0]
				G[i][0], G[i][1] = x[0]-0.5, -1 // violated by 0.5 for x = 1
			}
			return nil
		},
	}
	alg := &oneStep{pop: moea.Population{{X: []float64{0.25}}, {X: []float64{1}}}}
	res, err := moea.Minimize(context.Background(), p, alg, after(3), 9)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 4 || res.Evaluations != 8 || res.Generations != 3 || res.Seed != 9 {
		t.Errorf("calls %d, result %+v; want 4 batch calls, 8 evaluations, 3 generations", calls, res)
	}
	if alg.pop[0].CV != 0 || alg.pop[1].CV != 0.5 || alg.pop[1].Feasible() {
		t.Errorf("violations %v, %v; want 0 and 0.5", alg.pop[0].CV, alg.pop[1].CV)
	}
}

func TestMinimizeRejectsBadInput(t *testing.T) {
	ok := func(ctx context.Context, X, F, G [][]float64) error { return nil }
	nan := func(ctx context.Context, X, F, G [][]float64) error {
		for i := range F {
			F[i][0] = math.NaN()
		}
		return nil
	}
	inf := func(ctx context.Context, X, F, G [][]float64) error {
		for i := range F {
			F[i][0] = math.Inf(1)
		}
		return nil
	}
	cases := []struct {
		name string
		p    moea.Problem
		want string
	}{
		{"no variables", &moea.FuncProblem{Objectives: 1, Func: ok}, "no variables"},
		{"bounds", &moea.FuncProblem{Lower: []float64{1}, Upper: []float64{0}, Objectives: 1, Func: ok}, "variable 0"},
		{"objectives", &moea.FuncProblem{Lower: []float64{0}, Upper: []float64{1}, Func: ok}, "0 objectives"},
		{"NaN", &moea.FuncProblem{Lower: []float64{0}, Upper: []float64{1}, Objectives: 1, Func: nan}, "NaN"},
		{"Inf", &moea.FuncProblem{Lower: []float64{0}, Upper: []float64{1}, Objectives: 1, Func: inf}, "must be finite"},
	}
	for _, c := range cases {
		alg := &oneStep{pop: moea.Population{{X: []float64{0.5}}}}
		_, err := moea.Minimize(context.Background(), c.p, alg, never{}, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestIntegerProblem(t *testing.T) {
	var seen [][]int
	ip := &moea.IntegerProblem{
		Lower: []int{0, 1}, Upper: []int{3, 5}, Objectives: 1,
		Evaluate: func(ctx context.Context, genomes [][]int, F, G [][]float64) error {
			seen = append(seen, genomes...)
			for i, g := range genomes {
				F[i][0] = float64(g[0] + g[1])
			}
			return nil
		},
		Repair: func(g []int) {
			if g[0] > g[1] {
				g[0], g[1] = g[1], g[0]
			}
		},
	}
	p, err := ip.Problem()
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{3.4, 0.6} // rounds to (3, 1), repaired to (1, 3)
	p.(moea.Repairer).Repair(x)
	if x[0] != 1 || x[1] != 3 {
		t.Errorf("repaired %v, want [1 3]", x)
	}
	x = []float64{-2, 9} // out of bounds: clipped to (0, 5)
	p.(moea.Repairer).Repair(x)
	if x[0] != 0 || x[1] != 5 {
		t.Errorf("repaired %v, want [0 5]", x)
	}
	F := [][]float64{{0}}
	if err := p.Evaluate(context.Background(), [][]float64{{2, 3}}, F, nil); err != nil || F[0][0] != 5 || seen[0][1] != 3 {
		t.Errorf("evaluate: %v, F %v, genomes %v", err, F, seen)
	}
	bad := []*moea.IntegerProblem{
		{Lower: []int{0}, Upper: []int{1, 2}, Objectives: 1, Evaluate: ip.Evaluate},
		{Lower: []int{2}, Upper: []int{1}, Objectives: 1, Evaluate: ip.Evaluate},
		{Lower: []int{0}, Upper: []int{1}, Objectives: 1},
		{Lower: []int{0}, Upper: []int{1}, Evaluate: ip.Evaluate},
	}
	for i, b := range bad {
		if _, err := b.Problem(); err == nil {
			t.Errorf("bad integer problem %d accepted", i)
		}
	}
	if g := moea.Genome([]float64{1.4, 2.6, -0.2}); g[0] != 1 || g[1] != 3 || g[2] != 0 {
		t.Errorf("Genome = %v", g)
	}
}

func TestNewRandDependsOnSeed(t *testing.T) {
	a, b, c := moea.NewRand(1), moea.NewRand(1), moea.NewRand(2)
	x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
	if x != y || x == z {
		t.Errorf("NewRand: %x %x %x; want equal for equal seeds and different otherwise", x, y, z)
	}
}
