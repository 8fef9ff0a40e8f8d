package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
)

// The quickstart's settings where they differ from the engine's defaults (which are NAT's paper's,
// scaled down). results/transfer has the runs behind each choice.
const (
	// quickstartLR is the peak learning rate (engine: NAT's 0.01). With minutes of adaptation the
	// subnets are limited by how much they train: 85.0 % against 79.8 % best top-1.
	quickstartLR = 0.03
	// quickstartBestFraction is the part of the archive whose gene distribution the adaptation
	// samples (engine: 0.5). A quarter concentrates the training on the front. Together with
	// front-only re-measuring (engine: all) and quickstartIterations, NAT's best subnet reached
	// 86.86 % test top-1 against 82.96 % with a half, contenders and 3 iterations, in the same
	// 9 minutes (the three were changed together, not measured one at a time).
	quickstartBestFraction = 0.25
	// quickstartIterations fills about 9 minutes on 2 cores with the settings above.
	quickstartIterations = 5
)

func runTransfer(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "transfer", "nat transfer --out DIR [--source-supernet PATH] [--target fashion-mnist] [--iterations N] [flags]\n\n"+
		"The defaults are the quickstart, sized for 2 cores (about 10 minutes): the shipped MNIST supernet\n"+
		"adapted to Fashion-MNIST after 100 warm-up steps, 24 initial subnets, 5 iterations of 4 candidates\n"+
		"and 250 adaptation steps of 64 images each at a peak learning rate of 0.03, sampled from the\n"+
		"archive's best quarter, re-measuring the front and the candidates. NAT's paper runs 100 initial\n"+
		"subnets, 30 iterations of 8 candidates, 5 epochs of adaptation at a peak rate of 0.01 (batch 96)\n"+
		"sampled from the archive's best part (the engine's default: half) and re-measures the whole archive\n"+
		"(--initial 100 --iterations 30 --candidates 8 --adapt-steps N --lr 0.01 --best-fraction 0.5\n"+
		"--reevaluate all --val-size 5000 --calib-size 2000): hours to days on a CPU.\n\n"+
		"Baselines (same supernet, target, validation split and seed):\n"+
		"  --random-search N                 measure N uniform random subnets with the unadapted supernet\n"+
		"  --finetune largest|median|GENOME  train only that subnet for --budget (default: the wall time of\n"+
		"                                    the NAT run in --compare-to) and compare it with that run's best\n"+
		"                                    front subnet of equal or lower MAdds; median is the subnet of\n"+
		"                                    median MAdds among 1,001 uniform draws (seed 1)")
	d := transfer.Experiment{}.WithDefaults()
	source := fs.String("source-supernet", filepath.Join("results", "supernets", "mnist", "supernet.bin"), "pre-trained supernet checkpoint to adapt")
	target := fs.String("target", "fashion-mnist", "target dataset: mnist, fashion-mnist or folder:PATH")
	out := fs.String("out", "", "run directory; an existing run of the same experiment is resumed (required)")
	spaceName := fs.String("space", "", "search space preset (default: the supernet's own space)")
	iterations := fs.Int("iterations", quickstartIterations, "iterations after the initial archive")
	initial := fs.Int("initial", 24, "initial archive size (smallest, largest, uniform random)")
	candidates := fs.Int("candidates", 4, "subnets evaluated for real per iteration")
	seed := fs.Uint64("seed", 1, "random seed")
	objectives := fs.String("objectives", "top1,madds", "comma-separated objectives: top1, madds, params, latency:TARGET (a table file or name, see nat hardware)")
	maxMAdds := fs.Float64("max-madds", 0, "constraint: candidates' multiply-adds at most this many millions (0 = none)")
	pred := fs.String("predictor", d.Predictor, "accuracy predictor: as (adaptive switching), rbf, rbf-ensemble, kriging, bagged-trees, mlp")
	pop := fs.Int("population", d.Search.Population, "NSGA-III population")
	gens := fs.Int("generations", d.Search.Generations, "NSGA-III generations per iteration")
	adaptSteps := fs.Int("adapt-steps", 250, "supernet training steps per iteration (-1: no adaptation)")
	warmup := fs.Int("warmup-steps", 100, "before measuring the initial archive, train the supernet on the target for this many steps of uniformly sampled subnets (0: none, NAT's rule)")
	batch := fs.Int("batch-size", 64, "adaptation batch size")
	lr := fs.Float64("lr", quickstartLR, "peak adaptation learning rate (cosine over all iterations; NAT's paper: 0.01)")
	sampling := fs.String("sampling", d.Sampling, "adaptation sampling: archive (NAT) or uniform")
	best := fs.Float64("best-fraction", quickstartBestFraction, "fraction of the archive whose gene distribution adaptation samples (NAT: about half)")
	tolerance := fs.Float64("sampling-tolerance", 0, "rank the archive for adaptation sampling ignoring top-1 differences under this many standard errors when the cheaper subnet is the lower (0: exact ranks, NAT's rule)")
	reeval := fs.String("reevaluate", transfer.ReevaluateFront, "after adaptation re-measure: all (NAT), contenders (the front, the candidates and every member that could reach the front given the largest gain measured), front, or none")
	valSize := fs.Int("val-size", 500, "validation images held out of the target's training set")
	calibSize := fs.Int("calib-size", 200, "training images for batch-norm recalibration")
	maxTrain := fs.Int("max-train", 0, "use only the first N training images (0 = all)")
	dataDir := fs.String("data-dir", "", "directory searched first for the dataset")
	randomN := fs.Int("random-search", 0, "instead of NAT, the baseline: measure N uniform random subnets with the supernet NAT's initial archive is measured on (the source, warmed up as --warmup-steps says), never adapted further")
	compareTo := fs.String("compare-to", "", "a NAT run directory to compare with: with --random-search, whose hypervolume normalisation to use (its warm-up flags must be given as that run had them); with --finetune, whose wall time is the default --budget and whose front to compare with")
	finetune := fs.String("finetune", "", "instead of NAT, the baseline: fine-tune one fixed subnet (largest, median or a genome) for --budget")
	budget := fs.Duration("budget", 0, "with --finetune: training wall time, e.g. 14m (default: the wall time of the --compare-to run; a resumed run keeps its own)")
	finetuneSteps := fs.Int("finetune-steps", 0, "with --finetune: train exactly this many steps instead of timing a --budget")
	testImages := fs.Int("test-images", 0, "with --finetune and --compare-to: also measure both compared subnets on this many images of the target's test split (0: all of it, -1: skip)")
	finetuneChunks := fs.Int("finetune-chunks", 10, "with --finetune: train in this many chunks, each ending with a checkpoint and a top-1 measurement (the learning curve)")
	asJSON := fs.Bool("json", false, "print the final front as JSON")
	quiet := fs.Bool("quiet", false, "no progress output")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("transfer: unexpected arguments %v", pos)
	}
	if *source == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("transfer: --out (and a --source-supernet) are required")
	}
	if *finetune != "" && *randomN > 0 {
		return fmt.Errorf("transfer: --finetune and --random-search are two different baselines; run them into two directories")
	}
	if *finetune == "" && (*budget != 0 || *finetuneSteps != 0) {
		return fmt.Errorf("transfer: --budget and --finetune-steps need --finetune")
	}
	if *budget != 0 && *finetuneSteps != 0 {
		return fmt.Errorf("transfer: give --budget or --finetune-steps, not both")
	}
	if *finetuneChunks < 1 {
		return fmt.Errorf("transfer: --finetune-chunks %d: want at least 1", *finetuneChunks)
	}
	var sp *space.Space
	if *spaceName != "" {
		if sp, err = space.Preset(*spaceName); err != nil {
			return err
		}
	} else if sp, err = bind.SourceSpace(*source); err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	exp := transfer.Experiment{
		Space: sp, SourceSupernet: *source, Target: *target, OutDir: *out, Seed: *seed,
		Iterations: *iterations, InitialSize: *initial, Candidates: *candidates, Predictor: *pred,
		Search:     transfer.SearchSettings{Population: *pop, Generations: *gens},
		AdaptSteps: *adaptSteps, WarmupSteps: *warmup, AdaptBatchSize: *batch, LearningRate: *lr, Sampling: *sampling,
		BestFraction: *best, SamplingTolerance: *tolerance, Reevaluate: *reeval, ValidationSize: *valSize, CalibrationSize: *calibSize,
	}
	if exp.Objectives, err = parseObjectives(sp, *objectives); err != nil {
		return err
	}
	if *maxMAdds > 0 {
		exp.Constraints = append(exp.Constraints, transfer.Constraint{Objective: "madds", Op: "<=", Value: *maxMAdds})
	}
	exp = exp.WithDefaults()
	if err := exp.Validate(); err != nil {
		return err
	}
	var ft *finetuneRun
	if *finetune != "" {
		if ft, err = prepareFinetune(exp, *finetune, *budget, *finetuneSteps, *finetuneChunks, *compareTo); err != nil {
			return err
		}
		ft.testImages = *testImages
	}
	net, err := bind.Open(exp, bind.Options{DataDir: *dataDir, MaxTrain: *maxTrain})
	if err != nil {
		return err
	}
	defer net.Close()

	opt := transfer.Options{}
	unit := "iteration"
	if ft != nil {
		unit = "chunk"
	}
	if !*quiet {
		if isTerminal(e.Stderr) {
			bar := &progressLine{w: e.Stderr, unit: unit}
			opt.Progress = bar.update
			opt.Logf = bar.logf
		} else {
			opt.Logf = func(format string, args ...any) {
				fmt.Fprintf(e.Stderr, "%s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
			}
			// Without a terminal, a line every 30 seconds during long phases.
			var last time.Time
			opt.Progress = func(p transfer.Progress) {
				if p.Total == 0 || p.Done == 0 || time.Since(last) < 30*time.Second {
					return
				}
				last = time.Now()
				opt.Logf("%s %d/%d %s %d/%d (phase ETA %s, run ETA %s)", unit, p.Iteration, p.Iterations, p.Phase,
					p.Done, p.Total, roundETA(p.PhaseETA), roundETA(p.ETA))
			}
		}
	}
	if ft != nil {
		err := ft.run(ctx, e, net, opt, *asJSON)
		if err != nil && ctx.Err() != nil {
			return fmt.Errorf("transfer: interrupted; rerun the same command to resume from %s: %w", exp.OutDir, err)
		}
		return err
	}
	var res *transfer.Result
	if *randomN > 0 {
		res, err = randomSearch(ctx, e, exp, net, *randomN, *compareTo, opt)
	} else {
		res, err = transfer.Run(ctx, exp, net, opt)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("transfer: interrupted; rerun the same command to resume from %s: %w", exp.OutDir, err)
		}
		return err
	}
	front := append([]archive.Row(nil), res.Front...)
	sort.SliceStable(front, func(i, j int) bool { return cheaper(front[i], front[j]) })
	if *asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(front)
	}
	m, _ := archive.ReadManifest(res.Dir)
	printArchive(e.Stdout, archiveReport{Dir: res.Dir, Manifest: m, Iteration: res.Iterations, Stats: res.Stats, Rows: front}, true)
	fmt.Fprintf(e.Stdout, "\nplot: %s (and .png)\n", filepath.Join(res.Dir, "pareto.svg"))
	return nil
}

// parseObjectives reads --objectives.
func parseObjectives(sp *space.Space, s string) ([]transfer.Objective, error) {
	var out []transfer.Objective
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "top1":
			out = append(out, transfer.Top1())
		case name == "madds":
			out = append(out, transfer.MAdds())
		case name == "params":
			out = append(out, transfer.Params())
		case strings.HasPrefix(name, "latency:"):
			t, err := hardware.Resolve(strings.TrimPrefix(name, "latency:"), hardware.SearchDirs())
			if err != nil {
				return nil, fmt.Errorf("transfer: --objectives %s: %w", name, err)
			}
			out = append(out, transfer.Hardware(sp, t))
		default:
			return nil, fmt.Errorf("transfer: --objectives: unknown objective %q (want top1, madds, params, latency:TARGET)", name)
		}
	}
	return out, nil
}

// isTerminal reports whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressLine draws one self-overwriting status line (iteration, phase, progress, ETA) and
// prints log lines above it.
type progressLine struct {
	w    io.Writer
	unit string // what Progress.Iteration counts: "iteration" (default) or "chunk"
	last time.Time
	text string
}

func (p *progressLine) update(pr transfer.Progress) {
	if pr.Phase != transfer.PhaseDone && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 24
	filled := int(pr.Fraction()*width + 0.5)
	bar := strings.Repeat("#", filled) + strings.Repeat(".", width-filled)
	work := ""
	if pr.Total > 0 {
		work = fmt.Sprintf(" %d/%d", pr.Done, pr.Total)
	}
	eta := "ETA " + roundETA(pr.ETA)
	if pr.PhaseETA > 0 {
		eta += ", phase " + roundETA(pr.PhaseETA)
	}
	unit := p.unit
	if unit == "" {
		unit = "iteration"
	}
	p.text = fmt.Sprintf("[%s] %s %d/%d %s%s | %s elapsed | %s", bar, unit, pr.Iteration, pr.Iterations, pr.Phase, work,
		pr.Elapsed.Round(time.Second), eta)
	fmt.Fprintf(p.w, "\r\033[K%s", p.text)
}

func (p *progressLine) logf(format string, args ...any) {
	fmt.Fprintf(p.w, "\r\033[K%s\n%s", fmt.Sprintf(format, args...), p.text)
}

func roundETA(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return d.Round(time.Second).String()
}

// randomSearch runs the random-search baseline and, given a NAT run to compare with, prints both
// hypervolumes on the NAT run's normalisation.
func randomSearch(ctx context.Context, e *env, exp transfer.Experiment, net transfer.Supernet, n int, compareTo string, opt transfer.Options) (*transfer.Result, error) {
	var norm *archive.IterationStats
	var nat *archive.Iteration
	if compareTo != "" {
		if err := transfer.CheckWarmsUpAs(compareTo, exp); err != nil {
			return nil, fmt.Errorf("%w\n(the random search measures its subnets on the supernet %s's initial archive was measured on, so it needs that run's --warmup-steps, --iterations, --adapt-steps, --batch-size and --lr: its manifest.json records them)", err, compareTo)
		}
		first, err := archive.ReadIteration(filepath.Join(compareTo, archive.FileName(0)))
		if err != nil {
			return nil, fmt.Errorf("transfer: --compare-to: %w", err)
		}
		norm = &first.Stats
		if nat, err = archive.Latest(compareTo); err != nil {
			return nil, err
		}
	}
	res, err := transfer.RandomSearch(ctx, exp, net, n, norm, opt)
	if err != nil || nat == nil {
		return res, err
	}
	senses := make([]bool, len(exp.Objectives))
	for i, o := range exp.Objectives {
		senses[i] = o.Maximize
	}
	hvNAT, err := transfer.FrontHypervolume(nat.Rows, senses, *norm)
	if err != nil {
		return nil, err
	}
	hvRandom, err := transfer.FrontHypervolume(res.Archive, senses, *norm)
	if err != nil {
		return nil, err
	}
	distinct := map[string]bool{}
	for _, r := range nat.Rows {
		distinct[r.Genome] = true
	}
	fmt.Fprintf(e.Stdout, "hypervolume on %s's normalisation (reference point 1.01 per normalised objective):\n  NAT after iteration %d (%d subnets measured): %.4f\n  random search (%d subnets measured):       %.4f\n\n",
		compareTo, nat.Index, len(distinct), hvNAT, len(res.Archive), hvRandom)
	return res, nil
}
