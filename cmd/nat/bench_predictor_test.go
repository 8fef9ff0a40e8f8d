package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
