package dsl

import (
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/natgo/nat/dsl/display"
)

// Point is one evaluated subnet: its metric values by metric name, and how far it is outside
// the constraints (0: feasible).
type Point struct {
	Arch      Arch
	Values    map[string]float64
	Violation float64
}

// String prints the point's values (sorted by name) and its subnet.
func (p Point) String() string {
	names := make([]string, 0, len(p.Values))
	for n := range p.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%.4g ", n, p.Values[n])
	}
	if p.Violation > 0 {
		fmt.Fprintf(&b, "(violates constraints by %.4g) ", p.Violation)
	}
	b.WriteString(p.Arch.String())
	return b.String()
}

// Result holds evaluated subnets and offers their front, a table and the best under a
// constraint.
type Result struct {
	Objectives  ObjectiveList
	Constraints ConstraintList
	Points      []Point
	// Dir is the run directory of a transfer or search (empty for Evaluate); Iterations the last
	// finished iteration.
	Dir        string
	Iterations int
	space      *Space
}

// dominates reports whether a is at least as good as b on every objective and better on one.
func (r *Result) dominates(a, b Point) bool {
	better := false
	for _, o := range r.Objectives {
		x, y := a.Values[o.Metric.Name], b.Values[o.Metric.Name]
		if o.Sense == Maximizing {
			x, y = -x, -y
		}
		if x > y {
			return false
		}
		if x < y {
			better = true
		}
	}
	return better
}

// Front returns the feasible non-dominated points, sorted by the first objective.
func (r *Result) Front() []Point {
	var out []Point
	for i, p := range r.Points {
		if p.Violation > 0 {
			continue
		}
		dominated := false
		for j, q := range r.Points {
			if i != j && q.Violation == 0 && r.dominates(q, p) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, p)
		}
	}
	if len(r.Objectives) > 0 {
		name := r.Objectives[0].Metric.Name
		sort.SliceStable(out, func(i, j int) bool { return out[i].Values[name] < out[j].Values[name] })
	}
	return out
}

// Best returns the feasible point that is best on objective o among those that also satisfy
// the extra constraints.
func (r *Result) Best(o Objective, extra ...Constraint) (Point, error) {
	var best *Point
	for i := range r.Points {
		p := &r.Points[i]
		if p.Violation > 0 {
			continue
		}
		ok := true
		for _, c := range extra {
			v, has := p.Values[c.Metric.Name]
			if !has {
				return Point{}, fmt.Errorf("Best: metric %s was not measured in this result", c.Metric.Name)
			}
			if c.Violation(v) > 0 {
				ok = false
			}
		}
		v, has := p.Values[o.Metric.Name]
		if !has {
			return Point{}, fmt.Errorf("Best: metric %s was not measured in this result", o.Metric.Name)
		}
		if !ok {
			continue
		}
		if best == nil || (o.Sense == Maximizing && v > best.Values[o.Metric.Name]) || (o.Sense == Minimizing && v < best.Values[o.Metric.Name]) {
			best = p
		}
	}
	if best == nil {
		return Point{}, fmt.Errorf("Best: no subnet satisfies %v", ConstraintList(append(append([]Constraint{}, r.Constraints...), extra...)))
	}
	return *best, nil
}

func (r *Result) columns() []Metric {
	var cols []Metric
	seen := map[string]bool{}
	for _, o := range r.Objectives {
		cols = append(cols, o.Metric)
		seen[o.Metric.Name] = true
	}
	for _, c := range r.Constraints {
		if !seen[c.Metric.Name] {
			cols = append(cols, c.Metric)
			seen[c.Metric.Name] = true
		}
	}
	return cols
}

// Table prints every point, one row each.
func (r *Result) Table() string {
	var b strings.Builder
	cols := r.columns()
	fmt.Fprintf(&b, "%-4s", "#")
	for _, c := range cols {
		fmt.Fprintf(&b, " %14s", c.Name)
	}
	fmt.Fprintf(&b, "  %-8s %s\n", "feasible", "subnet")
	for i, p := range r.Points {
		fmt.Fprintf(&b, "%-4d", i+1)
		for _, c := range cols {
			fmt.Fprintf(&b, " %14s", c.Format(p.Values[c.Name]))
		}
		fmt.Fprintf(&b, "  %-8v %v\n", p.Violation == 0, p.Arch)
	}
	return b.String()
}

// String is the table.
func (r *Result) String() string {
	if r == nil {
		return "result <nil>"
	}
	return fmt.Sprintf("%d subnets, %d on the front; objectives: %v; constraints: %v\n%s",
		len(r.Points), len(r.Front()), r.Objectives, r.Constraints, r.Table())
}

// Display shows the result as an HTML table.
func (r *Result) Display() display.Bundle {
	var h strings.Builder
	cols := r.columns()
	h.WriteString("<table><tr><th>#</th>")
	for _, c := range cols {
		fmt.Fprintf(&h, "<th>%s</th>", html.EscapeString(c.Name))
	}
	h.WriteString("<th>feasible</th><th>subnet</th></tr>")
	for i, p := range r.Points {
		fmt.Fprintf(&h, "<tr><td>%d</td>", i+1)
		for _, c := range cols {
			fmt.Fprintf(&h, "<td>%s</td>", c.Format(p.Values[c.Name]))
		}
		fmt.Fprintf(&h, "<td>%v</td><td><code>%s</code></td></tr>", p.Violation == 0, html.EscapeString(p.Arch.String()))
	}
	h.WriteString("</table>")
	b := display.Bundle{display.TextPlain: []byte(r.String()), display.HTML: []byte(h.String())}
	if svg, ok := r.Plot()[display.SVG]; ok {
		b[display.HTML] = append(append(append([]byte("<div>"), svg...), "</div>"...), b[display.HTML]...)
	}
	return b
}
