// Package transfer is NAT's transfer loop (Lu et al., TPAMI 2021; ../shared/reference/nat-algorithm.md
// section 3): starting from a pre-trained weight-sharing supernet it builds an archive of measured
// subnets and, iteration after iteration, fits an accuracy predictor on the archive, searches the
// predictor plus the exact cheap objectives with NSGA-III, evaluates a few candidates spread along
// the predicted front, adapts the supernet to the target task by training subnets sampled from the
// archive's best part, and re-evaluates the archive with the adapted weights.
//
// The loop is written against small interfaces so that each part can be swapped and tested alone:
//
//	Supernet   measures top-1 of a batch of subnets, adapts its weights, saves and loads checkpoints
//	           (nat/transfer/bind wires nat/supernet and nat/data into it)
//	Surrogate  the accuracy predictor refitted every iteration (default: nat/predictor's adaptive switching)
//	Searcher   the many-objective search on the surrogate (default: nat/moea/nsga3)
//
// Every finished iteration is on disk (nat/archive) and a rerun into the same directory continues
// after the last one; with the same seed the final archive equals that of an uninterrupted run,
// because every random decision is drawn from a generator seeded by (seed, iteration, phase) and
// everything the next iteration needs is in the archive file and the supernet checkpoint.
//
// It is not the experiment language (dsl/) and does not load data or build networks itself.
package transfer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"

	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/space"
)

// Sampling policies for adaptation (Experiment.Sampling).
const (
	// SampleArchive draws each training subnet gene by gene from the categorical distribution of
	// the archive's best fraction (NAT's rule).
	SampleArchive = "archive"
	// SampleUniform draws training subnets uniformly from the space (OFA's rule; an ablation).
	SampleUniform = "uniform"
)

// Re-evaluation policies (Experiment.Reevaluate).
const (
	// ReevaluateAll measures every archive member again after adaptation (NAT's rule).
	ReevaluateAll = "all"
	// ReevaluateFront measures again only the archive's non-dominated members and this
	// iteration's candidates; the others keep their last measurement (rows marked "carried").
	// It costs about |front| + K evaluations per iteration instead of |archive|.
	ReevaluateFront = "front"
	// ReevaluateContenders measures again the front and this iteration's candidates, then every
	// other member that could be non-dominated had it gained as much top-1 from the adaptation
	// as the largest gain measured so far in this iteration, repeating until none could. The
	// front it leaves is the true one unless a member left unmeasured gained more than every
	// member measured; members that cannot reach the front keep their last measurement
	// (rows marked "carried"). Unlike ReevaluateFront it does not let adaptation's gains on
	// the front hide stale members that would now compete with it.
	ReevaluateContenders = "contenders"
	// ReevaluateNone measures nothing again: each subnet keeps the top-1 measured when it
	// entered the archive. Cheapest, and the predictor then learns from mixed weights.
	ReevaluateNone = "none"
)

// SearchSettings configure the NSGA-III run on the surrogate in every iteration. Defaults are
// NAT's (nat-algorithm.md 3.2b).
type SearchSettings struct {
	// Population size (default 100) and number of generations (default 100).
	Population  int `json:"population"`
	Generations int `json:"generations"`
	// RefDirs is the approximate number of Das-Dennis reference directions (default 100; the
	// largest lattice with at most this many directions is used, at least one per objective).
	RefDirs int `json:"ref_dirs"`
	// CrossoverProb is the probability of two-point crossover (default 0.9).
	CrossoverProb float64 `json:"crossover_prob"`
	// MutationEta is the distribution index of integer polynomial mutation, per-gene
	// probability 1/n (default 1.0).
	MutationEta float64 `json:"mutation_eta"`
}

// Constraint restricts a value of a subnet: Objective Op Value, with Op "<=" or ">=". Objective
// names an objective of the experiment, or "madds" or "params" (always available). During the
// search a top1 constraint applies to the predicted top-1. Subnets that violate a constraint are
// never chosen as candidates (they may still be in the initial archive).
type Constraint struct {
	Objective string  `json:"objective"`
	Op        string  `json:"op"`
	Value     float64 `json:"value"`
}

// Experiment is one NAT run, as a plain value. The zero value of every field but Space means its
// documented default; WithDefaults fills them in and Validate checks the result.
type Experiment struct {
	// Name is a label for the run (default: the target's name, or "nat").
	Name string `json:"name"`
	// Space is the search space (required).
	Space *space.Space `json:"space"`
	// SourceSupernet is the path of the pre-trained supernet checkpoint to adapt. The loop does
	// not read it; the Supernet binding does (see nat/transfer/bind).
	SourceSupernet string `json:"source_supernet"`
	// Target names the target dataset (e.g. "fashion-mnist"); read by the binding.
	Target string `json:"target"`
	// ValidationSize is the number of training images held out to measure top-1 (default 5000,
	// NAT's choice for CIFAR-size sets); CalibrationSize the number of training images used to
	// recalibrate batch norm before each measurement (default 2000). Read by the binding.
	ValidationSize  int `json:"validation_size"`
	CalibrationSize int `json:"calibration_size"`

	// Objectives of the search, in archive order (default: Top1() and MAdds()). Exactly one must
	// be top-1 (the measured, predicted one); the others are computed exactly.
	Objectives []Objective `json:"objectives"`
	// Constraints on candidates (none by default).
	Constraints []Constraint `json:"constraints,omitempty"`
	// Predictor names the surrogate (default "as": adaptive switching). The name is passed to
	// the SurrogateFactory.
	Predictor string `json:"predictor"`
	// Search configures NSGA-III on the surrogate.
	Search SearchSettings `json:"search"`

	// InitialSize is the size of the initial archive: smallest, largest and uniform random
	// subnets, no duplicates (default 100).
	InitialSize int `json:"initial_size"`
	// Candidates is K, the number of subnets evaluated for real per iteration (default 8).
	Candidates int `json:"candidates"`
	// Iterations of the loop after the initial archive (default 30). A finished or interrupted
	// run may be continued with more iterations; the adaptation's cosine schedule then stretches
	// over the new total from the next iteration on, so the result equals an uninterrupted run
	// only when the count is unchanged.
	Iterations int `json:"iterations"`

	// AdaptSteps is the number of supernet training steps per iteration (default 300; NAT trains
	// 5 epochs per iteration, which is more than a 2-core CPU affords), with AdaptBatchSize
	// images per step (default 96) and a peak learning rate (default 0.01) decayed by a cosine
	// over all iterations' steps. AdaptSteps 0 after defaults is impossible; use a negative value
	// to turn adaptation off (searching a frozen supernet, an ablation).
	AdaptSteps     int     `json:"adapt_steps"`
	AdaptBatchSize int     `json:"adapt_batch_size"`
	LearningRate   float64 `json:"learning_rate"`
	// WarmupSteps trains the supernet on the target for this many steps before the initial
	// archive is measured, each step's subnet drawn uniformly from the space (there is no archive
	// to sample from yet), as the first part of the one learning-rate schedule (default 0: NAT's
	// rule, the initial archive is measured with the source weights). A source supernet whose
	// classifier has never seen the target measures every subnet near chance; an archive measured
	// so says nothing about which subnets suit the target, and with a cheap re-evaluation policy
	// its stale values steer the search for the whole run. A few warm-up steps make the initial
	// archive informative. The steps and their time count in iteration 0.
	WarmupSteps int `json:"warmup_steps,omitempty"`
	// Sampling is SampleArchive (default) or SampleUniform; BestFraction is the fraction of the
	// archive, best first, whose per-gene distribution SampleArchive draws from (default 0.5).
	// "Best" orders the archive by non-dominated rank on the measured objectives, then top-1.
	Sampling     string  `json:"sampling"`
	BestFraction float64 `json:"best_fraction"`
	// SamplingTolerance makes that order noise-aware (default 0: exact non-dominated ranks,
	// NAT's rule). With t > 0, a subnet no worse than another in every exactly computed
	// objective (MAdds, parameters, ...) and better in one also outranks it when its measured
	// top-1 is lower by less than t standard errors of the difference (binomial errors on
	// ValidationSize images). A top-1 measured on 500 images has a standard error of 1.3-2
	// points; without a tolerance, a larger subnet that measures a point higher than a
	// cheaper one by chance joins the best fraction, and adaptation steps go to it at several
	// times the cost of the cheaper one's. Only the sampler uses this order; the archive's front,
	// the hypervolume and the search use exact ranks.
	SamplingTolerance float64 `json:"sampling_tolerance,omitempty"`
	// Reevaluate is ReevaluateAll (default), ReevaluateContenders, ReevaluateFront or
	// ReevaluateNone.
	Reevaluate string `json:"reevaluate"`

	// KeepCheckpoints is how many adapted supernet checkpoints to keep (default 2; the last
	// complete iteration's is always kept, resume needs it).
	KeepCheckpoints int `json:"keep_checkpoints"`
	// Seed makes the run reproducible.
	Seed uint64 `json:"seed"`
	// OutDir is the run directory (required).
	OutDir string `json:"out_dir"`
}

// WithDefaults returns a copy of e with every zero field set to its documented default.
func (e Experiment) WithDefaults() Experiment {
	if e.Name == "" {
		e.Name = e.Target
		if e.Name == "" {
			e.Name = "nat"
		}
	}
	if e.ValidationSize == 0 {
		e.ValidationSize = 5000
	}
	if e.CalibrationSize == 0 {
		e.CalibrationSize = 2000
	}
	if len(e.Objectives) == 0 {
		e.Objectives = []Objective{Top1(), MAdds()}
	}
	if e.Predictor == "" {
		e.Predictor = "as"
	}
	if e.Search.Population == 0 {
		e.Search.Population = 100
	}
	if e.Search.Generations == 0 {
		e.Search.Generations = 100
	}
	if e.Search.RefDirs == 0 {
		e.Search.RefDirs = 100
	}
	if e.Search.CrossoverProb == 0 {
		e.Search.CrossoverProb = 0.9
	}
	if e.Search.MutationEta == 0 {
		e.Search.MutationEta = 1.0
	}
	if e.InitialSize == 0 {
		e.InitialSize = 100
	}
	if e.Candidates == 0 {
		e.Candidates = 8
	}
	if e.Iterations == 0 {
		e.Iterations = 30
	}
	if e.AdaptSteps == 0 {
		e.AdaptSteps = 300
	}
	if e.AdaptBatchSize == 0 {
		e.AdaptBatchSize = 96
	}
	if e.LearningRate == 0 {
		e.LearningRate = 0.01
	}
	if e.Sampling == "" {
		e.Sampling = SampleArchive
	}
	if e.BestFraction == 0 {
		e.BestFraction = 0.5
	}
	if e.Reevaluate == "" {
		e.Reevaluate = ReevaluateAll
	}
	if e.KeepCheckpoints == 0 {
		e.KeepCheckpoints = 2
	}
	return e
}

// Validate checks a defaulted experiment and names the first bad field.
func (e *Experiment) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("transfer: experiment %q: %s", e.Name, fmt.Sprintf(format, args...))
	}
	if e.Space == nil {
		return bad("Space is required")
	}
	if err := e.Space.Validate(); err != nil {
		return bad("%v", err)
	}
	if e.OutDir == "" {
		return bad("OutDir is required: the run directory holding the archive")
	}
	if e.ValidationSize < 1 || e.CalibrationSize < 1 {
		return bad("ValidationSize and CalibrationSize must be positive, got %d and %d", e.ValidationSize, e.CalibrationSize)
	}
	top1 := 0
	seen := map[string]bool{}
	for i, o := range e.Objectives {
		if err := o.validate(); err != nil {
			return bad("objective %d: %v", i, err)
		}
		if seen[o.Name] {
			return bad("objective %d: name %q is used twice", i, o.Name)
		}
		seen[o.Name] = true
		if o.Kind == KindTop1 {
			top1++
		}
	}
	if top1 != 1 {
		return bad("need exactly one top-1 objective (the one the surrogate predicts), have %d", top1)
	}
	if len(e.Objectives) < 2 {
		return bad("need at least two objectives (top-1 and a cost), have %d", len(e.Objectives))
	}
	for i, c := range e.Constraints {
		if c.Op != "<=" && c.Op != ">=" {
			return bad("constraint %d: op %q, want \"<=\" or \">=\"", i, c.Op)
		}
		if !seen[c.Objective] && c.Objective != "madds" && c.Objective != "params" {
			return bad("constraint %d: %q is not an objective of the experiment (have %v) nor madds/params", i, c.Objective, e.objectiveNames())
		}
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			return bad("constraint %d: value %v", i, c.Value)
		}
	}
	s := e.Search
	if s.Population < 4 || s.Generations < 1 || s.RefDirs < 1 {
		return bad("Search: population %d (want >= 4), generations %d, ref_dirs %d (want >= 1)", s.Population, s.Generations, s.RefDirs)
	}
	if s.CrossoverProb < 0 || s.CrossoverProb > 1 || s.MutationEta <= 0 {
		return bad("Search: crossover_prob %v must be in [0,1] and mutation_eta %v positive", s.CrossoverProb, s.MutationEta)
	}
	if e.InitialSize < 3 {
		return bad("InitialSize %d: need at least 3 (smallest, largest and one random subnet)", e.InitialSize)
	}
	// The first fit sees the initial archive: failing here beats failing after it was measured.
	if need, err := predictor.MinSamples(e.Predictor, e.Space.NumGenes()); err == nil && e.InitialSize < need {
		return bad("InitialSize %d: predictor %q needs at least %d initial subnets on the space's %d genes", e.InitialSize, e.Predictor, need, e.Space.NumGenes())
	}
	if sz := e.Space.Size(); float64(e.InitialSize) > sz/2 {
		return bad("InitialSize %d is more than half of the space's %v subnets", e.InitialSize, sz)
	}
	if e.Candidates < 1 {
		return bad("Candidates must be at least 1, got %d", e.Candidates)
	}
	if e.Iterations < 0 {
		return bad("Iterations must be >= 0, got %d", e.Iterations)
	}
	if e.WarmupSteps < 0 {
		return bad("WarmupSteps must be >= 0, got %d", e.WarmupSteps)
	}
	if (e.AdaptSteps > 0 || e.WarmupSteps > 0) && (e.AdaptBatchSize < 1 || !(e.LearningRate > 0)) {
		return bad("AdaptBatchSize %d and LearningRate %v must be positive", e.AdaptBatchSize, e.LearningRate)
	}
	if e.Sampling != SampleArchive && e.Sampling != SampleUniform {
		return bad("Sampling %q: want %q or %q", e.Sampling, SampleArchive, SampleUniform)
	}
	if !(e.BestFraction > 0 && e.BestFraction <= 1) {
		return bad("BestFraction %v must be in (0, 1]", e.BestFraction)
	}
	if !(e.SamplingTolerance >= 0) || math.IsInf(e.SamplingTolerance, 1) {
		return bad("SamplingTolerance %v must be a finite number >= 0 (standard errors)", e.SamplingTolerance)
	}
	switch e.Reevaluate {
	case ReevaluateAll, ReevaluateContenders, ReevaluateFront, ReevaluateNone:
	default:
		return bad("Reevaluate %q: want %q, %q, %q or %q", e.Reevaluate, ReevaluateAll, ReevaluateContenders, ReevaluateFront, ReevaluateNone)
	}
	if e.KeepCheckpoints < 1 {
		return bad("KeepCheckpoints must be at least 1, got %d", e.KeepCheckpoints)
	}
	return nil
}

func (e *Experiment) objectiveNames() []string {
	out := make([]string, len(e.Objectives))
	for i, o := range e.Objectives {
		out[i] = o.Name
	}
	return out
}

// scheduleSteps is the length of the adaptation's one learning-rate schedule: the warm-up steps
// and every iteration's adaptation steps.
func (e *Experiment) scheduleSteps() int {
	return e.WarmupSteps + e.Iterations*max(e.AdaptSteps, 0)
}

// adaptFirstStep is the position in that schedule of iteration t's first adaptation step (t >= 1).
func (e *Experiment) adaptFirstStep(t int) int {
	return e.WarmupSteps + (t-1)*max(e.AdaptSteps, 0)
}

// top1Index is the position of the top-1 objective.
func (e *Experiment) top1Index() int {
	for i, o := range e.Objectives {
		if o.Kind == KindTop1 {
			return i
		}
	}
	return -1
}

// sameRun compares two experiments as a resume must: everything but Iterations (a run may be
// extended) and OutDir (a directory may be moved) must match. It returns the first differing
// JSON field.
func sameRun(recorded json.RawMessage, e Experiment) error {
	e.Iterations, e.OutDir = 0, ""
	cur, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return firstDifference(recorded, cur, "recorded experiment", "iterations", "out_dir")
}

// firstDifference compares two JSON objects field by field, ignoring the named fields, and names
// the first field (in sorted order) whose values differ, or that only the recorded one has.
func firstDifference(recorded, now json.RawMessage, what string, ignore ...string) error {
	var a, b map[string]json.RawMessage
	if err := json.Unmarshal(recorded, &a); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := json.Unmarshal(now, &b); err != nil {
		return err
	}
	for _, k := range ignore {
		delete(a, k)
		delete(b, k)
	}
	keys := make([]string, 0, len(b))
	for k := range b {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var x, y any
		if err := json.Unmarshal(a[k], &x); err != nil && a[k] != nil {
			return fmt.Errorf("%s field %q: %w", what, k, err)
		}
		_ = json.Unmarshal(b[k], &y)
		if !reflect.DeepEqual(x, y) {
			return fmt.Errorf("field %q differs: recorded %s, now %s", k, short(a[k]), short(b[k]))
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return fmt.Errorf("field %q is recorded but unknown now", k)
		}
	}
	return nil
}

// short compacts a JSON value for an error message and cuts it at 200 bytes.
func short(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw)
	}
	if b.Len() > 200 {
		return b.String()[:200] + "..."
	}
	return b.String()
}
