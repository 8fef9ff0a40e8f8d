// Package termination decides when a search stops: after a number of generations or
// evaluations, after a wall-clock budget, when the hypervolume of the current answer stagnates,
// or when any of several criteria is met. Each value implements moea.Termination.
//
// It is not a callback mechanism: progress reports go through moea.WithCallback.
package termination

import (
	"math"
	"time"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/indicator"
)

// Generations stops after n generations beyond the initial population (pymoo's n_gen counts the
// initial population as generation 1, so pymoo's n_gen = 250 is Generations(249); nat bench moea
// says which it uses).
type Generations int

// Done implements moea.Termination.
func (n Generations) Done(s *moea.State) bool { return s.Generation >= int(n) }

// Evaluations stops once at least n individuals have been evaluated.
type Evaluations int

// Done implements moea.Termination.
func (n Evaluations) Done(s *moea.State) bool { return s.Evaluations >= int(n) }

// Time stops once the run has lasted at least the given duration (checked between generations).
type Time time.Duration

// Done implements moea.Termination.
func (d Time) Done(s *moea.State) bool { return s.Elapsed() >= time.Duration(d) }

// Any stops as soon as one of its criteria is met.
type Any []moea.Termination

// Done implements moea.Termination. Every criterion is asked, so stateful ones keep their history.
func (a Any) Done(s *moea.State) bool {
	done := false
	for _, t := range a {
		if t.Done(s) {
			done = true
		}
	}
	return done
}

// HypervolumeStagnation stops when the hypervolume of the current answer (State.Opt, feasible
// members only) with respect to the fixed reference point Ref has improved by less than Tol
// (relative to the hypervolume Window generations earlier) over the last Window generations.
// A fixed reference point keeps successive values comparable; choose one that every sensible
// solution dominates (for NAT e.g. 1.01 x the worst of the initial archive). The value resets
// itself when the generation count does not increase (a new run). It computes an exact
// hypervolume every generation, which is cheap up to about 5 objectives and impractical beyond
// about 8 (see indicator.Hypervolume).
type HypervolumeStagnation struct {
	Ref    []float64
	Window int     // generations to look back (default 10)
	Tol    float64 // relative improvement below which the run stops (default 1e-4)

	history []float64
	lastGen int
	err     error
}

// Err reports why the criterion stopped a run early, if its hypervolume could not be computed
// (e.g. a reference point with the wrong number of objectives); nil otherwise.
func (h *HypervolumeStagnation) Err() error { return h.err }

// Done implements moea.Termination.
func (h *HypervolumeStagnation) Done(s *moea.State) bool {
	if len(h.history) > 0 && s.Generation <= h.lastGen {
		h.history = h.history[:0]
		h.err = nil
	}
	h.lastGen = s.Generation
	var F [][]float64
	for _, ind := range s.Opt {
		if ind.Feasible() {
			F = append(F, ind.F)
		}
	}
	v := 0.0
	if len(F) > 0 {
		var err error
		if v, err = indicator.Hypervolume(F, h.Ref); err != nil {
			// A reference point that does not fit the objectives is a setup error: stop at
			// once and keep the reason for Err rather than run on a meaningless criterion.
			h.err = err
			return true
		}
	}
	h.history = append(h.history, v)
	w := h.Window
	if w <= 0 {
		w = 10
	}
	tol := h.Tol
	if tol <= 0 {
		tol = 1e-4
	}
	if len(h.history) <= w {
		return false
	}
	old := h.history[len(h.history)-1-w]
	return v-old <= tol*math.Max(math.Abs(old), 1e-300)
}

// Values returns the hypervolume seen at each generation of the current run.
func (h *HypervolumeStagnation) Values() []float64 { return h.history }
