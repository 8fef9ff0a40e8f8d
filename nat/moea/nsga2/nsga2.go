// Package nsga2 is NSGA-II (Deb, Pratap, Agarwal, Meyarivan, IEEE TEVC 2002), the usual choice
// for two objectives, as pymoo 0.6 implements it: binary tournaments by constraint violation,
// then Pareto dominance, then crowding distance, then at random; survival by non-dominated rank
// and crowding distance, with ties in the last front broken at random.
//
// It is not NSGA-III: for three or more objectives use nsga3.
package nsga2

import (
	"context"
	"fmt"
	"slices"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/operators"
	"github.com/natgo/nat/nat/moea/sorting"
)

// Options configure NSGA-II; the defaults are pymoo's.
type Options struct {
	// PopSize is the population size (default 100).
	PopSize int
	// Offspring per generation (default PopSize).
	Offspring int
	// Crossover defaults to SBX eta 15, probability 0.9; Mutation to pymoo's PM (eta 20,
	// applied to an offspring with probability 0.9, to each variable with probability 1/n).
	Crossover operators.Crossover
	Mutation  operators.Mutation
	// Sampling defaults to operators.RealSampling.
	Sampling operators.Sampling
	// Initial individuals start the population; random ones fill the rest.
	Initial [][]float64
	// KeepDuplicates turns duplicate elimination off.
	KeepDuplicates bool
}

// NSGA2 is the algorithm; create it with New.
type NSGA2 struct {
	opts   Options
	mating operators.Mating
	// rank and crowding of the current population, by index.
	rank     []int
	crowding []float64
}

// New validates the options and fills in the defaults.
func New(opts Options) (*NSGA2, error) {
	if opts.PopSize == 0 {
		opts.PopSize = 100
	}
	if opts.PopSize < 2 {
		return nil, fmt.Errorf("nsga2: PopSize = %d, want at least 2", opts.PopSize)
	}
	if opts.Offspring == 0 {
		opts.Offspring = opts.PopSize
	}
	if opts.Offspring < 1 {
		return nil, fmt.Errorf("nsga2: Offspring = %d, want at least 1", opts.Offspring)
	}
	if opts.Crossover == nil {
		opts.Crossover = operators.NewSBX(15, 0.9)
	}
	if opts.Mutation == nil {
		opts.Mutation = operators.PolynomialMutation{Eta: 20, Prob: 0.9}
	}
	if opts.Sampling == nil {
		opts.Sampling = operators.RealSampling{}
	}
	if err := operators.Validate(opts.Crossover, opts.Mutation); err != nil {
		return nil, fmt.Errorf("nsga2: %w", err)
	}
	return &NSGA2{opts: opts, mating: operators.Mating{Crossover: opts.Crossover, Mutation: opts.Mutation, KeepDuplicates: opts.KeepDuplicates}}, nil
}

// Setup implements moea.Algorithm.
func (a *NSGA2) Setup(run *moea.Run) error { return nil }

// Initialize implements moea.Algorithm.
func (a *NSGA2) Initialize(ctx context.Context, run *moea.Run) error {
	pop, err := operators.InitialPopulation(ctx, run, a.opts.PopSize, a.opts.Initial, a.opts.Sampling, a.opts.KeepDuplicates)
	if err != nil {
		return fmt.Errorf("nsga2: initial population: %w", err)
	}
	if err := run.Evaluate(ctx, pop); err != nil {
		return err
	}
	a.survive(run, pop, min(len(pop), a.opts.PopSize))
	return nil
}

// Next implements moea.Algorithm.
func (a *NSGA2) Next(ctx context.Context, run *moea.Run) error {
	pop := run.State.Population
	off, err := a.mating.Offspring(ctx, run, pop, a.opts.Offspring, func(i, j int) int { return a.winner(run, pop, i, j) })
	if err != nil {
		return err
	}
	if err := run.Evaluate(ctx, off); err != nil {
		return err
	}
	merged := append(append(make(moea.Population, 0, len(pop)+len(off)), pop...), off...)
	a.survive(run, merged, a.opts.PopSize)
	return nil
}

func (a *NSGA2) winner(run *moea.Run, pop moea.Population, i, j int) int {
	pi, pj := pop[i], pop[j]
	if (pi.CV > 0 || pj.CV > 0) && pi.CV != pj.CV {
		if pi.CV < pj.CV {
			return i
		}
		return j
	}
	if pi.CV <= 0 && pj.CV <= 0 {
		if sorting.Dominates(pi.F, pj.F) {
			return i
		}
		if sorting.Dominates(pj.F, pi.F) {
			return j
		}
		if a.crowding[i] > a.crowding[j] {
			return i
		}
		if a.crowding[j] > a.crowding[i] {
			return j
		}
	}
	if run.Rand.IntN(2) == 0 {
		return i
	}
	return j
}

// survive keeps n individuals: feasible ones by rank and crowding, then infeasible ones by
// violation (pymoo's filter_infeasible), and records rank and crowding of the survivors.
func (a *NSGA2) survive(run *moea.Run, pop moea.Population, n int) {
	var feasible, infeasible moea.Population
	for _, ind := range pop {
		if ind.Feasible() {
			feasible = append(feasible, ind)
		} else {
			infeasible = append(infeasible, ind)
		}
	}
	slices.SortStableFunc(infeasible, func(x, y *moea.Individual) int {
		switch {
		case x.CV < y.CV:
			return -1
		case x.CV > y.CV:
			return 1
		}
		return 0
	})
	out := make(moea.Population, 0, n)
	a.rank, a.crowding = a.rank[:0], a.crowding[:0]
	var opt moea.Population
	if len(feasible) > 0 {
		fronts, _ := sorting.NonDominatedSort(feasible.Objectives(), min(n, len(feasible)))
		for r, front := range fronts {
			F := make([][]float64, len(front))
			for k, i := range front {
				F[k] = feasible[i].F
			}
			cd := sorting.CrowdingDistance(F)
			order := make([]int, len(front))
			for k := range order {
				order[k] = k
			}
			if len(out)+len(front) > n {
				// Random order first, so that equal crowding distances are broken at random.
				run.Rand.Shuffle(len(order), func(x, y int) { order[x], order[y] = order[y], order[x] })
				slices.SortStableFunc(order, func(x, y int) int {
					switch {
					case cd[x] > cd[y]:
						return -1
					case cd[x] < cd[y]:
						return 1
					}
					return 0
				})
				order = order[:n-len(out)]
			}
			for _, k := range order {
				out = append(out, feasible[front[k]])
				a.rank = append(a.rank, r)
				a.crowding = append(a.crowding, cd[k])
				if r == 0 {
					opt = append(opt, feasible[front[k]])
				}
			}
		}
	}
	for _, ind := range infeasible {
		if len(out) >= n {
			break
		}
		out = append(out, ind)
		a.rank = append(a.rank, -1)
		a.crowding = append(a.crowding, 0)
	}
	if len(opt) == 0 && len(out) > 0 {
		opt = moea.Population{out[0]}
	}
	run.State.Population = out
	run.State.Opt = opt
}

var _ moea.Algorithm = (*NSGA2)(nil)
