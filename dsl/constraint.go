package dsl

import (
	"fmt"
	"math"
	"strings"
)

// Constraint bounds a metric: Metric <= Max or Metric >= Min.
type Constraint struct {
	Metric Metric
	AtMost bool    // true: Metric <= Bound; false: Metric >= Bound
	Bound  float64 // in the metric's raw unit (multiply-adds, parameters, ms, percent)
}

// AtMost is the constraint m <= bound (raw units: MAdds(), 300e6 is 300 M multiply-adds).
func AtMost(m Metric, bound float64) Constraint {
	checkMetric("AtMost", m)
	checkBound("AtMost", bound)
	return Constraint{Metric: m, AtMost: true, Bound: bound}
}

// AtLeast is the constraint m >= bound.
func AtLeast(m Metric, bound float64) Constraint {
	checkMetric("AtLeast", m)
	checkBound("AtLeast", bound)
	return Constraint{Metric: m, AtMost: false, Bound: bound}
}

func checkBound(fn string, b float64) {
	if math.IsNaN(b) || math.IsInf(b, 0) {
		misuse(fn, "bound must be a finite number, got %v", b)
	}
}

// Violation is how far v is outside the constraint (0 when satisfied).
func (c Constraint) Violation(v float64) float64 {
	if c.AtMost {
		return math.Max(0, v-c.Bound)
	}
	return math.Max(0, c.Bound-v)
}

func (c Constraint) String() string {
	op := ">="
	if c.AtMost {
		op = "<="
	}
	return fmt.Sprintf("%s %s %s", c.Metric.Name, op, c.Metric.Format(c.Bound))
}

// Constraints collects constraints and rejects contradictory ones (a metric bounded above below
// its lower bound).
func Constraints(cs ...Constraint) ConstraintList {
	lo, hi := map[string]Constraint{}, map[string]Constraint{}
	for _, c := range cs {
		checkMetric("Constraints", c.Metric)
		name := c.Metric.Name
		if c.AtMost {
			if h, ok := hi[name]; !ok || c.Bound < h.Bound {
				hi[name] = c
			}
		} else {
			if l, ok := lo[name]; !ok || c.Bound > l.Bound {
				lo[name] = c
			}
		}
		if l, ok := lo[name]; ok {
			if h, ok := hi[name]; ok && l.Bound > h.Bound {
				misuse("Constraints", "contradictory constraints: %s and %s leave no subnet", l, h)
			}
		}
		if c.AtMost && c.Bound < 0 && (name == "madds" || name == "params" || strings.HasPrefix(name, "latency@")) {
			misuse("Constraints", "%s can never hold: %s is never negative", c, name)
		}
	}
	return ConstraintList(cs)
}

// ConstraintList is a checked list of constraints.
type ConstraintList []Constraint

func (l ConstraintList) String() string {
	if len(l) == 0 {
		return "no constraints"
	}
	parts := make([]string, len(l))
	for i, c := range l {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}
