// Package moea is NAT's many-objective search machinery: the vocabulary (Problem, Individual,
// Population, Algorithm, Termination, Result) and the one entry point Minimize that composes them,
// in the spirit of pymoo's minimize(problem, algorithm, termination, seed).
//
// The parts live in subpackages, one job each:
//
//	moea/refdirs      reference directions (Das-Dennis, two-layer, Riesz s-energy)
//	moea/sorting      non-dominated sorting, crowding distance, constrained domination
//	moea/operators    crossover, mutation, repair, duplicate elimination, tournament selection, mating
//	moea/nsga2        NSGA-II (two objectives)
//	moea/nsga3        NSGA-III (Deb & Jain 2014, as pymoo implements it)
//	moea/indicator    exact hypervolume, IGD, IGD+
//	moea/problems     DTLZ1..4 and ZDT1..3 with their true fronts
//	moea/termination  generations, evaluations, time, hypervolume stagnation
//
// All objectives are minimised; negate a maximised objective at the problem boundary. Variables
// are float64 values; an integer problem (NAT's 22-gene genomes) keeps them integral through the
// integer operators and is most easily declared with IntegerProblem, which hands []int genomes to
// its batch evaluation function and repair hook.
//
// A search as NAT's transfer loop runs it (see Example for the whole program):
//
//	prob, _ := (&moea.IntegerProblem{Lower: lo, Upper: hi, Objectives: 3,
//		Evaluate: predictBatch, Repair: space.Normalise}).Problem()
//	dirs, _ := refdirs.DasDennis(3, 13) // 105 directions
//	alg, _ := nsga3.New(nsga3.Options{RefDirs: dirs, PopSize: 100, Initial: archiveGenomes,
//		Crossover: operators.TwoPointCrossover{Prob: 0.9},
//		Mutation:  operators.IntegerPolynomialMutation{Eta: 1},
//		Sampling:  operators.IntegerSampling{}})
//	res, err := moea.Minimize(ctx, prob, alg, termination.Generations(100), seed,
//		moea.WithCallback(progress))
//	// res.Opt: the non-dominated answer; moea.Genome(ind.X) gives each genome as []int.
//
// Determinism: Minimize draws every random number from one math/rand/v2 PCG source seeded by its
// seed argument and never runs the search itself concurrently, so the same seed and the same
// problem give the same result whatever GOMAXPROCS is (a problem may evaluate a batch in parallel
// as long as its answer does not depend on scheduling).
//
// This package is not a general optimisation library: there is no single-objective solver and no
// gradient method; it is what NAT's surrogate-assisted search needs, validated against pymoo.
package moea

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Problem is what a search minimises: variables within bounds, M objectives and optional
// inequality constraints g(x) <= 0, evaluated a whole population at a time so that a surrogate
// can predict in one batch.
type Problem interface {
	// Bounds returns the inclusive lower and upper bound of every variable; len(lower) is the
	// number of variables. The slices must not be modified.
	Bounds() (lower, upper []float64)
	// NumObjectives is M, the number of objectives (at least 1).
	NumObjectives() int
	// NumConstraints is the number of inequality constraints (0 for an unconstrained problem).
	NumConstraints() int
	// Evaluate fills F[i] (length NumObjectives) and, when there are constraints, G[i] (length
	// NumConstraints; feasible when every entry is <= 0) for every X[i]. The rows of F and G are
	// allocated by the caller; G is nil when there are no constraints. Evaluate must not keep or
	// modify X. It should return ctx.Err() promptly when ctx is cancelled.
	Evaluate(ctx context.Context, X, F, G [][]float64) error
}

// Repairer is implemented by a problem whose genomes must be normalised after variation (for
// example NAT's search space moves a layer that follows a skipped slot). Algorithms call Repair
// on every new individual (initial population included) before duplicate elimination and
// evaluation. Repair may modify x in place and must keep it within bounds.
type Repairer interface {
	Repair(x []float64)
}

// Individual is one candidate: its variables, objectives, constraint values and overall
// constraint violation (sum of positive parts of G; 0 when feasible).
type Individual struct {
	X  []float64
	F  []float64
	G  []float64
	CV float64
}

// Feasible reports whether the individual violates no constraint.
func (ind *Individual) Feasible() bool { return ind.CV <= 0 }

// Clone returns a deep copy.
func (ind *Individual) Clone() *Individual {
	return &Individual{X: cloneF(ind.X), F: cloneF(ind.F), G: cloneF(ind.G), CV: ind.CV}
}

func cloneF(v []float64) []float64 {
	if v == nil {
		return nil
	}
	return append([]float64(nil), v...)
}

// Population is a set of individuals. Algorithms never share an *Individual between two
// populations they later modify, so callers may keep the individuals of a Result.
type Population []*Individual

// Objectives returns the objective vectors of the population (rows alias the individuals).
func (p Population) Objectives() [][]float64 {
	out := make([][]float64, len(p))
	for i, ind := range p {
		out[i] = ind.F
	}
	return out
}

// Variables returns the variable vectors of the population (rows alias the individuals).
func (p Population) Variables() [][]float64 {
	out := make([][]float64, len(p))
	for i, ind := range p {
		out[i] = ind.X
	}
	return out
}

// State is what a run has reached; algorithms update it, terminations and callbacks read it.
type State struct {
	// Generation counts completed generations; the initial population is generation 0.
	Generation int
	// Evaluations counts individuals evaluated so far.
	Evaluations int
	// Start is when Minimize started; Elapsed is measured from it.
	Start time.Time
	// Population is the current population (after survival).
	Population Population
	// Opt is the algorithm's current answer: the non-dominated feasible individuals (NSGA-III
	// reports, as pymoo does, the first-front members closest to a reference direction).
	Opt Population
}

// Elapsed is the wall time since the run started.
func (s *State) Elapsed() time.Duration { return time.Since(s.Start) }

// Run is handed to an algorithm: the problem, the run's only random source, and evaluation that
// keeps the state's counters.
type Run struct {
	Problem Problem
	Rand    *rand.Rand
	State   *State
	lower   []float64
	upper   []float64
	repair  Repairer
}

// Lower and Upper return the problem's variable bounds.
func (r *Run) Lower() []float64 { return r.lower }

// Upper returns the problem's upper variable bounds.
func (r *Run) Upper() []float64 { return r.upper }

// Repair applies the problem's repair hook, if it has one, to x.
func (r *Run) Repair(x []float64) {
	if r.repair != nil {
		r.repair.Repair(x)
	}
}

// Evaluate evaluates every individual of pop in one batch call of the problem, allocating F and
// G, and computes the constraint violation. It checks the shape and finiteness of the answer.
func (r *Run) Evaluate(ctx context.Context, pop Population) error {
	if len(pop) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m, nc := r.Problem.NumObjectives(), r.Problem.NumConstraints()
	X := make([][]float64, len(pop))
	F := make([][]float64, len(pop))
	fbuf := make([]float64, len(pop)*m)
	var G [][]float64
	var gbuf []float64
	if nc > 0 {
		G = make([][]float64, len(pop))
		gbuf = make([]float64, len(pop)*nc)
	}
	for i, ind := range pop {
		X[i] = ind.X
		F[i] = fbuf[i*m : (i+1)*m : (i+1)*m]
		if nc > 0 {
			G[i] = gbuf[i*nc : (i+1)*nc : (i+1)*nc]
		}
	}
	if err := r.Problem.Evaluate(ctx, X, F, G); err != nil {
		return fmt.Errorf("moea: evaluating %d individuals: %w", len(pop), err)
	}
	for i, ind := range pop {
		ind.F = F[i]
		ind.CV = 0
		for j, f := range F[i] {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				// Infinite objectives would turn NSGA-III's normalisation into NaNs; a
				// penalty belongs in a constraint instead.
				return fmt.Errorf("moea: objective %d of individual %d is %v (x = %v); objectives must be finite (express a penalty as a constraint)", j, i, f, ind.X)
			}
		}
		if nc > 0 {
			ind.G = G[i]
			for j, g := range G[i] {
				if math.IsNaN(g) {
					return fmt.Errorf("moea: constraint %d of individual %d is NaN (x = %v)", j, i, ind.X)
				}
				// +Inf is allowed: an infinitely violated constraint is still comparable.
				if g > 0 {
					ind.CV += g
				}
			}
		}
	}
	r.State.Evaluations += len(pop)
	return nil
}

// Algorithm is a population-based optimiser driven generation by generation by Minimize.
// Implementations keep their own per-run state and must draw randomness only from run.Rand.
type Algorithm interface {
	// Setup validates the algorithm against the problem and resets per-run state.
	Setup(run *Run) error
	// Initialize builds, repairs and evaluates the initial population and sets
	// run.State.Population and run.State.Opt.
	Initialize(ctx context.Context, run *Run) error
	// Next performs one generation (mating, evaluation, survival) and updates run.State.
	Next(ctx context.Context, run *Run) error
}

// Termination decides when a run stops; Done is asked after every generation (the initial
// population included). Values with memory (hypervolume stagnation) reset themselves when they
// see a generation number that does not increase, so one value may serve consecutive runs, but
// not concurrent ones.
type Termination interface {
	Done(s *State) bool
}

// Callback is called after every generation (the initial population included) with the run's
// state; a non-nil error stops the run and is returned by Minimize with the result so far.
type Callback func(s *State) error

// Option adjusts a Minimize call.
type Option func(*options)

type options struct {
	callback Callback
}

// WithCallback registers a per-generation callback (progress reports, logging, early stops).
func WithCallback(cb Callback) Option { return func(o *options) { o.callback = cb } }

// Result is the outcome of a run.
type Result struct {
	// Opt is the algorithm's answer (see State.Opt); Population the last population.
	Opt        Population
	Population Population
	// Generations and Evaluations are the counts reached; Elapsed the wall time.
	Generations int
	Evaluations int
	Elapsed     time.Duration
	// Seed is the seed the run used.
	Seed uint64
}

// NewRand returns the random source Minimize uses for a seed: a PCG generator whose two words
// are derived from the seed with SplitMix64 so that nearby seeds give unrelated streams.
func NewRand(seed uint64) *rand.Rand {
	a := splitmix(seed)
	b := splitmix(a)
	return rand.New(rand.NewPCG(a, b))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Minimize runs algorithm on problem from seed until termination says done, ctx is cancelled,
// or a callback returns an error. On cancellation or callback error it returns the result so far
// together with the error.
func Minimize(ctx context.Context, problem Problem, algorithm Algorithm, termination Termination, seed uint64, opts ...Option) (*Result, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if problem == nil || algorithm == nil || termination == nil {
		return nil, errors.New("moea: Minimize needs a problem, an algorithm and a termination")
	}
	lower, upper := problem.Bounds()
	if err := checkBounds(lower, upper); err != nil {
		return nil, err
	}
	if problem.NumObjectives() < 1 {
		return nil, fmt.Errorf("moea: problem has %d objectives, want at least 1", problem.NumObjectives())
	}
	if problem.NumConstraints() < 0 {
		return nil, fmt.Errorf("moea: problem has %d constraints", problem.NumConstraints())
	}
	state := &State{Start: time.Now()}
	run := &Run{Problem: problem, Rand: NewRand(seed), State: state, lower: lower, upper: upper}
	if rp, ok := problem.(Repairer); ok {
		run.repair = rp
	}
	result := func() *Result {
		return &Result{Opt: state.Opt, Population: state.Population, Generations: state.Generation,
			Evaluations: state.Evaluations, Elapsed: state.Elapsed(), Seed: seed}
	}
	if err := algorithm.Setup(run); err != nil {
		return nil, err
	}
	if err := algorithm.Initialize(ctx, run); err != nil {
		return result(), err
	}
	for {
		if o.callback != nil {
			if err := o.callback(state); err != nil {
				return result(), err
			}
		}
		if termination.Done(state) {
			return result(), nil
		}
		if err := ctx.Err(); err != nil {
			return result(), err
		}
		if err := algorithm.Next(ctx, run); err != nil {
			return result(), err
		}
		state.Generation++
	}
}

func checkBounds(lower, upper []float64) error {
	if len(lower) == 0 {
		return errors.New("moea: problem has no variables")
	}
	if len(lower) != len(upper) {
		return fmt.Errorf("moea: %d lower bounds but %d upper bounds", len(lower), len(upper))
	}
	for i := range lower {
		if !(lower[i] <= upper[i]) || math.IsInf(lower[i], 0) || math.IsInf(upper[i], 0) {
			return fmt.Errorf("moea: variable %d has bounds [%v, %v]; want finite lower <= upper", i, lower[i], upper[i])
		}
	}
	return nil
}

// NewRun returns a Run outside Minimize, for testing operators and algorithms step by step.
func NewRun(problem Problem, r *rand.Rand, state *State) *Run {
	lower, upper := problem.Bounds()
	run := &Run{Problem: problem, Rand: r, State: state, lower: lower, upper: upper}
	if rp, ok := problem.(Repairer); ok {
		run.repair = rp
	}
	return run
}
