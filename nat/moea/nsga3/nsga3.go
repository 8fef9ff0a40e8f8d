// Package nsga3 is NSGA-III (Deb & Jain, "An evolutionary many-objective optimization algorithm
// using reference-point-based nondominated sorting approach, Part I", IEEE TEVC 18(4), 2014), the
// search NAT runs on its surrogate, implemented as pymoo 0.6 implements it so that its results can
// be checked against pymoo's (../shared/reference/moea-reference.md).
//
// One generation: binary tournament selection (feasibility first, otherwise random), crossover,
// mutation, repair, duplicate elimination, one batch evaluation of the offspring, then the
// reference-direction survival step of survival.go on parents + offspring.
//
// Where this follows pymoo rather than the paper, outside the survival step (whose departures
// are listed on Survival): parents are chosen by binary tournaments on constraint violation
// that are random between feasible individuals (the paper picks parents at random, the same
// thing for unconstrained problems, but pymoo's permutation-based tournaments use every
// individual about equally often); duplicates are eliminated (the paper does not); and the
// initial population also goes through the survival step. The default population size rounds
// the number of directions up to a multiple of 4 as the paper does (pymoo defaults to the number
// of directions itself).
//
// It is not a general framework: operators, reference directions and termination come from the
// sibling packages.
package nsga3

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/operators"
)

// Options configure NSGA-III. Only RefDirs is required; the defaults are pymoo's.
type Options struct {
	// RefDirs are the reference directions (rows on the unit simplex with M values), e.g. from
	// refdirs.DasDennis or refdirs.Riesz.
	RefDirs [][]float64
	// PopSize is the population size. Default: the number of reference directions rounded up
	// to a multiple of 4, as Deb & Jain do (91 directions -> 92, 210 -> 212).
	PopSize int
	// Offspring is the number of offspring per generation (default PopSize).
	Offspring int
	// Crossover defaults to SBX with eta 30 and probability 1 (pymoo's NSGA-III default). NAT
	// uses operators.TwoPointCrossover{Prob: 0.9} or UniformCrossover on integer genomes.
	Crossover operators.Crossover
	// Mutation defaults to pymoo's PM: polynomial mutation with eta 20 applied to an offspring
	// with probability 0.9, then to each variable with probability 1/n.
	// NAT uses operators.IntegerPolynomialMutation{Eta: 1}.
	Mutation operators.Mutation
	// Sampling draws random individuals for the initial population (default
	// operators.RealSampling; use operators.IntegerSampling for integer genomes).
	Sampling operators.Sampling
	// Initial individuals (e.g. an archive's genomes) start the population; random ones fill
	// the rest. More than PopSize are allowed: the first survival step reduces them.
	Initial [][]float64
	// KeepDuplicates turns off duplicate elimination (pymoo: eliminate_duplicates=True).
	KeepDuplicates bool
}

// NSGA3 is the algorithm; create it with New and pass it to moea.Minimize. A value keeps per-run
// state (ideal point, extreme points), so use one value per concurrent run.
type NSGA3 struct {
	opts     Options
	mating   operators.Mating
	survival *Survival
}

// New validates the options and fills in the defaults.
func New(opts Options) (*NSGA3, error) {
	if err := checkRefDirs(opts.RefDirs); err != nil {
		return nil, err
	}
	if opts.PopSize == 0 {
		opts.PopSize = (len(opts.RefDirs) + 3) / 4 * 4
	}
	if opts.PopSize < 2 {
		return nil, fmt.Errorf("nsga3: PopSize = %d, want at least 2", opts.PopSize)
	}
	if opts.Offspring == 0 {
		opts.Offspring = opts.PopSize
	}
	if opts.Offspring < 1 {
		return nil, fmt.Errorf("nsga3: Offspring = %d, want at least 1", opts.Offspring)
	}
	if opts.Crossover == nil {
		opts.Crossover = operators.NewSBX(30, 1.0)
	}
	if opts.Mutation == nil {
		opts.Mutation = operators.PolynomialMutation{Eta: 20, Prob: 0.9}
	}
	if opts.Sampling == nil {
		opts.Sampling = operators.RealSampling{}
	}
	if err := operators.Validate(opts.Crossover, opts.Mutation); err != nil {
		return nil, fmt.Errorf("nsga3: %w", err)
	}
	return &NSGA3{
		opts:   opts,
		mating: operators.Mating{Crossover: opts.Crossover, Mutation: opts.Mutation, KeepDuplicates: opts.KeepDuplicates},
	}, nil
}

// Options returns the options with defaults filled in.
func (a *NSGA3) Options() Options { return a.opts }

// Setup implements moea.Algorithm.
func (a *NSGA3) Setup(run *moea.Run) error {
	m := run.Problem.NumObjectives()
	if len(a.opts.RefDirs[0]) != m {
		return fmt.Errorf("nsga3: reference directions have %d values but the problem has %d objectives", len(a.opts.RefDirs[0]), m)
	}
	s, err := NewSurvival(a.opts.RefDirs)
	if err != nil {
		return err
	}
	a.survival = s
	return nil
}

// Initialize implements moea.Algorithm.
func (a *NSGA3) Initialize(ctx context.Context, run *moea.Run) error {
	pop, err := operators.InitialPopulation(ctx, run, a.opts.PopSize, a.opts.Initial, a.opts.Sampling, a.opts.KeepDuplicates)
	if err != nil {
		return fmt.Errorf("nsga3: initial population: %w", err)
	}
	if err := run.Evaluate(ctx, pop); err != nil {
		return err
	}
	// As pymoo does after the initial evaluation: survival with n = the population's size
	// (which only ranks it), or down to PopSize when more initial individuals were given.
	run.State.Population = a.survival.Do(run, pop, min(len(pop), a.opts.PopSize))
	run.State.Opt = a.survival.Opt
	return nil
}

// Next implements moea.Algorithm.
func (a *NSGA3) Next(ctx context.Context, run *moea.Run) error {
	pop := run.State.Population
	off, err := a.mating.Offspring(ctx, run, pop, a.opts.Offspring, func(i, j int) int { return winner(run, pop, i, j) })
	if err != nil {
		return err
	}
	if err := run.Evaluate(ctx, off); err != nil {
		return err
	}
	merged := make(moea.Population, 0, len(pop)+len(off))
	merged = append(append(merged, pop...), off...)
	run.State.Population = a.survival.Do(run, merged, a.opts.PopSize)
	run.State.Opt = a.survival.Opt
	return nil
}

// checkRefDirs checks that the directions are non-empty rows of equal length with non-negative,
// not all zero, values.
func checkRefDirs(dirs [][]float64) error {
	if len(dirs) == 0 || len(dirs[0]) == 0 {
		return errors.New("nsga3: no reference directions")
	}
	m := len(dirs[0])
	for i, w := range dirs {
		if len(w) != m {
			return fmt.Errorf("nsga3: reference direction %d has %d values, direction 0 has %d", i, len(w), m)
		}
		sum := 0.0
		for _, v := range w {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("nsga3: reference direction %d has a negative, infinite or NaN value", i)
			}
			sum += v
		}
		if sum == 0 {
			return fmt.Errorf("nsga3: reference direction %d is zero", i)
		}
	}
	return nil
}

// winner is pymoo's comp_by_cv_then_random: the smaller constraint violation wins; between two
// feasible individuals (or equal violations) the winner is random.
func winner(run *moea.Run, pop moea.Population, i, j int) int {
	ci, cj := pop[i].CV, pop[j].CV
	if (ci > 0 || cj > 0) && ci != cj {
		if ci < cj {
			return i
		}
		return j
	}
	if run.Rand.IntN(2) == 0 {
		return i
	}
	return j
}

// ensure the interface is met
var _ moea.Algorithm = (*NSGA3)(nil)
