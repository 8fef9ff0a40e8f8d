package dsl

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// Metric is a quantity measured on a subnet: top-1 accuracy, multiply-adds, parameters,
// latency on a hardware target, or a scripted function.
type Metric struct {
	// Name identifies the metric in tables and constraints ("top1", "madds", "latency@cpu", ...).
	Name string
	// Unit is printed after values ("%", "M", "ms", ...); Scale divides raw values for printing.
	Unit  string
	Scale float64
	// NeedsAccuracy is true for metrics that need a trained supernet (top-1).
	NeedsAccuracy bool
	measure       func(s *space.Space, a Arch) (float64, error)
	kind          metricKind
	custom        func(Arch) float64 // for kind custom
	target        *Target            // for kind latency
}

// metricKind says how the engine computes a metric.
type metricKind int

const (
	kindCustom metricKind = iota
	kindTop1
	kindMAdds
	kindParams
	kindLatency
)

// Top1 is top-1 accuracy on the target task's validation split, in percent, measured on the
// experiment's supernet: by Evaluate (with Experiment.Supernet set) and by the transfer loop.
func Top1() Metric {
	return Metric{Name: "top1", Unit: "%", Scale: 1, NeedsAccuracy: true, kind: kindTop1,
		measure: func(*space.Space, Arch) (float64, error) {
			return 0, errors.New("top-1 is measured on a supernet: use Evaluate(experiment, archs...) with Experiment.Supernet and Data set")
		}}
}

// MAdds counts convolution and fully connected multiply-adds.
func MAdds() Metric {
	return Metric{Name: "madds", Unit: "M", Scale: 1e6, kind: kindMAdds, measure: func(s *space.Space, a Arch) (float64, error) {
		c, err := cost.Arch(s, a)
		return float64(c.MAdds), err
	}}
}

// Params counts trainable parameters.
func Params() Metric {
	return Metric{Name: "params", Unit: "M", Scale: 1e6, kind: kindParams, measure: func(s *space.Space, a Arch) (float64, error) {
		c, err := cost.Arch(s, a)
		return float64(c.Params), err
	}}
}

// Custom is a scripted metric: any function of the subnet (an energy model, a memory estimate).
// In an interpreter session f is interpreted: each call costs a few microseconds.
func Custom(name string, f func(Arch) float64) Metric {
	if name == "" {
		misuse("Custom", "a custom metric needs a name")
	}
	if f == nil {
		misuse("Custom", "metric %q: the function is nil", name)
	}
	return Metric{Name: name, Scale: 1, kind: kindCustom, custom: f, measure: func(_ *space.Space, a Arch) (float64, error) {
		v := f(a)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return v, fmt.Errorf("custom metric %q returned %v for %v", name, v, a)
		}
		return v, nil
	}}
}

// Measure evaluates the metric on a subnet of a space.
func (m Metric) Measure(s *Space, a Arch) (float64, error) {
	if m.measure == nil {
		return 0, fmt.Errorf("metric %q has no measure: build metrics with Top1, MAdds, Params, Latency or Custom", m.Name)
	}
	if s == nil || s.s == nil {
		return 0, fmt.Errorf("metric %s: nil search space", m.Name)
	}
	if err := s.s.ValidateArch(a); err != nil {
		return 0, fmt.Errorf("metric %s: %w", m.Name, err)
	}
	return m.measure(s.s, a)
}

// Format prints a raw value of the metric with its unit.
func (m Metric) Format(v float64) string {
	scale := m.Scale
	if scale == 0 {
		scale = 1
	}
	return fmt.Sprintf("%.4g%s", v/scale, m.Unit)
}

func (m Metric) String() string { return m.Name }

// Sense says whether an objective is maximized or minimized.
type Sense int

// The two senses.
const (
	Minimizing Sense = iota
	Maximizing
)

func (s Sense) String() string {
	if s == Maximizing {
		return "maximize"
	}
	return "minimize"
}

// Objective is a metric with a direction.
type Objective struct {
	Metric Metric
	Sense  Sense
}

// Maximize makes an objective of a metric to be made as large as possible.
func Maximize(m Metric) Objective { checkMetric("Maximize", m); return Objective{m, Maximizing} }

// Minimize makes an objective of a metric to be made as small as possible.
func Minimize(m Metric) Objective { checkMetric("Minimize", m); return Objective{m, Minimizing} }

func checkMetric(fn string, m Metric) {
	if m.measure == nil {
		misuse(fn, "empty metric: use Top1(), MAdds(), Params(), Latency(target) or Custom(name, f)")
	}
}

func (o Objective) String() string { return o.Sense.String() + " " + o.Metric.Name }

// Objectives collects the objectives of an experiment and checks them: at least one, and no
// metric twice.
func Objectives(objs ...Objective) ObjectiveList {
	if len(objs) == 0 {
		misuse("Objectives", "no objectives: give at least one, e.g. Maximize(Top1())")
	}
	seen := map[string]bool{}
	for _, o := range objs {
		checkMetric("Objectives", o.Metric)
		if seen[o.Metric.Name] {
			misuse("Objectives", "metric %q appears twice", o.Metric.Name)
		}
		seen[o.Metric.Name] = true
	}
	return ObjectiveList(objs)
}

// ObjectiveList is a checked list of objectives.
type ObjectiveList []Objective

func (l ObjectiveList) String() string {
	parts := make([]string, len(l))
	for i, o := range l {
		parts[i] = o.String()
	}
	return strings.Join(parts, ", ")
}

// Display shows the objectives as a small table.
func (l ObjectiveList) Display() display.Bundle {
	var md strings.Builder
	md.WriteString("| # | objective | metric | unit |\n|---|---|---|---|\n")
	for i, o := range l {
		fmt.Fprintf(&md, "| %d | %s | %s | %s |\n", i+1, o.Sense, o.Metric.Name, o.Metric.Unit)
	}
	return display.Bundle{display.TextPlain: []byte(l.String()), display.Markdown: []byte(md.String())}
}
