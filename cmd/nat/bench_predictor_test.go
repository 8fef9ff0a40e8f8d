package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/archive"
	"github.com/natgo/nat/nat/predictor/synthetic"
)

func TestBenchPredictorWritesTable(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub", "table.md")
	var stdout, stderr bytes.Buffer
	e := &env{Stdout: &stdout, Stderr: &stderr}
	args := []string{"--sizes", "30,40", "--test", "60", "--seeds", "2", "--models", "rbf,kriging,as", "--out", out}
	if err := runBenchPredictor(context.Background(), e, args); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	md := string(data)
	for _, want := range []string{
		"`nat bench predictor --sizes 30,40 --test 60 --seeds 2 --models rbf,kriging,as --out " + out + "`",
		"| training samples | rbf | kriging | as |",
		"| 30 |", "| 40 |", "worst seed", "30 samples: ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if md != stdout.String() {
		t.Error("stdout and the written file differ")
	}
}

func TestBenchPredictorBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--sizes", "abc"},
		{"--models", "rbf,nope"},
		{"--features", "binary"},
		{"--seeds", "0"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		err := runBenchPredictor(context.Background(), &env{Stdout: &stdout, Stderr: &stderr}, append(args, "--out", "-"))
		if err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// --archive scores the models on a run's archive: here one written from synthetic subnets.
func TestBenchPredictorOnArchive(t *testing.T) {
	dir := t.TempDir()
	g, y := synthetic.Sample(80, 0.1, 5)
	rows := make([]archive.Row, len(g))
	for i := range g {
		genes := make([]int32, len(g[i]))
		for j, v := range g[i] {
			genes[j] = int32(v)
		}
		rows[i] = archive.Row{RunID: "test", Genome: fmt.Sprint(g[i]), Genes: genes, Top1: y[i]}
	}
	if err := archive.WriteIteration(dir, 0, rows, archive.IterationStats{}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	e := &env{Stdout: &stdout, Stderr: &stderr}
	err := runBenchPredictor(context.Background(), e, []string{"--archive", dir, "--sizes", "40", "--seeds", "1", "--models", "rbf,kriging", "--out", "-"})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if md := stdout.String(); !strings.Contains(md, "80 distinct subnets") || !strings.Contains(md, "| 40 |") {
		t.Errorf("table:\n%s", md)
	}
	err = runBenchPredictor(context.Background(), e, []string{"--archive", dir, "--sizes", "75", "--out", "-"})
	if err == nil || !strings.Contains(err.Error(), "too few") {
		t.Errorf("training size 75 of 80 subnets: err = %v", err)
	}
}
