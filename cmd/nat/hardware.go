package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/hardware/measure"
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

// measureFlags are the timing flags shared by lut build and validate.
type measureFlags struct {
	batch, warmup, repeats *int
	clock, statistic       *string
	backendConfig          *string
	seed                   *uint64
}

func addMeasureFlags(fs *flag.FlagSet, defaultNote string) measureFlags {
	return measureFlags{
		batch:         fs.Int("batch", 0, "images per run (default 1"+defaultNote+")"),
		warmup:        fs.Int("warmup", 0, "untimed runs before timing (default 10"+defaultNote+")"),
		repeats:       fs.Int("repeats", 0, "timed runs (default 30"+defaultNote+")"),
		clock:         fs.String("clock", "", "wall (elapsed time) or cpu (this process's CPU time, steadier on a shared machine) (default wall"+defaultNote+")"),
		statistic:     fs.String("statistic", "", "median or min of the timed runs (default median"+defaultNote+")"),
		backendConfig: fs.String("backend-config", "", "GoMLX Go backend configuration: ops_sequential (the supernet's) or ops_parallel (the backend's own default, which can deadlock on compute v0.1.2); default: ops_sequential for lut build, the table's configuration for validate"),
		seed:          fs.Uint64("seed", 1, "seed of the random weights and inputs (and of the sampled subnets)"),
	}
}

func (m measureFlags) options() (hardware.MeasureOptions, error) {
	o := hardware.MeasureOptions{Batch: *m.batch, Warmup: *m.warmup, Repeats: *m.repeats}
	var err error
	if *m.clock != "" {
		if o.Clock, err = hardware.ParseClock(*m.clock); err != nil {
			return o, err
		}
	}
	if *m.statistic != "" {
		if o.Statistic, err = hardware.ParseStatistic(*m.statistic); err != nil {
			return o, err
		}
	}
	return o, nil
}

func runHardwareLUTBuild(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "hardware lut build", "nat hardware lut build --space NAME --out FILE.parquet|FILE.yaml [--name N] [--batch 1] [--warmup 10] [--repeats 30] [--fresh]")
	spaceName := fs.String("space", "", "search space preset whose every layer configuration is measured: "+fmt.Sprint(space.PresetNames()))
	out := fs.String("out", "", "table file to write: Parquet (.parquet) or the published YAML format (.yaml)")
	name := fs.String("name", "", "table name (default <space>-gomlx-<backend>)")
	fresh := fs.Bool("fresh", false, "measure everything again even if --out holds part of this table (by default an interrupted build resumes)")
	rounds := fs.Int("rounds", 1, "measure every configuration this many times in interleaved passes and keep the statistic over them")
	calibrate := fs.Int("calibrate", 0, "measure this many random subnets whole and scale the entries by the median measured/summed ratio (0: no calibration)")
	calSeed := fs.Uint64("calibration-seed", 1000, "seed of the calibration subnets (validate with another)")
	mf := addMeasureFlags(fs, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hardware lut build: unexpected arguments %v", fs.Args())
	}
	mopt, err := mf.options()
	if err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	if *spaceName == "" || *out == "" {
		fs.Usage()
		return errors.New("hardware lut build: give --space and --out")
	}
	sp, err := space.Preset(*spaceName)
	if err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	m, err := measure.NewGoMLX(measure.Options{Seed: *mf.seed, BackendConfig: *mf.backendConfig})
	if err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	opt := hardware.BuildOptions{Name: *name, Measure: mopt, Rounds: *rounds, Calibrate: *calibrate, CalibrationSeed: *calSeed}
	if opt.Name == "" {
		opt.Name = sp.Name + "-gomlx-go"
	}
	if !*fresh {
		if _, err := os.Stat(*out); err == nil {
			prev, err := hardware.Load(*out)
			if err != nil {
				return fmt.Errorf("hardware lut build: %s exists and is not a table this build can resume (use --fresh to overwrite): %w", *out, err)
			}
			if prev.Meta.Space != sp.Name {
				return fmt.Errorf("hardware lut build: %s holds a table of space %q, not %q (use --fresh to overwrite)", *out, prev.Meta.Space, sp.Name)
			}
			opt.Resume = prev
			fmt.Fprintf(e.Stderr, "resuming: %d entries of %s kept\n", prev.Len(), *out)
		}
	}
	layers, _, err := hardware.SpaceLayers(sp, hardware.MSuNAS)
	if err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	dev, backend := m.Device()
	mo := opt.Measure.WithDefaults()
	fmt.Fprintf(e.Stderr, "measuring %d layer configurations of %s on %s, %s (batch %d, %d warm-up + %d timed runs each, %s of %s time)\n",
		len(layers), sp.Name, dev, backend, mo.Batch, mo.Warmup, mo.Repeats, mo.Statistic, mo.Clock)
	if *calibrate > 0 {
		fmt.Fprintf(e.Stderr, "then %d calibration subnets measured whole (seed %d)\n", *calibrate, *calSeed)
	}
	start := time.Now()
	opt.Progress = func(done, total int, key string, t hardware.Timing) {
		if done%20 == 0 || done == total {
			el := time.Since(start)
			fmt.Fprintf(e.Stderr, "[%d/%d] %s: %.3f ms  (%s elapsed)\n", done, total, key, t.Median, el.Round(time.Second))
		}
	}
	opt.Checkpoint = func(t *hardware.LUT) error { return hardware.Save(*out, t) }
	t, err := hardware.BuildLUT(ctx, sp, m, opt)
	if err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	if err := hardware.Save(*out, t); err != nil {
		return fmt.Errorf("hardware lut build: %w", err)
	}
	fmt.Fprintf(e.Stdout, "wrote %s: %d entries (%s), %s\n", *out, t.Len(), t.Meta.Notes, time.Since(start).Round(time.Second))
	return nil
}

func runHardwareValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "hardware validate", "nat hardware validate --target T [--space NAME] [--n 50] [--rounds 3] [--out results/hardware] [--json]")
	target := fs.String("target", "", "the lookup table to check against direct measurement on this machine (file or name, as for predict)")
	spaceName := fs.String("space", "", "search space preset to sample subnets from (default: the table's)")
	n := fs.Int("n", 50, "random subnets")
	rounds := fs.Int("rounds", 3, "measure every subnet this many times, interleaved, and keep the statistic over the rounds (evens out load from other processes)")
	outDir := fs.String("out", filepath.Join("results", "hardware"), "directory for the validation report (JSON and Markdown); empty: write none")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	mf := addMeasureFlags(fs, ", or the table's")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("hardware validate: unexpected arguments %v", fs.Args())
	}
	if *target == "" {
		fs.Usage()
		return errors.New("hardware validate: give --target")
	}
	if *n < 2 {
		return fmt.Errorf("hardware validate: --n %d: need at least 2 subnets for a rank correlation", *n)
	}
	tg, err := hardware.Resolve(*target, hardware.SearchDirs())
	if err != nil {
		return fmt.Errorf("hardware validate: %w", err)
	}
	sp, err := spaceFor(*spaceName, tg.Table)
	if err != nil {
		return fmt.Errorf("hardware validate: %w", err)
	}
	mo, err := mf.options()
	if err != nil {
		return fmt.Errorf("hardware validate: %w", err)
	}
	meta := tg.Table.Meta
	if mo.Clock == "" {
		mo.Clock = meta.Clock
	}
	if mo.Statistic == "" {
		mo.Statistic = meta.Statistic
	}
	if mo.Batch == 0 {
		mo.Batch = meta.Batch
	}
	if mo.Warmup == 0 {
		mo.Warmup = meta.Warmup
	}
	if mo.Repeats == 0 {
		mo.Repeats = meta.Repeats
	}
	mo = mo.WithDefaults()
	if meta.Batch != 0 && meta.Batch != mo.Batch {
		fmt.Fprintf(e.Stderr, "warning: table %s was measured at batch %d, validating at batch %d\n", tg.Name, meta.Batch, mo.Batch)
	}
	if meta.Clock != "" && meta.Clock != mo.Clock || meta.Statistic != "" && meta.Statistic != mo.Statistic {
		fmt.Fprintf(e.Stderr, "warning: table %s holds the %s of %s time; validating with the %s of %s time\n", tg.Name, meta.Statistic, meta.Clock, mo.Statistic, mo.Clock)
	}
	// Unless told otherwise, configure the backend as the table was measured (measure.GoMLX writes
	// the configuration into the backend description as config "...").
	backendConfig := *mf.backendConfig
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "backend-config" })
	if !explicit {
		if m := backendConfigRE.FindStringSubmatch(meta.Backend); m != nil {
			backendConfig = m[1]
			if backendConfig == "" {
				fmt.Fprintf(e.Stderr, "warning: table %s was measured with the Go backend's default (parallel) executor; validating with %s, since that executor can deadlock on compute v0.1.2 (pass --backend-config ops_parallel to insist)\n", tg.Name, measure.DefaultBackendConfig)
			}
		}
	}
	m, err := measure.NewGoMLX(measure.Options{Seed: *mf.seed, BackendConfig: backendConfig})
	if err != nil {
		return fmt.Errorf("hardware validate: %w", err)
	}
	dev, backend := m.Device()
	if meta.Device != "" && meta.Device != dev {
		fmt.Fprintf(e.Stderr, "warning: table %s was measured on %q; this machine is %q\n", tg.Name, meta.Device, dev)
	}
	if meta.Backend != "" && meta.Backend != backend {
		fmt.Fprintf(e.Stderr, "warning: table %s was measured with %q; validating with %q (see --backend-config)\n", tg.Name, meta.Backend, backend)
	}
	fmt.Fprintf(e.Stderr, "validating %s on %d random %s subnets, %d round(s), batch %d, %d warm-up + %d timed runs, %s of %s time\n",
		tg.Name, *n, sp.Name, *rounds, mo.Batch, mo.Warmup, mo.Repeats, mo.Statistic, mo.Clock)
	v, err := hardware.Validate(ctx, sp, tg.Table, m, hardware.ValidationOptions{N: *n, Seed: *mf.seed, Measure: mo, Rounds: *rounds,
		Progress: func(done, total int, row hardware.ValidationRow) {
			if done%10 == 0 || done == total {
				fmt.Fprintf(e.Stderr, "[%d/%d] %s: predicted %.2f ms, measured %.2f ms\n", done, total, row.Encoding, row.Predicted, row.Measured)
			}
		}})
	if err != nil {
		return fmt.Errorf("hardware validate: %w", err)
	}
	command := "nat hardware validate " + strings.Join(args, " ")
	if *outDir != "" {
		paths, err := writeValidation(*outDir, command, v)
		if err != nil {
			return fmt.Errorf("hardware validate: %w", err)
		}
		fmt.Fprintf(e.Stderr, "wrote %s\n", strings.Join(paths, ", "))
	}
	if *asJSON {
		return json.NewEncoder(e.Stdout).Encode(struct {
			Command string `json:"command"`
			*hardware.Validation
		}{command, v})
	}
	fmt.Fprintf(e.Stdout, "%s on %s: Kendall tau %.3f, MAPE %.1f%% over %d subnets (targets: tau >= 0.9, MAPE <= 15%%)\n",
		v.Target, v.Device, v.KendallTau, v.MAPE, v.N)
	return nil
}

// backendConfigRE finds the Go backend configuration in a table's backend description.
var backendConfigRE = regexp.MustCompile(`config "([^"]*)"`)

// writeValidation writes the report as JSON and as a Markdown table, named after the target and
// space, and returns the paths.
func writeValidation(dir, command string, v *hardware.Validation) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("validate-%s-%s", v.Target, v.Space))
	js, err := json.MarshalIndent(struct {
		Command string `json:"command"`
		*hardware.Validation
	}{command, v}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(base+".json", append(js, '\n')); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Latency table %s vs direct measurement (%s)\n\n", v.Target, v.Space)
	fmt.Fprintf(&b, "Command: `%s` (started %s, %.0f s)\n\n", command, v.Started, v.Seconds)
	fmt.Fprintf(&b, "Device: %s; backend: %s\n\n", v.Device, v.Backend)
	fmt.Fprintf(&b, "Measurement: batch %d, %d warm-up + %d timed runs per network (%s of %s time), %d interleaved round(s), the same statistic over the rounds kept.\n\n",
		v.Measure.Batch, v.Measure.Warmup, v.Measure.Repeats, v.Measure.Statistic, v.Measure.Clock, v.Rounds)
	if v.Scale > 0 {
		fmt.Fprintf(&b, "The table is calibrated: its entries were scaled by %.4f (fitted on other subnets); before scaling its MAPE here would be %.1f%%.\n\n", v.Scale, v.UncalibratedMAPE)
	}
	pass := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	fmt.Fprintf(&b, "| metric | value | target | |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| Kendall tau-b | %.3f | >= 0.9 | %s |\n", v.KendallTau, pass(v.KendallTau >= 0.9))
	fmt.Fprintf(&b, "| MAPE | %.1f%% | <= 15%% | %s |\n\n", v.MAPE, pass(v.MAPE <= 15))
	fmt.Fprintf(&b, "| # | encoding | MAdds (M) | predicted ms | measured ms | error %% |\n|---|---|---|---|---|---|\n")
	for i, r := range v.Rows {
		fmt.Fprintf(&b, "| %d | %s | %.2f | %.3f | %.3f | %.1f |\n", i+1, r.Encoding, float64(r.MAdds)/1e6, r.Predicted, r.Measured, r.APE)
	}
	if err := writeFileAtomic(base+".md", []byte(b.String())); err != nil {
		return nil, err
	}
	return []string{base + ".json", base + ".md"}, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
