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

// TrainOptions configure Train. Zero fields take the documented defaults.
type TrainOptions struct {
	Steps     int     // optimizer updates; required
	BatchSize int     // images per subnet per step (default 64)
	LR        float64 // peak learning rate (default 0.05)
	// Momentum of SGD with Nesterov momentum (default 0.9).
	Momentum float64
	// WeightDecay on convolution and linear weights, not on batch norm or biases (default 3e-5,
	// NAT's 3e-5..4e-5; negative disables).
	WeightDecay float64
	// WarmupSteps of linear warm-up before the cosine decay to zero (default Steps/20).
	WarmupSteps int
	// LabelSmoothing (default 0.1; negative disables).
	LabelSmoothing float64
	// Distill weights a distillation loss from the largest subnet (soft targets, computed in the
	// same step with batch statistics); 0 disables.
	Distill float64
	// Augment turns on the data package's random-crop augmentation.
	Augment bool
	// Seed drives batch order, dropout and the sampler.
	Seed uint64
	// ScheduleStart and ScheduleSteps place this call inside a longer schedule: when
	// ScheduleSteps > 0 the warm-up and cosine run over ScheduleSteps and this call trains its
	// steps ScheduleStart .. ScheduleStart+Steps-1 (for chunked, resumable runs). WarmupSteps
	// then defaults to ScheduleSteps/20.
	ScheduleStart, ScheduleSteps int
	// Workers splits each subnet's batch into this many contiguous parts (default
	// DefaultTrainWorkers; 1 trains the whole batch at once, as before) that run concurrently;
	// their gradients, losses and accuracies are averaged weighted by part size, in part order,
	// so results never depend on timing. Batch norm then normalises each part with its own
	// statistics ("ghost batch norm"), which changes training slightly: the weights depend on
	// Workers (but not on the number of cores). Parts have at least 16 images: a batch of B
	// images is split into min(Workers, B/16) parts. Batch order, augmentation, dropout masks
	// and sampled subnets are drawn exactly as with 1 worker.
	Workers int
	// Progress, when set, is called every ProgressEvery steps (default 20) and after the last.
	Progress      func(TrainProgress)
	ProgressEvery int
}

func (o TrainOptions) withDefaults() (TrainOptions, error) {
	if o.Steps <= 0 {
		return o, fmt.Errorf("supernet: TrainOptions.Steps must be positive, got %d", o.Steps)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.LR <= 0 {
		o.LR = 0.05
	}
	if o.Momentum <= 0 {
		o.Momentum = 0.9
	}
	switch {
	case o.WeightDecay == 0:
		o.WeightDecay = 3e-5
	case o.WeightDecay < 0:
		o.WeightDecay = 0
	}
	if o.ScheduleSteps <= 0 {
		o.ScheduleStart, o.ScheduleSteps = 0, o.Steps
	}
	if o.WarmupSteps <= 0 {
		o.WarmupSteps = o.ScheduleSteps / 20
	}
	switch {
	case o.LabelSmoothing == 0:
		o.LabelSmoothing = 0.1
	case o.LabelSmoothing < 0:
		o.LabelSmoothing = 0
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 20
	}
	if o.Workers <= 0 {
		o.Workers = DefaultTrainWorkers
	}
	return o, nil
}

// LearningRate is the schedule: linear warm-up to peak over warmup steps, then cosine to zero at
// steps. step counts from 0.
func LearningRate(peak float64, step, warmup, steps int) float64 {
	if step < warmup {
		return peak * float64(step+1) / float64(warmup)
	}
	if steps <= warmup {
		return peak
	}
	t := float64(step-warmup) / float64(steps-warmup)
	return 0.5 * peak * (1 + math.Cos(math.Pi*math.Min(t, 1)))
}

// TrainProgress reports training so far.
type TrainProgress struct {
	Step, Steps  int
	Loss         float64 // mean training loss over the last window
	Accuracy     float64 // training top-1 over the last window (batch-norm in batch mode)
	LR           float64
	ImagesPerSec float64 // subnet-images trained per second over the window
	Elapsed      time.Duration
	Arch         space.Arch // the last subnet trained
}

// TrainResult summarises a Train call.
type TrainResult struct {
	Steps        int
	Images       int // subnet-images (images times subnets per step)
	Loss         float64
	Accuracy     float64 // over the last window
	Elapsed      time.Duration
	ImagesPerSec float64
}

// Train runs opt.Steps optimizer updates of SGD with Nesterov momentum on subnets drawn by
// sampler from train. Gradients of all subnets of a step are summed into one update. It stops
// early, returning ctx's error, when ctx is cancelled; finished steps are kept.
func (n *Supernet) Train(ctx context.Context, sampler Sampler, train *data.Dataset, opt TrainOptions) (TrainResult, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	opt, err := opt.withDefaults()
	if err != nil {
		return TrainResult{}, err
	}
	if train == nil || train.N == 0 {
		return TrainResult{}, errors.New("supernet: Train needs a non-empty training set")
	}
	if train.Channels != n.Space.InChannels {
		return TrainResult{}, fmt.Errorf("supernet: dataset %q has %d channels; space %s wants %d", train.Name, train.Channels, n.Space.Name, n.Space.InChannels)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x7a1))
	tc := trainConfig{labelSmoothing: opt.LabelSmoothing, distill: opt.Distill, dropout: n.Space.Dropout > 0}
	order := rng.Perm(train.N)
	pos := 0
	idx := make([]int, opt.BatchSize)
	grads := map[string][]float32{}
	var imgBuf []float32
	labelT := make([]int32, opt.BatchSize)

	res := TrainResult{}
	start := time.Now()
	winStart, winLoss, winCorrect, winImages, winCount := time.Now(), 0.0, 0.0, 0, 0
	var lastArch space.Arch
	for step := 0; step < opt.Steps; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		for i := range idx {
			if pos == len(order) {
				order, pos = rng.Perm(train.N), 0
			}
			idx[i] = order[pos]
			pos++
		}
		archs := sampler.Sample(rng)
		if len(archs) == 0 {
			return res, errors.New("supernet: sampler returned no subnet")
		}
		touched := map[string]bool{}
		for _, a := range archs {
			a, plan, err := n.checkArch(a)
			if err != nil {
				return res, fmt.Errorf("supernet: sampled subnet: %w", err)
			}
			imgBuf, _ = train.Batch(idx, data.BatchOptions{Resolution: a.Resolution, Mean: n.Mean, Std: n.Std,
				Augment: opt.Augment, Seed: rng.Uint64()}, imgBuf)
			for i, j := range idx {
				labelT[i] = train.Labels[j]
			}
			loss, correct, err := n.trainOne(ctx, a, plan, tc, imgBuf, labelT, opt.Workers, rng, grads, touched)
			if err != nil {
				return res, err
			}
			winLoss += loss
			winCorrect += correct
			winImages += len(idx)
			winCount++
			res.Images += len(idx)
			lastArch = a
		}
		lr := LearningRate(opt.LR, opt.ScheduleStart+step, opt.WarmupSteps, opt.ScheduleSteps)
		n.sgdUpdate(grads, touched, lr, opt.Momentum, opt.WeightDecay)
		n.Step++
		res.Steps = step + 1
		if (step+1)%opt.ProgressEvery == 0 || step+1 == opt.Steps {
			el := time.Since(winStart)
			res.Loss = winLoss / float64(winCount)
			res.Accuracy = winCorrect / float64(winImages)
			if opt.Progress != nil {
				opt.Progress(TrainProgress{Step: step + 1, Steps: opt.Steps, Loss: res.Loss, Accuracy: res.Accuracy,
					LR: lr, ImagesPerSec: float64(winImages) / el.Seconds(), Elapsed: time.Since(start), Arch: lastArch})
			}
			winStart, winLoss, winCorrect, winImages, winCount = time.Now(), 0, 0, 0, 0
		}
	}
	res.Elapsed = time.Since(start)
	res.ImagesPerSec = float64(res.Images) / res.Elapsed.Seconds()
	return res, nil
}

// trainOne runs one subnet's training graph on a batch and adds its gradients to grads. With
// workers > 1 the batch is split into parts run concurrently (trainParts) whose results are
// averaged weighted by part size.
func (n *Supernet) trainOne(ctx context.Context, a space.Arch, plan space.Plan, tc trainConfig, images []float32, labels []int32,
	workers int, rng *rand.Rand, grads map[string][]float32, touched map[string]bool) (loss, correct float64, err error) {
	c, err := n.executable(kindTrain, a, plan, tc)
	if err != nil {
		return 0, 0, err
	}
	b := len(labels)
	per := a.Resolution * a.Resolution * n.Space.InChannels
	fm := plan.Layers[len(plan.Layers)-2].OutC
	var mask []float32
	if c.dropout {
		// Drawn for the whole batch, as with one worker, and split by rows.
		p := n.Space.Dropout
		mask = make([]float32, b*fm)
		for i := range mask {
			if rng.Float64() >= p {
				mask[i] = float32(1 / (1 - p))
			}
		}
	}
	params, err := n.paramTensors(c.names)
	if err != nil {
		return 0, 0, err
	}
	defer finalizeAll(params)
	parts := trainParts(b, workers)
	bounds := partBounds(b, parts)
	outs := make([][]*tensors.Tensor, parts)
	defer func() {
		for _, o := range outs {
			finalizeAll(o)
		}
	}()
	err = forEach(ctx, parts, parts, func(_, k int) error {
		lo, hi := bounds[k], bounds[k+1]
		in := []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(images[lo*per:hi*per], hi-lo, a.Resolution, a.Resolution, n.Space.InChannels),
			tensors.FromFlatDataAndDimensions(labels[lo:hi], hi-lo),
		}
		if c.dropout {
			in = append(in, tensors.FromFlatDataAndDimensions(mask[lo*fm:hi*fm], hi-lo, fm))
		}
		o, err := run(c, in, params)
		finalizeAll(in)
		if err != nil {
			return fmt.Errorf("supernet: training %s: %w", a, err)
		}
		outs[k] = o
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for k, o := range outs {
		l := float64(tensors.MustCopyFlatData[float32](o[0])[0])
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return 0, 0, fmt.Errorf("supernet: training %s: loss is %g (learning rate too high?)", a, l)
		}
		if parts == 1 {
			loss = l
		} else {
			loss += l * float64(bounds[k+1]-bounds[k]) / float64(b)
		}
		correct += float64(tensors.MustCopyFlatData[float32](o[1])[0])
	}
	for i, nm := range c.gradNames {
		g, ok := grads[nm]
		if !ok {
			p, _ := n.params.get(nm)
			g = make([]float32, p.Size())
			grads[nm] = g
		}
		if !touched[nm] {
			clear(g)
			touched[nm] = true
		}
		if parts == 1 {
			tensors.MustConstFlatData[float32](outs[0][2+i], func(flat []float32) {
				for j, v := range flat {
					g[j] += v
				}
			})
			continue
		}
		// Each part's loss is a mean over its images, so the batch's gradient is the
		// part-size-weighted mean of the parts' gradients, summed in part order.
		sum := make([]float32, len(g))
		for k, o := range outs {
			w := float32(bounds[k+1]-bounds[k]) / float32(b)
			tensors.MustConstFlatData[float32](o[2+i], func(flat []float32) {
				for j, v := range flat {
					sum[j] += float32(w * v) // the conversion forbids fusing into an FMA: same result on every CPU
				}
			})
		}
		for j, v := range sum {
			g[j] += v
		}
	}
	return loss, correct, nil
}

// sgdUpdate applies SGD with Nesterov momentum and decoupled-from-BN weight decay, exactly as
// PyTorch's torch.optim.SGD(nesterov=True): d = g + wd*w; buf = mu*buf + d; w -= lr*(d + mu*buf).
// Only parameters that received a gradient this step move.
func (n *Supernet) sgdUpdate(grads map[string][]float32, touched map[string]bool, lr, mu, wd float64) {
	flr, fmu := float32(lr), float32(mu)
	for nm := range touched {
		p, _ := n.params.get(nm)
		g := grads[nm]
		fwd := float32(0)
		if p.Decay {
			fwd = float32(wd)
		}
		w, buf := p.Value, p.Momentum
		for i := range w {
			d := g[i] + fwd*w[i]
			buf[i] = fmu*buf[i] + d
			w[i] -= flr * (d + fmu*buf[i])
		}
	}
}
