package supernet

import (
	"context"
	"math"
	"testing"
)

func TestLearningRateWarmupThenCosine(t *testing.T) {
	const peak = 0.1
	cases := []struct {
		step, warmup, steps int
		want                float64
	}{
		{0, 10, 110, 0.01},  // first warm-up step: peak/warmup
		{9, 10, 110, 0.1},   // end of warm-up
		{10, 10, 110, 0.1},  // cosine starts at the peak
		{60, 10, 110, 0.05}, // half way through the cosine
		{110, 10, 110, 0},   // the end
		{5, 0, 10, 0.05},    // no warm-up: cos(pi/2)
	}
	for _, c := range cases {
		if got := LearningRate(peak, c.step, c.warmup, c.steps); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("LearningRate(step %d, warmup %d, steps %d) = %g, want %g", c.step, c.warmup, c.steps, got, c.want)
		}
	}
}

// TestSGDMatchesPyTorchNesterov checks one parameter over two steps against PyTorch's
// torch.optim.SGD(lr, momentum, nesterov=True, weight_decay) update, written out by hand:
// d = g + wd*w; buf = mu*buf + d (buf = d at the first step, equal here since buf starts at 0);
// w -= lr*(d + mu*buf).
func TestSGDMatchesPyTorchNesterov(t *testing.T) {
	sp := tinySpace(t)
	net, err := New(sp, 1.0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	p, _ := net.params.get("classifier.w")
	p.Value[0], p.Momentum[0] = 1.0, 0
	b, _ := net.params.get("classifier.b") // not decayed
	b.Value[0], b.Momentum[0] = 1.0, 0
	grads := map[string][]float32{"classifier.w": make([]float32, p.Size()), "classifier.b": make([]float32, b.Size())}
	grads["classifier.w"][0], grads["classifier.b"][0] = 0.5, 0.5
	touched := map[string]bool{"classifier.w": true, "classifier.b": true}
	const lr, mu, wd = 0.1, 0.9, 0.01
	w, buf := 1.0, 0.0
	wb, bufb := 1.0, 0.0
	for step := 0; step < 2; step++ {
		net.sgdUpdate(grads, touched, lr, mu, wd)
		d := 0.5 + wd*w
		buf = mu*buf + d
		w -= lr * (d + mu*buf)
		db := 0.5
		bufb = mu*bufb + db
		wb -= lr * (db + mu*bufb)
	}
	if math.Abs(float64(p.Value[0])-w) > 1e-6 || math.Abs(float64(b.Value[0])-wb) > 1e-6 {
		t.Errorf("after two steps: weight %g (want %g), bias %g (want %g)", p.Value[0], w, b.Value[0], wb)
	}
}

func TestDistillationTrainsWithTeacher(t *testing.T) {
	sp := tinySpace(t)
	sp.Depths, sp.Kernels, sp.Expansions = []int{1, 2}, []int{3, 5}, []int{2, 3}
	net, err := New(sp, 1.0, Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	d := syntheticDigits(64, 12, 6, 4)
	a := sp.Smallest()
	a.Resolution = 12
	res, err := net.Train(context.Background(), Fixed(a), d, TrainOptions{Steps: 2, BatchSize: 16, Distill: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The teacher's soft-target cross-entropy is at least its entropy, so the distilled loss
	// exceeds a plain one at initialisation (about ln 6 each).
	if res.Loss < 2 {
		t.Errorf("distilled loss %.3f; want label loss plus teacher loss (> 2)", res.Loss)
	}
	// Only the student's parameters moved: the teacher-only blocks (second layers) did not.
	p, _ := net.params.get("s1.l1.project.w")
	if p.Momentum[0] != 0 {
		t.Error("a parameter only the teacher uses received an update")
	}
}
