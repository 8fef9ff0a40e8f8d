package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/natgo/nat/nat/data"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
)

// evaluateReport is what `nat evaluate --json` prints.
type evaluateReport struct {
	Model   string     `json:"model,omitempty"`
	Dataset string     `json:"dataset"`
	Split   string     `json:"split"`
	Arch    space.Arch `json:"arch"`
	Params  int        `json:"params,omitempty"`
	Top1    float64    `json:"top1"`
	Top5    float64    `json:"top5"`
	Loss    float64    `json:"loss"`
	N       int        `json:"n"`
	Seconds float64    `json:"seconds"`
}

func runEvaluate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "evaluate", "nat evaluate (--model DIR | --supernet FILE --arch JSON) --dataset NAME [flags]")
	modelDir := fs.String("model", "", "an exported subnet directory (net.subnet + weights.bin)")
	snPath := fs.String("supernet", "", "a supernet checkpoint; evaluates --arch after BN recalibration on training images")
	archJSON := fs.String("arch", "", `subnet for --supernet, NAT's JSON form, e.g. {"r":28,"d":[2,2,2,2,2],"ks":[...],"e":[...]}`)
	exportDir := fs.String("export", "", "with --supernet: also export the recalibrated subnet to this directory")
	dataset := fs.String("dataset", "mnist", "dataset: "+fmt.Sprint(data.Builtin())+" or folder:PATH")
	split := fs.String("split", "test", "split to evaluate: test or train")
	maxImages := fs.Int("max", 0, "evaluate only the first N images of the split (0 = all)")
	batch := fs.Int("batch", 256, "evaluation batch size")
	calib := fs.Int("calib-images", 2000, "with --supernet: training images for BN recalibration")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("evaluate: unexpected arguments %v", fs.Args())
	}
	if (*modelDir == "") == (*snPath == "") {
		fs.Usage()
		return fmt.Errorf("evaluate: give exactly one of --model or --supernet")
	}
	train, test, err := data.Load(*dataset, data.LoadOptions{})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	set := test
	switch *split {
	case "test":
	case "train":
		set = train
	default:
		return fmt.Errorf("evaluate: --split must be test or train, got %q", *split)
	}
	opt := supernet.EvalOptions{BatchSize: *batch, MaxImages: *maxImages, CalibImages: *calib}
	rep := evaluateReport{Dataset: *dataset, Split: *split}
	start := time.Now()
	var m supernet.Metrics
	if *modelDir != "" {
		model, err := supernet.LoadModel(*modelDir, supernet.Options{})
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		defer model.Close()
		if m, err = model.Evaluate(ctx, set, opt); err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		rep.Model, rep.Arch, rep.Params = *modelDir, model.Arch, model.NumParams()
	} else {
		if *archJSON == "" {
			return fmt.Errorf("evaluate: --supernet needs --arch")
		}
		net, err := supernet.Load(*snPath, supernet.Options{})
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		defer net.Close()
		a, err := space.ParseArchJSON([]byte(*archJSON))
		if err != nil {
			return fmt.Errorf("evaluate: --arch: %w", err)
		}
		if a.Width == 0 {
			a.Width = net.Width
		}
		if m, err = net.Evaluate(ctx, a, train, set, opt); err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		rep.Model, rep.Arch = *snPath, a
		if *exportDir != "" {
			model, err := net.Export(ctx, a, train, opt)
			if err != nil {
				return fmt.Errorf("evaluate: export: %w", err)
			}
			defer model.Close()
			if err := model.Save(*exportDir); err != nil {
				return fmt.Errorf("evaluate: export: %w", err)
			}
			rep.Params = model.NumParams()
		}
	}
	rep.Top1, rep.Top5, rep.Loss, rep.N = m.Top1, m.Top5, m.Loss, m.N
	rep.Seconds = time.Since(start).Seconds()
	if *asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(e.Stdout, string(b))
		return nil
	}
	fmt.Fprintf(e.Stdout, "%s on %s/%s (%d images): top-1 %.2f%%  top-5 %.2f%%  loss %.4f  [%s]\n",
		rep.Arch, *dataset, *split, m.N, 100*m.Top1, 100*m.Top5, m.Loss, time.Since(start).Round(time.Millisecond))
	return nil
}
