package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
)

// pretrainReport is written to <out>/metrics.json and printed by --json.
type pretrainReport struct {
	Space    string          `json:"space"`
	Dataset  string          `json:"dataset"`
	Width    float64         `json:"width"`
	Steps    int64           `json:"steps"`
	Subnets  []subnetMetrics `json:"subnets"`
	EvalSet  string          `json:"eval_set"`
	Seconds  float64         `json:"eval_seconds"`
	Finished string          `json:"finished"`
}

type subnetMetrics struct {
	Name string     `json:"name"`
	Arch space.Arch `json:"arch"`
	Top1 float64    `json:"top1"`
	Top5 float64    `json:"top5"`
	Loss float64    `json:"loss"`
	N    int        `json:"n"`
}

func runPretrain(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pretrain", "nat pretrain --space NAME --dataset NAME --out DIR [flags]")
	spaceName := fs.String("space", space.NATMNIST, "search space preset: "+fmt.Sprint(space.PresetNames()))
	dataset := fs.String("dataset", "mnist", "source dataset: "+fmt.Sprint(data.Builtin())+" or folder:PATH")
	out := fs.String("out", "", "output directory (supernet.bin, progress.json, metrics.json); a rerun resumes there")
	width := fs.Float64("width", 0, "width multiplier (default: the space's first)")
	batch := fs.Int("batch", 32, "images per step")
	lr := fs.Float64("lr", 0.05, "peak learning rate (SGD, Nesterov momentum 0.9, cosine per phase)")
	scale := fs.Float64("scale", 1, "multiplies every phase's default step count (60 full, 60 kernel, 60 depth, 100 expansion)")
	finalSteps := fs.Int("final-steps", 0, "steps of an extra last phase with every dimension elastic (uniform subnets); may be added to a finished run")
	distill := fs.Float64("distill", 0, "weight of distillation from the largest subnet (0 = off; doubles the cost)")
	seed := fs.Uint64("seed", 1, "random seed")
	evalImages := fs.Int("eval-images", 0, "test images for the final smallest/median/largest report (0 = all)")
	calibImages := fs.Int("calib-images", 2000, "training images that recalibrate batch norm before each evaluation")
	asJSON := fs.Bool("json", false, "print the final report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("pretrain: --out is required and no positional arguments are accepted")
	}
	sp, err := space.Preset(*spaceName)
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	if *width == 0 {
		*width = sp.WidthMults[0]
	}
	train, test, err := data.Load(*dataset, data.LoadOptions{})
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	if train.Classes > sp.Classes {
		return fmt.Errorf("pretrain: dataset %s has %d classes; space %s's classifier has %d", *dataset, train.Classes, sp.Name, sp.Classes)
	}
	ckpt := filepath.Join(*out, supernet.CheckpointFile)
	var net *supernet.Supernet
	if _, err := os.Stat(ckpt); err == nil {
		if net, err = supernet.Load(ckpt, supernet.Options{}); err != nil {
			return fmt.Errorf("pretrain: resuming: %w", err)
		}
		if net.Space.Name != sp.Name || net.Width != *width {
			return fmt.Errorf("pretrain: %s holds a %s supernet at width %g, not %s at %g", ckpt, net.Space.Name, net.Width, sp.Name, *width)
		}
		fmt.Fprintf(e.Stderr, "resuming from %s (step %d)\n", ckpt, net.Step)
	} else {
		if net, err = supernet.New(sp, *width, supernet.Options{Seed: *seed}); err != nil {
			return fmt.Errorf("pretrain: %w", err)
		}
		net.Mean, net.Std = train.MeanStd()
	}
	defer net.Close()
	tr, _ := net.NumParams()
	fmt.Fprintf(e.Stderr, "supernet %s w%g: %d parameters; dataset %s: %d train, %d test\n", sp.Name, *width, tr, *dataset, train.N, test.N)
	phases := supernet.DefaultPhases(*scale)
	if *finalSteps > 0 {
		phases = append(phases, supernet.FinalPhase(*finalSteps))
	}
	start := time.Now()
	err = supernet.Pretrain(ctx, net, train, supernet.PretrainOptions{
		Phases:             phases,
		Train:              supernet.TrainOptions{BatchSize: *batch, LR: *lr, Distill: *distill, Seed: *seed},
		Dir:                *out,
		DropOptimizerAtEnd: true,
		Log: func(format string, a ...any) {
			fmt.Fprintf(e.Stderr, "[%s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(format, a...))
		},
	})
	if err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	rep := pretrainReport{Space: sp.Name, Dataset: *dataset, Width: *width, Steps: net.Step, EvalSet: *dataset + "/test"}
	t0 := time.Now()
	for _, s := range []struct {
		name string
		arch space.Arch
	}{{"smallest", sp.Smallest()}, {"median", supernet.MedianArch(sp, *width)}, {"largest", sp.Largest()}} {
		s.arch.Width = *width
		m, err := net.Evaluate(ctx, s.arch, train, test, supernet.EvalOptions{MaxImages: *evalImages, CalibImages: *calibImages})
		if err != nil {
			return fmt.Errorf("pretrain: evaluating the %s subnet: %w", s.name, err)
		}
		fmt.Fprintf(e.Stderr, "%-8s %s: top-1 %.2f%% top-5 %.2f%% loss %.4f (%d images)\n", s.name, s.arch, 100*m.Top1, 100*m.Top5, m.Loss, m.N)
		rep.Subnets = append(rep.Subnets, subnetMetrics{Name: s.name, Arch: s.arch, Top1: m.Top1, Top5: m.Top5, Loss: m.Loss, N: m.N})
	}
	rep.Seconds = time.Since(t0).Seconds()
	rep.Finished = time.Now().UTC().Format(time.RFC3339)
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "metrics.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("pretrain: %w", err)
	}
	if *asJSON {
		fmt.Fprintln(e.Stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.Stdout, "supernet written to %s (%d steps)\n", ckpt, net.Step)
	for _, s := range rep.Subnets {
		fmt.Fprintf(e.Stdout, "%-8s top-1 %6.2f%%  top-5 %6.2f%%  %s\n", s.Name, 100*s.Top1, 100*s.Top5, s.Arch)
	}
	return nil
}
