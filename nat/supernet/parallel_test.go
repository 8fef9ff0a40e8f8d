package supernet

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

func TestPartBoundsSplitsEvenlyWithTheRemainderFirst(t *testing.T) {
	for _, tc := range []struct {
		b, parts int
		want     []int
	}{
		{64, 1, []int{0, 64}},
		{64, 2, []int{0, 32, 64}},
		{65, 2, []int{0, 33, 65}},
		{50, 3, []int{0, 17, 34, 50}},
	} {
		if got := partBounds(tc.b, tc.parts); !slices.Equal(got, tc.want) {
			t.Errorf("partBounds(%d, %d) = %v, want %v", tc.b, tc.parts, got, tc.want)
		}
	}
	for _, tc := range []struct{ b, workers, want int }{
		{64, 2, 2}, {64, 1, 1}, {31, 2, 1}, {32, 2, 2}, {128, 16, 8}, {8, 4, 1},
	} {
		if got := trainParts(tc.b, tc.workers); got != tc.want {
			t.Errorf("trainParts(%d, %d) = %d, want %d", tc.b, tc.workers, got, tc.want)
		}
	}
}

func TestForEachRunsEveryJobOnceAndReportsTheFirstError(t *testing.T) {
	for _, workers := range []int{1, 3} {
		var calls atomic.Int64
		seen := make([]int, 10)
		err := forEach(context.Background(), 10, workers, func(w, i int) error {
			calls.Add(1)
			seen[i]++
			if w < 0 || w >= max(workers, 1) {
				t.Errorf("worker index %d with %d workers", w, workers)
			}
			return nil
		})
		if err != nil || calls.Load() != 10 || slices.ContainsFunc(seen, func(c int) bool { return c != 1 }) {
			t.Errorf("workers %d: err %v, %d calls, per job %v: want each of 10 jobs once", workers, err, calls.Load(), seen)
		}
		errA, errB := errors.New("job 3"), errors.New("job 7")
		err = forEach(context.Background(), 10, workers, func(_, i int) error {
			switch i {
			case 3:
				return errA
			case 7:
				return errB
			}
			return nil
		})
		if err != errA {
			t.Errorf("workers %d: error %v, want job 3's (the lowest-numbered failure)", workers, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := forEach(ctx, 4, 2, func(_, _ int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}

// statValues copies every batch-norm running statistic of net.
func statValues(net *Supernet) [][]float32 {
	var out [][]float32
	for _, p := range net.Params() {
		if p.Stat {
			out = append(out, slices.Clone(p.Value))
		}
	}
	return out
}

func TestConcurrentEvaluationGivesTheSameMetricsAndStatistics(t *testing.T) {
	sp := tinySpace(t)
	train := syntheticDigits(200, 12, 6, 1)
	val := syntheticDigits(150, 12, 6, 2)
	a := sp.Largest()
	a.Resolution = 12
	// 4 calibration batches of 32 and 4 evaluation batches of 40 (the last one padded).
	opt := EvalOptions{CalibImages: 128, CalibBatch: 32, BatchSize: 40, Seed: 5}
	var ref Metrics
	var refStats [][]float32
	for _, workers := range []int{1, 2, 3} {
		net, err := New(sp, 1.0, Options{Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		opt.Workers = workers
		m, err := net.Evaluate(context.Background(), a, train, val, opt)
		if err != nil {
			t.Fatal(err)
		}
		stats := statValues(net)
		net.Close()
		if m.N != val.N {
			t.Fatalf("workers %d: %d images evaluated, want %d", workers, m.N, val.N)
		}
		if workers == 1 {
			ref, refStats = m, stats
			continue
		}
		if m != ref {
			t.Errorf("workers %d: metrics %+v, want %+v as with 1 worker", workers, m, ref)
		}
		if !slices.EqualFunc(stats, refStats, slices.Equal[[]float32]) {
			t.Errorf("workers %d: recalibrated statistics differ from 1 worker's", workers)
		}
	}
}

// TestTrainOneCombinesPartsByTheirSizes checks the data-parallel step against the executable run
// directly: with one part the gradients are the executable's on the whole batch, bit for bit;
// with parts they are the part-size-weighted means of the parts' gradients.
func TestTrainOneCombinesPartsByTheirSizes(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	a, plan, err := net.checkArch(sp.Largest())
	if err != nil {
		t.Fatal(err)
	}
	a.Resolution = 8
	if a, plan, err = net.checkArch(a); err != nil {
		t.Fatal(err)
	}
	const b = 35 // parts of 18 and 17 images
	per := a.Resolution * a.Resolution * sp.InChannels
	rng := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, b*per)
	for i := range images {
		images[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, b)
	for i := range labels {
		labels[i] = int32(rng.IntN(sp.Classes))
	}
	tc := trainConfig{labelSmoothing: 0.1} // no dropout: the mask would be random
	c, err := net.executable(kindTrain, a, plan, tc)
	if err != nil {
		t.Fatal(err)
	}
	if c.dropout {
		t.Fatal("the training graph takes a dropout mask although dropout is off")
	}
	direct := func(lo, hi int) (float64, float64, [][]float32) {
		params, err := net.paramTensors(c.names)
		if err != nil {
			t.Fatal(err)
		}
		defer finalizeAll(params)
		in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(images[lo*per:hi*per], hi-lo, a.Resolution, a.Resolution, sp.InChannels),
			tensors.FromFlatDataAndDimensions(labels[lo:hi], hi-lo)}
		outs, err := run(c, in, params)
		finalizeAll(in)
		if err != nil {
			t.Fatal(err)
		}
		defer finalizeAll(outs)
		var g [][]float32
		for _, o := range outs[2:] {
			g = append(g, tensors.MustCopyFlatData[float32](o))
		}
		return float64(tensors.MustCopyFlatData[float32](outs[0])[0]), float64(tensors.MustCopyFlatData[float32](outs[1])[0]), g
	}
	step := func(workers int) (float64, float64, map[string][]float32) {
		grads := map[string][]float32{}
		loss, correct, err := net.trainOne(context.Background(), a, plan, tc, images, labels, workers, rng, grads, map[string]bool{})
		if err != nil {
			t.Fatal(err)
		}
		return loss, correct, grads
	}

	wl, wc, wg := direct(0, b)
	loss, correct, grads := step(1)
	if loss != wl || correct != wc {
		t.Errorf("1 worker: loss %g correct %g, want the executable's %g and %g", loss, correct, wl, wc)
	}
	for i, nm := range c.gradNames {
		if !slices.Equal(grads[nm], wg[i]) {
			t.Fatalf("1 worker: gradient of %s differs from the executable's on the whole batch", nm)
		}
	}

	l0, c0, g0 := direct(0, 18)
	l1, c1, g1 := direct(18, b)
	loss, correct, grads = step(2)
	wantLoss := (18*l0 + 17*l1) / b
	if d := loss - wantLoss; d > 1e-12 || d < -1e-12 || correct != c0+c1 {
		t.Errorf("2 workers: loss %g correct %g, want %g and %g", loss, correct, wantLoss, c0+c1)
	}
	w0, w1 := float32(18)/float32(b), float32(17)/float32(b)
	for i, nm := range c.gradNames {
		for j, v := range grads[nm] {
			want := float32(w0*g0[i][j]) + float32(w1*g1[i][j])
			if v != want {
				t.Fatalf("2 workers: gradient %s[%d] = %g, want %g (the part-size-weighted mean)", nm, j, v, want)
			}
		}
	}
}

func TestTrainWithWorkersIsDeterministic(t *testing.T) {
	sp := tinySpace(t)
	train := syntheticDigits(128, 12, 6, 1)
	weights := func(workers int) [][]float32 {
		net, err := New(sp, 1.0, Options{Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		defer net.Close()
		a := sp.Largest()
		a.Resolution = 8
		if _, err := net.Train(context.Background(), Fixed(a), train, TrainOptions{Steps: 3, BatchSize: 32, Seed: 9,
			Workers: workers, Augment: true}); err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for _, p := range net.Params() {
			out = append(out, slices.Clone(p.Value), slices.Clone(p.Momentum))
		}
		return out
	}
	two := weights(2)
	if again := weights(2); !slices.EqualFunc(two, again, slices.Equal[[]float32]) {
		t.Error("two runs with 2 workers and the same seed trained different weights")
	}
	if one := weights(1); slices.EqualFunc(two, one, slices.Equal[[]float32]) {
		t.Error("2 workers trained the same weights as 1: the batch was not split (ghost batch norm changes them)")
	}
}

// TestLogitsSplitMatchesWhole: Logits on a large batch runs it as concurrent parts; every image's
// logits must be those of one execution on the whole batch up to float32 rounding accumulated
// through the network (measured: at most 1.7e-5 of 1+|logit|; the backend's kernels sum in
// another order at another batch size), checked with splitTol.
func TestLogitsSplitMatchesWhole(t *testing.T) {
	const splitTol = 1e-4
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	// At initialisation (and after a few steps) the logits are near zero for every image, which
	// any split would match: perturb every learnt parameter so that images give distinct logits.
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range net.params.list {
		if !p.Stat {
			for i := range p.Value {
				p.Value[i] += float32(0.2 * rng.NormFloat64())
			}
		}
	}
	a := sp.Largest()
	a.Resolution = 12
	const count = 75 // parts of 38 and 37 (the last padded), or 25 each
	val := syntheticDigits(count, 12, 6, 2)
	img := testImages(val, a, count)
	whole, err := net.logitsInParts(a, img, count, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The check below must be able to fail: images must differ in their logits by far more than
	// its tolerance, so that a part run on the wrong images is caught.
	spread := 0.0
	for i := 1; i < count; i++ {
		for k := 0; k < sp.Classes; k++ {
			spread = math.Max(spread, math.Abs(float64(whole[i*sp.Classes+k]-whole[k])))
		}
	}
	if spread < 100*splitTol {
		t.Fatalf("logits of different images differ by at most %g: the comparison could not tell parts apart", spread)
	}
	for _, parts := range []int{2, 3} {
		got, err := net.logitsInParts(a, img, count, parts)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(whole) {
			t.Fatalf("%d parts: %d logits, want %d", parts, len(got), len(whole))
		}
		for i := range got {
			if d := math.Abs(float64(got[i] - whole[i])); d > splitTol*(1+math.Abs(float64(whole[i]))) {
				t.Fatalf("%d parts: logit %d (image %d) is %v, whole batch %v", parts, i, i/sp.Classes, got[i], whole[i])
			}
		}
	}
}
