package dsl

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// shippedSupernet is the pre-trained MNIST supernet committed under results/.
var shippedSupernet = filepath.Join("..", "results", "supernets", "mnist", "supernet.bin")

// TestEvaluateOnTheShippedSupernet measures top-1 through the vocabulary on the real binding
// (nat/transfer/bind: the shipped MNIST supernet on Fashion-MNIST), as Transfer opens it. A full
// transfer, even a tiny one, takes minutes on a 2-core machine; the loop itself is tested with a
// synthetic supernet in TestTransferWithRunsTheLoop.
func TestEvaluateOnTheShippedSupernet(t *testing.T) {
	if testing.Short() {
		t.Skip("trains and evaluates a real supernet; skipped in -short mode")
	}
	if _, err := os.Stat(shippedSupernet); err != nil {
		t.Fatalf("the shipped supernet is part of the repository: %v", err)
	}
	sp := MNISTSpace()
	exp := Experiment{
		Name:       "dsl-real",
		Space:      sp,
		Data:       Dataset("fashion-mnist").Limit(1500, 0).Holdout(300, 200),
		Objectives: Objectives(Maximize(Top1()), Minimize(MAdds())),
		Search:     SearchSettings{Initial: 20, Iterations: 1, Population: 16, Generations: 4, Candidates: 2, AdaptSteps: 4, Seed: 3},
		Supernet:   shippedSupernet,
		Dir:        t.TempDir(),
	}
	start := time.Now()
	ev, err := Evaluate(exp, sp.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("evaluate 1 subnet: %v\n%s", time.Since(start), ev.Table())
	for _, p := range ev.Points {
		if p.Values["top1"] <= 0 || p.Values["top1"] > 100 {
			t.Fatalf("top1 = %v", p.Values["top1"])
		}
	}
}
