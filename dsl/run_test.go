package dsl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/transfer"
	"github.com/natgo/nat/nat/transfer/transfertest"
)

// TestTransferWithRunsTheLoop runs the real transfer loop through the vocabulary on a synthetic
// supernet (transfertest: not a model of accuracy, only of the loop's mechanics), with a custom
// objective and a constraint in the DSL's raw units.
func TestTransferWithRunsTheLoop(t *testing.T) {
	sp := MNISTSpace()
	net, err := transfertest.New(sp.Engine())
	if err != nil {
		t.Fatal(err)
	}
	layers := Custom("layers", func(a Arch) float64 {
		n := 0
		for _, d := range a.Depths {
			n += d
		}
		return float64(n)
	})
	exp := Experiment{
		Name:        "dsl-test",
		Space:       sp,
		Data:        Dataset("mnist"),
		Objectives:  Objectives(Maximize(Top1()), Minimize(MAdds()), Minimize(layers)),
		Constraints: Constraints(AtMost(MAdds(), 12e6)),
		Search:      SearchSettings{Initial: 24, Iterations: 1, Population: 12, Generations: 3, Candidates: 2, AdaptSteps: 2, Seed: 7},
		Dir:         t.TempDir(),
	}
	// Progress is one display updated in place; the live Pareto plot is another, drawn once per
	// finished iteration (iteration 0 and 1 here).
	var updates, firsts, plots, plotUpdates int
	env := Env{Context: context.Background(), Publish: func(b display.Bundle, id string, update bool) {
		if strings.HasSuffix(id, "-front") {
			if !strings.Contains(string(b[display.SVG]), "<svg") {
				t.Errorf("live front display has no SVG plot: %q", b[display.TextPlain])
			}
			if update {
				plotUpdates++
			} else {
				plots++
			}
			return
		}
		if update {
			updates++
		} else {
			firsts++
		}
	}}
	res, err := env.TransferWith(exp, net)
	if err != nil {
		t.Fatal(err)
	}
	if res.Iterations != 1 || len(res.Points) < 24 {
		t.Fatalf("iterations %d, %d points; want 1 iteration and at least the initial 24", res.Iterations, len(res.Points))
	}
	if firsts != 1 || updates == 0 {
		t.Errorf("progress: %d first displays and %d updates; want one display updated in place", firsts, updates)
	}
	if plots != 1 || plotUpdates != 1 {
		t.Errorf("live Pareto plot: %d first displays and %d updates; want one plot redrawn after iteration 1", plots, plotUpdates)
	}
	for _, p := range res.Points {
		want, _ := layers.Measure(sp, p.Arch)
		if p.Values["layers"] != want {
			t.Fatalf("layers = %v, want %v for %v", p.Values["layers"], want, p.Arch)
		}
		if c := sp.Costs(p.Arch); p.Values["madds"] != float64(c.MAdds) {
			t.Fatalf("madds = %v, want %v", p.Values["madds"], c.MAdds)
		}
		if p.Values["top1"] <= 0 {
			t.Fatalf("top1 = %v", p.Values["top1"])
		}
	}
	if len(res.Front()) == 0 {
		t.Error("empty front")
	}
	if _, err := res.Archive(); err != nil {
		t.Errorf("Archive: %v", err)
	}
	// A canceled context stops the run with the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exp.Dir = t.TempDir()
	if _, err := (Env{Context: ctx}).TransferWith(exp, net); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled run: %v", err)
	}
}

// TestSearchSettingsReachTheEngine checks that the adaptation settings a script sets are the
// loop's, and that unset ones take the engine's defaults.
func TestSearchSettingsReachTheEngine(t *testing.T) {
	base := Experiment{Name: "s", Space: MobileNetV3(), Objectives: Objectives(Maximize(Top1()), Minimize(MAdds()))}
	set := base
	set.Search = SearchSettings{LearningRate: 0.03, BestFraction: 0.25, SamplingTolerance: 1, Reevaluate: "front"}
	te := set.engineFields()
	if te.LearningRate != 0.03 || te.BestFraction != 0.25 || te.SamplingTolerance != 1 || te.Reevaluate != "front" {
		t.Errorf("engine got LearningRate %v, BestFraction %v, SamplingTolerance %v, Reevaluate %q; want 0.03, 0.25, 1, front",
			te.LearningRate, te.BestFraction, te.SamplingTolerance, te.Reevaluate)
	}
	d := transfer.Experiment{}.WithDefaults()
	te = base.engineFields()
	if te.LearningRate != d.LearningRate || te.BestFraction != d.BestFraction || te.SamplingTolerance != d.SamplingTolerance || te.Reevaluate != d.Reevaluate {
		t.Errorf("unset settings: got %v, %v, %q; want the engine's %v, %v, %q", te.LearningRate, te.BestFraction, te.Reevaluate, d.LearningRate, d.BestFraction, d.Reevaluate)
	}
	// The loop's validation rejects bad values before anything runs.
	for _, s := range []SearchSettings{{LearningRate: -1}, {BestFraction: 1.5}, {SamplingTolerance: -1}, {Reevaluate: "some"}} {
		bad := base
		bad.Search, bad.Dir = s, t.TempDir()
		if _, err := bad.engine(); err == nil {
			t.Errorf("engine accepted %+v", s)
		}
	}
	base.Dir = t.TempDir()
	if _, err := base.engine(); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
