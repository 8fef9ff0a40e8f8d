package measure

import (
	"context"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
)

// tinySpace is nat-mnist cut to one resolution, kernel and expansion, so that building and
// validating a whole table takes a second.
func tinySpace(t *testing.T) *space.Space {
	t.Helper()
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	sp.Name = "tiny"
	sp.Resolutions = []int{20}
	sp.Kernels = []int{3}
	sp.Expansions = []int{3}
	if err := sp.Validate(); err != nil {
		t.Fatal(err)
	}
	return sp
}

var quick = hardware.MeasureOptions{Warmup: 1, Repeats: 3}

// Every layer kind builds, runs, and produces the shape the plan says; the chained network ends
// in logits.
func TestGraphsHaveThePlansShapes(t *testing.T) {
	g, err := NewGoMLX(Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := space.Preset(space.NATMNIST)
	a := sp.Largest()
	a.Resolution = 20
	p, err := sp.Plan(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range p.Layers {
		prog, err := g.newProgram([]space.Layer{l}, 2)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := prog.exec.Exec(prog.args...)
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		want := []int{2, l.OutH, l.OutW, l.OutC}
		switch l.Kind {
		case space.KindFinalExpand, space.KindFeatureMix, space.KindClassifier:
			want = []int{2, l.OutC}
		}
		if got := outs[0].Shape().Dimensions; !equal(got, want) {
			t.Errorf("%s: output %v, want %v", l.Name, got, want)
		}
		prog.close()
	}
	prog, err := g.newProgram(p.Layers, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.close()
	outs, err := prog.exec.Exec(prog.args...)
	if err != nil {
		t.Fatal(err)
	}
	if got := outs[0].Shape().Dimensions; !equal(got, []int{3, sp.Classes}) {
		t.Errorf("network output %v, want [3 %d]", got, sp.Classes)
	}
	// Activations stay finite through the whole random network (He scaling).
	for _, v := range outs[0].Value().([][]float32) {
		for _, x := range v {
			if x != x || x > 1e30 || x < -1e30 {
				t.Fatalf("network output %v is not finite", x)
			}
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMeasureReportsRuns(t *testing.T) {
	g, err := NewGoMLX(Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev, backend := g.Device()
	if dev == "" || !strings.Contains(backend, "gomlx") {
		t.Errorf("device %q backend %q", dev, backend)
	}
	sp := tinySpace(t)
	p, _ := sp.Plan(sp.Smallest())
	for _, clock := range []hardware.Clock{hardware.WallClock, hardware.CPUClock} {
		o := quick
		o.Clock = clock
		tm, err := g.MeasureLayer(context.Background(), p.Layers[2], o)
		if err != nil {
			t.Fatal(err)
		}
		if tm.Runs != 3 || !(tm.Median > 0) || tm.Min > tm.Median {
			t.Errorf("%s clock: layer timing %+v", clock, tm)
		}
	}
	tm, err := g.MeasureNetwork(context.Background(), p, quick)
	if err != nil || tm.Runs != 3 || !(tm.Median > 0) {
		t.Errorf("network timing %+v, %v", tm, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.MeasureNetwork(ctx, p, quick); err == nil {
		t.Error("a cancelled context did not stop the measurement")
	}
	if _, err := NewGoMLX(Options{BackendConfig: "no_such_option"}); err == nil {
		t.Error("an unknown backend option was accepted")
	}
}

// The whole path on the real backend: build a table for a small space, save and reload it, and
// validate it against whole-network measurements. Timing values are not asserted (the machine is
// shared); that every subnet is priced and measured is.
func TestBuildAndValidateOnGoMLX(t *testing.T) {
	g, err := NewGoMLX(Options{BackendConfig: "ops_sequential"})
	if err != nil {
		t.Fatal(err)
	}
	sp := tinySpace(t)
	lut, err := hardware.BuildLUT(context.Background(), sp, g, hardware.BuildOptions{Measure: quick, Calibrate: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, _ := hardware.SpaceLayers(sp, hardware.MSuNAS)
	if lut.Len() != len(keys) || !(lut.Meta.Scale > 0) || !strings.Contains(lut.Meta.Backend, "ops_sequential") {
		t.Fatalf("table: %d entries for %d configurations, meta %+v", lut.Len(), len(keys), lut.Meta)
	}
	path := t.TempDir() + "/tiny_lut.parquet"
	if err := hardware.Save(path, lut); err != nil {
		t.Fatal(err)
	}
	back, err := hardware.Load(path)
	if err != nil || back.Meta != lut.Meta {
		t.Fatalf("reloaded %+v, %v", back.Meta, err)
	}
	v, err := hardware.Validate(context.Background(), sp, back, g, hardware.ValidationOptions{N: 4, Seed: 9, Measure: quick})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Rows {
		if !(r.Predicted > 0) || !(r.Measured > 0) {
			t.Errorf("row %+v", r)
		}
	}
	t.Logf("tiny space: tau %.2f, MAPE %.1f%% (not asserted: shared machine)", v.KendallTau, v.MAPE)
}
