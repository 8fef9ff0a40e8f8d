package refdirs

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Counts from ../shared/reference/moea-reference.md (pymoo 0.6.1.5).
func TestDasDennisCounts(t *testing.T) {
	cases := []struct{ m, p, want int }{{3, 12, 91}, {5, 6, 210}, {2, 99, 100}, {8, 3, 120}, {8, 2, 36}}
	for _, c := range cases {
		d, err := DasDennis(c.m, c.p)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != c.want || Count(c.m, c.p) != c.want {
			t.Errorf("DasDennis(%d, %d): %d directions (Count %d), want %d", c.m, c.p, len(d), Count(c.m, c.p), c.want)
		}
		checkSimplex(t, d, c.m)
		seen := map[[8]float64]bool{}
		for _, w := range d {
			var key [8]float64
			copy(key[:], w)
			if seen[key] {
				t.Fatalf("DasDennis(%d, %d): duplicate direction %v", c.m, c.p, w)
			}
			seen[key] = true
			for _, v := range w {
				if k := v * float64(c.p); math.Abs(k-math.Round(k)) > 1e-12 {
					t.Fatalf("DasDennis(%d, %d): %v is not on the lattice", c.m, c.p, w)
				}
			}
		}
	}
}

func TestDasDennisOrderIsPymoos(t *testing.T) {
	d, err := DasDennis(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{0, 0, 1}, {0, 0.5, 0.5}, {0, 1, 0}, {0.5, 0, 0.5}, {0.5, 0.5, 0}, {1, 0, 0}}
	for i := range want {
		for k := range want[i] {
			if d[i][k] != want[i][k] {
				t.Fatalf("direction %d = %v, want %v", i, d[i], want[i])
			}
		}
	}
}

func TestTwoLayer(t *testing.T) {
	d, err := TwoLayer(8, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 156 {
		t.Fatalf("TwoLayer(8, 3, 2): %d directions, want 156", len(d))
	}
	checkSimplex(t, d, 8)
	// Inner layer: w' = w/2 + 1/16, so every coordinate is at least 1/16.
	for _, w := range d[120:] {
		for _, v := range w {
			if v < 1.0/16-1e-15 {
				t.Fatalf("inner direction %v has a coordinate below 1/16", w)
			}
		}
	}
}

func TestDasDennisErrors(t *testing.T) {
	if _, err := DasDennis(0, 3); err == nil {
		t.Error("0 dimensions accepted")
	}
	if _, err := DasDennis(3, 0); err == nil {
		t.Error("0 partitions accepted")
	}
	if _, err := DasDennis(30, 40); err == nil {
		t.Error("a lattice of 10^17 points accepted")
	}
}

func TestRieszSpreadsAndIsDeterministic(t *testing.T) {
	const m, n = 3, 50
	a, err := Riesz(m, n, 7, RieszOptions{MaxIter: 300})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != n {
		t.Fatalf("%d directions, want %d", len(a), n)
	}
	checkSimplex(t, a, m)
	b, _ := Riesz(m, n, 7, RieszOptions{MaxIter: 300})
	for i := range a {
		for k := range a[i] {
			if a[i][k] != b[i][k] {
				t.Fatal("same seed gave different directions")
			}
		}
	}
	// Well spread: the smallest pairwise distance (0.147 with this seed) is close to the
	// lattice spacing of a comparable Das-Dennis set (9 partitions, 55 points: sqrt(2)/9 =
	// 0.157), above that of the farthest-point start it was optimised from (0.132), and far
	// above that of 50 uniform random simplex points (about 0.01).
	start := initialSpread(rand.New(rand.NewPCG(7, 7^0x5eed5eed5eed5eed)), m, n)
	if d, d0 := minDist(a), minDist(start); d < 0.9*math.Sqrt2/9 || d <= d0 {
		t.Errorf("smallest pairwise distance %.4f (start %.4f); want >= %.4f and an improvement", d, d0, 0.9*math.Sqrt2/9)
	}
	c, _ := Riesz(m, n, 8, RieszOptions{MaxIter: 300})
	same := true
	for i := range a {
		for k := range a[i] {
			if a[i][k] != c[i][k] {
				same = false
			}
		}
	}
	if same {
		t.Error("different seeds gave identical directions")
	}
	if _, err := Riesz(3, 2, 1, RieszOptions{}); err == nil {
		t.Error("fewer points than dimensions accepted")
	}
}

func minDist(X [][]float64) float64 {
	best := math.Inf(1)
	for i := range X {
		for j := i + 1; j < len(X); j++ {
			best = min(best, math.Sqrt(sqDist(X[i], X[j])))
		}
	}
	return best
}

func checkSimplex(t *testing.T, d [][]float64, m int) {
	t.Helper()
	for _, w := range d {
		if len(w) != m {
			t.Fatalf("direction %v has %d values, want %d", w, len(w), m)
		}
		s := 0.0
		for _, v := range w {
			if v < 0 {
				t.Fatalf("direction %v has a negative value", w)
			}
			s += v
		}
		if math.Abs(s-1) > 1e-12 {
			t.Fatalf("direction %v sums to %v", w, s)
		}
	}
}
