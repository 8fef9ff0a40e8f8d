// Package problems holds the standard multi-objective test problems used to validate the search:
// DTLZ1..DTLZ4 (Deb, Thiele, Laumanns, Zitzler 2002) for any number of objectives and ZDT1..ZDT3
// (Zitzler, Deb, Thiele 2000) for two, with their true Pareto fronts. Definitions follow pymoo's
// (the reference values in ../shared/reference/moea-reference.md come from pymoo).
//
// It is not a benchmark harness: `nat bench moea` and the nsga3 tests use these problems.
package problems

import (
	"context"
	"fmt"
	"math"
	"strings"
)

// Problem is a test problem: a moea.Problem with a name and its true front.
type Problem interface {
	Bounds() (lower, upper []float64)
	NumObjectives() int
	NumConstraints() int
	Evaluate(ctx context.Context, X, F, G [][]float64) error
	// Name is the problem's lower-case name ("dtlz2").
	Name() string
	// ParetoFront returns points of the true front: for DTLZ, the front point on each given
	// direction (rows on the unit simplex with NumObjectives values); for ZDT, which ignore
	// directions, n points spread as pymoo spreads them, where n is the number of directions.
	ParetoFront(directions [][]float64) ([][]float64, error)
}

// New returns the problem called name (dtlz1..dtlz4, zdt1..zdt3) with m objectives and n
// variables; n = 0 picks the usual default (DTLZ1: m+4, DTLZ2..4: m+9, ZDT: 30).
func New(name string, m, n int) (Problem, error) {
	switch strings.ToLower(name) {
	case "dtlz1", "dtlz2", "dtlz3", "dtlz4":
		kind := int(name[4] - '0')
		if m < 2 {
			return nil, fmt.Errorf("problems: %s needs at least 2 objectives, got %d", name, m)
		}
		if n == 0 {
			n = m + 9
			if kind == 1 {
				n = m + 4
			}
		}
		if n < m {
			return nil, fmt.Errorf("problems: %s with %d objectives needs at least %d variables, got %d", name, m, m, n)
		}
		return newDTLZ(kind, m, n), nil
	case "zdt1", "zdt2", "zdt3":
		if m != 0 && m != 2 {
			return nil, fmt.Errorf("problems: %s has 2 objectives, asked for %d", name, m)
		}
		if n == 0 {
			n = 30
		}
		if n < 2 {
			return nil, fmt.Errorf("problems: %s needs at least 2 variables, got %d", name, n)
		}
		return newZDT(int(name[3]-'0'), n), nil
	}
	return nil, fmt.Errorf("problems: unknown problem %q (want dtlz1..dtlz4 or zdt1..zdt3)", name)
}

type bounds struct{ lower, upper []float64 }

func unitBounds(n int) bounds {
	b := bounds{make([]float64, n), make([]float64, n)}
	for i := range b.upper {
		b.upper[i] = 1
	}
	return b
}

func (b bounds) Bounds() (lower, upper []float64) { return b.lower, b.upper }

// DTLZ is one of DTLZ1..DTLZ4 with M objectives and n variables (k = n - M + 1 distance
// variables).
type DTLZ struct {
	bounds
	kind, m, n int
	// Alpha is the meta-variable exponent of DTLZ4 (100); 1 for the others.
	Alpha float64
}

func newDTLZ(kind, m, n int) *DTLZ {
	d := &DTLZ{bounds: unitBounds(n), kind: kind, m: m, n: n, Alpha: 1}
	if kind == 4 {
		d.Alpha = 100
	}
	return d
}

// Name implements Problem.
func (d *DTLZ) Name() string { return fmt.Sprintf("dtlz%d", d.kind) }

// NumObjectives implements Problem.
func (d *DTLZ) NumObjectives() int { return d.m }

// NumConstraints implements Problem.
func (d *DTLZ) NumConstraints() int { return 0 }

// Evaluate implements Problem.
func (d *DTLZ) Evaluate(ctx context.Context, X, F, G [][]float64) error {
	for i, x := range X {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		d.eval(x, F[i])
	}
	return nil
}

func (d *DTLZ) eval(x, f []float64) {
	m := d.m
	xm := x[m-1:]
	g := 0.0
	switch d.kind {
	case 1, 3:
		for _, v := range xm {
			g += (v-0.5)*(v-0.5) - math.Cos(20*math.Pi*(v-0.5))
		}
		g = 100 * (float64(len(xm)) + g)
	default:
		for _, v := range xm {
			g += (v - 0.5) * (v - 0.5)
		}
	}
	if d.kind == 1 {
		for i := 0; i < m; i++ {
			v := 0.5 * (1 + g)
			for j := 0; j < m-1-i; j++ {
				v *= x[j]
			}
			if i > 0 {
				v *= 1 - x[m-1-i]
			}
			f[i] = v
		}
		return
	}
	// f_i = (1+g) prod_{j < m-1-i} cos(theta_j) * sin(theta_{m-1-i}) (no sine for i = 0): a
	// running product of cosines from the first angle gives every f_i in one pass.
	var sinBuf [16]float64
	sins := sinBuf[:0]
	if m-1 > len(sinBuf) {
		sins = make([]float64, 0, m-1)
	}
	for j := 0; j < m-1; j++ {
		sins = append(sins, math.Sin(d.theta(x[j])))
	}
	prod := 1 + g
	for i := m - 1; i >= 0; i-- {
		// prod = (1+g) prod_{j < m-1-i} cos(theta_j)
		v := prod
		if i > 0 {
			v *= sins[m-1-i]
		}
		f[i] = v
		if i > 0 {
			prod *= math.Cos(d.theta(x[m-1-i]))
		}
	}
}

func (d *DTLZ) theta(x float64) float64 {
	if d.Alpha != 1 {
		x = math.Pow(x, d.Alpha)
	}
	return x * math.Pi / 2
}

// ParetoFront implements Problem: DTLZ1's front is the simplex sum f = 1/2, so the point on
// direction w is w/2 (w on the unit simplex); DTLZ2..4's is the unit sphere, w/|w|.
func (d *DTLZ) ParetoFront(directions [][]float64) ([][]float64, error) {
	out := make([][]float64, len(directions))
	for i, w := range directions {
		if len(w) != d.m {
			return nil, fmt.Errorf("problems: direction %d has %d values, want %d", i, len(w), d.m)
		}
		scale := 0.0
		if d.kind == 1 {
			sum := 0.0
			for _, v := range w {
				sum += v
			}
			scale = 0.5 / sum
		} else {
			n2 := 0.0
			for _, v := range w {
				n2 += v * v
			}
			scale = 1 / math.Sqrt(n2)
		}
		if math.IsInf(scale, 0) || math.IsNaN(scale) {
			return nil, fmt.Errorf("problems: direction %d is zero", i)
		}
		p := make([]float64, d.m)
		for j, v := range w {
			p[j] = v * scale
		}
		out[i] = p
	}
	return out, nil
}

// ZDT is one of ZDT1..ZDT3 (two objectives, n variables in [0, 1]).
type ZDT struct {
	bounds
	kind, n int
}

func newZDT(kind, n int) *ZDT { return &ZDT{bounds: unitBounds(n), kind: kind, n: n} }

// Name implements Problem.
func (z *ZDT) Name() string { return fmt.Sprintf("zdt%d", z.kind) }

// NumObjectives implements Problem.
func (z *ZDT) NumObjectives() int { return 2 }

// NumConstraints implements Problem.
func (z *ZDT) NumConstraints() int { return 0 }

// Evaluate implements Problem.
func (z *ZDT) Evaluate(ctx context.Context, X, F, G [][]float64) error {
	for i, x := range X {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		f1 := x[0]
		s := 0.0
		for _, v := range x[1:] {
			s += v
		}
		g := 1 + 9*s/float64(len(x)-1)
		F[i][0] = f1
		F[i][1] = g * z.h(f1/g, f1)
	}
	return nil
}

func (z *ZDT) h(r, f1 float64) float64 {
	switch z.kind {
	case 1:
		return 1 - math.Sqrt(r)
	case 2:
		return 1 - r*r
	}
	return 1 - math.Sqrt(r) - r*math.Sin(10*math.Pi*f1)
}

// zdt3Regions are the f1 intervals of ZDT3's disconnected front (pymoo's values).
var zdt3Regions = [5][2]float64{
	{0, 0.0830015349}, {0.182228780, 0.2577623634}, {0.4093136748, 0.4538821041},
	{0.6183967944, 0.6525117038}, {0.8233317983, 0.8518328654},
}

// ParetoFront implements Problem: len(directions) points (the directions themselves are
// ignored), f1 evenly spaced on [0, 1] (ZDT3: len/5 points on each of its five pieces), f2 on
// the front g = 1.
func (z *ZDT) ParetoFront(directions [][]float64) ([][]float64, error) {
	n := len(directions)
	if n < 2 {
		return nil, fmt.Errorf("problems: %s front needs at least 2 points, asked %d", z.Name(), n)
	}
	var out [][]float64
	line := func(a, b float64, k int) {
		for i := 0; i < k; i++ {
			f1 := a + (b-a)*float64(i)/float64(k-1)
			out = append(out, []float64{f1, z.h(f1, f1)})
		}
	}
	if z.kind == 3 {
		k := n / 5
		if k < 2 {
			return nil, fmt.Errorf("problems: zdt3 front needs at least 10 points, asked %d", n)
		}
		for _, r := range zdt3Regions {
			line(r[0], r[1], k)
		}
		return out, nil
	}
	line(0, 1, n)
	return out, nil
}
