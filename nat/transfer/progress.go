package transfer

import (
	"time"

	"github.com/natgo/nat/nat/archive"
)

// Phase names a step of the loop.
type Phase string

// The phases of the loop, in order.
const (
	PhaseInitial    Phase = "initial"    // evaluating the initial archive (iteration 0)
	PhaseFit        Phase = "fit"        // fitting the surrogate on the archive
	PhaseSearch     Phase = "search"     // NSGA-III on the surrogate (Done/Total count generations)
	PhaseSelect     Phase = "select"     // choosing the candidates
	PhaseEvaluate   Phase = "evaluate"   // measuring the candidates
	PhaseAdapt      Phase = "adapt"      // training the supernet (Done/Total count steps)
	PhaseReevaluate Phase = "reevaluate" // measuring the archive again
	PhaseWrite      Phase = "write"      // checkpoint, archive file, plot
	PhaseDone       Phase = "done"       // the iteration is on disk; Stats and Front are set
)

// Progress is what the loop reports while it runs: to a terminal progress line, to log lines,
// and to the notebook kernel for a live progress bar and a live Pareto plot.
type Progress struct {
	// Iteration being run (0 is the initial archive) out of Iterations.
	Iteration, Iterations int
	Phase                 Phase
	// Done and Total count the work of the phase (subnets measured, steps trained, generations).
	Done, Total int
	// Elapsed is the time since Run started; ETA estimates the time left from the mean duration
	// of the iterations this process has completed (0 until one has). PhaseETA estimates the
	// time left in the current phase from its rate so far (0 when unknown).
	Elapsed, ETA, PhaseETA time.Duration
	// Stats and Front (the archive's non-dominated rows) are set when Phase is PhaseDone;
	// archive.RenderFront draws Front as an SVG or PNG for a live plot.
	Stats *archive.IterationStats
	Front []archive.Row
}

// Fraction is an overall completion estimate in [0, 1] for a progress bar.
func (p Progress) Fraction() float64 {
	if p.Iterations <= 0 {
		if p.Phase == PhaseDone {
			return 1
		}
		return 0
	}
	f := float64(p.Iteration) / float64(p.Iterations+1)
	if p.Phase == PhaseDone {
		return float64(p.Iteration+1) / float64(p.Iterations+1)
	}
	if p.Total > 0 {
		f += float64(p.Done) / float64(p.Total) / float64(p.Iterations+1) * phaseWeight(p.Phase)
	}
	return f
}

// phaseWeight is a rough share of an iteration spent before the end of each phase.
func phaseWeight(ph Phase) float64 {
	switch ph {
	case PhaseEvaluate:
		return 0.2
	case PhaseAdapt:
		return 0.6
	case PhaseReevaluate, PhaseInitial:
		return 1
	}
	return 0.1
}
