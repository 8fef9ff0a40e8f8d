package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
)

// finetuneRun is `nat transfer --finetune`: the fixed-subnet fine-tuning baseline, and its
// comparison with a NAT run.
type finetuneRun struct {
	exp       transfer.Experiment
	spec      transfer.FinetuneSpec
	budgetWhy string // where the budget came from, for the report
	compareTo string
	// testImages is --test-images: how many test-split images judge the comparison (0: all,
	// -1: none).
	testImages int
	front      []archive.Row // the NAT run's final front
	natIter    int
}

// prepareFinetune resolves --finetune, --budget, --finetune-steps, --finetune-chunks and --compare-to before the
// supernet is opened, so that a bad value fails at once.
func prepareFinetune(exp transfer.Experiment, which string, budget time.Duration, steps, chunks int, compareTo string) (*finetuneRun, error) {
	ref, err := transfer.ChooseReference(exp.Space, which)
	if err != nil {
		return nil, fmt.Errorf("transfer: --finetune: %w", err)
	}
	if budget < 0 || steps < 0 {
		return nil, fmt.Errorf("transfer: --budget %v and --finetune-steps %d must not be negative", budget, steps)
	}
	f := &finetuneRun{exp: exp, spec: transfer.FinetuneSpec{Reference: ref, Budget: budget, Steps: steps, Chunks: chunks}, compareTo: compareTo}
	switch {
	case budget > 0:
		f.budgetWhy = "--budget"
	case steps > 0:
		f.budgetWhy = "--finetune-steps"
	}
	if compareTo != "" {
		if err := transfer.CheckComparable(compareTo, exp); err != nil {
			return nil, fmt.Errorf("transfer: --compare-to: %w", err)
		}
		last, err := archive.Latest(compareTo)
		if err != nil {
			return nil, fmt.Errorf("transfer: --compare-to: %w", err)
		}
		f.natIter = last.Index
		for _, r := range last.Rows {
			if r.Front {
				f.front = append(f.front, r)
			}
		}
		if budget == 0 && steps == 0 {
			if f.spec.Budget, err = transfer.RunWallTime(compareTo); err != nil {
				return nil, fmt.Errorf("transfer: --compare-to: %w", err)
			}
			f.budgetWhy = "the wall time of " + compareTo
		}
	}
	if f.spec.Budget == 0 && f.spec.Steps == 0 {
		// Only a run that already started may continue without a budget: it keeps its own.
		m, err := archive.ReadManifest(exp.OutDir)
		if errors.Is(err, archive.ErrNoManifest) {
			return nil, fmt.Errorf("transfer: --finetune needs --budget DURATION, --finetune-steps N or --compare-to NATRUN (whose wall time is the budget)")
		}
		if err != nil {
			return nil, err
		}
		if m.Kind != transfer.FinetuneKind {
			return nil, fmt.Errorf("transfer: %s holds a %q run, not a fine-tuning baseline", exp.OutDir, m.Kind)
		}
		f.budgetWhy = "recorded in " + exp.OutDir
	}
	return f, nil
}

// finetuneComparisonName is the comparison's file in the baseline's directory (written when
// --compare-to is given).
const finetuneComparisonName = "comparison.json"

// finetuneReport is what --json prints.
type finetuneReport struct {
	Result     *transfer.FinetuneResult `json:"result"`
	Comparison *finetuneComparison      `json:"comparison,omitempty"`
}

type finetuneComparison struct {
	NATRun       string       `json:"nat_run"`
	NATIteration int          `json:"nat_iteration"`
	NATWallSec   float64      `json:"nat_wall_seconds"`
	NAT          *archive.Row `json:"nat,omitempty"` // best front subnet with MAdds <= the reference's
	Winner       string       `json:"winner,omitempty"`
	Margin       float64      `json:"margin"` // NAT top-1 minus the reference's, percentage points
	// Test re-measures both subnets on the target's test split (--test-images), which neither
	// the search nor the baseline ever saw: NAT's subnet was chosen on the validation split, so
	// its validation top-1 is biased upward by that choice and the test split is the fair judge.
	Test *testComparison `json:"test,omitempty"`
	// TestSkipped says why there is no test-split comparison.
	TestSkipped string `json:"test_skipped,omitempty"`
}

// testComparison is the two subnets' top-1 on the target's test split.
type testComparison struct {
	Images     int     `json:"images"`
	Reference  float64 `json:"reference_top1"` // fine-tuned reference, its last chunk's weights
	NAT        float64 `json:"nat_top1"`       // NAT's subnet, the NAT run's last checkpoint
	Winner     string  `json:"winner"`
	Margin     float64 `json:"margin"`
	Seconds    float64 `json:"seconds"`
	NATWeights string  `json:"nat_weights"`
	RefWeights string  `json:"reference_weights"`
}

func (f *finetuneRun) run(ctx context.Context, e *env, net *bind.Supernet, opt transfer.Options, asJSON bool) error {
	res, err := transfer.Finetune(ctx, f.exp, net, f.spec, opt)
	if err != nil {
		return err
	}
	rep := finetuneReport{Result: res}
	if f.compareTo != "" {
		c := transfer.CompareFinetune(res, f.front)
		wall, _ := transfer.RunWallTime(f.compareTo)
		rep.Comparison = &finetuneComparison{NATRun: f.compareTo, NATIteration: f.natIter, NATWallSec: wall.Seconds(),
			NAT: c.NAT, Winner: c.Winner, Margin: c.Margin}
		switch {
		case c.NAT == nil:
			rep.Comparison.TestSkipped = "no NAT front subnet is as cheap as the reference"
		case f.testImages < 0:
			rep.Comparison.TestSkipped = "--test-images -1"
		default:
			if opt.Logf != nil {
				opt.Logf("measuring the fine-tuned reference and NAT's subnet on the test split of %s", f.exp.Target)
			}
			t, why, err := f.testSplit(ctx, net, res, c.NAT)
			if err != nil {
				return err
			}
			rep.Comparison.Test, rep.Comparison.TestSkipped = t, why
		}
		data, err := json.MarshalIndent(rep.Comparison, "", "  ")
		if err != nil {
			return err
		}
		if err := archive.WriteFileAtomic(f.exp.OutDir, finetuneComparisonName, append(data, '\n')); err != nil {
			return err
		}
	}
	if asJSON {
		enc := json.NewEncoder(e.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printFinetune(e.Stdout, rep, f.budgetWhy)
	return nil
}

// testSplit measures the fine-tuned reference (its last chunk's checkpoint) and NAT's subnet
// (the NAT run's last checkpoint) on the target's test split. A NAT run copied without its
// checkpoints (as results/ keeps them) gives a reason instead of a measurement.
func (f *finetuneRun) testSplit(ctx context.Context, net *bind.Supernet, res *transfer.FinetuneResult, nat *archive.Row) (*testComparison, string, error) {
	natCk := transfer.CheckpointPath(f.compareTo, f.natIter)
	if _, err := os.Stat(natCk); err != nil {
		return nil, fmt.Sprintf("the NAT run's last checkpoint %s is missing", natCk), nil
	}
	refCk := transfer.FinetuneCheckpointPath(res.Dir, len(res.ChunkEnds))
	if _, err := os.Stat(refCk); err != nil {
		return nil, fmt.Sprintf("the fine-tuned checkpoint %s is missing", refCk), nil
	}
	t0 := time.Now()
	g, err := f.exp.Space.Parse(nat.Genome)
	if err != nil {
		return nil, "", fmt.Errorf("transfer: NAT's subnet %v: %w", nat.Genome, err)
	}
	natArch, err := f.exp.Space.Decode(g)
	if err != nil {
		return nil, "", fmt.Errorf("transfer: NAT's subnet %v: %w", nat.Genome, err)
	}
	if err := net.Load(refCk); err != nil {
		return nil, "", fmt.Errorf("transfer: loading the fine-tuned reference: %w", err)
	}
	ref, err := net.EvaluateTest(ctx, res.Reference.Arch, f.testImages)
	if err != nil {
		return nil, "", err
	}
	if err := net.Load(natCk); err != nil {
		return nil, "", fmt.Errorf("transfer: loading the NAT run's supernet: %w", err)
	}
	got, err := net.EvaluateTest(ctx, natArch, f.testImages)
	if err != nil {
		return nil, "", err
	}
	t := &testComparison{Images: ref.N, Reference: 100 * ref.Top1, NAT: 100 * got.Top1, Seconds: time.Since(t0).Seconds(),
		NATWeights: natCk, RefWeights: refCk}
	t.Margin = t.NAT - t.Reference
	t.Winner = transfer.Winner(t.Margin)
	return t, "", nil
}

func printFinetune(w io.Writer, rep finetuneReport, budgetWhy string) {
	r := rep.Result
	fmt.Fprintf(w, "fine-tuned reference subnet (%s): %s\n  genome %s  %s\n", r.Reference.Kind, r.Reference.Rule, r.Reference.Genome, r.Reference.Arch)
	fmt.Fprintf(w, "  MAdds %.3f M, params %.3f M\n", float64(r.MAdds)/1e6, float64(r.Params)/1e6)
	budget := "fixed number of steps"
	if r.BudgetSeconds > 0 {
		budget = "budget " + secs(r.BudgetSeconds)
		if budgetWhy != "" {
			budget += " (" + budgetWhy + ")"
		}
		budget += fmt.Sprintf("; pilot %.3f s a step, +%.1f s to compile", r.PilotStepSeconds, r.PilotOverheadSeconds)
	}
	fmt.Fprintf(w, "  %s\n  trained %d steps of %d images (%d images) at peak LR %g in %s; measuring took %s, everything %s\n",
		budget, r.Steps, r.BatchSize, r.Images, r.PeakLR, secs(r.TrainSeconds), secs(r.EvalSeconds), secs(r.WallSeconds))
	if r.Resumes > 0 {
		fmt.Fprintf(w, "  resumed %d time(s)\n", r.Resumes)
	}
	fmt.Fprintf(w, "\nlearning curve (top-1 on %d validation images of %s after batch-norm recalibration on %d training images):\n",
		r.ValidationSize, r.Target, r.CalibrationSize)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "chunk\tstep\timages\ttrained (s)\ttop-1 (%)\t")
	for _, p := range r.Curve {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.2f\t\n", p.Chunk, p.Step, p.Images, p.TrainSeconds, p.Top1)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntop-1 %.2f %% (result: %s/%s)\n", r.Top1, r.Dir, transfer.FinetuneResultName)
	c := rep.Comparison
	if c == nil {
		return
	}
	fmt.Fprintf(w, "\ncomparison with the NAT run %s (front after iteration %d, %s of wall time):\n", c.NATRun, c.NATIteration, secs(c.NATWallSec))
	fmt.Fprintf(w, "  fine-tuned %-8s top-1 %6.2f %%  MAdds %.3f M  (%s)\n", r.Reference.Kind, r.Top1, float64(r.MAdds)/1e6, r.Reference.Genome)
	if c.NAT == nil {
		fmt.Fprintf(w, "  NAT: no front subnet has MAdds <= %.3f M; no comparison at equal or lower MAdds\n", float64(r.MAdds)/1e6)
		return
	}
	fmt.Fprintf(w, "  best NAT front subnet with MAdds <= %.3f M: top-1 %6.2f %%  MAdds %.3f M  (%s)\n",
		float64(r.MAdds)/1e6, c.NAT.Top1, float64(c.NAT.MAdds)/1e6, c.NAT.Genome)
	switch c.Winner {
	case "tie":
		fmt.Fprintf(w, "  winner: tie (equal top-1)\n")
	default:
		m := c.Margin
		if m < 0 {
			m = -m
		}
		fmt.Fprintf(w, "  winner: %s, by %.2f points of top-1\n", c.Winner, m)
	}
	switch t := c.Test; {
	case t != nil:
		fmt.Fprintf(w, "on %d images of the test split (which neither run saw; NAT's subnet was chosen on the validation split):\n", t.Images)
		fmt.Fprintf(w, "  fine-tuned %-8s top-1 %6.2f %%\n  NAT's subnet        top-1 %6.2f %%\n", r.Reference.Kind, t.Reference, t.NAT)
		m := t.Margin
		if m < 0 {
			m = -m
		}
		fmt.Fprintf(w, "  winner on the test split: %s, by %.2f points\n", t.Winner, m)
	case c.TestSkipped != "":
		fmt.Fprintf(w, "  no test-split comparison: %s\n", c.TestSkipped)
	}
}

// secs formats seconds as a rounded duration.
func secs(s float64) string {
	d := time.Duration(s * float64(time.Second))
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
