package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
	"github.com/natgo/nat/nat/supernet/ops"
)

func runBenchSupernet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench supernet", "nat bench supernet [--space NAME] [--json] [flags]")
	spaceName := fs.String("space", space.NATMNIST, "search space preset: "+fmt.Sprint(space.PresetNames()))
	trainBatch := fs.Int("train-batch", 128, "training batch size")
	inferBatch := fs.Int("infer-batch", 256, "inference batch size")
	steps := fs.Int("steps", 3, "timed training steps (and inference batches) per subnet, after one warm-up")
	noTorch := fs.Bool("no-torch", false, "skip the PyTorch comparison")
	python := fs.String("python", "", "Python interpreter with torch (default: python3 on PATH, then /usr/bin/python3 from Debian's python3-torch)")
	threads := fs.Int("threads", 2, "PyTorch threads")
	subnets := fs.String("subnets", "smallest,median,largest", "comma-separated subnets to measure: smallest, median, largest")
	depthwise := fs.String("depthwise", "auto", "depthwise-convolution formulation: auto, slices, toeplitz or toeplitz2d")
	memSubnets := fs.Int("memory-subnets", 0, "instead: visit N distinct random subnets (inference at --memory-batch) and print memory every N/10")
	memBatch := fs.Int("memory-batch", 8, "images per inference with --memory-subnets")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench supernet: unexpected arguments %v", fs.Args())
	}
	sp, err := space.Preset(*spaceName)
	if err != nil {
		return fmt.Errorf("bench supernet: %w", err)
	}
	if *memSubnets > 0 {
		samples, err := supernet.BenchMemory(ctx, sp, *memSubnets, *memBatch, 1)
		if err != nil {
			return fmt.Errorf("bench supernet: %w", err)
		}
		if *asJSON {
			b, _ := json.MarshalIndent(samples, "", "  ")
			fmt.Fprintln(e.Stdout, string(b))
			return nil
		}
		tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "subnets\tRSS MB\theap MB\tcached\tevicted\tseconds\t")
		for _, s := range samples {
			fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%d\t%d\t%.1f\t\n", s.Subnets, s.RSSMB, s.HeapMB, s.Cached, s.Evictions, s.Seconds)
		}
		return tw.Flush()
	}
	dw, err := ops.ParseDepthwiseMethod(*depthwise)
	if err != nil {
		return fmt.Errorf("bench supernet: --depthwise: %w", err)
	}
	start := time.Now()
	res, err := supernet.Bench(ctx, sp, supernet.BenchOptions{TrainBatch: *trainBatch, InferBatch: *inferBatch,
		TrainSteps: *steps, InferRuns: *steps, NoTorch: *noTorch, Python: *python, Threads: *threads, Depthwise: dw, Subnets: strings.Split(*subnets, ","),
		Log: func(f string, a ...any) {
			fmt.Fprintf(e.Stderr, "[%s] %s\n", time.Since(start).Round(time.Second), fmt.Sprintf(f, a...))
		}})
	if err != nil {
		return fmt.Errorf("bench supernet: %w", err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(e.Stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.Stdout, "supernet %s on %s, depthwise %s; training batch %d, inference batch %d; %s\n", res.Space, res.Backend, res.Depthwise, res.TrainBatch, res.InferBatch, res.Torch)
	tw := tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "subnet\ttrain img/s\tinfer img/s\tnew-arch train ms\tnew-arch infer ms\ttorch train\ttorch infer\tratio train\tratio infer\t")
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\n", r.Name, r.TrainImgPerSec, r.InferImgPerSec,
			r.NewArchTrainMs, r.NewArchInferMs, opt1(r.TorchTrain), opt1(r.TorchInfer), opt2(r.RatioTrain), opt2(r.RatioInfer))
	}
	tw.Flush()
	fmt.Fprintln(e.Stdout, "\nper CPU-second of each process (robust to load from other processes):")
	tw = tabwriter.NewWriter(e.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "subnet\ttrain img/cpu-s\tinfer img/cpu-s\tnew-arch train cpu-ms\tnew-arch infer cpu-ms\ttorch train\ttorch infer\tratio train\tratio infer\t")
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t\n", r.Name, r.TrainImgPerCPUSec, r.InferImgPerCPUSec,
			r.NewArchTrainCPUms, r.NewArchInferCPUms, opt1(r.TorchTrainCPU), opt1(r.TorchInferCPU), opt2(r.RatioTrainCPU), opt2(r.RatioInferCPU))
	}
	tw.Flush()
	fmt.Fprintf(e.Stdout, "peak RSS %.0f MB (whole process)\n", res.PeakRSSMB)
	for _, r := range res.Rows {
		fmt.Fprintf(e.Stdout, "%-8s %s\n", r.Name, r.Arch)
	}
	return nil
}

func opt1(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func opt2(v float64) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}
