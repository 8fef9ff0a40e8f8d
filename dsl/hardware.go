package dsl

import (
	"fmt"
	"os"

	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
)

// Target is a hardware target whose latency the search can minimize or bound.
type Target struct {
	Name string
	lut  *hardware.LUT
	path string
}

// LatencyTable loads a target from a latency lookup table file (NAT's published YAML format,
// or one written by nat hardware lut build).
func LatencyTable(name, path string) *Target {
	f, err := os.Open(path)
	if err != nil {
		misuse("LatencyTable", "target %q: %v", name, err)
	}
	defer f.Close()
	t, err := hardware.ReadYAML(f, path)
	if err != nil {
		misuse("LatencyTable", "target %q: %v", name, err)
	}
	return &Target{Name: name, lut: t, path: path}
}

// Measured is a target whose latency is measured on this machine by running the subnet.
func Measured(name string) *Target {
	return &Target{Name: name}
}

// String describes the target.
func (t *Target) String() string {
	if t == nil {
		return "target <nil>"
	}
	if t.lut != nil {
		return fmt.Sprintf("target %s: lookup table %s (%d entries)", t.Name, t.path, t.lut.Len())
	}
	return fmt.Sprintf("target %s: measured on this machine", t.Name)
}

// Latency is the predicted latency of a subnet on a target, in milliseconds (batch 1 for a
// table built that way).
func Latency(t *Target) Metric {
	if t == nil {
		misuse("Latency", "nil target: load one with LatencyTable(name, path)")
	}
	return Metric{Name: "latency@" + t.Name, Unit: "ms", Scale: 1, kind: kindLatency, target: t, measure: func(s *space.Space, a Arch) (float64, error) {
		if t.lut == nil {
			return 0, notBuilt("measured latency on " + t.Name + " (needs the supernet runtime)")
		}
		p, err := s.Plan(a)
		if err != nil {
			return 0, err
		}
		pred, err := t.lut.Predict(p)
		if err != nil {
			return 0, fmt.Errorf("latency on %s: %w", t.Name, err)
		}
		return pred.Mean, nil
	}}
}

// Budget is the constraint latency <= ms on the target.
func (t *Target) Budget(ms float64) Constraint {
	return AtMost(Latency(t), ms)
}
