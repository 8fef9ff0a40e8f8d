package transfer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// The kinds of reference subnet a fine-tuning baseline trains (Reference.Kind).
const (
	ReferenceLargest = "largest" // space.Largest: every choice at its maximum
	ReferenceMedian  = "median"  // the subnet of median MAdds among MedianDraws uniform draws
	ReferenceGenome  = "genome"  // a genome given by the caller
)

// MedianDraws and MedianSeed fix the median-MAdds rule (see MedianMAddsArch), so that "the
// median subnet" of a space is one subnet whatever the experiment's seed.
const (
	MedianDraws        = 1001
	MedianSeed  uint64 = 1
)

// FinetuneKind is the manifest kind of a fine-tuning baseline's directory.
const FinetuneKind = "finetune"

// File names inside a fine-tuning baseline's directory.
const (
	FinetuneResultName = "result.json"         // written once the baseline is finished
	finetuneStateName  = "finetune-state.json" // progress after each chunk (resume)
)

// seedFinetune is the phase identifier (see seedFor) of fine-tuning chunks' data order; it is
// far from the loop's phases so the streams never coincide.
const seedFinetune = 0x40

// Reference is the fixed subnet a fine-tuning baseline trains.
type Reference struct {
	// Kind is ReferenceLargest, ReferenceMedian or ReferenceGenome.
	Kind string `json:"kind"`
	// Rule says in words how the subnet was chosen.
	Rule string `json:"rule"`
	// Genome is the normalised genome as space.Format writes it; Arch the subnet.
	Genome string     `json:"genome"`
	Arch   space.Arch `json:"arch"`
}

// ChooseReference resolves a reference name: "largest", "median" or a genome of sp (as
// space.Format writes it; "nat arch" prints genomes). An unknown name is an error that names it.
func ChooseReference(sp *space.Space, which string) (Reference, error) {
	var ref Reference
	var a space.Arch
	switch which {
	case ReferenceLargest:
		a = sp.Largest()
		ref = Reference{Kind: ReferenceLargest, Rule: "the space's largest subnet (every choice at its maximum)"}
	case ReferenceMedian:
		var err error
		if a, err = MedianMAddsArch(sp, MedianDraws, MedianSeed); err != nil {
			return Reference{}, err
		}
		ref = Reference{Kind: ReferenceMedian, Rule: fmt.Sprintf("median MAdds of %d subnets drawn with space.Sample (seed %d), sorted by MAdds then genome; the middle one", MedianDraws, MedianSeed)}
	default:
		g, err := sp.Parse(which)
		if err != nil {
			return Reference{}, fmt.Errorf("transfer: reference subnet %q is not %q, %q or a genome of space %s: %w", which, ReferenceLargest, ReferenceMedian, sp.Name, err)
		}
		if g, err = sp.Normalize(g); err != nil {
			return Reference{}, fmt.Errorf("transfer: reference subnet %q: %w", which, err)
		}
		if a, err = sp.Decode(g); err != nil {
			return Reference{}, fmt.Errorf("transfer: reference subnet %q: %w", which, err)
		}
		ref = Reference{Kind: ReferenceGenome, Rule: "the genome given (" + which + ")"}
	}
	g, err := sp.Encode(a)
	if err != nil {
		return Reference{}, fmt.Errorf("transfer: reference subnet %s: %w", which, err)
	}
	ref.Genome, ref.Arch = sp.Format(g), a
	return ref, nil
}

// MedianMAddsArch is a subnet of median multiply-adds: draws subnets are drawn with sp.Sample
// (MSuNAS/NAT's uniform sampler: resolution, width, depth per stage and each layer's choices
// uniform) from a generator seeded by seed, sorted by MAdds (nat/cost) and then by genome, and
// the one at position draws/2 is returned (the median for an odd count). Duplicates are kept:
// the median is that of the sampler's MAdds distribution. This is not supernet.MedianArch (the
// middle choice of every gene), whose MAdds can be far from the median.
func MedianMAddsArch(sp *space.Space, draws int, seed uint64) (space.Arch, error) {
	if draws < 1 {
		return space.Arch{}, fmt.Errorf("transfer: median of %d subnets", draws)
	}
	type drawn struct {
		arch  space.Arch
		key   string
		madds int64
	}
	rng := rand.New(rand.NewPCG(seed, splitmix(seed)))
	all := make([]drawn, draws)
	for i := range all {
		a := sp.Sample(rng)
		g, err := sp.Encode(a)
		if err != nil {
			return space.Arch{}, err
		}
		c, err := cost.Arch(sp, a)
		if err != nil {
			return space.Arch{}, err
		}
		all[i] = drawn{arch: a, key: sp.Format(g), madds: c.MAdds}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].madds != all[j].madds {
			return all[i].madds < all[j].madds
		}
		return all[i].key < all[j].key
	})
	return all[draws/2].arch, nil
}

// FinetuneSpec says what a fine-tuning baseline trains and for how long.
type FinetuneSpec struct {
	// Reference is the subnet to train (ChooseReference).
	Reference Reference
	// Budget is the training wall time: a pilot measures the time of a step and the number of
	// steps is fixed from it (see Finetune). Steps, when positive, fixes the number of steps
	// instead (no pilot; for reproducing a run on another machine, and for tests). When
	// resuming, both may be zero: the recorded ones are used.
	Budget time.Duration
	Steps  int
	// Chunks is the number of pieces the schedule is trained in (default 10): each ends with a
	// checkpoint and, unless FinalOnly, a point of the learning curve.
	Chunks int
	// PilotSteps is the number of timed pilot steps (default 3), after one step that compiles
	// the training graph (its extra time is the compile overhead). The pilot's training is
	// thrown away, so its cost is wall time beyond the budget (on the 2-core machine the largest
	// nat-mnist subnet takes about 18 s a step of 64 images under load).
	PilotSteps int
	// FinalOnly measures top-1 only after the last chunk (the learning curve then has that point
	// alone); by default it is measured before training and after every chunk.
	FinalOnly bool
}

func (s FinetuneSpec) withDefaults() FinetuneSpec {
	if s.Chunks <= 0 {
		s.Chunks = 10
	}
	if s.PilotSteps <= 0 {
		s.PilotSteps = 3
	}
	return s
}

// CurvePoint is top-1 after a chunk of fine-tuning (Chunk 0: before any training).
type CurvePoint struct {
	Chunk        int     `json:"chunk"`
	Step         int     `json:"step"`
	Images       int     `json:"images"`
	TrainSeconds float64 `json:"train_seconds"`
	Top1         float64 `json:"top1"`
}

// FinetuneResult is a fine-tuning baseline's outcome, written to result.json in its directory.
type FinetuneResult struct {
	Kind  string `json:"kind"` // FinetuneKind
	RunID string `json:"run_id"`
	Dir   string `json:"dir"`
	// Reference is the subnet trained.
	Reference Reference `json:"reference"`
	// The experiment's parts that define the comparison.
	SourceSupernet  string  `json:"source_supernet"`
	Target          string  `json:"target"`
	ValidationSize  int     `json:"validation_size"`
	CalibrationSize int     `json:"calibration_size"`
	Seed            uint64  `json:"seed"`
	BatchSize       int     `json:"batch_size"`
	PeakLR          float64 `json:"peak_lr"`

	// Top1 is measured on the experiment's validation split after batch-norm recalibration,
	// exactly as the loop measures subnets (Supernet.Evaluate).
	Top1 float64 `json:"top1"`
	// MAdds and Params are nat/cost's counts; Objectives every objective of the experiment
	// (top-1 included) in its natural units, in the experiment's order.
	MAdds      int64               `json:"madds"`
	Params     int64               `json:"params"`
	Objectives []archive.Objective `json:"objectives"`

	// BudgetSeconds is the training wall time asked for (0 when Steps was fixed).
	BudgetSeconds float64 `json:"budget_seconds"`
	// PilotStepSeconds is the measured time of a training step, PilotOverheadSeconds the extra
	// time of the first (compiling) step, PilotSeconds the whole pilot (not counted in
	// TrainSeconds: the pilot's weights are thrown away).
	PilotStepSeconds     float64 `json:"pilot_step_seconds"`
	PilotOverheadSeconds float64 `json:"pilot_overhead_seconds"`
	PilotSeconds         float64 `json:"pilot_seconds"`
	// Steps trained (of one subnet, BatchSize images each) and Images seen.
	Steps  int `json:"steps"`
	Images int `json:"images"`
	// ChunkEnds are the global steps at which each chunk ended.
	ChunkEnds []int `json:"chunk_ends"`
	// TrainSeconds is the wall time of the training chunks (what Budget bounds; it includes the
	// graph compilation after a start or resume), EvalSeconds that of top-1 measurements,
	// WallSeconds everything, summed over resumed processes (work lost to a kill not counted).
	TrainSeconds float64 `json:"train_seconds"`
	EvalSeconds  float64 `json:"eval_seconds"`
	WallSeconds  float64 `json:"wall_seconds"`
	// Curve is top-1 before training and after each chunk (or after the last only).
	Curve []CurvePoint `json:"curve"`

	Backend  string           `json:"backend"`
	Versions archive.Versions `json:"versions"`
	Created  time.Time        `json:"created"`
	Resumes  int              `json:"resumes"`
	// ResumedFrom is the number of chunks already done when this call started (-1: fresh; equal
	// to len(ChunkEnds) when a finished baseline was read back).
	ResumedFrom int `json:"-"`
}

// finetuneIdentity is what must match for a directory to be resumed or read back.
type finetuneIdentity struct {
	Space           *space.Space `json:"space"`
	SourceSupernet  string       `json:"source_supernet"`
	Target          string       `json:"target"`
	ValidationSize  int          `json:"validation_size"`
	CalibrationSize int          `json:"calibration_size"`
	Objectives      []string     `json:"objectives"`
	Seed            uint64       `json:"seed"`
	BatchSize       int          `json:"batch_size"`
	PeakLR          float64      `json:"peak_lr"`
	Genome          string       `json:"genome"`
	Budget          string       `json:"budget"` // time.Duration.String: exact round trip
	Steps           int          `json:"steps"`
	Chunks          int          `json:"chunks"`
	FinalOnly       bool         `json:"final_only"`
}

// finetuneState is finetune-state.json: written after every chunk.
type finetuneState struct {
	Identity   json.RawMessage `json:"identity"`
	TotalSteps int             `json:"total_steps"`
	ChunkEnds  []int           `json:"chunk_ends"`
	ChunksDone int             `json:"chunks_done"`
	// Checkpoint is the last chunk's supernet checkpoint, relative to the directory.
	Checkpoint string         `json:"checkpoint,omitempty"`
	Result     FinetuneResult `json:"result"`
}

// FinetuneCheckpointPath is where chunk c's fine-tuned supernet is saved.
func FinetuneCheckpointPath(dir string, c int) string {
	return filepath.Join(dir, "checkpoints", fmt.Sprintf("chunk-%04d", c))
}

// Finetune is the fine-tuning baseline NAT is compared with: it trains only spec.Reference (a
// fixed subnet; every step trains it alone) on the target's training split with the
// experiment's adaptation batch size and peak learning rate, for the wall time spec.Budget, and
// measures its top-1 on the experiment's validation split exactly as the loop does
// (Supernet.Evaluate: batch-norm recalibration on the calibration images).
//
// The steps follow one schedule (linear warm-up, then a cosine to zero: AdaptRequest with
// FirstStep and TotalSteps) over the whole budget. To fix its length, a pilot on a throw-away
// copy of the weights trains one untimed step (which compiles the graph) and spec.PilotSteps
// timed ones; the number of steps is (Budget - compile overhead) / median step time, at least 1. The
// pilot is not counted in the training time, nor are the measurements (NAT's wall time includes
// both its measurements and its adaptation, so this favours the baseline).
//
// The schedule is trained in spec.Chunks pieces, each with a data order seeded by (exp.Seed,
// chunk); after each the supernet is saved to checkpoints/ and finetune-state.json written, so a
// killed run continues after its last finished chunk and ends as an uninterrupted one would. A
// finished directory is read back from result.json without training. exp's search settings,
// iterations and adaptation length are ignored.
func Finetune(ctx context.Context, exp Experiment, net Supernet, spec FinetuneSpec, opt Options) (*FinetuneResult, error) {
	if net == nil {
		return nil, errors.New("transfer: Finetune needs a Supernet")
	}
	exp = exp.WithDefaults()
	exp.Iterations, exp.WarmupSteps = 0, 0 // the baseline trains only its reference subnet
	if err := exp.Validate(); err != nil {
		return nil, err
	}
	if exp.AdaptBatchSize < 1 || !(exp.LearningRate > 0) {
		return nil, fmt.Errorf("transfer: fine-tuning needs a positive AdaptBatchSize and LearningRate, got %d and %v", exp.AdaptBatchSize, exp.LearningRate)
	}
	spec = spec.withDefaults()
	if spec.Budget < 0 || spec.Steps < 0 {
		return nil, fmt.Errorf("transfer: fine-tuning budget %v and steps %d must not be negative", spec.Budget, spec.Steps)
	}
	ref := spec.Reference
	g, err := exp.Space.Parse(ref.Genome)
	if err != nil {
		return nil, fmt.Errorf("transfer: fine-tuning reference: %w", err)
	}
	a, err := exp.Space.Decode(g)
	if err != nil {
		return nil, fmt.Errorf("transfer: fine-tuning reference %s: %w", ref.Genome, err)
	}
	if len(ref.Arch.Depths) == 0 {
		ref.Arch = a
	} else if !ref.Arch.Equal(a) {
		return nil, fmt.Errorf("transfer: fine-tuning reference: genome %s decodes to %s, not the given %s", ref.Genome, a, ref.Arch)
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	f := &finetuner{exp: exp, net: net, spec: spec, ref: ref, opt: opt, start: time.Now(), dir: exp.OutDir}
	return f.run(ctx)
}

// finetuner is one Finetune call's state.
type finetuner struct {
	exp   Experiment
	net   Supernet
	spec  FinetuneSpec
	ref   Reference
	opt   Options
	dir   string
	start time.Time
	st    finetuneState
	// wall0 is WallSeconds recorded by earlier processes.
	wall0 float64
}

func (f *finetuner) identity() finetuneIdentity {
	return finetuneIdentity{
		Space: f.exp.Space, SourceSupernet: f.exp.SourceSupernet, Target: f.exp.Target,
		ValidationSize: f.exp.ValidationSize, CalibrationSize: f.exp.CalibrationSize,
		Objectives: f.exp.objectiveNames(), Seed: f.exp.Seed, BatchSize: f.exp.AdaptBatchSize,
		PeakLR: f.exp.LearningRate, Genome: f.ref.Genome, Budget: f.spec.Budget.String(),
		Steps: f.spec.Steps, Chunks: f.spec.Chunks, FinalOnly: f.spec.FinalOnly,
	}
}

func (f *finetuner) run(ctx context.Context) (*FinetuneResult, error) {
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	unlock, err := lockDir(f.dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	m, err := archive.ReadManifest(f.dir)
	switch {
	case errors.Is(err, archive.ErrNoManifest):
		if its, err := archive.Iterations(f.dir); err != nil {
			return nil, err
		} else if len(its) > 0 {
			return nil, fmt.Errorf("transfer: %s holds archive files of a search; choose another directory for the fine-tuning baseline", f.dir)
		}
	case err != nil:
		return nil, err
	case m.Kind != FinetuneKind:
		return nil, fmt.Errorf("transfer: %s holds a %q run, not a %q one; choose another output directory", f.dir, m.Kind, FinetuneKind)
	}
	resumed, err := f.readState()
	if err != nil {
		return nil, err
	}
	if !resumed && (f.spec.Budget <= 0 && f.spec.Steps <= 0) {
		return nil, errors.New("transfer: fine-tuning needs a wall-time budget or a number of steps")
	}
	idJSON, err := json.Marshal(f.identity())
	if err != nil {
		return nil, err
	}
	if resumed {
		if err := sameIdentity(f.st.Identity, idJSON); err != nil {
			return nil, fmt.Errorf("transfer: %s holds a different fine-tuning baseline (%v); choose another output directory", f.dir, err)
		}
		if data, err := os.ReadFile(filepath.Join(f.dir, FinetuneResultName)); err == nil {
			var res FinetuneResult
			if err := json.Unmarshal(data, &res); err != nil {
				return nil, fmt.Errorf("transfer: %s: %w", filepath.Join(f.dir, FinetuneResultName), err)
			}
			res.Dir, res.ResumedFrom = f.dir, len(res.ChunkEnds)
			return &res, nil
		}
	}
	if !resumed {
		// A fresh start (also after a kill before the first state was written) records its own
		// experiment.
		expJSON, err := json.Marshal(f.exp)
		if err != nil {
			return nil, fmt.Errorf("transfer: experiment: %w", err)
		}
		m = &archive.Manifest{RunID: runID(f.exp) + "-finetune-" + f.ref.Genome, Created: time.Now().UTC(), Kind: FinetuneKind,
			Experiment: expJSON, Objectives: f.exp.objectiveNames(), Seed: f.exp.Seed, Backend: f.net.Describe(), Versions: archive.CurrentVersions()}
		if err := archive.WriteManifest(f.dir, m); err != nil {
			return nil, err
		}
	}
	res := &f.st.Result
	if !resumed {
		f.st = finetuneState{Identity: idJSON}
		*res = FinetuneResult{
			Kind: FinetuneKind, RunID: m.RunID, Dir: f.dir, Reference: f.ref, SourceSupernet: f.exp.SourceSupernet,
			Target: f.exp.Target, ValidationSize: f.exp.ValidationSize, CalibrationSize: f.exp.CalibrationSize,
			Seed: f.exp.Seed, BatchSize: f.exp.AdaptBatchSize, PeakLR: f.exp.LearningRate,
			BudgetSeconds: f.spec.Budget.Seconds(), Backend: f.net.Describe(), Versions: archive.CurrentVersions(),
			Created: time.Now().UTC(),
		}
		if err := f.costs(res); err != nil {
			return nil, err
		}
		if !f.spec.FinalOnly {
			top1, err := f.measure(ctx, 0)
			if err != nil {
				return nil, err
			}
			res.Curve = append(res.Curve, CurvePoint{Top1: top1})
		}
		total := f.spec.Steps
		if total <= 0 {
			if total, err = f.pilot(ctx, res); err != nil {
				return nil, err
			}
		}
		f.st.TotalSteps = total
		chunks := min(f.spec.Chunks, total)
		for c := 1; c <= chunks; c++ {
			f.st.ChunkEnds = append(f.st.ChunkEnds, c*total/chunks)
		}
		res.ChunkEnds = f.st.ChunkEnds
		if err := f.writeState(); err != nil {
			return nil, err
		}
		res.ResumedFrom = -1
	} else {
		res.Dir = f.dir
		res.ResumedFrom = f.st.ChunksDone
		res.Resumes++
		f.opt.Logf("fine-tuning: resuming %s after chunk %d of %d", f.dir, f.st.ChunksDone, len(f.st.ChunkEnds))
		if f.st.ChunksDone > 0 {
			if err := f.net.Load(filepath.Join(f.dir, f.st.Checkpoint)); err != nil {
				return nil, fmt.Errorf("transfer: resuming the fine-tuning after chunk %d: loading its checkpoint: %w", f.st.ChunksDone, err)
			}
		}
	}
	for c := f.st.ChunksDone; c < len(f.st.ChunkEnds); c++ {
		if err := f.chunk(ctx, c); err != nil {
			return nil, err
		}
	}
	res.Top1 = res.Curve[len(res.Curve)-1].Top1
	for i, o := range f.exp.Objectives {
		if o.Kind == KindTop1 {
			res.Objectives[i].Value = res.Top1
		}
	}
	res.WallSeconds = f.wall0 + time.Since(f.start).Seconds()
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := archive.WriteFileAtomic(f.dir, FinetuneResultName, append(data, '\n')); err != nil {
		return nil, err
	}
	f.opt.Logf("fine-tuning %s: top-1 %.2f%% after %d steps (%d images, %.0f s of training)", f.ref.Genome, res.Top1, res.Steps, res.Images, res.TrainSeconds)
	f.progress(Progress{Iteration: len(f.st.ChunkEnds), Iterations: len(f.st.ChunkEnds), Phase: PhaseDone})
	return res, nil
}

// readState loads finetune-state.json; false when there is none.
func (f *finetuner) readState() (bool, error) {
	path := filepath.Join(f.dir, finetuneStateName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("transfer: %w", err)
	}
	if err := json.Unmarshal(data, &f.st); err != nil {
		return false, fmt.Errorf("transfer: %s: %w", path, err)
	}
	if f.st.ChunksDone < 0 || f.st.ChunksDone > len(f.st.ChunkEnds) || (f.st.ChunksDone > 0 && f.st.Checkpoint == "") {
		return false, fmt.Errorf("transfer: %s: %d chunks done of %d, checkpoint %q: not a consistent state", path, f.st.ChunksDone, len(f.st.ChunkEnds), f.st.Checkpoint)
	}
	// A resume without a budget or step count continues the recorded one.
	var id finetuneIdentity
	if err := json.Unmarshal(f.st.Identity, &id); err != nil {
		return false, fmt.Errorf("transfer: %s: identity: %w", path, err)
	}
	if f.spec.Budget <= 0 && f.spec.Steps <= 0 {
		b, err := time.ParseDuration(id.Budget)
		if err != nil {
			return false, fmt.Errorf("transfer: %s: budget: %w", path, err)
		}
		f.spec.Budget, f.spec.Steps = b, id.Steps
	}
	f.wall0 = f.st.Result.WallSeconds
	return true, nil
}

func (f *finetuner) writeState() error {
	f.st.Result.WallSeconds = f.wall0 + time.Since(f.start).Seconds()
	data, err := json.MarshalIndent(&f.st, "", "  ")
	if err != nil {
		return err
	}
	return archive.WriteFileAtomic(f.dir, finetuneStateName, append(data, '\n'))
}

// costs fills the exact objectives, MAdds and params of the reference.
func (f *finetuner) costs(res *FinetuneResult) error {
	c, err := cost.Arch(f.exp.Space, f.ref.Arch)
	if err != nil {
		return fmt.Errorf("transfer: reference %s: %w", f.ref.Genome, err)
	}
	res.MAdds, res.Params = c.MAdds, c.Params
	archs, costs := []space.Arch{f.ref.Arch}, []cost.Costs{c}
	for _, o := range f.exp.Objectives {
		v := 0.0
		if o.Kind != KindTop1 {
			vals, err := exactObjective(o, archs, costs)
			if err != nil {
				return fmt.Errorf("transfer: reference %s: %w", f.ref.Genome, err)
			}
			v = vals[0]
		}
		res.Objectives = append(res.Objectives, archive.Objective{Name: o.Name, Value: v})
	}
	return nil
}

// measure evaluates the reference's top-1 and counts the time as evaluation.
func (f *finetuner) measure(ctx context.Context, chunk int) (float64, error) {
	f.progress(Progress{Iteration: chunk, Iterations: len(f.st.ChunkEnds), Phase: PhaseEvaluate, Total: 1})
	t0 := time.Now()
	v, err := f.net.Evaluate(ctx, []space.Arch{f.ref.Arch})
	if err != nil {
		return 0, fmt.Errorf("transfer: fine-tuning: measuring %s: %w", f.ref.Genome, err)
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("transfer: fine-tuning: the supernet returned %d values for one subnet", len(v))
	}
	f.st.Result.EvalSeconds += time.Since(t0).Seconds()
	return v[0], nil
}

// pilot times training steps on a copy of the weights that is then thrown away, and returns
// the number of steps that fit the budget: (budget - compile overhead) / median step time.
func (f *finetuner) pilot(ctx context.Context, res *FinetuneResult) (int, error) {
	t0 := time.Now()
	f.progress(Progress{Phase: PhaseAdapt, Total: 1 + f.spec.PilotSteps})
	keep := filepath.Join(f.dir, "checkpoints", "pilot-start")
	if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
		return 0, fmt.Errorf("transfer: %w", err)
	}
	if err := f.net.Save(keep); err != nil {
		return 0, fmt.Errorf("transfer: fine-tuning pilot: saving the weights: %w", err)
	}
	req := AdaptRequest{Steps: 1, BatchSize: f.exp.AdaptBatchSize, PeakLR: f.exp.LearningRate,
		Sampler: fixedSampler{f.ref.Arch}, Seed: seedFor(f.exp.Seed, 0, seedFinetune)}
	t1 := time.Now()
	if err := f.net.Adapt(ctx, req); err != nil {
		return 0, fmt.Errorf("transfer: fine-tuning pilot: %w", err)
	}
	first := time.Since(t1).Seconds()
	// One step per call, and the median: a burst of load from other processes during one step
	// (the machine is shared) should not shrink the whole schedule.
	times := make([]float64, f.spec.PilotSteps)
	for i := range times {
		req.Seed = seedFor(f.exp.Seed, i+1, seedFinetune)
		t2 := time.Now()
		if err := f.net.Adapt(ctx, req); err != nil {
			return 0, fmt.Errorf("transfer: fine-tuning pilot: %w", err)
		}
		times[i] = time.Since(t2).Seconds()
		f.progress(Progress{Phase: PhaseAdapt, Done: i + 2, Total: 1 + f.spec.PilotSteps})
	}
	sort.Float64s(times)
	step := times[len(times)/2]
	if len(times)%2 == 0 {
		step = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	if err := f.net.Load(keep); err != nil {
		return 0, fmt.Errorf("transfer: fine-tuning pilot: restoring the weights: %w", err)
	}
	_ = os.Remove(keep)
	res.PilotStepSeconds = step
	res.PilotOverheadSeconds = max(0, first-step)
	res.PilotSeconds = time.Since(t0).Seconds()
	total := 1
	if step > 0 {
		total = max(1, int((f.spec.Budget.Seconds()-res.PilotOverheadSeconds)/step))
	}
	f.opt.Logf("fine-tuning pilot: %.3f s a step (+%.1f s to compile): %d steps of %d images fit %s", step, res.PilotOverheadSeconds, total, f.exp.AdaptBatchSize, f.spec.Budget)
	return total, nil
}

// chunk trains chunk c (0-based) of the schedule, measures top-1 if the curve asks for it, and
// saves the checkpoint and state.
func (f *finetuner) chunk(ctx context.Context, c int) error {
	res := &f.st.Result
	first := 0
	if c > 0 {
		first = f.st.ChunkEnds[c-1]
	}
	n := f.st.ChunkEnds[c] - first
	chunks := len(f.st.ChunkEnds)
	if n > 0 {
		t0 := time.Now()
		elapsed := res.TrainSeconds
		req := AdaptRequest{
			Iteration: c + 1, Steps: n, BatchSize: f.exp.AdaptBatchSize, PeakLR: f.exp.LearningRate,
			FirstStep: first, TotalSteps: f.st.TotalSteps, Sampler: fixedSampler{f.ref.Arch},
			Seed: seedFor(f.exp.Seed, c+1, seedFinetune),
			Progress: func(done int) {
				p := Progress{Iteration: c + 1, Iterations: chunks, Phase: PhaseAdapt, Done: done, Total: n}
				if done > 0 {
					per := time.Since(t0) / time.Duration(done)
					p.PhaseETA = per * time.Duration(n-done)
					p.ETA = per * time.Duration(f.st.TotalSteps-first-done)
				}
				f.progress(p)
			},
		}
		f.progress(Progress{Iteration: c + 1, Iterations: chunks, Phase: PhaseAdapt, Total: n})
		if err := f.net.Adapt(ctx, req); err != nil {
			return fmt.Errorf("transfer: fine-tuning chunk %d of %d: %w", c+1, chunks, err)
		}
		res.TrainSeconds = elapsed + time.Since(t0).Seconds()
		res.Steps = f.st.ChunkEnds[c]
		res.Images = res.Steps * f.exp.AdaptBatchSize
	}
	if !f.spec.FinalOnly || c == chunks-1 {
		top1, err := f.measure(ctx, c+1)
		if err != nil {
			return err
		}
		res.Curve = append(res.Curve, CurvePoint{Chunk: c + 1, Step: res.Steps, Images: res.Images, TrainSeconds: res.TrainSeconds, Top1: top1})
		f.opt.Logf("fine-tuning chunk %d/%d: step %d/%d, %d images, %.0f s trained: top-1 %.2f%%", c+1, chunks, res.Steps, f.st.TotalSteps, res.Images, res.TrainSeconds, top1)
	}
	f.progress(Progress{Iteration: c + 1, Iterations: chunks, Phase: PhaseWrite})
	ck := FinetuneCheckpointPath(f.dir, c+1)
	if err := os.MkdirAll(filepath.Dir(ck), 0o755); err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	if err := f.net.Save(ck); err != nil {
		return fmt.Errorf("transfer: fine-tuning chunk %d: saving the supernet: %w", c+1, err)
	}
	prev := f.st.Checkpoint
	f.st.Checkpoint, _ = filepath.Rel(f.dir, ck)
	f.st.ChunksDone = c + 1
	if err := f.writeState(); err != nil {
		return err
	}
	if prev != "" && prev != f.st.Checkpoint {
		if err := os.RemoveAll(filepath.Join(f.dir, prev)); err != nil {
			f.opt.Logf("warning: %v", err)
		}
	}
	return nil
}

func (f *finetuner) progress(p Progress) {
	if f.opt.Progress == nil {
		return
	}
	p.Elapsed = time.Since(f.start)
	f.opt.Progress(p)
}

// fixedSampler trains the same subnet every step.
type fixedSampler struct{ arch space.Arch }

func (s fixedSampler) Sample(*rand.Rand) []space.Arch { return []space.Arch{s.arch} }

// sameIdentity compares two finetuneIdentity JSON values and names the first differing field.
func sameIdentity(recorded, now json.RawMessage) error {
	return firstDifference(recorded, now, "recorded baseline")
}

// ReadFinetune reads a finished fine-tuning baseline's result.json.
func ReadFinetune(dir string) (*FinetuneResult, error) {
	path := filepath.Join(dir, FinetuneResultName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	var res FinetuneResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("transfer: %s: %w", path, err)
	}
	res.Dir, res.ResumedFrom = dir, len(res.ChunkEnds)
	return &res, nil
}

// RunWallTime is the wall time of a run directory's complete iterations: the sum of their
// recorded seconds (archive.IterationStats.Seconds["total"]; time lost to a killed iteration
// is not counted). It is the default budget of a fine-tuning baseline compared with that run.
func RunWallTime(dir string) (time.Duration, error) {
	its, err := archive.ReadAll(dir)
	if err != nil {
		return 0, err
	}
	if len(its) == 0 {
		return 0, fmt.Errorf("transfer: %s has no complete iteration (no %s)", dir, archive.FileName(0))
	}
	total := 0.0
	for _, it := range its {
		s, ok := it.Stats.Seconds["total"]
		if !ok {
			return 0, fmt.Errorf("transfer: %s records no total seconds", it.Path)
		}
		total += s
	}
	return time.Duration(total * float64(time.Second)), nil
}

// CheckComparable checks that the NAT run in dir measured top-1 as exp does: same source
// supernet, target, validation and calibration sizes and seed (which pick the split and the
// calibration images). It names the first field that differs.
func CheckComparable(dir string, exp Experiment) error {
	return checkSame(dir, exp, comparableFields, "measured top-1 differently")
}

// CheckWarmsUpAs checks what RandomSearch needs to measure its subnets on the supernet that the
// NAT run in dir measured its initial archive on: top-1 measured the same way (CheckComparable)
// and the same warm-up, batch size, peak learning rate and learning-rate schedule, which spans
// the warm-up and every iteration's adaptation steps. It names the first field that differs.
func CheckWarmsUpAs(dir string, exp Experiment) error {
	return checkSame(dir, exp, warmupFields, "warmed its supernet up differently")
}

var (
	comparableFields = []string{"space", "source_supernet", "target", "validation_size", "calibration_size", "seed"}
	warmupFields     = append(slices.Clip(comparableFields), "warmup_steps", "iterations", "adapt_steps", "adapt_batch_size", "learning_rate")
)

// checkSame compares the experiment recorded in dir's manifest with exp (defaults applied) on the
// given JSON fields.
func checkSame(dir string, exp Experiment, fields []string, what string) error {
	m, err := archive.ReadManifest(dir)
	if err != nil {
		return err
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal(m.Experiment, &rec); err != nil {
		return fmt.Errorf("transfer: %s: experiment: %w", dir, err)
	}
	now, err := json.Marshal(exp.WithDefaults())
	if err != nil {
		return err
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(now, &cur); err != nil {
		return err
	}
	for _, k := range fields {
		var x, y any
		_ = json.Unmarshal(rec[k], &x)
		_ = json.Unmarshal(cur[k], &y)
		if !reflect.DeepEqual(x, y) {
			return fmt.Errorf("transfer: %s %s: %s is %s there, %s here", dir, what, k, short(rec[k]), short(cur[k]))
		}
	}
	return nil
}

// FinetuneComparison sets a fine-tuned reference against a NAT front.
type FinetuneComparison struct {
	// NAT is the front subnet of highest top-1 among those with MAdds at most the reference's
	// (ties: fewer MAdds); nil when no front subnet is that cheap.
	NAT *archive.Row
	// Winner is "NAT", "fine-tuning" or "tie" by top-1 (empty when NAT is nil); Margin is NAT's
	// top-1 minus the reference's, in percentage points.
	Winner string
	Margin float64
}

// CompareFinetune compares res with the best subnet of front (a NAT run's front rows) whose
// MAdds are equal to or lower than the reference's.
func CompareFinetune(res *FinetuneResult, front []archive.Row) FinetuneComparison {
	var cmp FinetuneComparison
	for i := range front {
		r := &front[i]
		if r.MAdds > res.MAdds {
			continue
		}
		if cmp.NAT == nil || r.Top1 > cmp.NAT.Top1 || (r.Top1 == cmp.NAT.Top1 && r.MAdds < cmp.NAT.MAdds) {
			cmp.NAT = r
		}
	}
	if cmp.NAT == nil {
		return cmp
	}
	cmp.Margin = cmp.NAT.Top1 - res.Top1
	cmp.Winner = Winner(cmp.Margin)
	return cmp
}

// Winner names the winner of a comparison by NAT's top-1 minus the reference's: "NAT",
// "fine-tuning" or "tie".
func Winner(margin float64) string {
	switch {
	case margin > 0:
		return "NAT"
	case margin < 0:
		return "fine-tuning"
	default:
		return "tie"
	}
}
