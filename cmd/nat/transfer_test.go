package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet/supernettest"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/bind"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// TestTransferCommand runs `nat transfer` end to end on a tiny freshly initialised supernet and
// MNIST (seconds, not minutes), then resumes it with one more iteration.
func TestTransferCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a supernet")
	}
	sp := tinyCLISpace()
	src := supernettest.Checkpoint(t, sp, 2)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"transfer", "--source-supernet", src, "--target", "mnist", "--out", out, "--iterations", "1",
		"--initial", "12", "--candidates", "2", "--adapt-steps", "2", "--batch-size", "16", "--predictor", "rbf",
		"--population", "12", "--generations", "2", "--val-size", "100", "--calib-size", "100", "--max-train", "600",
		"--objectives", "top1,madds,params"}
	text, err := runVerb(t, args...)
	if err != nil {
		t.Fatal(err, text)
	}
	for _, want := range []string{"front after iteration 1", "params", "plot: " + filepath.Join(out, "pareto.svg"), "iteration 1: archive 14 (+2)"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{"iter-0000.parquet", "iter-0001.parquet", "manifest.json", "pareto.png", "checkpoints/iter-0001"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// Resume with one more iteration, JSON output.
	args[8] = "2"
	text, err = runVerb(t, append(args, "--json", "--quiet")...)
	if err != nil {
		t.Fatal(err, text)
	}
	var front []archive.Row
	if err := json.Unmarshal([]byte(text), &front); err != nil || len(front) == 0 {
		t.Fatalf("JSON front: %v\n%.300s", err, text)
	}
	its, _ := archive.Iterations(out)
	m, _ := archive.ReadManifest(out)
	if len(its) != 3 || m == nil || len(m.Resumes) != 1 || m.Resumes[0].FromIteration != 1 {
		t.Errorf("after resuming: iterations %v, manifest resumes %+v", its, m)
	}
	// The random-search baseline with as many measured subnets, on the NAT run's normalisation.
	// It must warm up on the NAT run's schedule: without the run's --iterations, --adapt-steps and
	// --batch-size it is refused, naming what differs.
	rdir := filepath.Join(t.TempDir(), "random")
	rargs := []string{"transfer", "--source-supernet", src, "--target", "mnist", "--out", rdir, "--random-search", "16",
		"--compare-to", out, "--val-size", "100", "--calib-size", "100", "--max-train", "600", "--predictor", "rbf",
		"--objectives", "top1,madds,params", "--quiet"}
	if text, err = runVerb(t, rargs...); err == nil || !strings.Contains(err.Error(), "iterations is 2 there") {
		t.Errorf("random search on another schedule: %v\n%s", err, text)
	}
	text, err = runVerb(t, append(rargs, "--iterations", "2", "--adapt-steps", "2", "--batch-size", "16")...)
	if err != nil {
		t.Fatal(err, text)
	}
	if !strings.Contains(text, "random search (16 subnets measured)") || !strings.Contains(text, "NAT after iteration 2 (16 subnets measured)") {
		t.Errorf("random-search comparison output:\n%s", text)
	}
	if rows, err := archive.Latest(rdir); err != nil || len(rows.Rows) != 16 || rows.Rows[0].Reason != archive.ReasonRandom {
		t.Errorf("random-search archive: %v", err)
	}
	if _, err := runVerb(t, "transfer", "--source-supernet", src); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("missing --out: %v", err)
	}
	if _, err := runVerb(t, append(args[:len(args)-2], "--objectives", "top1,flops")...); err == nil || !strings.Contains(err.Error(), "flops") {
		t.Errorf("unknown objective: %v", err)
	}
}

// TestFinetuneCommand runs `nat transfer --finetune` end to end on a tiny freshly initialised
// supernet and MNIST, compared with a NAT run directory (made with the synthetic supernet on the
// same experiment, for speed: the comparison's plumbing is under test, not its numbers), then
// reads the result back as JSON, and checks the errors for bad flag combinations.
func TestFinetuneCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a supernet")
	}
	sp := tinyCLISpace()
	src := supernettest.Checkpoint(t, sp, 2)
	natDir := filepath.Join(t.TempDir(), "nat")
	natExp := transfer.Experiment{Space: sp, SourceSupernet: src, Target: "mnist", OutDir: natDir, Seed: 1,
		ValidationSize: 100, CalibrationSize: 100, Predictor: "rbf", Search: transfer.SearchSettings{Population: 12, Generations: 2},
		InitialSize: 12, Candidates: 2, Iterations: 1, AdaptSteps: 2}
	fake, err := transfertest.New(sp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.Run(context.Background(), natExp, fake, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	wall, err := transfer.RunWallTime(natDir)
	if err != nil {
		t.Fatal(err)
	}

	// The synthetic run's last checkpoint is not a real supernet's: put the source's in its place
	// so that the test-split comparison can load NAT's weights.
	srcBytes, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(transfer.CheckpointPath(natDir, 1), srcBytes, 0o644); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "ft")
	args := []string{"transfer", "--source-supernet", src, "--target", "mnist", "--out", out, "--finetune", "median",
		"--compare-to", natDir, "--val-size", "100", "--calib-size", "100", "--max-train", "600", "--batch-size", "16", "--quiet",
		"--test-images", "120"}
	text, err := runVerb(t, args...)
	if err != nil {
		t.Fatal(err, text)
	}
	t.Logf("%s", text)
	for _, want := range []string{"fine-tuned reference subnet (median)", "learning curve", "comparison with the NAT run " + natDir,
		"best NAT front subnet with MAdds <=", "winner: ", "on 120 images of the test split", "winner on the test split: "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	res, err := transfer.ReadFinetune(out)
	if err != nil {
		t.Fatal(err)
	}
	median, _ := transfer.ChooseReference(sp, "median")
	c, _ := cost.Arch(sp, median.Arch)
	if res.Reference.Genome != median.Genome || res.MAdds != c.MAdds || res.BudgetSeconds != wall.Seconds() ||
		res.Steps < 1 || len(res.Curve) != len(res.ChunkEnds)+1 || res.Target != "mnist" || res.ValidationSize != 100 {
		t.Errorf("result: genome %s (median %s), MAdds %d (%d), budget %v s (NAT wall %v), %d steps, curve %d points for %d chunks",
			res.Reference.Genome, median.Genome, res.MAdds, c.MAdds, res.BudgetSeconds, wall, res.Steps, len(res.Curve), len(res.ChunkEnds))
	}
	if data, err := os.ReadFile(filepath.Join(out, "comparison.json")); err != nil || !strings.Contains(string(data), `"winner"`) {
		t.Errorf("comparison.json: %v %s", err, data)
	}
	// The rerun reads the result back; --json carries the comparison.
	text, err = runVerb(t, append(args, "--json")...)
	if err != nil {
		t.Fatal(err, text)
	}
	var rep struct {
		Result     transfer.FinetuneResult `json:"result"`
		Comparison struct {
			NAT    *archive.Row `json:"nat"`
			Winner string       `json:"winner"`
			Test   *struct {
				Images  int     `json:"images"`
				RefTop1 float64 `json:"reference_top1"`
				NATTop1 float64 `json:"nat_top1"`
				Margin  float64 `json:"margin"`
			} `json:"test"`
		} `json:"comparison"`
	}
	if err := json.Unmarshal([]byte(text), &rep); err != nil {
		t.Fatalf("JSON: %v\n%.400s", err, text)
	}
	if rep.Result.Top1 != res.Top1 || rep.Result.Steps != res.Steps || rep.Comparison.Winner == "" || rep.Comparison.NAT == nil || rep.Comparison.NAT.MAdds > res.MAdds {
		t.Errorf("read back: %+v", rep)
	}
	// The test split judged NAT's subnet with NAT's weights (here: the source's): measure it
	// independently.
	if tc := rep.Comparison.Test; tc == nil || tc.Images != 120 || tc.Margin != tc.NATTop1-tc.RefTop1 {
		t.Errorf("test-split comparison: %+v", tc)
	} else {
		natExp.ValidationSize, natExp.CalibrationSize = 100, 100
		net, err := bind.Open(natExp, bind.Options{MaxTrain: 600})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		g, _ := sp.Parse(rep.Comparison.NAT.Genome)
		a, _ := sp.Decode(g)
		m, err := net.EvaluateTest(context.Background(), a, 120)
		if err != nil {
			t.Fatal(err)
		}
		if 100*m.Top1 != tc.NATTop1 {
			t.Errorf("NAT's subnet on the test split: command says %v %%, measured independently %v %%", tc.NATTop1, 100*m.Top1)
		}
	}
	// Bad values and combinations, each named.
	base := []string{"transfer", "--source-supernet", src, "--target", "mnist", "--out", filepath.Join(t.TempDir(), "x"), "--val-size", "100", "--calib-size", "100"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--finetune", "biggest", "--budget", "1s"}, `"biggest"`},
		{[]string{"--finetune", "12345", "--budget", "1s"}, `"12345"`},
		{[]string{"--finetune", "largest"}, "--budget"},
		{[]string{"--finetune", "largest", "--random-search", "5"}, "--random-search"},
		{[]string{"--budget", "1s"}, "--finetune"},
		{[]string{"--finetune", "largest", "--budget", "1s", "--finetune-steps", "3"}, "not both"},
		{[]string{"--finetune", "largest", "--budget", "1s", "--finetune-chunks", "0"}, "--finetune-chunks 0"},
		{[]string{"--finetune", "largest", "--compare-to", natDir, "--val-size", "200"}, "validation_size"},
	} {
		if _, err := runVerb(t, append(append([]string(nil), base...), tc.args...)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// tinyCLISpace is TestTransferCommand's tiny space.
func tinyCLISpace() *space.Space {
	return &space.Space{
		Name: "tiny", InChannels: 1, Classes: 10, Resolutions: []int{12, 16}, WidthMults: []float64{1},
		StemWidth: 8, StemStride: 2, StemAct: space.HSwish, FirstBlockWidth: 8, FirstBlockAct: space.ReLU,
		Stages: []space.Stage{{Width: 8, Stride: 1, Act: space.ReLU}, {Width: 16, Stride: 2, Act: space.HSwish, SE: true}},
		Depths: []int{1, 2}, Kernels: []int{3, 5}, Expansions: []int{2, 3},
		FinalExpandWidth: 32, FeatureMixWidth: 32, HeadAct: space.HSwish, SEReduction: 4, Divisor: 8,
	}
}
