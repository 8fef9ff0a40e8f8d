package nsga2

import (
	"context"
	"slices"
	"testing"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/indicator"
	"github.com/natgo/nat/nat/moea/problems"
	"github.com/natgo/nat/nat/moea/termination"
)

// NSGA-II with pymoo's defaults (population 100, SBX eta 15 p 0.9, PM eta 20) converges on
// ZDT1..3 (30 variables) within 200 generations to an IGD of about 5e-3 against 100 front
// points (seed 1); the test allows 1e-2, and asks for 97% of the hypervolume of those front
// points with reference (1.1, 1.1).
func TestNSGA2OnZDT(t *testing.T) {
	for _, name := range []string{"zdt1", "zdt2", "zdt3"} {
		prob, err := problems.New(name, 2, 30)
		if err != nil {
			t.Fatal(err)
		}
		alg, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(200), 1)
		if err != nil {
			t.Fatal(err)
		}
		front, _ := prob.ParetoFront(make([][]float64, 100))
		igd, err := indicator.IGD(res.Opt.Objectives(), front)
		if err != nil {
			t.Fatal(err)
		}
		ref := []float64{1.1, 1.1}
		hvGot, _ := indicator.Hypervolume(res.Opt.Objectives(), ref)
		hvTrue, _ := indicator.Hypervolume(front, ref)
		t.Logf("%s: IGD %.3g, HV %.4f (front %.4f), %d in the first front", name, igd, hvGot, hvTrue, len(res.Opt))
		if igd > 1e-2 {
			t.Errorf("%s: IGD %.3g after 200 generations, want < 1e-2", name, igd)
		}
		if hvGot < 0.97*hvTrue {
			t.Errorf("%s: hypervolume %.4f, want at least 97%% of the front's %.4f", name, hvGot, hvTrue)
		}
	}
}

func TestNSGA2Deterministic(t *testing.T) {
	run := func() moea.Population {
		prob, _ := problems.New("zdt1", 2, 10)
		alg, _ := New(Options{PopSize: 40})
		res, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(20), 5)
		if err != nil {
			t.Fatal(err)
		}
		return res.Population
	}
	a, b := run(), run()
	for i := range a {
		if !slices.Equal(a[i].X, b[i].X) {
			t.Fatal("same seed gave different populations")
		}
	}
}
