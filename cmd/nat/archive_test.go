package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// syntheticRun writes a small run with the synthetic supernet of nat/transfer/transfertest.
func syntheticRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	net, err := transfertest.New(sp)
	if err != nil {
		t.Fatal(err)
	}
	exp := transfer.Experiment{Space: sp, Target: "synthetic", OutDir: dir, Seed: 3, Predictor: "rbf",
		Search:      transfer.SearchSettings{Population: 24, Generations: 5, RefDirs: 12},
		InitialSize: 30, Candidates: 4, Iterations: 2, AdaptSteps: 10}
	if _, err := transfer.Run(context.Background(), exp, net, transfer.Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestArchiveShow(t *testing.T) {
	dir := syntheticRun(t)
	last, err := archive.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	nFront := 0
	for _, r := range last.Rows {
		if r.Front {
			nFront++
		}
	}

	out, err := runVerb(t, "archive", "show", dir)
	if err != nil {
		t.Fatal(err, out)
	}
	for _, want := range []string{"archive after iteration 2: 38 subnets", "hypervolume", "Kendall tau", "top1", "madds", last.Rows[0].Genome} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}

	out, err = runVerb(t, "archive", "show", dir, "--front", "--json")
	if err != nil {
		t.Fatal(err, out)
	}
	var rep archiveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%.300s", err, out)
	}
	if rep.Iteration != 2 || len(rep.Rows) != nFront || len(rep.Stats) != 3 || rep.Manifest == nil {
		t.Fatalf("JSON: iteration %d, %d rows (front has %d), %d stats, manifest %v", rep.Iteration, len(rep.Rows), nFront, len(rep.Stats), rep.Manifest != nil)
	}
	for i, r := range rep.Rows {
		if !r.Front {
			t.Errorf("row %d is not on the front", i)
		}
		if i > 0 && r.Objectives[1].Value < rep.Rows[i-1].Objectives[1].Value {
			t.Errorf("front not sorted cheapest first at row %d", i)
		}
	}

	out, err = runVerb(t, "archive", "show", "--iteration", "0", "--json", dir)
	if err != nil {
		t.Fatal(err, out)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Iteration != 0 || len(rep.Rows) != 30 {
		t.Fatalf("--iteration 0: %v, iteration %d, %d rows", err, rep.Iteration, len(rep.Rows))
	}

	if _, err := runVerb(t, "archive", "show", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no complete iteration") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := runVerb(t, "archive", "show", dir, "--iteration", "9"); err == nil || !strings.Contains(err.Error(), "no iteration 9") {
		t.Errorf("missing iteration: %v", err)
	}
}
