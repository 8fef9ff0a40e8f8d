package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// archReport is what `nat arch --json` prints.
type archReport struct {
	Space      string   `json:"space,omitempty"`
	Encoding   string   `json:"encoding,omitempty"`
	Resolution int      `json:"r"`
	Width      *float64 `json:"w"`
	Depths     []int    `json:"d"`
	Kernels    []int    `json:"ks"`
	Expansions []int    `json:"e"`
	Classes    int      `json:"classes"`
	MAdds      int64    `json:"madds"`
	Params     int64    `json:"params"`
	NATOps     int64    `json:"nat_ops"`
}

func runArch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "arch", "nat arch (--space NAME --encoding GENES [--classes N] | --config PATH/net.config [--resolution R]) [--layers] [--json]")
	spaceName := fs.String("space", space.NATImageNet, "search space preset: "+fmt.Sprint(space.PresetNames()))
	encoding := fs.String("encoding", "", "NAT integer encoding, e.g. 08011001440551052208877 (NAT-M1)")
	classes := fs.Int("classes", 0, "number of classes (default: the space's)")
	config := fs.String("config", "", "a network in OFA/NAT net.config JSON format")
	resolution := fs.Int("resolution", 0, "input resolution for --config (default: img_size, else r of net.subnet beside it)")
	layers := fs.Bool("layers", false, "also print every layer with its shapes and costs")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("arch: unexpected arguments %v", fs.Args())
	}
	var (
		rep  archReport
		plan space.Plan
		err  error
	)
	switch {
	case *config != "" && *encoding != "":
		return errors.New("arch: give either --encoding or --config, not both")
	case *config != "":
		rep, plan, err = archFromConfig(*config, *resolution)
	case *encoding != "":
		rep, plan, err = archFromEncoding(*spaceName, *encoding, *classes)
	default:
		fs.Usage()
		return errors.New("arch: give --encoding (with --space) or --config")
	}
	if err != nil {
		return err
	}
	c := cost.Plan(plan)
	rep.MAdds, rep.Params, rep.NATOps, rep.Classes = c.MAdds, c.Params, c.NATOps, plan.Classes
	if *asJSON {
		return json.NewEncoder(e.Stdout).Encode(rep)
	}
	printArch(e, rep, plan, *layers)
	return nil
}

func archFromEncoding(spaceName, encoding string, classes int) (archReport, space.Plan, error) {
	s, err := space.Preset(spaceName)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	if classes > 0 {
		s.Classes = classes
	}
	if err := s.Validate(); err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	g, err := s.Parse(encoding)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	a, err := s.Decode(g)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	p, err := s.Plan(a)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	w := a.Width
	return archReport{Space: s.Name, Encoding: s.Format(g), Resolution: a.Resolution, Width: &w,
		Depths: a.Depths, Kernels: a.Kernels, Expansions: a.Expansions}, p, nil
}

// archFromConfig reads a net.config. Its layers are exact (activations included); the
// resolution and width come from img_size, --resolution, or the net.subnet file beside it.
func archFromConfig(path string, resolution int) (archReport, space.Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %w", err)
	}
	var sub *space.Arch
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "net.subnet")); err == nil {
		a, err := space.ParseArchJSON(b)
		if err != nil {
			return archReport{}, space.Plan{}, fmt.Errorf("arch: %s: %w", filepath.Join(filepath.Dir(path), "net.subnet"), err)
		}
		sub = &a
	}
	if resolution == 0 && sub != nil {
		var probe struct {
			ImgSize int `json:"img_size"`
		}
		_ = json.Unmarshal(data, &probe) // a malformed file is reported by ParseOFAConfig below
		if probe.ImgSize == 0 {
			resolution = sub.Resolution
		}
	}
	p, err := space.ParseOFAConfig(data, resolution)
	if err != nil {
		return archReport{}, space.Plan{}, fmt.Errorf("arch: %s: %w (use --resolution)", path, err)
	}
	rep := archReport{Resolution: p.Resolution}
	// Depths, kernels and expansions as the blocks give them: a stage starts at every block
	// whose output width differs from its input (the first block is the fixed one).
	for i, l := range p.Layers {
		if l.Kind != space.KindMBConv || i == 1 {
			continue
		}
		if l.InC != l.OutC || len(rep.Depths) == 0 {
			rep.Depths = append(rep.Depths, 0)
		}
		rep.Depths[len(rep.Depths)-1]++
		rep.Kernels = append(rep.Kernels, l.Kernel)
		rep.Expansions = append(rep.Expansions, l.Expand)
	}
	if sub != nil && sub.Resolution == p.Resolution {
		w := sub.Width
		rep.Width = &w
	}
	return rep, p, nil
}

func printArch(e *env, rep archReport, p space.Plan, layers bool) {
	if rep.Encoding != "" {
		fmt.Fprintf(e.Stdout, "encoding     %s (%s)\n", rep.Encoding, rep.Space)
	}
	fmt.Fprintf(e.Stdout, "resolution   %d\n", rep.Resolution)
	if rep.Width != nil {
		fmt.Fprintf(e.Stdout, "width        %.1f\n", *rep.Width)
	}
	fmt.Fprintf(e.Stdout, "depths       %v\n", rep.Depths)
	fmt.Fprintf(e.Stdout, "kernels      %v\n", rep.Kernels)
	fmt.Fprintf(e.Stdout, "expansions   %v\n", rep.Expansions)
	fmt.Fprintf(e.Stdout, "classes      %d\n", rep.Classes)
	fmt.Fprintf(e.Stdout, "MAdds        %d (%.1fM, conv + FC multiply-adds)\n", rep.MAdds, float64(rep.MAdds)/1e6)
	fmt.Fprintf(e.Stdout, "params       %d (%.2fM)\n", rep.Params, float64(rep.Params)/1e6)
	fmt.Fprintf(e.Stdout, "NAT ops      %d (%.1fM, NAT's counter: + ReLU 1, h-sigmoid 3, h-swish 4 per element)\n", rep.NATOps, float64(rep.NATOps)/1e6)
	if rep.Encoding != "" {
		fmt.Fprintln(e.Stdout, "             (activations of the space; NAT's released nets use Mish: --config gives their exact count)")
	}
	if !layers {
		return
	}
	fmt.Fprintln(e.Stdout)
	tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tinput\toutput\tk\ts\te\tmid\tSE\tact\tMAdds\tparams\t")
	for _, l := range p.Layers {
		c := cost.Layer(l)
		se := ""
		if l.SE {
			se = fmt.Sprint(l.SEMidC)
		}
		fmt.Fprintf(tw, "%s\t%dx%dx%d\t%dx%dx%d\t%d\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t\n", l.Name, l.InH, l.InW, l.InC, l.OutH, l.OutW, l.OutC,
			l.Kernel, l.Stride, l.Expand, l.MidC, se, l.Act, c.MAdds, c.Params)
	}
	tw.Flush()
}
