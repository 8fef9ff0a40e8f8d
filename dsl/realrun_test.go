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

// TestHardwareTargets resolves the published CPU table by path and measures a subnet on this
// machine.
func TestHardwareTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and times a network; skipped in -short mode")
	}
	lut := filepath.Join("..", "..", "shared", "reference", "hardware", "i7-8700K_lut.yaml")
	if _, err := os.Stat(lut); err != nil {
		t.Skipf("needs ../shared (reference data beside the checkout): %v", err)
	}
	cpu := Hardware(lut)
	sp := MobileNetV3()
	m1 := sp.Decode("08|0|1100 1440 5510 5220 8877")
	v, err := Latency(cpu).Measure(sp, m1)
	if err != nil {
		t.Fatal(err)
	}
	// The table is the authors' i7-8700K measurements: NAT-M1 sums to about 12 ms there.
	if v < 5 || v > 30 {
		t.Errorf("NAT-M1 on %s: %.2f ms", cpu, v)
	}
	here := Measured("this-machine")
	mn := MNISTSpace()
	start := time.Now()
	ms, err := Latency(here).Measure(mn, mn.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("smallest nat-mnist subnet measured here: %.3f ms (measurement took %v)", ms, time.Since(start))
	if !(ms > 0) {
		t.Errorf("measured latency %v", ms)
	}
}
