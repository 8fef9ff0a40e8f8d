package supernet

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

// TestConcurrentExecExperiment is the go/no-go experiment behind the concurrent workers: do two
// goroutines running compiled executables at once speed up on the Go backend, and do they return
// bit-identical outputs? It measures the median nat-mnist subnet and runs only when
// NAT_CONCURRENT_EXPERIMENT=1 (it takes about a minute).
// experimentNet skips the test unless the environment variable env is 1, else returns the nat-mnist
// space, its width, a fresh supernet (seed 1) and the median subnet.
func experimentNet(t *testing.T, env, what string) (*space.Space, float64, *Supernet, space.Arch) {
	t.Helper()
	if os.Getenv(env) != "1" {
		t.Skipf("set %s=1 to run %s", env, what)
	}
	sp, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	w := sp.WidthMults[0]
	net, err := New(sp, w, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return sp, w, net, MedianArch(sp, w)
}

func TestConcurrentExecExperiment(t *testing.T) {
	sp, w, net, a := experimentNet(t, "NAT_CONCURRENT_EXPERIMENT", "the concurrent-execution experiment")
	defer net.Close()
	a.Width = w
	a, plan, err := net.checkArch(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("median subnet %s", a)
	rng := rand.New(rand.NewPCG(1, 2))
	per := a.Resolution * a.Resolution * sp.InChannels
	images := func(b int) []float32 {
		img := make([]float32, b*per)
		for i := range img {
			img[i] = float32(rng.NormFloat64())
		}
		return img
	}
	labels := func(b int) []int32 {
		l := make([]int32, b)
		for i := range l {
			l[i] = int32(rng.IntN(sp.Classes))
		}
		return l
	}
	reps := 4
	if s := os.Getenv("NAT_CONCURRENT_REPS"); s != "" {
		reps = int(s[0] - '0')
	}

	type job struct {
		c    *compiled
		data func() []*tensors.Tensor
	}
	runJob := func(j job, params []*tensors.Tensor) [][]float32 {
		in := j.data()
		outs, err := run(j.c, in, params)
		finalizeAll(in)
		if err != nil {
			t.Error(err)
			return nil
		}
		var flat [][]float32
		for _, o := range outs {
			flat = append(flat, tensors.MustCopyFlatData[float32](o))
		}
		finalizeAll(outs)
		return flat
	}
	// measure runs the jobs one after another and then concurrently (shared parameter tensors),
	// alternating reps times, and compares the outputs bit for bit.
	only := os.Getenv("NAT_CONCURRENT_ONLY") // a substring of the cases' names to run
	measure := func(name string, whole job, halves [2]job) {
		if only != "" && !strings.Contains(name, only) {
			return
		}
		params := func(c *compiled) []*tensors.Tensor {
			p, err := net.paramTensors(c.names)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		pw, p0, p1 := params(whole.c), params(halves[0].c), params(halves[1].c)
		defer finalizeAll(pw)
		defer finalizeAll(p0)
		defer finalizeAll(p1)
		// Warm up each executable once.
		runJob(whole, pw)
		ref := [2][][]float32{runJob(halves[0], p0), runJob(halves[1], p1)}
		var tw, ts, tc []time.Duration
		var cw, cs, cc []time.Duration
		identical := true
		for r := 0; r < reps; r++ {
			t0, c0 := time.Now(), cpuTime()
			runJob(whole, pw)
			tw, cw = append(tw, time.Since(t0)), append(cw, cpuTime()-c0)

			t0, c0 = time.Now(), cpuTime()
			s0 := runJob(halves[0], p0)
			s1 := runJob(halves[1], p1)
			ts, cs = append(ts, time.Since(t0)), append(cs, cpuTime()-c0)

			t0, c0 = time.Now(), cpuTime()
			var got [2][][]float32
			var wg sync.WaitGroup
			for k := 0; k < 2; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got[k] = runJob(halves[k], [][]*tensors.Tensor{p0, p1}[k])
				}()
			}
			wg.Wait()
			tc, cc = append(tc, time.Since(t0)), append(cc, cpuTime()-c0)
			for k := 0; k < 2; k++ {
				for i := range ref[k] {
					if !slices.Equal(ref[k][i], got[k][i]) || !slices.Equal(ref[k][i], [][][]float32{s0, s1}[k][i]) {
						identical = false
					}
				}
			}
		}
		med := func(d []time.Duration) time.Duration {
			s := slices.Clone(d)
			slices.Sort(s)
			return s[len(s)/2]
		}
		t.Logf("%-40s whole %7.1f ms (cpu %7.1f) | 2 halves sequential %7.1f ms (cpu %7.1f) | concurrent %7.1f ms (cpu %7.1f) | speed-up vs sequential halves %.2fx, vs whole %.2fx | bit-identical %v",
			name, ms(med(tw)), ms(med(cw)), ms(med(ts)), ms(med(cs)), ms(med(tc)), ms(med(cc)),
			float64(med(ts))/float64(med(tc)), float64(med(tw))/float64(med(tc)), identical)
		t.Logf("   all whole %v %v\n   all seq %v %v\n   all conc %v %v", tw, cw, ts, cs, tc, cc)
	}

	inferJob := func(c *compiled, b int) job {
		img := images(b)
		return job{c: c, data: func() []*tensors.Tensor {
			return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(img, b, a.Resolution, a.Resolution, sp.InChannels)}
		}}
	}
	tc := trainConfig{labelSmoothing: 0.1, dropout: sp.Dropout > 0}
	trainJob := func(c *compiled, b int) job {
		img, lab := images(b), labels(b)
		fm := plan.Layers[len(plan.Layers)-2].OutC
		mask := make([]float32, b*fm)
		for i := range mask {
			if rng.Float64() >= sp.Dropout {
				mask[i] = float32(1 / (1 - sp.Dropout))
			}
		}
		return job{c: c, data: func() []*tensors.Tensor {
			in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(img, b, a.Resolution, a.Resolution, sp.InChannels),
				tensors.FromFlatDataAndDimensions(lab, b)}
			if c.dropout {
				in = append(in, tensors.FromFlatDataAndDimensions(mask, b, fm))
			}
			return in
		}}
	}
	get := func(kind execKind, tc trainConfig) *compiled {
		c, err := net.executable(kind, a, plan, tc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	infer := get(kindInfer, trainConfig{})
	train := get(kindTrain, tc)
	calib := get(kindCalib, trainConfig{})
	// Second executables of the same graphs (a fresh cache compiles them again).
	net.cache = newExecCache(16)
	infer2 := get(kindInfer, trainConfig{})
	train2 := get(kindTrain, tc)

	measure("inference 256 = 2x128, same exec", inferJob(infer, 256), [2]job{inferJob(infer, 128), inferJob(infer, 128)})
	measure("inference 256 = 2x128, two execs", inferJob(infer, 256), [2]job{inferJob(infer, 128), inferJob(infer2, 128)})
	measure("calibration 200 = 2x100, same exec", inferJob(calib, 200), [2]job{inferJob(calib, 100), inferJob(calib, 100)})
	measure("training 64 = 2x32, same exec", trainJob(train, 64), [2]job{trainJob(train, 32), trainJob(train, 32)})
	measure("training 128 = 2x64, same exec", trainJob(train, 128), [2]job{trainJob(train, 64), trainJob(train, 64)})
	measure("training 128 = 2x64, two execs", trainJob(train, 128), [2]job{trainJob(train, 64), trainJob(train2, 64)})
}

// TestTrainWorkersAccuracyExperiment measures what splitting training batches into parts (ghost
// batch norm) does to accuracy and speed: the shipped MNIST supernet adapted to Fashion-MNIST
// as the quickstart adapts it (uniform subnets, batch 64, peak rate 0.01), once per worker count,
// then the smallest, median and largest subnets measured on test images. It runs only when
// NAT_WORKERS_ACCURACY=1 (several minutes); NAT_WORKERS_STEPS sets the steps (default 150) and
// NAT_WORKERS_SEED the training seed (default 1).
func TestTrainWorkersAccuracyExperiment(t *testing.T) {
	if os.Getenv("NAT_WORKERS_ACCURACY") != "1" {
		t.Skip("set NAT_WORKERS_ACCURACY=1 to run the training-workers accuracy experiment")
	}
	steps := 150
	if s := os.Getenv("NAT_WORKERS_STEPS"); s != "" {
		if _, err := fmt.Sscan(s, &steps); err != nil {
			t.Fatal(err)
		}
	}
	seed := uint64(1)
	if s := os.Getenv("NAT_WORKERS_SEED"); s != "" {
		if _, err := fmt.Sscan(s, &seed); err != nil {
			t.Fatal(err)
		}
	}
	train, test, err := data.Load("fashion-mnist", data.LoadOptions{})
	if err != nil {
		t.Fatal(err) // opted in: a missing dataset is a failure, not a skip
	}
	for _, workers := range []int{1, 2} {
		net, err := Load("../../results/supernets/mnist/supernet.bin", Options{})
		if err != nil {
			t.Fatal(err)
		}
		sp := net.Space
		c0 := cpuTime()
		res, err := net.Train(context.Background(), Uniform(sp), train, TrainOptions{Steps: steps, BatchSize: 64, LR: 0.01,
			Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		cpu := cpuTime() - c0
		line := fmt.Sprintf("workers %d: %d steps in %.1f s (%.1f img/s, %.1f CPU-s), last-window train loss %.3f acc %.3f |",
			workers, res.Steps, res.Elapsed.Seconds(), res.ImagesPerSec, cpu.Seconds(), res.Loss, res.Accuracy)
		for _, s := range []struct {
			name string
			a    space.Arch
		}{{"smallest", sp.Smallest()}, {"median", MedianArch(sp, net.Width)}, {"largest", sp.Largest()}} {
			m, err := net.Evaluate(context.Background(), s.a, train, test, EvalOptions{CalibImages: 200, MaxImages: 2000, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			line += fmt.Sprintf(" %s top-1 %.2f%%", s.name, 100*m.Top1)
		}
		t.Log(line)
		net.Close()
	}
}

// TestWorkersSpeedExperiment times Evaluate (recalibration on 200 images, then 512 images in
// batches of 256, as the transfer quickstart measures a subnet) and training steps of the median
// nat-mnist subnet with 1 and with 2 workers, alternating in one process so that load from
// other processes hits both alike. It runs only when NAT_WORKERS_SPEED=1.
func TestWorkersSpeedExperiment(t *testing.T) {
	sp, _, net, a := experimentNet(t, "NAT_WORKERS_SPEED", "the workers speed experiment")
	defer net.Close()
	ds := randomDataset(1024, sp)
	ctx := context.Background()
	reps := 3
	type timing struct{ wall, cpu []time.Duration }
	times := map[string]*timing{}
	var order []string
	record := func(name string, f func() error) {
		t0, c0 := time.Now(), cpuTime()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		if times[name] == nil {
			times[name] = &timing{}
			order = append(order, name)
		}
		times[name].wall = append(times[name].wall, time.Since(t0))
		times[name].cpu = append(times[name].cpu, cpuTime()-c0)
	}
	evalOpt := func(workers int) EvalOptions {
		return EvalOptions{CalibImages: 200, BatchSize: 256, MaxImages: 512, Seed: 1, Workers: workers}
	}
	trainOpt := func(workers, batch int) TrainOptions {
		return TrainOptions{Steps: 2, BatchSize: batch, Seed: 1, Workers: workers}
	}
	// Warm-up: compile every executable at every shape.
	for _, workers := range []int{1, 2} {
		if _, err := net.Evaluate(ctx, a, ds, ds, evalOpt(workers)); err != nil {
			t.Fatal(err)
		}
		for _, b := range []int{64, 128} {
			if _, err := net.Train(ctx, Fixed(a), ds, TrainOptions{Steps: 1, BatchSize: b, Workers: workers}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var m1, m2 Metrics
	for r := 0; r < reps; r++ {
		for _, workers := range []int{1, 2} {
			record(fmt.Sprintf("evaluate (calib 200 + 512 images), workers %d", workers), func() error {
				m, err := net.Evaluate(ctx, a, ds, ds, evalOpt(workers))
				if workers == 1 {
					m1 = m
				} else {
					m2 = m
				}
				return err
			})
		}
		for _, b := range []int{64, 128} {
			for _, workers := range []int{1, 2} {
				record(fmt.Sprintf("train 2 steps of batch %d, workers %d", b, workers), func() error {
					_, err := net.Train(ctx, Fixed(a), ds, trainOpt(workers, b))
					return err
				})
			}
		}
	}
	if m1 != m2 {
		t.Errorf("metrics differ: 1 worker %+v, 2 workers %+v", m1, m2)
	}
	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	for _, name := range order {
		tm := times[name]
		t.Logf("%-50s median %7.0f ms wall, %7.0f ms CPU; all wall %v", name, ms(med(tm.wall)), ms(med(tm.cpu)), tm.wall)
	}
	for i := 0; i+1 < len(order); i += 2 {
		t.Logf("%-50s speed-up %.2fx (median wall time, workers 1 / workers 2)", order[i], float64(med(times[order[i]].wall))/float64(med(times[order[i+1]].wall)))
	}
}
