package supernet

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

// tinySpace is nat-mnist shrunk so that tests run in seconds: narrow stages, small head and
// resolutions 8 and 12.
func tinySpace(t testing.TB) *space.Space {
	t.Helper()
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	sp.Name = "tiny"
	sp.Resolutions = []int{8, 12}
	sp.StemWidth, sp.FirstBlockWidth = 8, 8
	for i := range sp.Stages {
		sp.Stages[i].Width = 8 * (1 + i%2)
	}
	sp.FinalExpandWidth, sp.FeatureMixWidth = 16, 16
	if err := sp.Validate(); err != nil {
		t.Fatal(err)
	}
	return sp
}

// syntheticDigits is a learnable toy set: class c is a bright square at a class-specific
// position on a noisy background.
func syntheticDigits(n, size, classes int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &data.Dataset{Name: "synthetic", N: n, Height: size, Width: size, Channels: 1, Classes: classes,
		Pixels: make([]uint8, n*size*size), Labels: make([]int32, n)}
	for i := 0; i < n; i++ {
		c := rng.IntN(classes)
		d.Labels[i] = int32(c)
		img := d.Pixels[i*size*size : (i+1)*size*size]
		for j := range img {
			img[j] = uint8(rng.IntN(40))
		}
		y0, x0 := (c/3)*size/4, (c%3)*size/4
		for y := y0; y < y0+size/4; y++ {
			for x := x0; x < x0+size/4; x++ {
				img[y*size+x] = 255
			}
		}
	}
	return d
}

func TestTrainingLearnsSyntheticTask(t *testing.T) {
	sp := tinySpace(t)
	sp.Depths, sp.Kernels, sp.Expansions = []int{1, 2}, []int{3, 5}, []int{2, 3}
	net, err := New(sp, 1.0, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	train := syntheticDigits(512, 12, 6, 1)
	test := syntheticDigits(256, 12, 6, 2)
	ctx := context.Background()
	probe := sp.Smallest() // trained by the sandwich
	probe.Resolution = 12
	before, err := net.Evaluate(ctx, probe, train, test, EvalOptions{CalibImages: 128, CalibBatch: 64, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	// The sandwich rule at one resolution: the largest and the smallest subnet share each step
	// (every new architecture compiles its own graph, so a test visits few).
	sw := Sandwich(sp, 0)
	sampler := SamplerFunc(func(rng *rand.Rand) []space.Arch {
		archs := sw.Sample(rng)
		for i := range archs {
			archs[i].Resolution = 12
		}
		return archs
	})
	res, err := net.Train(ctx, sampler, train, TrainOptions{Steps: 40, BatchSize: 32, LR: 0.1, Seed: 3, ProgressEvery: 10,
		Progress: func(p TrainProgress) { t.Logf("%+v", p) }})
	if err != nil {
		t.Fatal(err)
	}
	after, err := net.Evaluate(ctx, probe, train, test, EvalOptions{CalibImages: 128, CalibBatch: 64, BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before %+v, after %+v, train %+v", before, after, res)
	if after.Top1 < 0.8 || after.Top1 <= before.Top1 {
		t.Errorf("top-1 %.3f after training (%.3f before): the supernet did not learn a trivial task", after.Top1, before.Top1)
	}
}
