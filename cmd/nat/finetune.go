package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/transfer"
)

// finetuneRun is `nat transfer --finetune`: the fixed-subnet fine-tuning baseline, and its
// comparison with a NAT run.
type finetuneRun struct {
	exp       transfer.Experiment
	spec      transfer.FinetuneSpec
	budgetWhy string // where the budget came from, for the report
	compareTo string
	front     []archive.Row // the NAT run's final front
	natIter   int
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
}

func (f *finetuneRun) run(ctx context.Context, e *env, net transfer.Supernet, opt transfer.Options, asJSON bool) error {
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
