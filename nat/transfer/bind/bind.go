// Package bind connects the transfer loop to a real GoMLX supernet (nat/supernet) and a target
// dataset (nat/data): it is the transfer.Supernet that `nat transfer`, the DSL and the notebooks
// run. It loads the source supernet checkpoint, holds a stratified validation split out of the
// target's training set (the test set is never touched), measures top-1 after batch-norm
// recalibration on training images, and adapts the weights with nat/supernet's SGD.
//
// It is not the loop (nat/transfer) and adds no training method of its own.
package bind

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
	"github.com/natgo/nat/nat/transfer"
)

// Options tune the binding; the zero value is ready to use.
type Options struct {
	// DataDir is searched first for the target dataset (nat/data.LoadOptions.DataDir).
	DataDir string
	// MaxTrain keeps only the first MaxTrain training images (0 = all), for quick runs.
	MaxTrain int
	// EvalBatch is the evaluation batch size (default: nat/supernet's).
	EvalBatch int
	// WeightDecay of adaptation (default nat/supernet's 3e-5, NAT's range 3e-5..4e-5).
	WeightDecay float64
	// Distill weights distillation from the largest subnet during adaptation (0 = off).
	Distill float64
}

// Supernet is a transfer.Supernet over a nat/supernet.Supernet and a target dataset.
type Supernet struct {
	net        *supernet.Supernet
	train, val *data.Dataset
	test       *data.Dataset // the target's own test split (never used by the loop)
	exp        transfer.Experiment
	opt        Options
	source     string
	sourceHash string // SHA-256 of the source checkpoint, recorded in the run manifest
}

// SourceSpace reads the search space of a supernet checkpoint (so a caller can default an
// experiment's space to it).
func SourceSpace(path string) (*space.Space, error) {
	n, err := supernet.Load(path, supernet.Options{})
	if err != nil {
		return nil, err
	}
	defer n.Close()
	return n.Space, nil
}

// Open loads exp.SourceSupernet and exp.Target. exp's space must be the supernet's (compared
// field by field); exp's ValidationSize and CalibrationSize choose the splits.
func Open(exp transfer.Experiment, opt Options) (*Supernet, error) {
	exp = exp.WithDefaults()
	if exp.SourceSupernet == "" {
		return nil, fmt.Errorf("bind: the experiment names no source supernet checkpoint")
	}
	net, err := supernet.Load(exp.SourceSupernet, supernet.Options{})
	if err != nil {
		return nil, fmt.Errorf("bind: source supernet: %w", err)
	}
	if exp.Space != nil && !sameSpace(exp.Space, net.Space) {
		net.Close()
		return nil, fmt.Errorf("bind: the experiment's space %s differs from the supernet's (%s) in %s", exp.Space.Name, net.Space.Name, exp.SourceSupernet)
	}
	train, test, err := data.Load(exp.Target, data.LoadOptions{DataDir: opt.DataDir, MaxTrain: opt.MaxTrain})
	if err != nil {
		net.Close()
		return nil, fmt.Errorf("bind: target %q: %w", exp.Target, err)
	}
	if train.Classes != net.Space.Classes || train.Channels != net.Space.InChannels {
		net.Close()
		return nil, fmt.Errorf("bind: target %q has %d classes and %d channels; the supernet's space %s has %d and %d (a new classifier head is not supported yet)",
			exp.Target, train.Classes, train.Channels, net.Space.Name, net.Space.Classes, net.Space.InChannels)
	}
	tr, val, err := train.Split(exp.ValidationSize, exp.Seed)
	if err != nil {
		net.Close()
		return nil, fmt.Errorf("bind: holding out %d validation images of %q: %w", exp.ValidationSize, exp.Target, err)
	}
	hash, err := fileSHA256(exp.SourceSupernet)
	if err != nil {
		net.Close()
		return nil, fmt.Errorf("bind: %w", err)
	}
	return &Supernet{net: net, train: tr, val: val, test: test, exp: exp, opt: opt, source: exp.SourceSupernet, sourceHash: hash}, nil
}

// Space is the supernet's search space.
func (s *Supernet) Space() *space.Space { return s.net.Space }

// Net is the underlying supernet (for exporting subnets after a run).
func (s *Supernet) Net() *supernet.Supernet { return s.net }

// Close releases the compiled executables.
func (s *Supernet) Close() { s.net.Close() }

func (s *Supernet) evalOptions() supernet.EvalOptions {
	// The calibration images are drawn with a fixed seed so a subnet's top-1 depends only on
	// the weights (resume reproduces it exactly).
	return supernet.EvalOptions{CalibImages: s.exp.CalibrationSize, BatchSize: s.opt.EvalBatch, Seed: s.exp.Seed}
}

// Evaluate implements transfer.Supernet: top-1 in percent on the held-out validation split.
func (s *Supernet) Evaluate(ctx context.Context, archs []space.Arch) ([]float64, error) {
	out := make([]float64, len(archs))
	for i, a := range archs {
		m, err := s.net.Evaluate(ctx, a, s.train, s.val, s.evalOptions())
		if err != nil {
			return nil, err
		}
		out[i] = 100 * m.Top1
	}
	return out, nil
}

// EvaluateTest measures arch on the first maxImages images of the target's test split (0: all),
// after the same batch-norm recalibration as Evaluate. The loop never sees the test split; this
// is for reporting subnets chosen on the validation split without the bias of that choice.
func (s *Supernet) EvaluateTest(ctx context.Context, arch space.Arch, maxImages int) (supernet.Metrics, error) {
	if s.test == nil || s.test.N == 0 {
		return supernet.Metrics{}, fmt.Errorf("bind: target %q has no test split", s.exp.Target)
	}
	opt := s.evalOptions()
	opt.MaxImages = maxImages
	m, err := s.net.Evaluate(ctx, arch, s.train, s.test, opt)
	if err != nil {
		return m, fmt.Errorf("bind: measuring %s on the test split of %q: %w", arch, s.exp.Target, err)
	}
	return m, nil
}

// Adapt implements transfer.Supernet. The loop asks for one warm-up-plus-cosine schedule over all
// iterations' adaptation steps; each call trains its slice of it (TrainOptions.ScheduleStart and
// ScheduleSteps), so the learning rate continues where the previous iteration stopped.
func (s *Supernet) Adapt(ctx context.Context, req transfer.AdaptRequest) error {
	opt := supernet.TrainOptions{
		Steps: req.Steps, BatchSize: req.BatchSize, LR: req.PeakLR, Seed: req.Seed,
		WeightDecay: s.opt.WeightDecay, Distill: s.opt.Distill, ProgressEvery: 5,
	}
	if req.TotalSteps > 0 {
		opt.ScheduleStart, opt.ScheduleSteps = req.FirstStep, req.TotalSteps
	}
	if req.Progress != nil {
		opt.Progress = func(p supernet.TrainProgress) { req.Progress(p.Step) }
	}
	_, err := s.net.Train(ctx, req.Sampler, s.train, opt)
	return err
}

// Save implements transfer.Supernet (weights and momentum, atomically).
func (s *Supernet) Save(path string) error { return s.net.Save(path, supernet.SaveOptions{}) }

// Load implements transfer.Supernet: the weights and optimizer state saved at path replace the
// current ones.
func (s *Supernet) Load(path string) error {
	n, err := supernet.Load(path, supernet.Options{})
	if err != nil {
		return err
	}
	if !sameSpace(n.Space, s.net.Space) {
		n.Close()
		return fmt.Errorf("bind: checkpoint %s is of space %s, the run's is %s", path, n.Space.Name, s.net.Space.Name)
	}
	s.net.Close()
	s.net = n
	return nil
}

// Describe implements transfer.Supernet.
func (s *Supernet) Describe() string {
	return fmt.Sprintf("nat/supernet %s width %g from %s (sha256 %s) on %s (backend %s); validation %d, calibration %d images",
		s.net.Space.Name, s.net.Width, s.source, s.sourceHash, s.exp.Target, s.net.Backend().Name(), s.val.N, s.exp.CalibrationSize)
}

func sameSpace(a, b *space.Space) bool {
	return a.String() == b.String() && fmt.Sprintf("%+v", *a) == fmt.Sprintf("%+v", *b)
}

// Run opens exp's source supernet and target and runs (or resumes) the transfer loop on them:
// the one call a script or notebook needs.
func Run(ctx context.Context, exp transfer.Experiment, opt Options, runOpt transfer.Options) (*transfer.Result, error) {
	exp, net, err := openWithSpace(exp, opt)
	if err != nil {
		return nil, err
	}
	defer net.Close()
	return transfer.Run(ctx, exp, net, runOpt)
}

// openWithSpace fills in exp's space from its source checkpoint when it has none, and opens it.
func openWithSpace(exp transfer.Experiment, opt Options) (transfer.Experiment, *Supernet, error) {
	if exp.Space == nil && exp.SourceSupernet != "" {
		sp, err := SourceSpace(exp.SourceSupernet)
		if err != nil {
			return exp, nil, err
		}
		exp.Space = sp
	}
	net, err := Open(exp, opt)
	return exp, net, err
}

// fileSHA256 identifies the source checkpoint's exact contents, so a run records which weights it
// started from even if the file is later replaced.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
