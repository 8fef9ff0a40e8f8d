package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

const shippedSupernet = "../../results/supernets/mnist/supernet.bin"

// An exported subnet must score exactly what the supernet scores for that subnet (same
// recalibrated batch norm, same weights), through the command line.
func TestEvaluateSupernetThenExportedModel(t *testing.T) {
	if _, err := os.Stat(shippedSupernet); err != nil {
		t.Fatalf("the shipped checkpoint is part of the repository: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "subnet")
	arch := `{"r":20,"w":1,"d":[2,2,2,2,2],"ks":[3,3,3,3,3,3,3,3,3,3],"e":[3,3,3,3,3,3,3,3,3,3]}`
	type metrics struct {
		Top1, Loss float64
		N          int
	}
	run := func(args ...string) metrics {
		out, err := runVerb(t, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var m metrics
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: not JSON: %v\n%s", args, err, out)
		}
		return m
	}
	fromSupernet := run("evaluate", "--supernet", shippedSupernet, "--arch", arch, "--dataset", "mnist",
		"--max", "200", "--calib-images", "200", "--export", dir, "--json")
	fromModel := run("evaluate", "--model", dir, "--dataset", "mnist", "--max", "200", "--json")
	if fromSupernet.N != 200 || fromModel.N != 200 {
		t.Fatalf("evaluated %d and %d images, want 200", fromSupernet.N, fromModel.N)
	}
	if fromSupernet.Top1 != fromModel.Top1 || fromSupernet.Loss != fromModel.Loss {
		t.Errorf("supernet %+v vs exported model %+v", fromSupernet, fromModel)
	}
	if fromSupernet.Top1 < 0.5 {
		t.Errorf("the shipped supernet's smallest subnet scores %.3f on MNIST; a pre-trained one scores far above chance", fromSupernet.Top1)
	}
	if _, err := runVerb(t, "evaluate", "--supernet", shippedSupernet, "--arch", `{"r":21}`, "--max", "10"); err == nil {
		t.Error("an architecture outside the space was evaluated")
	}
}

// A tiny pre-training run writes a checkpoint and a report of the smallest, median and largest
// subnets (the shipped checkpoint was made by the same command at full length).
func TestPretrainTiny(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: pre-training compiles many subnets")
	}
	out := t.TempDir()
	if o, err := runVerb(t, "pretrain", "--space", "nat-mnist", "--dataset", "mnist", "--out", out,
		"--scale", "0.01", "--batch", "8", "--eval-images", "20", "--calib-images", "20", "--json"); err != nil {
		t.Fatalf("%v\n%s", err, o)
	}
	var report struct {
		Steps   int
		Subnets []struct {
			Name string
			Top1 float64
			N    int
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if report.Steps < 4 || len(report.Subnets) != 3 || report.Subnets[0].Name != "smallest" || report.Subnets[2].N != 20 {
		t.Errorf("unexpected report %s", b)
	}
	if st, err := os.Stat(filepath.Join(out, "supernet.bin")); err != nil || st.Size() < 1e5 {
		t.Errorf("no checkpoint written: %v", err)
	}
}
