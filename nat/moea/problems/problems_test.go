package problems

import (
	"context"
	"math"
	"testing"

	"github.com/natgo/nat/nat/moea/refdirs"
)

func eval(t *testing.T, p Problem, x []float64) []float64 {
	t.Helper()
	f := make([]float64, p.NumObjectives())
	if err := p.Evaluate(context.Background(), [][]float64{x}, [][]float64{f}, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// Values by hand from the definitions (Deb, Thiele, Laumanns, Zitzler 2002; Zitzler, Deb,
// Thiele 2000).
func TestKnownValues(t *testing.T) {
	half := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.5
		}
		return x
	}
	cases := []struct {
		name string
		m, n int
		x    []float64
		want []float64
	}{
		// g = 0; f = 0.5 * (x1 x2, x1 (1-x2), 1-x1).
		{"dtlz1", 3, 7, half(7), []float64{0.125, 0.125, 0.25}},
		// distance variables at 0: g = 100 (k + k (1/4 - cos(-10 pi))) = 25 k = 125 for k = 5.
		{"dtlz1", 3, 7, []float64{1, 1, 0, 0, 0, 0, 0}, []float64{0.5 * 126, 0, 0}},
		// Angles 0: the first axis.
		{"dtlz2", 3, 12, append([]float64{0, 0}, half(10)...), []float64{1, 0, 0}},
		// Angles pi/4 on the first, pi/2 on the second: f = (cos cos, cos sin, sin) of them.
		{"dtlz2", 3, 12, append([]float64{0.5, 1}, half(10)...),
			[]float64{math.Cos(math.Pi/4) * math.Cos(math.Pi/2), math.Cos(math.Pi/4) * math.Sin(math.Pi/2), math.Sin(math.Pi / 4)}},
		// DTLZ4: x^100 with x = 0.5 is ~8e-31: practically the first axis.
		{"dtlz4", 3, 12, append([]float64{0.5, 0.5}, half(10)...), []float64{1, 0, 0}},
		// ZDT1 with the tail at 0: g = 1, f2 = 1 - sqrt(f1).
		{"zdt1", 2, 30, append([]float64{0.25}, make([]float64, 29)...), []float64{0.25, 0.5}},
		// ZDT2 with the tail at 1: g = 10, f2 = 10 (1 - (0.5/10)^2).
		{"zdt2", 2, 3, []float64{0.5, 1, 1}, []float64{0.5, 10 * (1 - 0.0025)}},
		{"zdt3", 2, 30, append([]float64{0.1}, make([]float64, 29)...),
			[]float64{0.1, 1 - math.Sqrt(0.1) - 0.1*math.Sin(math.Pi)}},
	}
	for _, c := range cases {
		p, err := New(c.name, c.m, c.n)
		if err != nil {
			t.Fatal(err)
		}
		f := eval(t, p, c.x)
		for k := range f {
			if !near(f[k], c.want[k]) && math.Abs(f[k]-c.want[k]) > 1e-15 {
				t.Errorf("%s(%v) = %v, want %v", c.name, c.x, f, c.want)
				break
			}
		}
	}
}

func TestDTLZ3MatchesDTLZ2OnTheFront(t *testing.T) {
	p2, _ := New("dtlz2", 4, 13)
	p3, _ := New("dtlz3", 4, 13)
	x := []float64{0.1, 0.7, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	a, b := eval(t, p2, x), eval(t, p3, x)
	for k := range a {
		if !near(a[k], b[k]) {
			t.Fatalf("dtlz2 %v vs dtlz3 %v with g = 0", a, b)
		}
	}
}

func TestParetoFronts(t *testing.T) {
	dirs, _ := refdirs.DasDennis(5, 6)
	for _, name := range []string{"dtlz1", "dtlz2", "dtlz3", "dtlz4"} {
		p, _ := New(name, 5, 0)
		front, err := p.ParetoFront(dirs)
		if err != nil {
			t.Fatal(err)
		}
		if len(front) != 210 {
			t.Fatalf("%s front has %d points, want 210", name, len(front))
		}
		for _, f := range front {
			s := 0.0
			for _, v := range f {
				if name == "dtlz1" {
					s += v
				} else {
					s += v * v
				}
			}
			want := 1.0
			if name == "dtlz1" {
				want = 0.5
			}
			if !near(s, want) {
				t.Fatalf("%s front point %v off the front (%v)", name, f, s)
			}
		}
	}
	for _, name := range []string{"zdt1", "zdt2", "zdt3"} {
		p, _ := New(name, 2, 30)
		front, err := p.ParetoFront(make([][]float64, 100))
		if err != nil {
			t.Fatal(err)
		}
		if len(front) != 100 {
			t.Fatalf("%s front has %d points", name, len(front))
		}
		// Every front point is attained by x = (f1, 0, ..., 0).
		for _, f := range front {
			x := make([]float64, 30)
			x[0] = f[0]
			got := eval(t, p, x)
			if !near(got[1], f[1]) {
				t.Fatalf("%s front point %v not attained (%v)", name, f, got)
			}
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		m, n int
	}{{"dtlz9", 3, 0}, {"dtlz2", 1, 0}, {"dtlz2", 5, 3}, {"zdt1", 3, 30}, {"zdt1", 2, 1}} {
		if _, err := New(c.name, c.m, c.n); err == nil {
			t.Errorf("New(%q, %d, %d) accepted", c.name, c.m, c.n)
		}
	}
}
