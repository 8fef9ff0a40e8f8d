package termination

import (
	"testing"
	"time"

	"github.com/natgo/nat/nat/moea"
)

func TestSimpleCriteria(t *testing.T) {
	s := &moea.State{Generation: 4, Evaluations: 400, Start: time.Now().Add(-time.Second)}
	checks := []struct {
		name string
		t    moea.Termination
		want bool
	}{
		{"generations reached", Generations(4), true},
		{"generations not reached", Generations(5), false},
		{"evaluations reached", Evaluations(400), true},
		{"evaluations not reached", Evaluations(401), false},
		{"time passed", Time(500 * time.Millisecond), true},
		{"time not passed", Time(time.Hour), false},
		{"any of them", Any{Generations(9), Evaluations(100)}, true},
		{"none of them", Any{Generations(9), Evaluations(1000)}, false},
	}
	for _, c := range checks {
		if got := c.t.Done(s); got != c.want {
			t.Errorf("%s: Done = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHypervolumeStagnation(t *testing.T) {
	h := &HypervolumeStagnation{Ref: []float64{2, 2}, Window: 3, Tol: 1e-3}
	opt := func(x float64) moea.Population { return moea.Population{{F: []float64{x, x}}} }
	// Improving for generations 0..4, then flat.
	xs := []float64{1.5, 1.4, 1.3, 1.2, 1.1, 1.1, 1.1, 1.1}
	stopAt := -1
	for g, x := range xs {
		if h.Done(&moea.State{Generation: g, Opt: opt(x)}) {
			stopAt = g
			break
		}
	}
	// Generation 7 is the first whose value equals the one 3 generations before (gen 4).
	if stopAt != 7 {
		t.Errorf("stopped at generation %d, want 7 (values %v)", stopAt, h.Values())
	}
	// A new run (generation 0 again) starts a fresh history.
	if h.Done(&moea.State{Generation: 0, Opt: opt(1.1)}) || len(h.Values()) != 1 {
		t.Errorf("history not reset: %v", h.Values())
	}
	// Infeasible answers count as zero hypervolume.
	if h.Done(&moea.State{Generation: 1, Opt: moea.Population{{F: []float64{1, 1}, CV: 1}}}) || h.Values()[1] != 0 {
		t.Errorf("infeasible answer counted: %v", h.Values())
	}
}

func TestHypervolumeStagnationBadReference(t *testing.T) {
	h := &HypervolumeStagnation{Ref: []float64{2, 2, 2}}
	if !h.Done(&moea.State{Opt: moea.Population{{F: []float64{1, 1}}}}) || h.Err() == nil {
		t.Error("a 3-value reference point with 2 objectives must stop the run with an error")
	}
}
