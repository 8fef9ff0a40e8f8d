package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/moea/indicator"
	"github.com/natgo/nat/nat/moea/sorting"
	"github.com/natgo/nat/nat/rank"
	"github.com/natgo/nat/nat/space"
)

// Options are a run's companions that are not part of the experiment's identity: where progress
// goes, and the swappable parts of the loop.
type Options struct {
	// Progress, if set, is called from the loop's goroutine at every phase change and as work
	// advances; it must return quickly.
	Progress func(Progress)
	// Logf, if set, receives plain log lines (one per phase and per iteration).
	Logf func(format string, args ...any)
	// Surrogates builds the accuracy predictor (default NewPredictor).
	Surrogates SurrogateFactory
	// Searcher is the search on the surrogate (default NSGA3{}).
	Searcher Searcher
	// NoPlots turns off writing pareto.svg and pareto.png after every iteration.
	NoPlots bool
}

// Result is the state of a run directory after Run.
type Result struct {
	Dir   string
	RunID string
	// Iterations is the last complete iteration; ResumedFrom the iteration this call started
	// after (-1 for a fresh run).
	Iterations  int
	ResumedFrom int
	// Archive is the last iteration's rows; Front those with Front set.
	Archive []archive.Row
	Front   []archive.Row
	// Stats has one entry per complete iteration, 0 first.
	Stats []archive.IterationStats
}

// CheckpointPath is where iteration i's adapted supernet is saved in a run directory.
func CheckpointPath(dir string, i int) string {
	return filepath.Join(dir, "checkpoints", fmt.Sprintf("iter-%04d", i))
}

// Run runs exp with net, or continues it: when exp.OutDir already holds iterations of the same
// experiment, it loads the last complete one (archive file and supernet checkpoint) and runs
// the remaining iterations. Every complete iteration is written before the next begins, so a
// killed run loses at most the iteration in progress. Cancelling ctx stops at the next
// subnet, training step or generation and returns ctx's error; the directory stays resumable.
func Run(ctx context.Context, exp Experiment, net Supernet, opt Options) (*Result, error) {
	if net == nil {
		return nil, errors.New("transfer: Run needs a Supernet")
	}
	exp = exp.WithDefaults()
	if err := exp.Validate(); err != nil {
		return nil, err
	}
	if opt.Surrogates == nil {
		opt.Surrogates = NewPredictor
	}
	if opt.Searcher == nil {
		opt.Searcher = NSGA3{}
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	r := &runner{
		exp: exp, sp: exp.Space, net: net, opt: opt, t1: exp.top1Index(),
		index: map[string]int{}, cache: map[string]*exact{}, start: time.Now(),
	}
	return r.run(ctx)
}

// runner is one Run call's state.
type runner struct {
	exp   Experiment
	sp    *space.Space
	net   Supernet
	opt   Options
	t1    int
	runID string

	entries []*entry
	index   map[string]int    // genome key -> position in entries
	cache   map[string]*exact // genome key -> exact objectives (also for subnets never measured)

	ideal, nadir []float64 // minimised objectives' normalisation for the hypervolume (from iteration 0)
	stats        []archive.IterationStats

	start      time.Time
	iterTimes  []time.Duration
	cur        Progress
	phaseStart time.Time
	// noCheckpoints skips saving the supernet (baselines that never change it).
	noCheckpoints bool
}

// exact is what is known about a subnet without measuring it.
type exact struct {
	genome space.Genome
	arch   space.Arch
	costs  cost.Costs
	obj    []float64 // natural values; the top-1 slot is unused
}

// entry is one archive member.
type entry struct {
	*exact
	key    string
	top1   float64
	first  int
	reason string
	atSel  *float64
	pred   *float64
	wall   float64
}

// values are the entry's natural objective values with the measured top-1.
func (r *runner) values(e *entry) []float64 {
	v := append([]float64(nil), e.obj...)
	v[r.t1] = e.top1
	return v
}

// minimised turns natural values into the search's minimised form.
func (r *runner) minimised(v []float64) []float64 {
	out := make([]float64, len(v))
	for j, o := range r.exp.Objectives {
		out[j] = o.minimised(v[j])
	}
	return out
}

// Phase identifiers for seeds: every random decision draws from its own stream.
const (
	seedInitial = iota + 1
	seedFit
	seedSearch
	seedTopUp
	seedAdapt
	seedRandomSearch
)

// seedFor derives the seed of one phase of one iteration from the experiment's seed.
func seedFor(base uint64, iteration, phase int) uint64 {
	return splitmix(base ^ splitmix(uint64(iteration)<<8|uint64(phase)))
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, splitmix(seed))) }

func (r *runner) run(ctx context.Context) (*Result, error) {
	dir := r.exp.OutDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("transfer: %w", err)
	}
	if err := archive.RemoveTemporaries(dir); err != nil {
		return nil, err
	}
	last, err := r.openRun()
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: dir, RunID: r.runID, ResumedFrom: last}
	if last < 0 {
		if err := r.initial(ctx); err != nil {
			return nil, err
		}
		last = 0
	} else {
		r.opt.Logf("resuming %s after iteration %d of %d", dir, last, r.exp.Iterations)
	}
	for t := last + 1; t <= r.exp.Iterations; t++ {
		if err := r.iteration(ctx, t); err != nil {
			return nil, err
		}
		last = t
	}
	res.Iterations = last
	res.Stats = r.stats
	final, err := archive.ReadIteration(filepath.Join(dir, archive.FileName(last)))
	if err != nil {
		return nil, err
	}
	res.Archive = final.Rows
	for _, row := range res.Archive {
		if row.Front {
			res.Front = append(res.Front, row)
		}
	}
	return res, nil
}

// runID names a run by its experiment (everything but Iterations and OutDir), so a resumed run
// and an uninterrupted one carry the same id.
func runID(e Experiment) string {
	e.Iterations, e.OutDir = 0, ""
	b, _ := json.Marshal(e)
	sum := sha256.Sum256(b)
	return e.Name + "-" + hex.EncodeToString(sum[:6])
}

// openRun writes or checks the manifest and, for an existing run, restores the last complete
// iteration. It returns that iteration, or -1 for a fresh run.
func (r *runner) openRun() (int, error) {
	dir := r.exp.OutDir
	r.runID = runID(r.exp)
	expJSON, err := json.Marshal(r.exp)
	if err != nil {
		return 0, fmt.Errorf("transfer: experiment: %w", err)
	}
	m, err := archive.ReadManifest(dir)
	if errors.Is(err, archive.ErrNoManifest) {
		its, err := archive.Iterations(dir)
		if err != nil {
			return 0, err
		}
		if len(its) > 0 {
			return 0, fmt.Errorf("transfer: %s has archive files but no %s: not resuming a run of unknown origin", dir, archive.ManifestName)
		}
		m = &archive.Manifest{
			RunID: r.runID, Created: time.Now().UTC(), Kind: r.kind(), Experiment: expJSON, Objectives: r.exp.objectiveNames(),
			Seed: r.exp.Seed, Backend: r.net.Describe(), Versions: archive.CurrentVersions(),
		}
		return -1, archive.WriteManifest(dir, m)
	}
	if err != nil {
		return 0, err
	}
	if m.Kind != r.kind() {
		return 0, fmt.Errorf("transfer: %s holds a %q run, not a %q one; choose another output directory", dir, m.Kind, r.kind())
	}
	if err := sameRun(m.Experiment, r.exp); err != nil {
		return 0, fmt.Errorf("transfer: %s holds a different experiment (%v); choose another output directory", dir, err)
	}
	its, err := archive.ReadAll(dir)
	if err != nil {
		return 0, err
	}
	if len(its) == 0 {
		return -1, nil // the manifest was written but iteration 0 never finished
	}
	for i, it := range its {
		if it.Index != i {
			return 0, fmt.Errorf("transfer: %s: iteration files are not consecutive (found %s where %s was expected)", dir, filepath.Base(it.Path), archive.FileName(i))
		}
		r.stats = append(r.stats, it.Stats)
	}
	lastIt := its[len(its)-1]
	if err := r.restore(lastIt.Rows); err != nil {
		return 0, fmt.Errorf("transfer: %s: %w", lastIt.Path, err)
	}
	s0 := its[0].Stats
	if len(s0.Nadir) != len(r.exp.Objectives) || len(s0.Ideal) != len(r.exp.Objectives) {
		return 0, fmt.Errorf("transfer: %s: iteration 0 has no hypervolume normalisation", its[0].Path)
	}
	r.ideal, r.nadir = s0.Ideal, s0.Nadir
	if !r.noCheckpoints {
		ck := CheckpointPath(dir, lastIt.Index)
		if err := r.net.Load(ck); err != nil {
			return 0, fmt.Errorf("transfer: resuming after iteration %d: loading its supernet checkpoint: %w", lastIt.Index, err)
		}
	}
	m.Resumes = append(m.Resumes, archive.Resume{At: time.Now().UTC(), FromIteration: lastIt.Index})
	m.Experiment = expJSON
	if err := archive.WriteManifest(dir, m); err != nil {
		return 0, err
	}
	return lastIt.Index, nil
}

// kind names what the runner runs, for the manifest.
func (r *runner) kind() string {
	if r.noCheckpoints {
		return "random-search"
	}
	return "nat"
}

// restore rebuilds the archive from an iteration file's rows.
func (r *runner) restore(rows []archive.Row) error {
	names := r.exp.objectiveNames()
	for i, row := range rows {
		g := make(space.Genome, len(row.Genes))
		for j, v := range row.Genes {
			g[j] = int(v)
		}
		ex, err := r.exacts([]space.Genome{g})
		if err != nil {
			return fmt.Errorf("row %d: %w", i, err)
		}
		if len(row.Objectives) != len(names) {
			return fmt.Errorf("row %d has %d objectives, the experiment has %v", i, len(row.Objectives), names)
		}
		for j, o := range row.Objectives {
			if o.Name != names[j] {
				return fmt.Errorf("row %d: objective %d is %q, the experiment's is %q", i, j, o.Name, names[j])
			}
		}
		e := &entry{exact: ex[0], key: r.sp.Format(ex[0].genome), top1: row.Top1, first: int(row.FirstIteration),
			reason: row.Reason, atSel: row.Top1AtSelection, pred: row.Top1Predicted, wall: row.WallSeconds}
		if _, dup := r.index[e.key]; dup {
			return fmt.Errorf("row %d: genome %s appears twice", i, e.key)
		}
		r.index[e.key] = len(r.entries)
		r.entries = append(r.entries, e)
	}
	return nil
}

// exacts decodes genomes (normalising them) and computes their exact objectives, calling each
// latency or custom objective once, in one batch, for the subnets not seen before.
func (r *runner) exacts(genomes []space.Genome) ([]*exact, error) {
	out := make([]*exact, len(genomes))
	var missing []*exact
	for i, g := range genomes {
		n, err := r.sp.Normalize(g)
		if err != nil {
			return nil, err
		}
		key := r.sp.Format(n)
		if ex, ok := r.cache[key]; ok {
			out[i] = ex
			continue
		}
		a, err := r.sp.Decode(n)
		if err != nil {
			return nil, err
		}
		c, err := cost.Arch(r.sp, a)
		if err != nil {
			return nil, err
		}
		ex := &exact{genome: n, arch: a, costs: c, obj: make([]float64, len(r.exp.Objectives))}
		r.cache[key] = ex
		out[i] = ex
		missing = append(missing, ex)
	}
	if len(missing) == 0 {
		return out, nil
	}
	archs := make([]space.Arch, len(missing))
	costs := make([]cost.Costs, len(missing))
	for i, ex := range missing {
		archs[i], costs[i] = ex.arch, ex.costs
	}
	for j, o := range r.exp.Objectives {
		if o.Kind == KindTop1 {
			continue
		}
		vals, err := exactObjective(o, archs, costs)
		if err != nil {
			for _, ex := range missing {
				delete(r.cache, r.sp.Format(ex.genome))
			}
			return nil, fmt.Errorf("transfer: %w", err)
		}
		for i, ex := range missing {
			ex.obj[j] = vals[i]
		}
	}
	return out, nil
}

// initialGenomes draws the initial archive: smallest, largest, then uniform random subnets
// (space.Sample) until n distinct ones.
func initialGenomes(sp *space.Space, n int, rng *rand.Rand) ([]space.Genome, error) {
	seen := map[string]bool{}
	var out []space.Genome
	add := func(a space.Arch) error {
		g, err := sp.Encode(a)
		if err != nil {
			return err
		}
		if k := sp.Format(g); !seen[k] {
			seen[k] = true
			out = append(out, g)
		}
		return nil
	}
	if err := add(sp.Smallest()); err != nil {
		return nil, err
	}
	if err := add(sp.Largest()); err != nil {
		return nil, err
	}
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000*n {
			return nil, fmt.Errorf("transfer: found only %d distinct subnets in %d draws; the space is too small for an initial archive of %d", len(out), tries, n)
		}
		if err := add(sp.Sample(rng)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *runner) progress(p Progress) {
	p.Iterations = r.exp.Iterations
	p.Elapsed = time.Since(r.start)
	if n := len(r.iterTimes); n > 0 {
		var sum time.Duration
		for _, d := range r.iterTimes {
			sum += d
		}
		left := r.exp.Iterations - p.Iteration
		if p.Phase != PhaseDone {
			left++
		}
		p.ETA = sum / time.Duration(n) * time.Duration(max(left, 0))
	}
	if p.Phase != r.cur.Phase || p.Iteration != r.cur.Iteration {
		r.phaseStart = time.Now()
	}
	if p.Done > 0 && p.Total > p.Done {
		per := time.Since(r.phaseStart) / time.Duration(p.Done)
		p.PhaseETA = per * time.Duration(p.Total-p.Done)
	}
	r.cur = p
	if r.opt.Progress != nil {
		r.opt.Progress(p)
	}
}

// measure evaluates the top-1 of entries one subnet at a time (so progress and cancellation are
// per subnet and each row's wall time is its own).
func (r *runner) measure(ctx context.Context, t int, ph Phase, es []*entry) error {
	r.progress(Progress{Iteration: t, Phase: ph, Done: 0, Total: len(es)})
	for i, e := range es {
		if err := ctx.Err(); err != nil {
			return err
		}
		t0 := time.Now()
		acc, err := r.net.Evaluate(ctx, []space.Arch{e.arch})
		if err != nil {
			return fmt.Errorf("transfer: iteration %d: measuring %s: %w", t, e.arch, err)
		}
		if len(acc) != 1 || math.IsNaN(acc[0]) || acc[0] < 0 || acc[0] > 100 {
			return fmt.Errorf("transfer: iteration %d: the supernet measured top-1 %v for %s; want one percentage in [0, 100]", t, acc, e.arch)
		}
		e.top1 = acc[0]
		e.wall = time.Since(t0).Seconds()
		r.progress(Progress{Iteration: t, Phase: ph, Done: i + 1, Total: len(es)})
	}
	return nil
}

// initial builds, measures and writes iteration 0.
func (r *runner) initial(ctx context.Context) error {
	t0 := time.Now()
	genomes, err := initialGenomes(r.sp, r.exp.InitialSize, newRand(seedFor(r.exp.Seed, 0, seedInitial)))
	if err != nil {
		return err
	}
	exs, err := r.exacts(genomes)
	if err != nil {
		return err
	}
	for _, ex := range exs {
		e := &entry{exact: ex, key: r.sp.Format(ex.genome), first: 0, reason: archive.ReasonInitial}
		r.index[e.key] = len(r.entries)
		r.entries = append(r.entries, e)
	}
	secs := map[string]float64{}
	if r.exp.WarmupSteps > 0 {
		ts := time.Now()
		if err := r.warmup(ctx, r.exp.scheduleSteps()); err != nil {
			return err
		}
		secs["adapt"] = time.Since(ts).Seconds()
	}
	ts := time.Now()
	r.opt.Logf("iteration 0: measuring the initial archive of %d subnets (smallest, largest, %d uniform)", len(r.entries), len(r.entries)-2)
	if err := r.measure(ctx, 0, PhaseInitial, r.entries); err != nil {
		return err
	}
	secs["evaluate"] = time.Since(ts).Seconds()
	r.normalisation()
	return r.finish(0, "", nil, secs, t0)
}

// warmup trains the supernet on the target before the initial archive is measured
// (Experiment.WarmupSteps), sampling subnets uniformly: the first steps of the run's one
// learning-rate schedule, whose length is schedule steps.
func (r *runner) warmup(ctx context.Context, schedule int) error {
	steps := r.exp.WarmupSteps
	r.opt.Logf("iteration 0: warming the supernet up on the target for %d steps of %d images (uniformly sampled subnets)", steps, r.exp.AdaptBatchSize)
	r.progress(Progress{Iteration: 0, Phase: PhaseAdapt, Total: steps})
	req := AdaptRequest{
		Iteration: 0, Steps: steps, BatchSize: r.exp.AdaptBatchSize, PeakLR: r.exp.LearningRate,
		FirstStep: 0, TotalSteps: schedule, Sampler: uniformSampler{r.sp},
		Seed: seedFor(r.exp.Seed, 0, seedAdapt),
		Progress: func(done int) {
			r.progress(Progress{Iteration: 0, Phase: PhaseAdapt, Done: done, Total: steps})
		},
	}
	if err := r.net.Adapt(ctx, req); err != nil {
		return fmt.Errorf("transfer: iteration 0: warming up the supernet: %w", err)
	}
	return nil
}

// hvMargin places the reference point 1% beyond the worst value of the normalised range.
const hvMargin = 1.01

// normalisation fixes the hypervolume's normalisation from the initial archive: top-1 error is
// divided by 100% (0..100 -> 0..1); every other objective (minimised) is mapped from its range
// over the initial archive to 0..1. The reference point is 1.01 in every normalised objective.
func (r *runner) normalisation() {
	m := len(r.exp.Objectives)
	r.ideal, r.nadir = make([]float64, m), make([]float64, m)
	for j, o := range r.exp.Objectives {
		if o.Kind == KindTop1 {
			r.ideal[j], r.nadir[j] = -100, 0
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, e := range r.entries {
			v := o.minimised(e.obj[j])
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if !(hi > lo) {
			hi = lo + 1
		}
		r.ideal[j], r.nadir[j] = lo, hi
	}
}

// hypervolume of the entries' measured objectives, normalised (see normalisation).
func (r *runner) hypervolume(front []int) (float64, error) {
	pts := make([][]float64, 0, len(front))
	for _, i := range front {
		f := r.minimised(r.values(r.entries[i]))
		for j := range f {
			f[j] = (f[j] - r.ideal[j]) / (r.nadir[j] - r.ideal[j])
		}
		pts = append(pts, f)
	}
	ref := make([]float64, len(r.ideal))
	for j := range ref {
		ref[j] = hvMargin
	}
	return hypervolumeOf(pts, ref)
}

func hypervolumeOf(pts [][]float64, ref []float64) (float64, error) {
	return indicator.Hypervolume(pts, ref)
}

// ranks sorts the archive by measured objectives into non-dominated fronts.
func (r *runner) ranks() (fronts [][]int, rank []int) {
	return sorting.NonDominatedSort(r.minimisedArchive(), 0)
}

// minimisedArchive is every archive member's measured objectives in minimised form.
func (r *runner) minimisedArchive() [][]float64 {
	F := make([][]float64, len(r.entries))
	for i, e := range r.entries {
		F[i] = r.minimised(r.values(e))
	}
	return F
}

// finish computes the iteration's statistics and writes checkpoint, archive file and plot.
func (r *runner) finish(t int, predictorName string, tau *float64, secs map[string]float64, t0 time.Time) error {
	r.progress(Progress{Iteration: t, Phase: PhaseWrite})
	fronts, _ := r.ranks()
	hv, err := r.hypervolume(fronts[0])
	if err != nil {
		return fmt.Errorf("transfer: iteration %d: hypervolume: %w", t, err)
	}
	st := archive.IterationStats{
		Iteration: t, ArchiveSize: len(r.entries), FrontSize: len(fronts[0]), Hypervolume: hv,
		Objectives: r.minimisedNames(), Predictor: predictorName, KendallTau: tau, Seconds: secs,
	}
	st.Ideal = append([]float64(nil), r.ideal...)
	st.Nadir = append([]float64(nil), r.nadir...)
	st.ReferencePoint = make([]float64, len(r.ideal))
	for j := range r.ideal {
		st.ReferencePoint[j] = r.ideal[j] + hvMargin*(r.nadir[j]-r.ideal[j])
	}
	for _, e := range r.entries {
		if e.reason == archive.ReasonCandidate {
			st.Candidates++
		}
		st.BestTop1 = math.Max(st.BestTop1, e.top1)
	}
	front := make([]bool, len(r.entries))
	for _, i := range fronts[0] {
		front[i] = true
	}
	if !r.noCheckpoints {
		if err := r.net.Save(CheckpointPath(r.exp.OutDir, t)); err != nil {
			return fmt.Errorf("transfer: iteration %d: saving the supernet: %w", t, err)
		}
	}
	rows := r.buildRows(t, front)
	st.Seconds["total"] = time.Since(t0).Seconds()
	if err := archive.WriteIteration(r.exp.OutDir, t, rows, st); err != nil {
		return err
	}
	r.stats = append(r.stats, st)
	if err := r.prune(t); err != nil {
		r.opt.Logf("warning: %v", err)
	}
	if !r.opt.NoPlots {
		title := fmt.Sprintf("%s: iteration %d", r.exp.Name, t)
		if err := archive.PlotFront(rows, r.exp.OutDir, "pareto", archive.PlotOptions{Title: title, Y: r.exp.Objectives[r.t1].Name, X: r.firstCostName()}); err != nil {
			r.opt.Logf("warning: plot: %v", err)
		}
	}
	if t > 0 {
		r.iterTimes = append(r.iterTimes, time.Since(t0))
	}
	var frontRows []archive.Row
	for _, row := range rows {
		if row.Front {
			frontRows = append(frontRows, row)
		}
	}
	r.opt.Logf("%s", formatStats(st))
	r.progress(Progress{Iteration: t, Phase: PhaseDone, Stats: &st, Front: frontRows})
	return nil
}

func (r *runner) firstCostName() string {
	for _, o := range r.exp.Objectives {
		if o.Kind != KindTop1 {
			return o.Name
		}
	}
	return "madds"
}

func (r *runner) minimisedNames() []string {
	out := make([]string, len(r.exp.Objectives))
	for j, o := range r.exp.Objectives {
		switch {
		case o.Kind == KindTop1:
			out[j] = "error"
		case o.Maximize:
			out[j] = "-" + o.Name
		default:
			out[j] = o.Name
		}
	}
	return out
}

func formatStats(s archive.IterationStats) string {
	tau := "n/a"
	if s.KendallTau != nil {
		tau = strconv.FormatFloat(*s.KendallTau, 'f', 3, 64)
	}
	pred := s.Predictor
	if pred == "" {
		pred = "-"
	}
	return fmt.Sprintf("iteration %d: archive %d (+%d), front %d, hypervolume %.4f, best top-1 %.2f%%, predictor %s, Kendall tau %s, %.1fs",
		s.Iteration, s.ArchiveSize, s.Candidates, s.FrontSize, s.Hypervolume, s.BestTop1, pred, tau, s.Seconds["total"])
}

// buildRows turns the archive into iteration t's rows.
func (r *runner) buildRows(t int, front []bool) []archive.Row {
	rows := make([]archive.Row, len(r.entries))
	names := r.exp.objectiveNames()
	for i, e := range r.entries {
		genes := make([]int32, len(e.genome))
		for j, v := range e.genome {
			genes[j] = int32(v)
		}
		layers := 0
		for _, d := range e.arch.Depths {
			layers += d
		}
		vals := r.values(e)
		objs := make([]archive.Objective, len(vals))
		for j, v := range vals {
			objs[j] = archive.Objective{Name: names[j], Value: v}
		}
		rows[i] = archive.Row{
			RunID: r.runID, Iteration: int32(t), Reason: e.reason, FirstIteration: int32(e.first),
			Genome: e.key, Genes: genes, Arch: string(e.arch.JSON()), Summary: e.arch.String(),
			Resolution: int32(e.arch.Resolution), Width: e.arch.Width, Layers: int32(layers),
			Top1: e.top1, Top1AtSelection: e.atSel, Top1Predicted: e.pred,
			MAdds: e.costs.MAdds, Params: e.costs.Params, Objectives: objs, Front: front[i],
			WallSeconds: e.wall, Seed: r.exp.Seed,
		}
	}
	return rows
}

var ckptName = regexp.MustCompile(`^iter-(\d+)`)

// prune removes checkpoints older than the last KeepCheckpoints iterations.
func (r *runner) prune(t int) error {
	dir := filepath.Join(r.exp.OutDir, "checkpoints")
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, de := range entries {
		m := ckptName.FindStringSubmatch(de.Name())
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i <= t-r.exp.KeepCheckpoints {
			if err := os.RemoveAll(filepath.Join(dir, de.Name())); err != nil {
				return fmt.Errorf("removing old checkpoint: %w", err)
			}
		}
	}
	return nil
}

// iteration runs iteration t >= 1.
func (r *runner) iteration(ctx context.Context, t int) error {
	t0 := time.Now()
	secs := map[string]float64{}
	lap := func(name string, since time.Time) { secs[name] = time.Since(since).Seconds() }
	for _, e := range r.entries {
		e.reason, e.atSel, e.pred = "", nil, nil
	}

	// a. Fit the surrogate on the archive.
	ts := time.Now()
	r.progress(Progress{Iteration: t, Phase: PhaseFit})
	genomes := make([][]int, len(r.entries))
	top1 := make([]float64, len(r.entries))
	for i, e := range r.entries {
		genomes[i] = e.genome
		top1[i] = e.top1
	}
	sur, err := r.opt.Surrogates(r.sp, r.exp.Predictor, seedFor(r.exp.Seed, t, seedFit))
	if err != nil {
		return fmt.Errorf("transfer: iteration %d: predictor: %w", t, err)
	}
	if err := sur.Fit(genomes, top1); err != nil {
		return fmt.Errorf("transfer: iteration %d: fitting predictor %q on %d subnets: %w", t, r.exp.Predictor, len(genomes), err)
	}
	lap("fit", ts)
	if err := ctx.Err(); err != nil {
		return err
	}

	// b. NSGA-III on the surrogate and the exact objectives, seeded with the archive.
	ts = time.Now()
	r.progress(Progress{Iteration: t, Phase: PhaseSearch})
	lo, hi := r.sp.Bounds()
	prob := SearchProblem{
		Lower: lo, Upper: hi, Objectives: len(r.exp.Objectives), Constraints: len(r.exp.Constraints),
		Initial: genomes,
		Repair: func(g []int) {
			if n, err := r.sp.Normalize(g); err == nil {
				copy(g, n)
			}
		},
		Evaluate: func(ctx context.Context, gs [][]int, F, G [][]float64) error {
			vals, err := r.predicted(gs, sur)
			if err != nil {
				return err
			}
			for i, v := range vals {
				copy(F[i], r.minimised(v.natural))
				if G != nil {
					copy(G[i], v.violation)
				}
			}
			return nil
		},
	}
	pop, err := r.opt.Searcher.Search(ctx, prob, r.exp.Search, seedFor(r.exp.Seed, t, seedSearch))
	if err != nil {
		return fmt.Errorf("transfer: iteration %d: search: %w", t, err)
	}
	lap("search", ts)

	// c. Subset selection: K new, feasible candidates spread along the predicted front.
	ts = time.Now()
	r.progress(Progress{Iteration: t, Phase: PhaseSelect})
	cands, err := r.selectCandidates(t, pop, sur)
	if err != nil {
		return err
	}
	lap("select", ts)

	// d. Measure the candidates with the current weights and add them to the archive.
	ts = time.Now()
	var added []*entry
	for _, c := range cands {
		p := c.natural[r.t1]
		e := &entry{exact: c.exact, key: r.sp.Format(c.genome), first: t, reason: archive.ReasonCandidate, pred: &p}
		r.index[e.key] = len(r.entries)
		r.entries = append(r.entries, e)
		added = append(added, e)
	}
	if err := r.measure(ctx, t, PhaseEvaluate, added); err != nil {
		return err
	}
	pred, meas := make([]float64, len(added)), make([]float64, len(added))
	for i, e := range added {
		v := e.top1
		e.atSel = &v
		pred[i], meas[i] = *e.pred, v
	}
	var tau *float64
	if tv, err := rank.KendallTau(pred, meas); err == nil && !math.IsNaN(tv) {
		tau = &tv
	}
	lap("evaluate", ts)

	// e. Adapt the supernet, sampling subnets from the archive's best fraction.
	ts = time.Now()
	if r.exp.AdaptSteps > 0 {
		sampler, err := r.sampler()
		if err != nil {
			return fmt.Errorf("transfer: iteration %d: %w", t, err)
		}
		steps := r.exp.AdaptSteps
		r.progress(Progress{Iteration: t, Phase: PhaseAdapt, Total: steps})
		req := AdaptRequest{
			Iteration: t, Steps: steps, BatchSize: r.exp.AdaptBatchSize, PeakLR: r.exp.LearningRate,
			FirstStep: r.exp.adaptFirstStep(t), TotalSteps: r.exp.scheduleSteps(), Sampler: sampler,
			Seed: seedFor(r.exp.Seed, t, seedAdapt),
			Progress: func(done int) {
				r.progress(Progress{Iteration: t, Phase: PhaseAdapt, Done: done, Total: steps})
			},
		}
		if err := r.net.Adapt(ctx, req); err != nil {
			return fmt.Errorf("transfer: iteration %d: adapting the supernet: %w", t, err)
		}
	}
	lap("adapt", ts)

	// f. Re-evaluate the archive with the adapted weights (per the policy).
	ts = time.Now()
	var again []*entry
	measured := false
	if r.exp.AdaptSteps > 0 {
		switch r.exp.Reevaluate {
		case ReevaluateAll:
			again = r.entries
		case ReevaluateContenders:
			if again, err = r.reevaluateContenders(ctx, t); err != nil {
				return err
			}
			measured = true
		case ReevaluateFront:
			fronts, _ := r.ranks()
			in := map[int]bool{}
			for _, i := range fronts[0] {
				in[i] = true
			}
			for i, e := range r.entries {
				if in[i] || e.reason == archive.ReasonCandidate {
					again = append(again, e)
				}
			}
		}
	}
	if !measured {
		if err := r.measure(ctx, t, PhaseReevaluate, again); err != nil {
			return err
		}
	}
	for _, e := range again {
		if e.reason == "" {
			e.reason = archive.ReasonReevaluation
		}
	}
	for _, e := range r.entries {
		if e.reason == "" {
			e.reason = archive.ReasonCarried
		}
	}
	lap("reevaluate", ts)

	return r.finish(t, sur.Name(), tau, secs, t0)
}

// predictedValue is a subnet's natural objective values with the predicted top-1, and its
// constraint violations (g <= 0 is feasible).
type predictedValue struct {
	*exact
	natural   []float64
	violation []float64
}

func (r *runner) predicted(gs [][]int, sur Surrogate) ([]predictedValue, error) {
	genomes := make([]space.Genome, len(gs))
	for i, g := range gs {
		genomes[i] = g
	}
	exs, err := r.exacts(genomes)
	if err != nil {
		return nil, err
	}
	norm := make([][]int, len(exs))
	for i, ex := range exs {
		norm[i] = ex.genome
	}
	p, err := sur.Predict(norm)
	if err != nil {
		return nil, fmt.Errorf("predicting top-1: %w", err)
	}
	if len(p) != len(exs) {
		return nil, fmt.Errorf("predictor returned %d values for %d genomes", len(p), len(exs))
	}
	out := make([]predictedValue, len(exs))
	for i, ex := range exs {
		v := append([]float64(nil), ex.obj...)
		v[r.t1] = p[i]
		out[i] = predictedValue{exact: ex, natural: v, violation: r.violations(v, ex.costs)}
	}
	return out, nil
}

func (r *runner) violations(v []float64, c cost.Costs) []float64 {
	if len(r.exp.Constraints) == 0 {
		return nil
	}
	g := make([]float64, len(r.exp.Constraints))
	for k, con := range r.exp.Constraints {
		var x float64
		switch {
		case indexOfName(r.exp.Objectives, con.Objective) >= 0:
			x = v[indexOfName(r.exp.Objectives, con.Objective)]
		case con.Objective == "madds":
			x = float64(c.MAdds) / 1e6
		case con.Objective == "params":
			x = float64(c.Params) / 1e6
		}
		if con.Op == "<=" {
			g[k] = x - con.Value
		} else {
			g[k] = con.Value - x
		}
	}
	return g
}

func indexOfName(objs []Objective, name string) int {
	for i, o := range objs {
		if o.Name == name {
			return i
		}
	}
	return -1
}

func feasible(g []float64) bool {
	for _, v := range g {
		if v > 0 {
			return false
		}
	}
	return true
}

// selectCandidates keeps the search's new, feasible, distinct subnets and picks K of them with
// SelectSpread. When the search offers fewer than K, uniform random new feasible subnets fill
// the remaining places (they are rare: the search population is much larger than K).
func (r *runner) selectCandidates(t int, pop [][]int, sur Surrogate) ([]predictedValue, error) {
	vals, err := r.predicted(pop, sur)
	if err != nil {
		return nil, fmt.Errorf("transfer: iteration %d: %w", t, err)
	}
	seen := map[string]bool{}
	var pool []predictedValue
	for _, v := range vals {
		k := r.sp.Format(v.genome)
		if _, in := r.index[k]; in || seen[k] || !feasible(v.violation) {
			continue
		}
		seen[k] = true
		pool = append(pool, v)
	}
	F := make([][]float64, len(pool))
	for i, v := range pool {
		F[i] = r.minimised(v.natural)
	}
	var out []predictedValue
	for _, i := range SelectSpread(F, r.exp.Candidates) {
		out = append(out, pool[i])
	}
	if len(out) < r.exp.Candidates {
		rng := newRand(seedFor(r.exp.Seed, t, seedTopUp))
		for tries := 0; len(out) < r.exp.Candidates && tries < 1000*r.exp.Candidates; tries++ {
			g, err := r.sp.Encode(r.sp.Sample(rng))
			if err != nil {
				return nil, err
			}
			vs, err := r.predicted([][]int{g}, sur)
			if err != nil {
				return nil, err
			}
			k := r.sp.Format(vs[0].genome)
			if _, in := r.index[k]; in || seen[k] || !feasible(vs[0].violation) {
				continue
			}
			seen[k] = true
			out = append(out, vs[0])
		}
		if len(out) < r.exp.Candidates {
			r.opt.Logf("iteration %d: only %d new feasible candidates found (wanted %d)", t, len(out), r.exp.Candidates)
		}
	}
	return out, nil
}

// sampler is the adaptation's subnet sampler: the per-gene distribution of the archive's best
// fraction (ordered by non-dominated rank on measured objectives, within
// Experiment.SamplingTolerance of top-1 when that is set, then top-1), or uniform.
func (r *runner) sampler() (Sampler, error) {
	if r.exp.Sampling == SampleUniform {
		return uniformSampler{r.sp}, nil
	}
	var rk []int
	if r.exp.SamplingTolerance > 0 {
		se := make([]float64, len(r.entries))
		for i, e := range r.entries {
			se[i] = top1StandardError(e.top1, r.exp.ValidationSize)
		}
		rk = toleranceRanks(r.minimisedArchive(), r.t1, func(i, j int) float64 {
			return r.exp.SamplingTolerance * math.Hypot(se[i], se[j])
		})
	} else {
		_, rk = r.ranks()
	}
	order := make([]int, len(r.entries))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if rk[i] != rk[j] {
			return rk[i] < rk[j]
		}
		return r.entries[i].top1 > r.entries[j].top1
	})
	n := int(math.Ceil(r.exp.BestFraction * float64(len(order))))
	best := make([]space.Genome, 0, n)
	for _, i := range order[:max(n, 1)] {
		best = append(best, r.entries[i].genome)
	}
	return NewDistribution(r.sp, best)
}
