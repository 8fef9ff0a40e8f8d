package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
)

// constraintList is a repeatable --budget flag.
type constraintList []hardware.Constraint

func (c *constraintList) String() string {
	parts := make([]string, len(*c))
	for i, x := range *c {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

func (c *constraintList) Set(s string) error {
	x, err := hardware.ParseConstraint(s)
	if err != nil {
		return err
	}
	*c = append(*c, x)
	return nil
}

// predictReport is what `nat hardware predict --json` prints.
type predictReport struct {
	Target     string               `json:"target"`
	Device     string               `json:"device,omitempty"`
	Space      string               `json:"space"`
	Encoding   string               `json:"encoding"`
	Arch       string               `json:"arch"`
	LatencyMs  float64              `json:"latency_ms"`
	LatencySd  float64              `json:"latency_sd_ms"`
	MAdds      int64                `json:"madds"`
	Params     int64                `json:"params"`
	Feasible   bool                 `json:"feasible"`
	Violations []string             `json:"violations,omitempty"`
	Layers     []predictLayerReport `json:"layers"`
}

type predictLayerReport struct {
	Layer  string  `json:"layer"`
	Key    string  `json:"key"`
	MeanMs float64 `json:"mean_ms"`
	VarMs2 float64 `json:"var_ms2"`
}

func runHardwarePredict(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "hardware predict", "nat hardware predict --target T --encoding GENES [--space NAME] [--budget 'latency <= 15ms'] [--layers] [--json]")
	target := fs.String("target", "", "a lookup table (YAML or Parquet file), or the name of one in $NAT_HARDWARE_PATH, results/hardware or ../shared/reference/hardware (e.g. i7-8700K)")
	encoding := fs.String("encoding", "", "NAT integer encoding, e.g. 08011001440551052208877 (NAT-M1)")
	spaceName := fs.String("space", "", "search space preset (default: the table's space, else "+space.NATImageNet+")")
	var budgets constraintList
	fs.Var(&budgets, "budget", "a constraint to check, e.g. 'latency <= 15ms' or 'madds <= 300M' (repeatable)")
	layers := fs.Bool("layers", false, "also print every layer's entry")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hardware predict: unexpected arguments %v", fs.Args())
	}
	if *target == "" || *encoding == "" {
		fs.Usage()
		return errors.New("hardware predict: give --target and --encoding")
	}
	tg, err := hardware.Resolve(*target, hardware.SearchDirs())
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	tg.Constraints = budgets
	sp, err := spaceFor(*spaceName, tg.Table)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	g, err := sp.Parse(*encoding)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	a, err := sp.Decode(g)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	plan, err := sp.Plan(a)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	pred, err := tg.Table.Predict(plan)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	ev, err := tg.Evaluate(ctx, plan)
	if err != nil {
		return fmt.Errorf("hardware predict: %w", err)
	}
	rep := predictReport{Target: tg.Name, Device: tg.Table.Meta.Device, Space: sp.Name, Encoding: sp.Format(g), Arch: a.String(),
		LatencyMs: pred.Mean, LatencySd: math.Sqrt(pred.Var), MAdds: ev.Costs.MAdds, Params: ev.Costs.Params, Feasible: ev.Feasible()}
	for _, v := range ev.Violations {
		rep.Violations = append(rep.Violations, v.String())
	}
	for _, l := range pred.Layers {
		rep.Layers = append(rep.Layers, predictLayerReport{Layer: l.Layer, Key: l.Key, MeanMs: l.Stat.Mean, VarMs2: l.Stat.Var})
	}
	if *asJSON {
		return json.NewEncoder(e.Stdout).Encode(rep)
	}
	fmt.Fprintf(e.Stdout, "target   %s (lookup table, %d entries, %s keys)\n", tg.Name, tg.Table.Len(), tg.Table.Format)
	fmt.Fprintf(e.Stdout, "subnet   %s  [%s]\n", rep.Arch, rep.Encoding)
	fmt.Fprintf(e.Stdout, "latency  %.3f ms (sd %.3f ms, summed over %d layers)\n", rep.LatencyMs, rep.LatencySd, len(rep.Layers))
	fmt.Fprintf(e.Stdout, "costs    %s\n", cost.Costs{MAdds: ev.Costs.MAdds, Params: ev.Costs.Params, NATOps: ev.Costs.NATOps})
	if len(budgets) > 0 {
		if ev.Feasible() {
			fmt.Fprintf(e.Stdout, "budgets  met: %s\n", budgets.String())
		} else {
			fmt.Fprintf(e.Stdout, "budgets  NOT met: %s\n", strings.Join(rep.Violations, "; "))
		}
	}
	if *layers {
		tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "\nlayer\tmean ms\tsd ms\tkey")
		for _, l := range rep.Layers {
			fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%s\n", l.Layer, l.MeanMs, math.Sqrt(l.VarMs2), l.Key)
		}
		return tw.Flush()
	}
	return nil
}

// spaceFor picks the search space: the flag, else the one the table was built for, else NAT's
// ImageNet space (the published tables' space).
func spaceFor(name string, t *hardware.LUT) (*space.Space, error) {
	if name == "" && t != nil {
		name = t.Meta.Space
	}
	if name == "" {
		name = space.NATImageNet
	}
	return space.Preset(name)
}
