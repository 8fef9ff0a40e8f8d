package supernet

import (
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/space"
)

// TestConcurrentExecExperiment is the go/no-go experiment behind the concurrent workers: do two
// goroutines running compiled executables at once speed up on the Go backend, and do they return
// bit-identical outputs? It measures the median nat-mnist subnet and runs only when
// NAT_CONCURRENT_EXPERIMENT=1 (it takes about a minute).
func TestConcurrentExecExperiment(t *testing.T) {
	if os.Getenv("NAT_CONCURRENT_EXPERIMENT") != "1" {
		t.Skip("set NAT_CONCURRENT_EXPERIMENT=1 to run the concurrent-execution experiment")
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
	defer net.Close()
	a := MedianArch(sp, w)
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
