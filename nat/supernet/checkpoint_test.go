package supernet

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

func testImages(d *data.Dataset, a space.Arch, count int) []float32 {
	idx := make([]int, count)
	for i := range idx {
		idx[i] = i
	}
	img, _ := d.Batch(idx, data.BatchOptions{Resolution: a.Resolution}, nil)
	return img
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// trainedTiny returns a tiny supernet after a few training steps (so weights are not at init).
func trainedTiny(t *testing.T) (*Supernet, *data.Dataset) {
	t.Helper()
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	d := syntheticDigits(128, 12, 6, 3)
	a := sp.Largest()
	if _, err := net.Train(context.Background(), Fixed(a), d, TrainOptions{Steps: 3, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	perturbTransforms(net)
	return net, d
}

func TestSaveLoadRoundTripKeepsWeightsAndOptimizerState(t *testing.T) {
	net, d := trainedTiny(t)
	defer net.Close()
	path := filepath.Join(t.TempDir(), "sn.bin")
	if err := net.Save(path, SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if back.Step != net.Step || back.Step != 3 {
		t.Errorf("step %d after load, %d before", back.Step, net.Step)
	}
	for i, p := range net.params.list {
		q := back.params.list[i]
		if maxAbsDiff(p.Value, q.Value) != 0 || (p.Momentum != nil && maxAbsDiff(p.Momentum, q.Momentum) != 0) {
			t.Fatalf("%s differs after load", p.Name)
		}
	}
	a := net.Space.Sample(rand.New(rand.NewPCG(1, 1)))
	ctx := context.Background()
	m1, err := net.Evaluate(ctx, a, d, d, EvalOptions{CalibImages: 64, CalibBatch: 32, BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	m2, err := back.Evaluate(ctx, a, d, d, EvalOptions{CalibImages: 64, CalibBatch: 32, BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	if m1 != m2 {
		t.Errorf("metrics differ after load: %+v vs %+v", m1, m2)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), Options{}); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

func TestExportedSubnetGivesSupernetLogits(t *testing.T) {
	net, d := trainedTiny(t)
	defer net.Close()
	ctx := context.Background()
	opt := EvalOptions{CalibImages: 64, CalibBatch: 32}
	for i, a := range []space.Arch{net.Space.Smallest(), net.Space.Sample(rand.New(rand.NewPCG(7, 7)))} {
		model, err := net.Export(ctx, a, d, opt)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "model")
		if err := model.Save(dir); err != nil {
			t.Fatal(err)
		}
		loaded, err := LoadModel(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		img := testImages(d, a, 16)
		want, err := net.Logits(a, img, 16) // the supernet, with the statistics Export recalibrated
		if err != nil {
			t.Fatal(err)
		}
		got, err := loaded.Logits(img, 16)
		if err != nil {
			t.Fatal(err)
		}
		// To 1e-5 relative to the largest logit: both run the same float32 graph except that the
		// supernet shrinks kernels (OFA's transforms) inside it while the export stores them shrunk,
		// and different matmul shapes round differently.
		scale := 1.0
		for _, v := range want {
			scale = max(scale, math.Abs(float64(v)))
		}
		if diff := maxAbsDiff(got, want); diff > 1e-5*scale {
			t.Errorf("subnet %d (%s): exported logits differ from the supernet's by %g (largest logit %g)", i, a, diff, scale)
		}
		if loaded.NumParams() >= func() int { n, _ := net.NumParams(); return n }() {
			t.Errorf("exported subnet has %d parameters, not fewer than the supernet", loaded.NumParams())
		}
		loaded.Close()
		model.Close()
	}
	if _, err := LoadModel(t.TempDir(), Options{}); err == nil {
		t.Error("loading an empty directory as a model succeeded")
	}
}

func TestSortChannelsKeepsTheLargestSubnetsFunction(t *testing.T) {
	net, d := trainedTiny(t)
	defer net.Close()
	ctx := context.Background()
	a := net.Space.Largest()
	if err := net.Recalibrate(ctx, a, d, EvalOptions{CalibImages: 64, CalibBatch: 64}); err != nil {
		t.Fatal(err)
	}
	img := testImages(d, a, 8)
	before, err := net.Logits(a, img, 8)
	if err != nil {
		t.Fatal(err)
	}
	net.SortChannels()
	after, err := net.Logits(a, img, 8)
	if err != nil {
		t.Fatal(err)
	}
	if diff := maxAbsDiff(before, after); diff > 1e-4 {
		t.Errorf("sorting channels changed the largest subnet's logits by %g", diff)
	}
	// The first channel of each block is now the most important.
	for _, l := range net.maxPlan.Layers {
		if l.Kind != space.KindMBConv || l.Expand == 1 {
			continue
		}
		p, _ := net.params.get(l.Name + ".project.w")
		out := p.Dims[1]
		for i := 1; i < p.Dims[0]; i++ {
			if l1(p.Value[i*out:(i+1)*out]) > l1(p.Value[(i-1)*out:i*out])+1e-6 {
				t.Fatalf("%s: channel %d more important than channel %d after sorting", l.Name, i, i-1)
			}
		}
	}
}

func TestExecutableCacheFinalizesEvicted(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 1, CacheSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(2, 2))
	img := make([]float32, 2*12*12)
	seen := map[string]bool{}
	for len(seen) < 8 {
		a := sp.Sample(rng)
		seen[a.String()] = true
		a.Resolution = 12
		if _, err := net.Logits(a, img, 2); err != nil {
			t.Fatal(err)
		}
	}
	if net.cache.len() != 3 {
		t.Errorf("cache holds %d executables, want 3", net.cache.len())
	}
	if net.cache.Evictions < 5 {
		t.Errorf("%d evictions after 8+ architectures with room for 3", net.cache.Evictions)
	}
}

func TestGeneDistributionSamplerFollowsArchive(t *testing.T) {
	sp := tinySpace(t)
	g, err := sp.Encode(sp.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	dist, err := NewGeneDistribution(sp, []space.Genome{g, g, g}, 0)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		a := dist.Sample(rng)[0]
		if a.Width != 0 {
			t.Fatalf("sampled width %g; samplers leave the width to the supernet (0)", a.Width)
		}
		a.Width = sp.WidthMults[0]
		if !a.Equal(sp.Smallest()) {
			t.Fatalf("a distribution concentrated on the smallest subnet drew %s", a)
		}
	}
	if _, err := NewGeneDistribution(sp, []space.Genome{{1, 2}}, 1); err == nil {
		t.Error("a genome of the wrong length was accepted")
	}
}
