package hardware

import (
	"context"
	"math"
	"testing"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// fakeDevice is a deterministic device: a layer costs 1 ms per million multiply-adds plus 0.01 ms,
// and every run (one layer or one whole network) pays a fixed 0.2 ms overhead.
type fakeDevice struct {
	layerCalls int
}

const fakeOverhead = 0.2

func fakeLayerMs(l space.Layer) float64 { return float64(cost.Layer(l).MAdds)/1e6 + 0.01 }

func (f *fakeDevice) Device() (string, string) { return "fake", "arithmetic" }

func (f *fakeDevice) MeasureLayer(_ context.Context, l space.Layer, o MeasureOptions) (Timing, error) {
	f.layerCalls++
	ms := float64(o.Batch) * fakeLayerMs(l)
	return Timing{Median: ms + fakeOverhead, Mean: ms + fakeOverhead, Var: 1e-6, Runs: o.Repeats}, nil
}

func (f *fakeDevice) MeasureNetwork(_ context.Context, p space.Plan, o MeasureOptions) (Timing, error) {
	ms := fakeOverhead
	for _, l := range p.Layers {
		ms += float64(o.Batch) * fakeLayerMs(l)
	}
	return Timing{Median: ms, Mean: ms, Runs: o.Repeats}, nil
}

func (f *fakeDevice) MeasureOverhead(context.Context, MeasureOptions) (Timing, error) {
	return Timing{Median: fakeOverhead, Runs: 1}, nil
}

func TestBuildLUTAndValidateOnAFakeDevice(t *testing.T) {
	sp := preset(t, space.NATMNIST)
	dev := &fakeDevice{}
	checkpoints := 0
	lut, err := BuildLUT(context.Background(), sp, dev, BuildOptions{
		Measure:    MeasureOptions{Batch: 2, Repeats: 5},
		Checkpoint: func(*LUT) error { checkpoints++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	_, keys, _ := SpaceLayers(sp, MSuNAS)
	if lut.Len() != len(keys) || dev.layerCalls != len(keys) || checkpoints != len(keys)/25 {
		t.Fatalf("%d entries, %d measurements, %d checkpoints for %d configurations", lut.Len(), dev.layerCalls, checkpoints, len(keys))
	}
	if lut.Meta.Space != "nat-mnist" || lut.Meta.Batch != 2 || lut.Meta.Device != "fake" || lut.Name != "nat-mnist-fake" {
		t.Errorf("metadata %+v name %q", lut.Meta, lut.Name)
	}
	// Overhead moves to the stem entry: the table's sum reproduces the whole-network time exactly.
	v, err := Validate(context.Background(), sp, lut, dev, ValidationOptions{N: 30, Seed: 3, Measure: MeasureOptions{Batch: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if v.N != 30 || len(v.Rows) != 30 || v.MAPE > 1e-9 || math.Abs(v.KendallTau-1) > 1e-12 {
		t.Fatalf("validation on an additive device: tau %v, MAPE %v%%, %d rows", v.KendallTau, v.MAPE, len(v.Rows))
	}
	again, _ := Validate(context.Background(), sp, lut, dev, ValidationOptions{N: 30, Seed: 3, Measure: MeasureOptions{Batch: 2}})
	for i := range v.Rows {
		if v.Rows[i].Encoding != again.Rows[i].Encoding {
			t.Fatal("the same seed drew different subnets")
		}
	}

	// Resume: entries present are kept, the rest measured.
	partial := NewLUT("partial", MSuNAS)
	for _, k := range lut.Keys()[:40] {
		s, _ := lut.Get(k)
		_ = partial.Set(k, s)
	}
	dev2 := &fakeDevice{}
	resumed, err := BuildLUT(context.Background(), sp, dev2, BuildOptions{Measure: MeasureOptions{Batch: 2}, Resume: partial})
	if err != nil {
		t.Fatal(err)
	}
	if dev2.layerCalls != len(keys)-40 || resumed.Len() != lut.Len() {
		t.Errorf("resume measured %d (want %d), table has %d entries", dev2.layerCalls, len(keys)-40, resumed.Len())
	}
	// Rounds: every configuration measured once per round.
	dev3 := &fakeDevice{}
	three, err := BuildLUT(context.Background(), sp, dev3, BuildOptions{Measure: MeasureOptions{Batch: 2, Statistic: Min}, Rounds: 3})
	if err != nil {
		t.Fatal(err)
	}
	if dev3.layerCalls != 3*len(keys) || three.Len() != len(keys) || three.Meta.Statistic != Min {
		t.Errorf("3 rounds: %d measurements for %d configurations, %d entries, statistic %q", dev3.layerCalls, len(keys), three.Len(), three.Meta.Statistic)
	}
	partial.Meta.Batch = 1
	if _, err := BuildLUT(context.Background(), sp, dev2, BuildOptions{Measure: MeasureOptions{Batch: 2}, Resume: partial}); err == nil {
		t.Error("resumed a batch-1 table at batch 2")
	}
}

func TestSummarize(t *testing.T) {
	tm := Summarize([]float64{4, 1, 3, 2})
	if tm.Median != 2.5 || tm.Mean != 2.5 || math.Abs(tm.Var-5.0/3) > 1e-12 || tm.Runs != 4 {
		t.Errorf("Summarize = %+v", tm)
	}
	if tm := Summarize([]float64{5, 1, 3}); tm.Median != 3 {
		t.Errorf("odd median %v", tm.Median)
	}
}
