package transfer_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/transfer"
)

func TestSelectSpreadTakesExtremesThenSpreads(t *testing.T) {
	// A convex 2-objective front of 11 points plus two dominated points.
	var F [][]float64
	for i := 0; i <= 10; i++ {
		x := float64(i) / 10
		F = append(F, []float64{x, (1 - x) * (1 - x)})
	}
	F = append(F, []float64{0.5, 0.9}, []float64{0.9, 0.9})
	got := transfer.SelectSpread(F, 3)
	if !reflect.DeepEqual(got, []int{0, 10, 4}) && !reflect.DeepEqual(got, []int{0, 10, 5}) {
		t.Errorf("SelectSpread(front, 3) = %v; want the two ends and a middle point", got)
	}
	got = transfer.SelectSpread(F, 5)
	for _, i := range got {
		if i > 10 {
			t.Errorf("chose dominated point %d while the front had room: %v", i, got)
		}
	}
	// Whole fronts first: 11 front points + 1 of the second front.
	got = transfer.SelectSpread(F, 12)
	if len(got) != 12 || got[11] < 11 {
		t.Errorf("SelectSpread(F, 12) = %v", got)
	}
	if got := transfer.SelectSpread(F, 20); len(got) != len(F) {
		t.Errorf("asking for more than there are returned %d", len(got))
	}
	// Spread: with 6 picks on a uniform line, no two picks are adjacent grid points.
	var line [][]float64
	for i := 0; i <= 20; i++ {
		line = append(line, []float64{float64(i), float64(20 - i)})
	}
	got = transfer.SelectSpread(line, 5)
	want := []int{0, 20, 10, 5, 15}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("line: %v, want %v", got, want)
	}
}

func TestDistributionFollowsTheArchive(t *testing.T) {
	sp, _ := space.Preset(space.NATMNIST)
	rng := rand.New(rand.NewPCG(1, 1))
	var gs []space.Genome
	for i := 0; i < 40; i++ {
		a := sp.Sample(rng)
		a.Resolution = 28 // resolution gene always index 2
		g, err := sp.Encode(a)
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
	}
	d, err := transfer.NewDistribution(sp, gs)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range d.Probs {
		sum := 0.0
		for _, q := range p {
			sum += q
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Fatalf("gene %d probabilities sum to %v", i, sum)
		}
	}
	if d.Probs[0][2] != 1 {
		t.Fatalf("resolution gene distribution %v, want all mass on index 2", d.Probs[0])
	}
	for i := 0; i < 200; i++ {
		archs := d.Sample(rng)
		if len(archs) != 1 || archs[0].Resolution != 28 {
			t.Fatalf("sampled %v", archs)
		}
		if err := sp.ValidateArch(archs[0]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := transfer.NewDistribution(sp, nil); err == nil {
		t.Error("distribution of no genomes accepted")
	}
}

func TestExperimentValidationNamesTheField(t *testing.T) {
	sp, _ := space.Preset(space.NATMNIST)
	base := transfer.Experiment{Space: sp, OutDir: t.TempDir()}
	cases := []struct {
		name string
		edit func(*transfer.Experiment)
		want string
	}{
		{"no space", func(e *transfer.Experiment) { e.Space = nil }, "Space"},
		{"no dir", func(e *transfer.Experiment) { e.OutDir = "" }, "OutDir"},
		{"no top1", func(e *transfer.Experiment) { e.Objectives = []transfer.Objective{transfer.MAdds(), transfer.Params()} }, "top-1"},
		{"dup", func(e *transfer.Experiment) {
			e.Objectives = []transfer.Objective{transfer.Top1(), transfer.MAdds(), transfer.MAdds()}
		}, "twice"},
		{"custom without func", func(e *transfer.Experiment) {
			e.Objectives = []transfer.Objective{transfer.Top1(), {Name: "x", Kind: transfer.KindCustom}}
		}, "no function"},
		{"bad constraint", func(e *transfer.Experiment) {
			e.Constraints = []transfer.Constraint{{Objective: "latency", Op: "<=", Value: 1}}
		}, "constraint 0"},
		{"bad op", func(e *transfer.Experiment) {
			e.Constraints = []transfer.Constraint{{Objective: "madds", Op: "<", Value: 1}}
		}, "op"},
		{"sampling", func(e *transfer.Experiment) { e.Sampling = "best" }, "Sampling"},
		{"reevaluate", func(e *transfer.Experiment) { e.Reevaluate = "some" }, "Reevaluate"},
		{"fraction", func(e *transfer.Experiment) { e.BestFraction = 1.5 }, "BestFraction"},
		{"tolerance", func(e *transfer.Experiment) { e.SamplingTolerance = -0.5 }, "SamplingTolerance"},
		{"tolerance NaN", func(e *transfer.Experiment) { e.SamplingTolerance = math.NaN() }, "SamplingTolerance"},
		{"initial", func(e *transfer.Experiment) { e.InitialSize = 2 }, "InitialSize"},
		{"initial below the predictor's minimum", func(e *transfer.Experiment) { e.InitialSize = 22 }, "at least 23"},
		{"population", func(e *transfer.Experiment) { e.Search.Population = 2 }, "population"},
	}
	ok := base.WithDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if ok.InitialSize != 100 || ok.Candidates != 8 || ok.Iterations != 30 || ok.Search.Population != 100 ||
		ok.Search.Generations != 100 || ok.Predictor != "as" || ok.Sampling != transfer.SampleArchive || ok.Reevaluate != transfer.ReevaluateAll {
		t.Errorf("defaults: %+v", ok)
	}
	for _, c := range cases {
		e := base.WithDefaults()
		c.edit(&e)
		err := e.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
}

func TestHardwareAndFuncObjectives(t *testing.T) {
	sp, _ := space.Preset(space.NATMNIST)
	target := &hardware.Target{Name: "analytic", Metric: hardware.Latency, Method: hardware.ByAnalytic,
		Estimator: hardware.Analytic{Fixed: 1, PerMAdd: 0.5}}
	o := transfer.Hardware(sp, target)
	if o.Name != "latency_ms" || o.Target != "analytic" {
		t.Errorf("objective %+v", o)
	}
	a := sp.Largest()
	v, err := o.Batch([]space.Arch{a})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cost.Arch(sp, a)
	if want := 1 + 0.5*float64(c.MAdds)/1e6; math.Abs(v[0]-want) > 1e-9 {
		t.Errorf("latency %v, want %v", v[0], want)
	}
	f := transfer.Func("boom", false, func(a space.Arch) float64 { panic("no") })
	if _, err := f.Batch([]space.Arch{a}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a panicking objective gave %v", err)
	}
}
