package supernet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
)

// EvalOptions configure recalibration and evaluation. Zero fields take the defaults.
type EvalOptions struct {
	// CalibImages is how many training images re-estimate the batch-norm statistics of the
	// subnet (default 2,000, or the whole set when smaller).
	CalibImages int
	// CalibBatch is the recalibration batch size (default 100). The statistics are the mean over
	// batches of each batch's mean and variance, and batches run Workers at a time, so the
	// default splits the transfer loop's 200 calibration images into two concurrent batches.
	CalibBatch int
	// BatchSize of evaluation (default 256). The last batch is padded, so one compiled
	// executable serves the whole split.
	BatchSize int
	// MaxImages evaluates only the first MaxImages of the split (0 = all).
	MaxImages int
	// Seed picks the calibration images.
	Seed uint64
	// Workers is how many recalibration or evaluation batches run at once (default
	// DefaultEvalWorkers). The batches are the same for any value, so the results are identical.
	Workers int
}

func (o EvalOptions) withDefaults() EvalOptions {
	if o.CalibImages <= 0 {
		o.CalibImages = 2000
	}
	if o.CalibBatch <= 0 {
		o.CalibBatch = 100
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.Workers <= 0 {
		o.Workers = DefaultEvalWorkers()
	}
	return o
}

// Metrics are a subnet's results on a split.
type Metrics struct {
	Top1, Top5 float64 // fractions in [0,1]
	Loss       float64 // mean cross-entropy (no label smoothing)
	N          int     // images evaluated
}

// Evaluate recalibrates arch's batch-norm statistics on images of calib (NAT's protocol) and
// measures top-1, top-5 and loss on eval. The recalibrated statistics stay in the supernet
// (shared by every subnet through their first channels), so Export right after sees them.
func (n *Supernet) Evaluate(ctx context.Context, arch space.Arch, calib, eval *data.Dataset, opt EvalOptions) (Metrics, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	opt = opt.withDefaults()
	if err := n.recalibrate(ctx, arch, calib, opt); err != nil {
		return Metrics{}, err
	}
	return n.evaluate(ctx, arch, eval, opt)
}

// Recalibrate re-estimates arch's batch-norm running statistics on images of calib.
func (n *Supernet) Recalibrate(ctx context.Context, arch space.Arch, calib *data.Dataset, opt EvalOptions) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.recalibrate(ctx, arch, calib, opt.withDefaults())
}

func (n *Supernet) checkData(d *data.Dataset, what string) error {
	if d == nil || d.N == 0 {
		return fmt.Errorf("supernet: %s set is empty", what)
	}
	if d.Channels != n.Space.InChannels {
		return fmt.Errorf("supernet: %s set %q has %d channels; space %s wants %d", what, d.Name, d.Channels, n.Space.Name, n.Space.InChannels)
	}
	if d.Classes > n.Space.Classes {
		return fmt.Errorf("supernet: %s set %q has %d classes; the supernet's classifier has %d", what, d.Name, d.Classes, n.Space.Classes)
	}
	return nil
}

func (n *Supernet) recalibrate(ctx context.Context, arch space.Arch, calib *data.Dataset, opt EvalOptions) error {
	if err := n.checkData(calib, "calibration"); err != nil {
		return err
	}
	arch, plan, err := n.checkArch(arch)
	if err != nil {
		return err
	}
	c, err := n.executable(kindCalib, arch, plan, trainConfig{})
	if err != nil {
		return err
	}
	params, err := n.paramTensors(c.names)
	if err != nil {
		return err
	}
	defer finalizeAll(params)
	total := min(opt.CalibImages, calib.N)
	bs := min(opt.CalibBatch, total)
	steps := total / bs // full batches only: one executable, equal weights
	perm := rand.New(rand.NewPCG(opt.Seed, 0xca1)).Perm(calib.N)[:steps*bs]
	// Each batch's statistics go to its own slot and are summed in batch order afterwards, so
	// any number of workers gives the same result.
	stats := make([][][]float32, steps)
	imgs := make([][]float32, opt.Workers) // one image buffer per worker
	err = forEach(ctx, steps, opt.Workers, func(w, s int) error {
		imgs[w], _ = calib.Batch(perm[s*bs:(s+1)*bs], data.BatchOptions{Resolution: arch.Resolution, Mean: n.Mean, Std: n.Std}, imgs[w])
		in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(imgs[w], bs, arch.Resolution, arch.Resolution, n.Space.InChannels)}
		outs, err := run(c, in, params)
		finalizeAll(in)
		if err != nil {
			return fmt.Errorf("supernet: recalibrating %s: %w", arch, err)
		}
		defer finalizeAll(outs)
		stats[s] = make([][]float32, len(outs))
		for i, o := range outs {
			stats[s][i] = tensors.MustCopyFlatData[float32](o)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var sums [][]float64
	for _, outs := range stats {
		if sums == nil {
			sums = make([][]float64, len(outs))
		}
		for i, v := range outs {
			if sums[i] == nil {
				sums[i] = make([]float64, len(v))
			}
			for j, x := range v {
				sums[i][j] += float64(x)
			}
		}
	}
	if len(c.statNames)*2 != len(sums) {
		return fmt.Errorf("supernet: recalibration of %s returned %d statistics for %d batch norms", arch, len(sums), len(c.statNames))
	}
	for i, prefix := range c.statNames {
		_, _, mn, vn := bnNames(prefix)
		for k, nm := range []string{mn, vn} {
			p, err := n.params.get(nm)
			if err != nil {
				return err
			}
			for j, s := range sums[2*i+k] {
				p.Value[j] = float32(s / float64(steps))
			}
		}
	}
	return nil
}

// evaluate runs arch with running statistics over eval.
func (n *Supernet) evaluate(ctx context.Context, arch space.Arch, eval *data.Dataset, opt EvalOptions) (Metrics, error) {
	if err := n.checkData(eval, "evaluation"); err != nil {
		return Metrics{}, err
	}
	arch, c, params, err := n.inference(arch)
	if err != nil {
		return Metrics{}, err
	}
	defer finalizeAll(params)
	total := eval.N
	if opt.MaxImages > 0 {
		total = min(total, opt.MaxImages)
	}
	// Batches run concurrently, each into its own slot; the metrics are accumulated in image
	// order afterwards, so they are the same for any number of workers.
	batches := (total + opt.BatchSize - 1) / opt.BatchSize
	logits := make([][]float32, batches)
	imgs := make([][]float32, opt.Workers) // one image buffer per worker
	err = forEach(ctx, batches, opt.Workers, func(w, b int) error {
		idx := make([]int, 0, opt.BatchSize)
		for i := b * opt.BatchSize; i < min((b+1)*opt.BatchSize, total); i++ {
			idx = append(idx, i)
		}
		imgs[w], _ = eval.Batch(idx, data.BatchOptions{Resolution: arch.Resolution, Mean: n.Mean, Std: n.Std}, imgs[w])
		var err error
		logits[b], err = n.runLogits(c, params, arch, imgs[w], len(idx), opt.BatchSize)
		return err
	})
	if err != nil {
		return Metrics{}, err
	}
	var m Metrics
	classes := n.Space.Classes
	for b, l := range logits {
		for i := 0; i < len(l)/classes; i++ {
			accumulate(&m, l[i*classes:(i+1)*classes], int(eval.Labels[b*opt.BatchSize+i]))
		}
	}
	if m.N > 0 {
		m.Top1 /= float64(m.N)
		m.Top5 /= float64(m.N)
		m.Loss /= float64(m.N)
	}
	return m, nil
}

// accumulate adds one example's top-1, top-5 hits and cross-entropy to m.
func accumulate(m *Metrics, logits []float32, label int) {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	se := 0.0
	rank := 0
	for j, v := range logits {
		se += math.Exp(float64(v) - mx)
		if v > logits[label] || (v == logits[label] && j < label) {
			rank++
		}
	}
	m.Loss += math.Log(se) + mx - float64(logits[label])
	if rank == 0 {
		m.Top1++
	}
	if rank < 5 {
		m.Top5++
	}
	m.N++
}

// Logits runs arch in inference mode (running statistics, as last recalibrated) on count images
// [count, r, r, Cin] (NHWC float32, already normalised) and returns [count, classes] logits.
// A batch of at least 2*minInferPart images runs as up to DefaultEvalWorkers() concurrent parts
// of one padded size (one executable), so a large batch uses every core as a multi-threaded
// library would. Each image's logits then agree with one execution of the whole batch to float32
// rounding accumulated through the network, not bit for bit (the backend's kernels sum in another
// order at another batch size: at most 1.7e-5 of 1+|logit| in TestLogitsSplitMatchesWhole), so
// they may differ slightly between machines with different numbers of cores. Evaluate's metrics do not depend on it: its batches are never
// split.
func (n *Supernet) Logits(arch space.Arch, images []float32, count int) ([]float32, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logitsInParts(arch, images, count, min(DefaultEvalWorkers(), count/minInferPart))
}

// logitsInParts is Logits with the batch split into parts concurrent executions.
func (n *Supernet) logitsInParts(arch space.Arch, images []float32, count, parts int) ([]float32, error) {
	if parts <= 1 {
		return n.logits(arch, images, count, count)
	}
	arch, c, params, err := n.inference(arch)
	if err != nil {
		return nil, err
	}
	defer finalizeAll(params)
	per := arch.Resolution * arch.Resolution * n.Space.InChannels
	if len(images) < count*per {
		return nil, fmt.Errorf("supernet: %d floats for %d images of %dx%dx%d", len(images), count, arch.Resolution, arch.Resolution, n.Space.InChannels)
	}
	bounds := partBounds(count, parts)
	size := bounds[1] // the first part is the largest
	classes := n.Space.Classes
	out := make([]float32, count*classes)
	err = forEach(context.Background(), parts, parts, func(_, k int) error {
		lo, hi := bounds[k], bounds[k+1]
		l, err := n.runLogits(c, params, arch, images[lo*per:hi*per], hi-lo, size)
		if err != nil {
			return err
		}
		copy(out[lo*classes:hi*classes], l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// minInferPart is the smallest part Logits splits a batch into.
const minInferPart = 32

// logits pads images to batch rows (repeating the first) so one executable serves every batch.
func (n *Supernet) logits(arch space.Arch, images []float32, count, batch int) ([]float32, error) {
	arch, c, params, err := n.inference(arch)
	if err != nil {
		return nil, err
	}
	defer finalizeAll(params)
	return n.runLogits(c, params, arch, images, count, batch)
}

// inference returns arch checked, its inference executable and its parameter tensors (which the
// caller finalizes).
func (n *Supernet) inference(arch space.Arch) (space.Arch, *compiled, []*tensors.Tensor, error) {
	arch, plan, err := n.checkArch(arch)
	if err != nil {
		return arch, nil, nil, err
	}
	c, err := n.executable(kindInfer, arch, plan, trainConfig{})
	if err != nil {
		return arch, nil, nil, err
	}
	params, err := n.paramTensors(c.names)
	if err != nil {
		return arch, nil, nil, err
	}
	return arch, c, params, nil
}

// runLogits runs the inference executable c of arch with parameter tensors params on count
// images padded to batch rows (repeating the first). It touches no supernet state, so several
// goroutines may call it at once.
func (n *Supernet) runLogits(c *compiled, params []*tensors.Tensor, arch space.Arch, images []float32, count, batch int) ([]float32, error) {
	per := arch.Resolution * arch.Resolution * n.Space.InChannels
	if len(images) < count*per || count == 0 || count > batch {
		return nil, fmt.Errorf("supernet: %d floats for %d images of %dx%dx%d (batch %d)", len(images), count, arch.Resolution, arch.Resolution, n.Space.InChannels, batch)
	}
	buf := images[:count*per]
	if count < batch {
		buf = make([]float32, batch*per)
		copy(buf, images[:count*per])
		for i := count; i < batch; i++ {
			copy(buf[i*per:(i+1)*per], images[:per])
		}
	}
	in := []*tensors.Tensor{tensors.FromFlatDataAndDimensions(buf, batch, arch.Resolution, arch.Resolution, n.Space.InChannels)}
	outs, err := run(c, in, params)
	finalizeAll(in)
	if err != nil {
		return nil, fmt.Errorf("supernet: inference of %s: %w", arch, err)
	}
	defer finalizeAll(outs)
	all := tensors.MustCopyFlatData[float32](outs[0])
	return all[:count*n.Space.Classes], nil
}

// TimeForward measures one subnet's inference latency on this machine: warmup untimed runs, then
// runs timed runs of a batch of random images. The executable is compiled before timing.
// It is what hardware latency tables call to measure a network end to end.
func (n *Supernet) TimeForward(arch space.Arch, batch, warmup, runs int) ([]time.Duration, error) {
	if batch <= 0 || runs <= 0 {
		return nil, errors.New("supernet: TimeForward needs batch > 0 and runs > 0")
	}
	arch, _, err := n.checkArch(arch)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, batch*arch.Resolution*arch.Resolution*n.Space.InChannels)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	out := make([]time.Duration, 0, runs)
	for i := 0; i < warmup+runs; i++ {
		t0 := time.Now()
		if _, err := n.Logits(arch, img, batch); err != nil {
			return nil, err
		}
		if i >= warmup {
			out = append(out, time.Since(t0))
		}
	}
	return out, nil
}
