package dsl

import (
	"context"
	"fmt"

	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/hardware/measure"
	"github.com/natgo/nat/nat/space"
)

// Target is a hardware target whose latency the search can minimize or bound: a latency lookup
// table (NAT's way, fast) or measurement on this machine (exact, slow: each subnet is built and
// timed).
type Target struct {
	Name string
	t    *hardware.Target
}

// Hardware resolves a target by name or path: a YAML or Parquet lookup table file, or the name
// of a table in $NAT_HARDWARE_PATH, results/hardware or ../shared/reference/hardware (the
// published CPU table is "i7-8700K").
func Hardware(spec string) *Target {
	t, err := hardware.Resolve(spec, hardware.SearchDirs())
	if err != nil {
		misuse("Hardware", "%v", err)
	}
	return &Target{Name: t.Name, t: t}
}

// LatencyTable loads a target from a latency lookup table file (NAT's published YAML format, or
// the YAML or Parquet that nat hardware lut build writes).
func LatencyTable(name, path string) *Target {
	lut, err := hardware.Load(path)
	if err != nil {
		misuse("LatencyTable", "target %q: %v", name, err)
	}
	t := hardware.NewLUTTarget(lut)
	t.Name = name
	return &Target{Name: name, t: t}
}

// Measured is this machine as a target: each subnet is built with GoMLX and timed (batch 1,
// median of 10 runs after 3 warm-up runs).
func Measured(name string) *Target {
	g, err := measure.NewGoMLX(measure.Options{})
	if err != nil {
		misuse("Measured", "target %q: %v", name, err)
	}
	return &Target{Name: name, t: &hardware.Target{
		Name: name, Metric: hardware.Latency, Method: hardware.ByMeasurement,
		Estimator: hardware.Measured{Measurer: g, Options: hardware.MeasureOptions{Warmup: 3, Repeats: 10}},
	}}
}

// String describes the target.
func (t *Target) String() string {
	if t == nil || t.t == nil {
		return "target <nil>"
	}
	if t.t.Table != nil {
		return fmt.Sprintf("target %s: latency lookup table (%d entries)", t.Name, t.t.Table.Len())
	}
	return fmt.Sprintf("target %s: latency %s on this machine", t.Name, t.t.Method)
}

// Latency is the latency of a subnet on a target, in milliseconds.
func Latency(t *Target) Metric {
	if t == nil || t.t == nil {
		misuse("Latency", "nil target: use Hardware(name), LatencyTable(name, path) or Measured(name)")
	}
	return Metric{Name: "latency@" + t.Name, Unit: "ms", Scale: 1, kind: kindLatency, target: t, measure: func(s *space.Space, a Arch) (float64, error) {
		p, err := s.Plan(a)
		if err != nil {
			return 0, err
		}
		v, err := t.t.Estimator.Estimate(context.Background(), p)
		if err != nil {
			return 0, fmt.Errorf("latency on %s: %w", t.Name, err)
		}
		return v, nil
	}}
}

// Budget is the constraint latency <= ms on the target.
func (t *Target) Budget(ms float64) Constraint {
	return AtMost(Latency(t), ms)
}
