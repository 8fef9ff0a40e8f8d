package transfer_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
)

func finetuneExperiment(t *testing.T, dir string) transfer.Experiment {
	exp := smallExperiment(t, dir)
	exp.Objectives = []transfer.Objective{transfer.Top1(), transfer.MAdds(), transfer.Params()}
	exp.AdaptBatchSize = 32
	return exp
}

// fixed trains one subnet every step.
type fixed struct{ a space.Arch }

func (f fixed) Sample(*rand.Rand) []space.Arch { return []space.Arch{f.a} }

func reference(t *testing.T, sp *space.Space, which string) transfer.Reference {
	t.Helper()
	ref, err := transfer.ChooseReference(sp, which)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestFinetuneTrainsOnlyTheReferenceAndWritesItsResult fine-tunes the largest subnet of the
// synthetic supernet for a fixed number of steps and checks result.json: the reference's exact
// costs, a learning curve that rises, steps and images, and that a rerun reads it back.
func TestFinetuneTrainsOnlyTheReferenceAndWritesItsResult(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ft")
	exp := finetuneExperiment(t, dir)
	net := newNet(t, exp.Space)
	ref := reference(t, exp.Space, "largest")
	spec := transfer.FinetuneSpec{Reference: ref, Steps: 40, Chunks: 4}
	res, err := transfer.Finetune(context.Background(), exp, net, spec, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if net.Steps != 40 || net.Evaluations != 5 {
		t.Errorf("trained %d steps and measured %d times, want 40 and 5 (before training and after 4 chunks)", net.Steps, net.Evaluations)
	}
	c, err := cost.Arch(exp.Space, exp.Space.Largest())
	if err != nil {
		t.Fatal(err)
	}
	if res.MAdds != c.MAdds || res.Params != c.Params || res.Reference.Kind != transfer.ReferenceLargest {
		t.Errorf("reference costs %d/%d kind %q, want %d/%d largest", res.MAdds, res.Params, res.Reference.Kind, c.MAdds, c.Params)
	}
	want := []archive.Objective{{Name: "top1", Value: res.Top1}, {Name: "madds", Value: float64(c.MAdds) / 1e6}, {Name: "params", Value: float64(c.Params) / 1e6}}
	if !reflect.DeepEqual(res.Objectives, want) {
		t.Errorf("objectives %+v, want %+v", res.Objectives, want)
	}
	if res.Steps != 40 || res.Images != 40*32 || !reflect.DeepEqual(res.ChunkEnds, []int{10, 20, 30, 40}) || res.ResumedFrom != -1 {
		t.Errorf("steps %d images %d chunks %v resumed from %d", res.Steps, res.Images, res.ChunkEnds, res.ResumedFrom)
	}
	if len(res.Curve) != 5 || res.Curve[0].Step != 0 || res.Curve[4].Step != 40 || res.Curve[4].Top1 != res.Top1 {
		t.Fatalf("curve %+v", res.Curve)
	}
	for i := 1; i < len(res.Curve); i++ {
		if !(res.Curve[i].Top1 > res.Curve[i-1].Top1) {
			t.Errorf("the synthetic top-1 does not rise with training: %+v", res.Curve)
		}
	}
	// What the fake reports for the largest subnet trained 40 steps, measured independently.
	check := newNet(t, exp.Space)
	if err := check.Adapt(context.Background(), transfer.AdaptRequest{Steps: 40, BatchSize: 32, PeakLR: 0.01,
		Sampler: fixed{exp.Space.Largest()}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := check.Top1(exp.Space.Largest()); v != res.Top1 {
		t.Errorf("top-1 %v, the synthetic supernet trained on the largest subnet alone gives %v", res.Top1, v)
	}
	// result.json on disk is the returned result.
	onDisk, err := transfer.ReadFinetune(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(onDisk)
	b, _ := json.Marshal(res)
	if string(a) != string(b) {
		t.Errorf("result.json differs from the returned result:\n%+v\n%+v", onDisk, res)
	}
	if m, err := archive.ReadManifest(dir); err != nil || m.Kind != transfer.FinetuneKind {
		t.Errorf("manifest: %+v, %v", m, err)
	}
	// A rerun reads the result back without training.
	again, err := transfer.Finetune(context.Background(), exp, net, spec, transfer.Options{})
	if err != nil || net.Steps != 40 || again.Top1 != res.Top1 || again.ResumedFrom != 4 {
		t.Errorf("rerun: %v, %d steps, top-1 %v", err, net.Steps, again.Top1)
	}
	// ... and another reference or length into the same directory is refused, naming the field.
	spec2 := spec
	spec2.Reference = reference(t, exp.Space, "median")
	if _, err := transfer.Finetune(context.Background(), exp, net, spec2, transfer.Options{}); err == nil || !strings.Contains(err.Error(), `"genome"`) {
		t.Errorf("other reference into the same directory: %v", err)
	}
	spec2 = spec
	spec2.Steps = 41
	if _, err := transfer.Finetune(context.Background(), exp, net, spec2, transfer.Options{}); err == nil || !strings.Contains(err.Error(), `"steps"`) {
		t.Errorf("other length into the same directory: %v", err)
	}
	// A NAT run refuses the directory.
	if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err == nil || !strings.Contains(err.Error(), "finetune") {
		t.Errorf("NAT run into a fine-tuning directory: %v", err)
	}
}

// TestFinetuneResumesAfterAnInterruption cancels a fine-tuning in the middle of its third chunk,
// then reruns it with a fresh supernet: the rerun must load the second chunk's checkpoint and
// train only the remaining steps, and end exactly as an uninterrupted run.
func TestFinetuneResumesAfterAnInterruption(t *testing.T) {
	ref := reference(t, smallExperiment(t, "x").Space, "median")
	spec := transfer.FinetuneSpec{Reference: ref, Steps: 50, Chunks: 5}

	whole := finetuneExperiment(t, filepath.Join(t.TempDir(), "whole"))
	want, err := transfer.Finetune(context.Background(), whole, newNet(t, whole.Space), spec, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}

	exp := finetuneExperiment(t, filepath.Join(t.TempDir(), "cut"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := newNet(t, exp.Space)
	_, err = transfer.Finetune(ctx, exp, first, spec, transfer.Options{Progress: func(p transfer.Progress) {
		if p.Phase == transfer.PhaseAdapt && p.Iteration == 3 && p.Done == 4 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if first.Steps != 24 {
		t.Fatalf("the interrupted run trained %d steps, want 24 (two chunks of 10 and 4 of the third)", first.Steps)
	}
	if _, err := os.Stat(filepath.Join(exp.OutDir, transfer.FinetuneResultName)); err == nil {
		t.Fatal("an interrupted run wrote result.json")
	}
	second := newNet(t, exp.Space)
	got, err := transfer.Finetune(context.Background(), exp, second, spec, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if second.Steps != 30 || second.Evaluations != 3 || got.ResumedFrom != 2 || got.Resumes != 1 {
		t.Errorf("the resumed run trained %d steps and measured %d times from chunk %d (%d resumes); want 30, 3, 2, 1",
			second.Steps, second.Evaluations, got.ResumedFrom, got.Resumes)
	}
	if got.Top1 != want.Top1 || len(got.Curve) != len(want.Curve) {
		t.Fatalf("resumed top-1 %v curve %+v; uninterrupted %v %+v", got.Top1, got.Curve, want.Top1, want.Curve)
	}
	for i := range got.Curve {
		if got.Curve[i].Top1 != want.Curve[i].Top1 || got.Curve[i].Step != want.Curve[i].Step {
			t.Errorf("curve point %d: resumed %+v, uninterrupted %+v", i, got.Curve[i], want.Curve[i])
		}
	}
	// Only the last chunk's checkpoint is kept.
	cks, _ := filepath.Glob(filepath.Join(exp.OutDir, "checkpoints", "*"))
	if len(cks) != 1 || filepath.Base(cks[0]) != "chunk-0005" {
		t.Errorf("checkpoints left: %v", cks)
	}
}

// TestFinetuneBudgetFixesTheStepsFromAPilot gives the synthetic supernet a per-step delay and a
// wall-time budget: the number of steps must follow from the pilot's timing as documented, and
// the pilot's own training must not count (the result equals training that many steps alone).
func TestFinetuneBudgetFixesTheStepsFromAPilot(t *testing.T) {
	exp := finetuneExperiment(t, filepath.Join(t.TempDir(), "budget"))
	net := newNet(t, exp.Space)
	net.Delay = 2 * time.Millisecond
	ref := reference(t, exp.Space, "largest")
	budget := 200 * time.Millisecond
	res, err := transfer.Finetune(context.Background(), exp, net, transfer.FinetuneSpec{Reference: ref, Budget: budget, Chunks: 3, FinalOnly: true}, transfer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := max(1, int((budget.Seconds()-res.PilotOverheadSeconds)/res.PilotStepSeconds))
	if res.Steps != wantSteps || res.Steps > 100 || res.BudgetSeconds != budget.Seconds() {
		t.Errorf("%d steps; the pilot's %.4f s a step (+%.4f s) fit %d in %v", res.Steps, res.PilotStepSeconds, res.PilotOverheadSeconds, wantSteps, budget)
	}
	if net.Steps != 1+3+res.Steps || len(res.Curve) != 1 || net.Evaluations != 1 {
		t.Errorf("trained %d steps (pilot 4 + %d), curve %+v, %d measurements", net.Steps, res.Steps, res.Curve, net.Evaluations)
	}
	if !(res.TrainSeconds >= float64(res.Steps)*0.002) {
		t.Errorf("train seconds %v for %d steps of at least 2 ms", res.TrainSeconds, res.Steps)
	}
	check := newNet(t, exp.Space)
	if err := check.Adapt(context.Background(), transfer.AdaptRequest{Steps: res.Steps, Sampler: fixed{ref.Arch}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := check.Top1(ref.Arch); v != res.Top1 {
		t.Errorf("top-1 %v after the pilot was thrown away; %d steps alone give %v", res.Top1, res.Steps, v)
	}
	// Resuming a finished run without a budget reads it back.
	again, err := transfer.Finetune(context.Background(), exp, net, transfer.FinetuneSpec{Reference: ref, Chunks: 3, FinalOnly: true}, transfer.Options{})
	if err != nil || again.Top1 != res.Top1 {
		t.Errorf("read back without a budget: %v", err)
	}
	// A fresh run needs a budget.
	if _, err := transfer.Finetune(context.Background(), finetuneExperiment(t, t.TempDir()), net, transfer.FinetuneSpec{Reference: ref}, transfer.Options{}); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("no budget: %v", err)
	}
}

// TestFinetuneMedianReferenceIsTheMedianOfMAdds checks the median-MAdds rule: deterministic, the subnet
// ChooseReference("median") picks, and the median of the sampler's MAdds distribution (on an
// independent sample of 4,001 subnets, neither side of it holds more than 53%) rather than the
// middle choice of every gene.
func TestFinetuneMedianReferenceIsTheMedianOfMAdds(t *testing.T) {
	sp := smallExperiment(t, "x").Space
	a, err := transfer.MedianMAddsArch(sp, transfer.MedianDraws, transfer.MedianSeed)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := transfer.MedianMAddsArch(sp, transfer.MedianDraws, transfer.MedianSeed)
	ref := reference(t, sp, "median")
	if !a.Equal(b) || !a.Equal(ref.Arch) || ref.Kind != transfer.ReferenceMedian || !strings.Contains(ref.Rule, "1001") {
		t.Fatalf("median not reproducible: %s, %s, %+v", a, b, ref)
	}
	ca, _ := cost.Arch(sp, a)
	rng := rand.New(rand.NewPCG(99, 100))
	below, above, n := 0, 0, 4001
	for i := 0; i < n; i++ {
		c, err := cost.Arch(sp, sp.Sample(rng))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.MAdds < ca.MAdds:
			below++
		case c.MAdds > ca.MAdds:
			above++
		}
	}
	t.Logf("median subnet %s: %.3f M MAdds; of %d other draws %d below, %d above", a, float64(ca.MAdds)/1e6, n, below, above)
	if float64(below) > 0.53*float64(n) || float64(above) > 0.53*float64(n) {
		t.Errorf("%s is not a median of MAdds: %d of %d draws below, %d above", a, below, n, above)
	}
	if _, err := transfer.MedianMAddsArch(sp, 0, 1); err == nil {
		t.Error("median of no subnets")
	}
}

func TestFinetuneChooseReferenceNamesABadValue(t *testing.T) {
	sp := smallExperiment(t, "x").Space
	for _, bad := range []string{"biggest", "123", ""} {
		_, err := transfer.ChooseReference(sp, bad)
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) || !strings.Contains(err.Error(), "largest") {
			t.Errorf("ChooseReference(%q): %v", bad, err)
		}
	}
	// A genome is normalised and decoded; largest round-trips through its genome.
	largest := reference(t, sp, "largest")
	byGenome := reference(t, sp, largest.Genome)
	if !byGenome.Arch.Equal(sp.Largest()) || byGenome.Kind != transfer.ReferenceGenome || byGenome.Genome != largest.Genome {
		t.Errorf("genome reference %+v", byGenome)
	}
}

func TestCompareFinetuneTakesTheBestCheaperFrontSubnet(t *testing.T) {
	res := &transfer.FinetuneResult{Top1: 50, MAdds: 100}
	front := []archive.Row{
		{Genome: "a", Top1: 40, MAdds: 50},
		{Genome: "b", Top1: 55, MAdds: 100},
		{Genome: "c", Top1: 70, MAdds: 101}, // more MAdds than the reference: not eligible
	}
	c := transfer.CompareFinetune(res, front)
	if c.NAT == nil || c.NAT.Genome != "b" || c.Winner != "NAT" || c.Margin != 5 {
		t.Errorf("comparison %+v", c)
	}
	res.Top1 = 60
	if c := transfer.CompareFinetune(res, front); c.Winner != "fine-tuning" || c.Margin != -5 {
		t.Errorf("comparison %+v", c)
	}
	res.MAdds = 10
	if c := transfer.CompareFinetune(res, front); c.NAT != nil || c.Winner != "" {
		t.Errorf("no eligible subnet: %+v", c)
	}
}

// TestFinetuneDefaultBudgetIsTheRunWallTime checks the default budget: the recorded seconds of every
// complete iteration of a NAT run, and CheckComparable and CheckWarmsUpAs on the same run.
func TestFinetuneDefaultBudgetIsTheRunWallTime(t *testing.T) {
	dir := t.TempDir()
	exp := smallExperiment(t, dir)
	exp.Iterations = 1
	res, err := transfer.Run(context.Background(), exp, newNet(t, exp.Space), transfer.Options{NoPlots: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := transfer.RunWallTime(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := res.Stats[0].Seconds["total"] + res.Stats[1].Seconds["total"]
	if d := got.Seconds() - want; d > 1e-6 || d < -1e-6 || got <= 0 {
		t.Errorf("wall time %v, iterations recorded %v s", got, want)
	}
	if _, err := transfer.RunWallTime(t.TempDir()); err == nil {
		t.Error("wall time of an empty directory")
	}
	if err := transfer.CheckComparable(dir, exp); err != nil {
		t.Error(err)
	}
	other := exp
	other.ValidationSize = 1234
	if err := transfer.CheckComparable(dir, other); err == nil || !strings.Contains(err.Error(), "validation_size") {
		t.Errorf("different validation split: %v", err)
	}

	// A random search warms up as the run did only with its schedule; a different sampling
	// policy does not matter to it.
	if err := transfer.CheckWarmsUpAs(dir, exp); err != nil {
		t.Error(err)
	}
	same := exp
	same.BestFraction, same.Reevaluate = 0.3, transfer.ReevaluateNone
	if err := transfer.CheckWarmsUpAs(dir, same); err != nil {
		t.Errorf("adaptation policy only: %v", err)
	}
	for field, change := range map[string]func(*transfer.Experiment){
		"iterations":       func(e *transfer.Experiment) { e.Iterations++ },
		"adapt_steps":      func(e *transfer.Experiment) { e.AdaptSteps++ },
		"warmup_steps":     func(e *transfer.Experiment) { e.WarmupSteps += 3 },
		"learning_rate":    func(e *transfer.Experiment) { e.LearningRate = 0.0123 },
		"adapt_batch_size": func(e *transfer.Experiment) { e.AdaptBatchSize++ },
		"validation_size":  func(e *transfer.Experiment) { e.ValidationSize = 1234 },
	} {
		other := exp
		change(&other)
		if err := transfer.CheckWarmsUpAs(dir, other); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("different %s: %v", field, err)
		}
	}
}
