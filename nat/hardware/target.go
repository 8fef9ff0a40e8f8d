package hardware

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// Metric is what a target measures or what a constraint bounds.
type Metric string

// Metrics. Latency is the one NAT's experiments use; energy and memory have room here so that a
// table of millijoules or megabytes per layer plugs in the same way (an Estimator per metric).
const (
	Latency Metric = "latency" // milliseconds
	Energy  Metric = "energy"  // millijoules
	Memory  Metric = "memory"  // megabytes
	MAdds   Metric = "madds"   // multiply-adds (nat/cost)
	Params  Metric = "params"  // parameters (nat/cost)
)

// Unit is the unit values of the metric are expressed in.
func (m Metric) Unit() string {
	switch m {
	case Latency:
		return "ms"
	case Energy:
		return "mJ"
	case Memory:
		return "MB"
	}
	return ""
}

// Method says how a target obtains its values.
type Method string

// Methods.
const (
	ByLookupTable Method = "lookup-table" // sum of per-layer entries (LUT)
	ByMeasurement Method = "measured"     // running the whole network on the device (Measurer)
	ByAnalytic    Method = "analytic"     // a formula of the network's costs
)

// Estimator gives a network's value of one metric.
type Estimator interface {
	Estimate(ctx context.Context, p space.Plan) (float64, error)
}

// Estimate makes a LUT an Estimator: the predicted mean latency in milliseconds.
func (t *LUT) Estimate(_ context.Context, p space.Plan) (float64, error) {
	pred, err := t.Predict(p)
	return pred.Mean, err
}

// Analytic is a latency model linear in multiply-adds: Fixed + PerMAdd * MAdds/1e6 milliseconds.
// It is the cheapest stand-in for a device without a table.
type Analytic struct {
	Fixed   float64 // milliseconds per inference
	PerMAdd float64 // milliseconds per million multiply-adds
}

// Estimate implements Estimator.
func (a Analytic) Estimate(_ context.Context, p space.Plan) (float64, error) {
	return a.Fixed + a.PerMAdd*float64(cost.Plan(p).MAdds)/1e6, nil
}

// Measured is an Estimator that runs the whole network on a Measurer and reports its median.
type Measured struct {
	Measurer Measurer
	Options  MeasureOptions
}

// Estimate implements Estimator.
func (m Measured) Estimate(ctx context.Context, p space.Plan) (float64, error) {
	t, err := m.Measurer.MeasureNetwork(ctx, p, m.Options)
	return t.Value(m.Options.WithDefaults().Statistic), err
}

// Constraint bounds one metric from above: value <= Max (in the metric's unit; counts for MAdds
// and parameters).
type Constraint struct {
	Metric Metric
	Max    float64
}

func (c Constraint) String() string {
	switch c.Metric {
	case MAdds, Params:
		return fmt.Sprintf("%s <= %gM", c.Metric, c.Max/1e6)
	}
	return fmt.Sprintf("%s <= %g %s", c.Metric, c.Max, c.Metric.Unit())
}

// ParseConstraint reads "latency <= 15ms", "madds <= 300M", "params<=5.2M", "energy <= 30 mJ",
// "memory <= 20MB". Count suffixes are K, M and G; latency accepts us, ms and s.
func ParseConstraint(s string) (Constraint, error) {
	lhs, rhs, ok := strings.Cut(s, "<=")
	if !ok {
		return Constraint{}, fmt.Errorf("hardware: constraint %q: want \"metric <= value\"", s)
	}
	m := Metric(strings.ToLower(strings.TrimSpace(lhs)))
	val := strings.ReplaceAll(strings.TrimSpace(rhs), " ", "")
	scale := 1.0
	suffixes := map[Metric]map[string]float64{
		Latency: {"us": 1e-3, "ms": 1, "s": 1e3},
		Energy:  {"mj": 1, "j": 1e3},
		Memory:  {"kb": 1e-3, "mb": 1, "gb": 1e3},
		MAdds:   {"k": 1e3, "m": 1e6, "g": 1e9},
		Params:  {"k": 1e3, "m": 1e6, "g": 1e9},
	}
	table, known := suffixes[m]
	if !known {
		return Constraint{}, fmt.Errorf("hardware: constraint %q: unknown metric %q (known: latency, energy, memory, madds, params)", s, m)
	}
	low := strings.ToLower(val)
	best := ""
	for suf := range table {
		if strings.HasSuffix(low, suf) && len(suf) > len(best) {
			best = suf
		}
	}
	if best != "" {
		scale = table[best]
		val = val[:len(val)-len(best)]
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return Constraint{}, fmt.Errorf("hardware: constraint %q: %q is not a non-negative number", s, strings.TrimSpace(rhs))
	}
	return Constraint{Metric: m, Max: v * scale}, nil
}

// Target is a device a user names: what it measures, how, and the budgets a search must meet.
type Target struct {
	Name        string
	Metric      Metric
	Method      Method
	Estimator   Estimator
	Constraints []Constraint
	// Table is the lookup table behind a ByLookupTable target (nil otherwise).
	Table *LUT
}

// NewLUTTarget makes a latency target of a lookup table.
func NewLUTTarget(t *LUT, constraints ...Constraint) *Target {
	return &Target{Name: t.Name, Metric: Latency, Method: ByLookupTable, Estimator: t, Constraints: constraints, Table: t}
}

// Evaluation is a network's value on a target together with its costs and the constraints it
// breaks.
type Evaluation struct {
	Value      float64 // the target's metric, in its unit
	Costs      cost.Costs
	Violations []Violation
}

// Violation is one broken constraint: by how much the value exceeds the bound.
type Violation struct {
	Constraint Constraint
	Value      float64
}

func (v Violation) String() string {
	switch v.Constraint.Metric {
	case MAdds, Params:
		return fmt.Sprintf("%s is %.4gM, over %s", v.Constraint.Metric, v.Value/1e6, v.Constraint)
	}
	return fmt.Sprintf("%s is %.4g %s, over %s", v.Constraint.Metric, v.Value, v.Constraint.Metric.Unit(), v.Constraint)
}

// Feasible reports whether no constraint is broken.
func (e Evaluation) Feasible() bool { return len(e.Violations) == 0 }

// Evaluate estimates a network on the target and checks the target's constraints. Constraints on
// MAdds and parameters are checked with nat/cost; others must be on the target's own metric.
func (t *Target) Evaluate(ctx context.Context, p space.Plan) (Evaluation, error) {
	if t.Estimator == nil {
		return Evaluation{}, fmt.Errorf("hardware: target %q has no estimator", t.Name)
	}
	v, err := t.Estimator.Estimate(ctx, p)
	if err != nil {
		return Evaluation{}, fmt.Errorf("target %s: %w", t.Name, err)
	}
	ev := Evaluation{Value: v, Costs: cost.Plan(p)}
	for _, c := range t.Constraints {
		var got float64
		switch c.Metric {
		case MAdds:
			got = float64(ev.Costs.MAdds)
		case Params:
			got = float64(ev.Costs.Params)
		case t.Metric:
			got = v
		default:
			return Evaluation{}, fmt.Errorf("hardware: target %q measures %s and cannot check %s", t.Name, t.Metric, c)
		}
		if got > c.Max {
			ev.Violations = append(ev.Violations, Violation{Constraint: c, Value: got})
		}
	}
	return ev, nil
}

// SearchDirs lists where named tables are looked for: the directories in $NAT_HARDWARE_PATH
// (separated as $PATH is), then results/hardware and ../shared/reference/hardware relative to
// the working directory (the repository root, where the CLI and tests run).
func SearchDirs() []string {
	var dirs []string
	if env := os.Getenv("NAT_HARDWARE_PATH"); env != "" {
		for _, d := range filepath.SplitList(env) {
			if d != "" {
				dirs = append(dirs, d)
			}
		}
	}
	return append(dirs, filepath.Join("results", "hardware"), filepath.Join("..", "shared", "reference", "hardware"))
}

// ErrTargetNotFound is wrapped by Resolve when a named target has no table in any directory.
var ErrTargetNotFound = errors.New("hardware target not found")

// Resolve turns what a user wrote into a target: a path to a YAML or Parquet table, or the name
// of a table in one of dirs (NAME_lut.yaml, NAME.yaml, NAME_lut.parquet or NAME.parquet; the
// published CPU table is named "i7-8700K"). A table measured anywhere (another backend, a GPU)
// becomes a target this way without code changes.
func Resolve(spec string, dirs []string) (*Target, error) {
	if spec == "" {
		return nil, errors.New("hardware: no target given (a table file, or a name such as i7-8700K)")
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		t, err := Load(spec)
		if err != nil {
			return nil, err
		}
		return NewLUTTarget(t), nil
	}
	if strings.ContainsRune(spec, os.PathSeparator) || strings.ContainsRune(spec, '/') || isParquet(spec) ||
		strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml") {
		// It was meant as a path.
		_, err := os.Stat(spec)
		if err == nil {
			err = fmt.Errorf("%s is a directory", spec)
		}
		return nil, fmt.Errorf("hardware: target table %w", err)
	}
	var tried []string
	for _, d := range dirs {
		for _, f := range []string{spec + "_lut.yaml", spec + ".yaml", spec + "_lut.parquet", spec + ".parquet"} {
			p := filepath.Join(d, f)
			tried = append(tried, p)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				t, err := Load(p)
				if err != nil {
					return nil, err
				}
				return NewLUTTarget(t), nil
			}
		}
	}
	return nil, fmt.Errorf("hardware: %q is neither a file nor a table in %s: %w (tried %s)", spec, strings.Join(dirs, ", "), ErrTargetNotFound, strings.Join(tried, ", "))
}
