package rank

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// Reference values. The first two are the examples printed in scipy's documentation
// (scipy.stats.kendalltau: tau = -0.47140452079103173; scipy.stats.spearmanr:
// rho = 0.8207826816681233). All four were recomputed independently with a brute-force
// O(n^2) pure-Python implementation of the textbook definitions (tau-b from pair counts,
// rho as the Pearson correlation of average ranks), which printed the digits below.
var known = []struct {
	name      string
	x, y      []float64
	tau, rho  float64
	checkRho  bool
	checkTauB bool
}{
	{"scipy kendalltau doc, ties in both", []float64{12, 2, 1, 12, 2}, []float64{1, 4, 7, 1, 0}, -0.47140452079103173, 0, false, true},
	{"scipy spearmanr doc, tie in y", []float64{1, 2, 3, 4, 5}, []float64{5, 6, 7, 8, 7}, 0, 0.8207826816681233, true, false},
	{"no ties", []float64{1, 2, 3, 4, 5}, []float64{3, 1, 2, 5, 4}, 0.4, 0.6, true, true},
	{"many ties", []float64{1, 1, 2, 2, 3, 3, 4, 5, 5, 5}, []float64{2, 1, 2, 3, 3, 3, 5, 4, 4, 6}, 0.8101914936669333, 0.9085218706730633, true, true},
}

func TestKnownValues(t *testing.T) {
	for _, c := range known {
		if c.checkTauB {
			got, err := KendallTau(c.x, c.y)
			if err != nil || math.Abs(got-c.tau) > 1e-12 {
				t.Errorf("%s: KendallTau = %v, %v; want %v", c.name, got, err, c.tau)
			}
		}
		if c.checkRho {
			got, err := Spearman(c.x, c.y)
			if err != nil || math.Abs(got-c.rho) > 1e-12 {
				t.Errorf("%s: Spearman = %v, %v; want %v", c.name, got, err, c.rho)
			}
		}
	}
}

// bruteTau is the O(n^2) definition, used to check the O(n log n) algorithm on larger inputs.
func bruteTau(x, y []float64) float64 {
	var c, d, tx, ty int
	n := len(x)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			a, b := cmpFloat(x[i], x[j]), cmpFloat(y[i], y[j])
			if a == 0 {
				tx++
			}
			if b == 0 {
				ty++
			}
			if a*b > 0 {
				c++
			} else if a*b < 0 {
				d++
			}
		}
	}
	n0 := n * (n - 1) / 2
	return float64(c-d) / math.Sqrt(float64((n0-tx)*(n0-ty)))
}

func TestKendallTauMatchesDefinitionWithHeavyTies(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := 0; trial < 50; trial++ {
		n := 2 + r.IntN(200)
		levels := 1 + r.IntN(8)
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = float64(r.IntN(levels + 1))
			y[i] = float64(r.IntN(levels+1)) + 0.5*x[i]
		}
		got, err := KendallTau(x, y)
		if errors.Is(err, ErrConstant) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteTau(x, y); math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d n=%d: KendallTau = %v, definition gives %v", trial, n, got, want)
		}
	}
}

func TestPerfectOrder(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	rev := []float64{9, 7, 5, 1}
	if tau, _ := KendallTau(x, x); tau != 1 {
		t.Errorf("tau(x, x) = %v, want 1", tau)
	}
	if tau, _ := KendallTau(x, rev); tau != -1 {
		t.Errorf("tau(x, reversed) = %v, want -1", tau)
	}
	if rho, _ := Spearman(x, rev); rho != -1 {
		t.Errorf("rho(x, reversed) = %v, want -1", rho)
	}
}

func TestRanksAverageTies(t *testing.T) {
	got := Ranks([]float64{10, 20, 10, 30, 20, 20})
	want := []float64{1.5, 4, 1.5, 6, 4, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", got, want)
		}
	}
}

func TestRMSE(t *testing.T) {
	got, err := RMSE([]float64{1, 2, 3}, []float64{1, 4, 0})
	// sqrt((0 + 4 + 9) / 3)
	if want := math.Sqrt(13.0 / 3); err != nil || math.Abs(got-want) > 1e-15 {
		t.Errorf("RMSE = %v, %v; want %v", got, err, want)
	}
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
	}{
		{"length mismatch", []float64{1, 2, 3}, []float64{1, 2}},
		{"too short", []float64{1}, []float64{1}},
		{"NaN", []float64{1, math.NaN(), 3}, []float64{1, 2, 3}},
		{"Inf", []float64{1, 2, 3}, []float64{1, math.Inf(1), 3}},
		{"constant", []float64{2, 2, 2}, []float64{1, 2, 3}},
	}
	for _, c := range cases {
		if _, err := KendallTau(c.x, c.y); err == nil {
			t.Errorf("KendallTau(%s): no error", c.name)
		}
		if _, err := Spearman(c.x, c.y); err == nil {
			t.Errorf("Spearman(%s): no error", c.name)
		}
	}
	if _, err := KendallTau([]float64{1, 2, 3}, []float64{5, 5, 5}); !errors.Is(err, ErrConstant) {
		t.Errorf("constant y: got %v, want ErrConstant", err)
	}
	if _, err := RMSE([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("RMSE length mismatch: no error")
	}
	if _, err := RMSE(nil, nil); err == nil {
		t.Error("RMSE empty: no error")
	}
}

func BenchmarkKendallTau10k(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 10000), make([]float64, 10000)
	for i := range x {
		x[i] = float64(r.IntN(100))
		y[i] = x[i] + r.NormFloat64()*20
	}
	for b.Loop() {
		if _, err := KendallTau(x, y); err != nil {
			b.Fatal(err)
		}
	}
}
