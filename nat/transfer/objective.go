package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
)

// ObjectiveKind says how an objective is computed.
type ObjectiveKind string

// The kinds of objective.
const (
	KindTop1    ObjectiveKind = "top1"    // measured on the validation split, predicted by the surrogate
	KindMAdds   ObjectiveKind = "madds"   // exact, nat/cost, in millions
	KindParams  ObjectiveKind = "params"  // exact, nat/cost, in millions
	KindLatency ObjectiveKind = "latency" // exact for a hardware target (its Batch function)
	KindCustom  ObjectiveKind = "custom"  // any function of the architecture (its Batch function)
)

// Objective is one objective of the search, in natural units and sense: Maximize says which way
// is better (top-1 is maximised, costs minimised). Only top-1 is expensive; every other
// objective is computed exactly, once per distinct subnet (the loop caches values by genome)
// and in batches, so an interpreted closure (about 5 us a call) is called only where needed.
type Objective struct {
	Name     string        `json:"name"`
	Kind     ObjectiveKind `json:"kind"`
	Maximize bool          `json:"maximize"`
	Unit     string        `json:"unit,omitempty"`
	// Target records the hardware target of a latency objective.
	Target string `json:"target,omitempty"`
	// Batch computes the objective for a batch of subnets (latency and custom objectives).
	// It is not serialised: a resumed run must be given the same function again.
	Batch func(archs []space.Arch) ([]float64, error) `json:"-"`
}

// Top1 is top-1 accuracy in percent on the validation split after batch-norm recalibration.
func Top1() Objective {
	return Objective{Name: "top1", Kind: KindTop1, Maximize: true, Unit: "%"}
}

// MAdds is the number of multiply-adds in millions (nat/cost).
func MAdds() Objective { return Objective{Name: "madds", Kind: KindMAdds, Unit: "M"} }

// Params is the number of parameters in millions (nat/cost).
func Params() Objective { return Objective{Name: "params", Kind: KindParams, Unit: "M"} }

// Latency is the latency in milliseconds on a hardware target, computed by batch (for example
// a lookup-table prediction from nat/hardware).
func Latency(target string, batch func(archs []space.Arch) ([]float64, error)) Objective {
	return Objective{Name: "latency_ms", Kind: KindLatency, Unit: "ms", Target: target, Batch: batch}
}

// Func is a custom objective from a per-subnet function (minimised unless maximize). The DSL
// passes interpreted closures here; a panic in f becomes an error naming the objective and
// the subnet.
func Func(name string, maximize bool, f func(space.Arch) float64) Objective {
	return Objective{Name: name, Kind: KindCustom, Maximize: maximize, Batch: func(archs []space.Arch) (out []float64, err error) {
		out = make([]float64, len(archs))
		i := 0
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("objective %q panicked on subnet %s: %v", name, archs[i], r)
			}
		}()
		for i = range archs {
			out[i] = f(archs[i])
		}
		return out, nil
	}}
}

func (o Objective) validate() error {
	if o.Name == "" {
		return errors.New("objective has no name")
	}
	switch o.Kind {
	case KindTop1:
		if !o.Maximize {
			return fmt.Errorf("objective %q: top-1 is maximised (use Top1())", o.Name)
		}
	case KindMAdds, KindParams:
	case KindLatency, KindCustom:
		if o.Batch == nil {
			return fmt.Errorf("objective %q (%s) has no function: a %s objective must be given its Batch function (also when resuming)", o.Name, o.Kind, o.Kind)
		}
	default:
		return fmt.Errorf("objective %q: unknown kind %q", o.Name, o.Kind)
	}
	return nil
}

// minimised turns a natural value into the search's minimised form.
func (o Objective) minimised(v float64) float64 {
	if o.Maximize {
		return -v
	}
	return v
}

// exact computes the cheap (non-top-1) objectives of a batch of subnets. costs are the nat/cost
// counts of the same subnets.
func exactObjective(o Objective, archs []space.Arch, costs []cost.Costs) ([]float64, error) {
	switch o.Kind {
	case KindMAdds:
		out := make([]float64, len(archs))
		for i, c := range costs {
			out[i] = float64(c.MAdds) / 1e6
		}
		return out, nil
	case KindParams:
		out := make([]float64, len(archs))
		for i, c := range costs {
			out[i] = float64(c.Params) / 1e6
		}
		return out, nil
	case KindLatency, KindCustom:
		out, err := o.Batch(archs)
		if err != nil {
			return nil, fmt.Errorf("objective %q: %w", o.Name, err)
		}
		if len(out) != len(archs) {
			return nil, fmt.Errorf("objective %q returned %d values for %d subnets", o.Name, len(out), len(archs))
		}
		for i, v := range out {
			if v != v {
				return nil, fmt.Errorf("objective %q is NaN for subnet %s", o.Name, archs[i])
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("objective %q (%s) is not computed exactly", o.Name, o.Kind)
}

// Hardware is the value of a subnet on a hardware target (nat/hardware): latency in
// milliseconds from a lookup table, or the target's other metric. The objective is named
// "<metric>_<unit>" (e.g. "latency_ms") and records the target's name.
func Hardware(sp *space.Space, t *hardware.Target) Objective {
	name := string(t.Metric)
	if u := t.Metric.Unit(); u != "" {
		name += "_" + u
	}
	return Objective{Name: name, Kind: KindLatency, Unit: t.Metric.Unit(), Target: t.Name,
		Batch: func(archs []space.Arch) ([]float64, error) {
			out := make([]float64, len(archs))
			for i, a := range archs {
				p, err := sp.Plan(a)
				if err != nil {
					return nil, err
				}
				v, err := t.Estimator.Estimate(context.Background(), p)
				if err != nil {
					return nil, fmt.Errorf("target %s: subnet %s: %w", t.Name, a, err)
				}
				out[i] = v
			}
			return out, nil
		}}
}
