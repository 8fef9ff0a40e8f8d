package supernet

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet/ops"
)

//go:embed torchbench.py
var torchBenchScript []byte

// BenchOptions configure Bench. Zero fields take the defaults.
type BenchOptions struct {
	TrainBatch int // default 128
	InferBatch int // default 256
	TrainSteps int // timed training steps per subnet after one warm-up step (default 3)
	InferRuns  int // timed inference batches per subnet after one warm-up (default 3)
	// Python runs the PyTorch comparison; empty tries "python3" on PATH, then /usr/bin/python3
	// (Debian's python3-torch), and uses the first that imports torch. NoTorch skips it.
	Python  string
	NoTorch bool
	Threads int // PyTorch threads (default 2, this project's machine)
	// Subnets names the subnets to measure, of "smallest", "median" and "largest" (default all).
	Subnets []string
	// Depthwise is the depthwise-convolution formulation of the Go networks (default auto).
	Depthwise ops.DepthwiseMethod
	Log       func(format string, args ...any)
}

// BenchRow is one subnet's measurements.
type BenchRow struct {
	Name           string     `json:"name"`
	Arch           space.Arch `json:"arch"`
	TrainImgPerSec float64    `json:"train_img_per_s"`
	InferImgPerSec float64    `json:"infer_img_per_s"`
	// NewArchTrainMs and NewArchInferMs are the time to build and compile a new architecture's
	// training and inference executables (Supernet.CompileTime).
	NewArchTrainMs float64 `json:"new_arch_train_ms"`
	NewArchInferMs float64 `json:"new_arch_infer_ms"`
	// The same per CPU-second of this process (user+system), which load from other processes on
	// a shared machine does not distort the way it distorts wall-clock rates.
	TrainImgPerCPUSec float64 `json:"train_img_per_cpu_s"`
	InferImgPerCPUSec float64 `json:"infer_img_per_cpu_s"`
	NewArchTrainCPUms float64 `json:"new_arch_train_cpu_ms"`
	NewArchInferCPUms float64 `json:"new_arch_infer_cpu_ms"`
	TorchTrainCPU     float64 `json:"torch_train_img_per_cpu_s,omitempty"`
	TorchInferCPU     float64 `json:"torch_infer_img_per_cpu_s,omitempty"`
	RatioTrainCPU     float64 `json:"ratio_train_cpu,omitempty"`
	RatioInferCPU     float64 `json:"ratio_infer_cpu,omitempty"`
	TorchTrain        float64 `json:"torch_train_img_per_s,omitempty"`
	TorchInfer        float64 `json:"torch_infer_img_per_s,omitempty"`
	RatioTrain        float64 `json:"ratio_train,omitempty"` // GoMLX / PyTorch
	RatioInfer        float64 `json:"ratio_infer,omitempty"`
}

// BenchResult is what Bench measured.
type BenchResult struct {
	Space      string     `json:"space"`
	Rows       []BenchRow `json:"rows"`
	PeakRSSMB  float64    `json:"peak_rss_mb"` // of the whole process, after all subnets
	Torch      string     `json:"torch"`       // PyTorch version, or why it was not compared
	TrainBatch int        `json:"train_batch"`
	InferBatch int        `json:"infer_batch"`
	Backend    string     `json:"backend"`
	Depthwise  string     `json:"depthwise"` // the depthwise formulation (ops.DepthwiseMethod)
}

// Bench measures training and inference throughput of the smallest, median and largest subnets
// of sp at width sp.WidthMults[0] on random data, and the same networks in PyTorch when available.
func Bench(ctx context.Context, sp *space.Space, opt BenchOptions) (BenchResult, error) {
	if opt.TrainBatch <= 0 {
		opt.TrainBatch = 128
	}
	if opt.InferBatch <= 0 {
		opt.InferBatch = 256
	}
	if opt.TrainSteps <= 0 {
		opt.TrainSteps = 3
	}
	if opt.InferRuns <= 0 {
		opt.InferRuns = 3
	}
	if opt.Threads <= 0 {
		opt.Threads = 2
	}
	logf := opt.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	w := sp.WidthMults[0]
	net, err := New(sp, w, Options{Seed: 1, Depthwise: opt.Depthwise})
	if err != nil {
		return BenchResult{}, err
	}
	defer net.Close()
	res := BenchResult{Space: sp.Name, TrainBatch: opt.TrainBatch, InferBatch: opt.InferBatch, Backend: "go (" + DefaultBackendConfig + ")", Depthwise: opt.Depthwise.String()}
	ds := randomDataset(max(opt.TrainBatch, opt.InferBatch)*2, sp)
	archs := []struct {
		name string
		a    space.Arch
	}{{"smallest", sp.Smallest()}, {"median", MedianArch(sp, w)}, {"largest", sp.Largest()}}
	if len(opt.Subnets) > 0 {
		keep := archs[:0]
		for _, s := range archs {
			if slices.Contains(opt.Subnets, s.name) {
				keep = append(keep, s)
			}
		}
		for _, name := range opt.Subnets {
			if name != "smallest" && name != "median" && name != "largest" {
				return BenchResult{}, fmt.Errorf("supernet: unknown bench subnet %q (want smallest, median or largest)", name)
			}
		}
		archs = keep
	}
	var plans []space.Plan
	for _, s := range archs {
		a := s.a
		a.Width = w
		plan, err := sp.Plan(a)
		if err != nil {
			return res, err
		}
		plans = append(plans, plan)
		row := BenchRow{Name: s.name, Arch: a}
		// The new-architecture overhead: graph building, autodiff and compilation, measured
		// directly; the executables stay cached for the timed runs below.
		ct, err := net.CompileTime(a, opt.TrainBatch, opt.InferBatch)
		if err != nil {
			return res, err
		}
		row.NewArchTrainMs, row.NewArchTrainCPUms = ms(ct.Train), ms(ct.TrainCPU)
		row.NewArchInferMs, row.NewArchInferCPUms = ms(ct.Infer), ms(ct.InferCPU)
		// Training: one warm-up step (first touch of the buffers), then timed steps.
		if _, err := net.Train(ctx, Fixed(a), ds, TrainOptions{Steps: 1, BatchSize: opt.TrainBatch}); err != nil {
			return res, err
		}
		c0 := cpuTime()
		tr, err := net.Train(ctx, Fixed(a), ds, TrainOptions{Steps: opt.TrainSteps, BatchSize: opt.TrainBatch})
		if err != nil {
			return res, err
		}
		stepsCPU := cpuTime() - c0
		row.TrainImgPerSec = tr.ImagesPerSec
		row.TrainImgPerCPUSec = float64(tr.Images) / stepsCPU.Seconds()
		// Inference: one warm-up batch, then timed batches.
		img := make([]float32, opt.InferBatch*a.Resolution*a.Resolution*sp.InChannels)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range img {
			img[i] = float32(rng.NormFloat64())
		}
		if _, err := net.Logits(a, img, opt.InferBatch); err != nil {
			return res, err
		}
		t0, c0 := time.Now(), cpuTime()
		for i := 0; i < opt.InferRuns; i++ {
			if _, err := net.Logits(a, img, opt.InferBatch); err != nil {
				return res, err
			}
		}
		steady := time.Since(t0) / time.Duration(opt.InferRuns)
		steadyCPU := (cpuTime() - c0) / time.Duration(opt.InferRuns)
		row.InferImgPerSec = float64(opt.InferBatch) / steady.Seconds()
		row.InferImgPerCPUSec = float64(opt.InferBatch) / steadyCPU.Seconds()
		logf("%-8s %s: train %.1f img/s, inference %.1f img/s", s.name, a, row.TrainImgPerSec, row.InferImgPerSec)
		res.Rows = append(res.Rows, row)
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		res.PeakRSSMB = float64(ru.Maxrss) / 1024
	}
	if opt.NoTorch {
		res.Torch = "skipped (--no-torch)"
		return res, nil
	}
	version, torch, err := runTorch(ctx, opt, plans)
	if err != nil {
		res.Torch = "not compared: " + err.Error()
		logf("PyTorch %s", res.Torch)
		return res, nil
	}
	res.Torch = "PyTorch " + version
	for i := range res.Rows {
		r := &res.Rows[i]
		r.TorchTrain, r.TorchInfer = torch[i].TrainIPS, torch[i].InferIPS
		r.RatioTrain, r.RatioInfer = r.TrainImgPerSec/r.TorchTrain, r.InferImgPerSec/r.TorchInfer
		r.TorchTrainCPU, r.TorchInferCPU = torch[i].TrainCPU, torch[i].InferCPU
		if r.TorchTrainCPU > 0 && r.TorchInferCPU > 0 {
			r.RatioTrainCPU, r.RatioInferCPU = r.TrainImgPerCPUSec/r.TorchTrainCPU, r.InferImgPerCPUSec/r.TorchInferCPU
		}
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type torchResult struct {
	TrainIPS float64 `json:"train_ips"`
	InferIPS float64 `json:"infer_ips"`
	TrainCPU float64 `json:"train_ips_cpu"`
	InferCPU float64 `json:"infer_ips_cpu"`
}

// cpuTime is this process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runTorch runs torchbench.py on the plans.
func runTorch(ctx context.Context, opt BenchOptions, plans []space.Plan) (string, []torchResult, error) {
	candidates := []string{opt.Python}
	if opt.Python == "" {
		candidates = []string{"python3", "/usr/bin/python3"}
	}
	py := ""
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err == nil && exec.CommandContext(ctx, p, "-c", "import torch").Run() == nil {
			py = p
			break
		}
	}
	if py == "" {
		return "", nil, fmt.Errorf("no Python among %v imports torch (Debian: apt-get install python3-torch)", candidates)
	}
	dir, err := os.MkdirTemp("", "natbench")
	if err != nil {
		return "", nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "torchbench.py")
	if err := os.WriteFile(script, torchBenchScript, 0o644); err != nil {
		return "", nil, err
	}
	cfg, _ := json.Marshal(map[string]any{"plans": plans, "threads": opt.Threads, "train_batch": opt.TrainBatch,
		"infer_batch": opt.InferBatch, "train_steps": opt.TrainSteps, "infer_runs": opt.InferRuns})
	cfgPath := filepath.Join(dir, "plans.json")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, py, script, cfgPath)
	cmd.Env = append(os.Environ(), fmt.Sprintf("OMP_NUM_THREADS=%d", opt.Threads))
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		return "", nil, fmt.Errorf("torchbench.py: %s", msg)
	}
	var parsed struct {
		Version string        `json:"version"`
		Results []torchResult `json:"results"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil || len(parsed.Results) != len(plans) {
		return "", nil, fmt.Errorf("torchbench.py printed %q", out)
	}
	return parsed.Version, parsed.Results, nil
}

// randomDataset is uniform noise at the space's first resolution-independent native size 28.
func randomDataset(n int, sp *space.Space) *data.Dataset {
	rng := rand.New(rand.NewPCG(5, 6))
	const size = 28
	d := &data.Dataset{Name: "random", N: n, Height: size, Width: size, Channels: sp.InChannels, Classes: sp.Classes,
		Pixels: make([]uint8, n*size*size*sp.InChannels), Labels: make([]int32, n)}
	for i := range d.Pixels {
		d.Pixels[i] = uint8(rng.IntN(256))
	}
	for i := range d.Labels {
		d.Labels[i] = int32(rng.IntN(sp.Classes))
	}
	return d
}

// MemorySample is the process's resident memory after visiting a number of distinct subnets.
type MemorySample struct {
	Subnets   int     `json:"subnets"`
	RSSMB     float64 `json:"rss_mb"`    // resident set now (/proc/self/statm)
	HeapMB    float64 `json:"heap_mb"`   // Go heap in use
	Evictions int     `json:"evictions"` // executables finalized by the LRU so far
	Cached    int     `json:"cached"`    // executables held by the LRU
	Seconds   float64 `json:"elapsed_s"` // since the first subnet
}

// BenchMemory visits n distinct uniformly sampled subnets of sp (seeded), compiling each one's
// inference executable and running it on batch random images, and samples the process's memory
// every n/10 subnets: with the executable LRU releasing what it evicts, memory stays flat.
func BenchMemory(ctx context.Context, sp *space.Space, n, batch int, seed uint64) ([]MemorySample, error) {
	w := sp.WidthMults[0]
	net, err := New(sp, w, Options{Seed: 1})
	if err != nil {
		return nil, err
	}
	defer net.Close()
	rng := rand.New(rand.NewPCG(seed, 0x3e3))
	seen := map[string]bool{}
	every := max(1, n/10)
	var out []MemorySample
	start := time.Now()
	for len(seen) < n {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		a := sp.Sample(rng)
		a.Width = w
		if seen[a.String()] {
			continue
		}
		seen[a.String()] = true
		img := make([]float32, batch*a.Resolution*a.Resolution*sp.InChannels)
		for i := range img {
			img[i] = float32(rng.NormFloat64())
		}
		if _, err := net.Logits(a, img, batch); err != nil {
			return out, err
		}
		if k := len(seen); k == 1 || k%every == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			out = append(out, MemorySample{Subnets: k, RSSMB: currentRSSMB(), HeapMB: float64(ms.HeapInuse) / (1 << 20),
				Evictions: net.cache.Evictions, Cached: net.cache.len(), Seconds: time.Since(start).Seconds()})
		}
	}
	return out, nil
}

// currentRSSMB reads the resident set size from /proc/self/statm (0 where there is none).
func currentRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	if _, err := fmt.Sscan(string(b), &size, &resident); err != nil {
		return 0
	}
	return float64(resident*int64(os.Getpagesize())) / (1 << 20)
}
