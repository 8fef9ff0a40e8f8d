package sorting

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteFronts peels fronts by the definition: a row is in the next front if no remaining row
// dominates it.
func bruteFronts(F [][]float64) []int {
	rank := make([]int, len(F))
	left := map[int]bool{}
	for i := range F {
		left[i] = true
	}
	for r := 0; len(left) > 0; r++ {
		var front []int
		for i := range left {
			dominated := false
			for j := range left {
				if Dominates(F[j], F[i]) {
					dominated = true
					break
				}
			}
			if !dominated {
				front = append(front, i)
			}
		}
		for _, i := range front {
			rank[i] = r
			delete(left, i)
		}
	}
	return rank
}

func TestNonDominatedSortMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		m := 2 + r.IntN(4)
		n := 1 + r.IntN(60)
		F := make([][]float64, n)
		for i := range F {
			F[i] = make([]float64, m)
			for k := range F[i] {
				F[i][k] = float64(r.IntN(5)) // coarse values: ties and duplicates
			}
		}
		fronts, rank := NonDominatedSort(F, 0)
		want := bruteFronts(F)
		// The same with the first front's rows moved to the start and declared mutually
		// non-dominated (NSGA-III's parents).
		var perm []int
		for i := range F {
			if want[i] == 0 {
				perm = append(perm, i)
			}
		}
		known := len(perm)
		for i := range F {
			if want[i] != 0 {
				perm = append(perm, i)
			}
		}
		G := make([][]float64, n)
		for j, i := range perm {
			G[j] = F[i]
		}
		_, rankG := NonDominatedSortKnown(G, 0, known)
		for j, i := range perm {
			if rankG[j] != want[i] {
				t.Fatalf("trial %d: with %d known rows, row %v has rank %d, want %d", trial, known, F[i], rankG[j], want[i])
			}
		}
		for i := range F {
			if rank[i] != want[i] {
				t.Fatalf("trial %d: row %d %v has rank %d, want %d", trial, i, F[i], rank[i], want[i])
			}
		}
		total := 0
		for k, f := range fronts {
			for _, i := range f {
				if rank[i] != k {
					t.Fatalf("row %d listed in front %d but ranked %d", i, k, rank[i])
				}
			}
			total += len(f)
		}
		if total != n {
			t.Fatalf("fronts hold %d rows, want %d", total, n)
		}
	}
}

func TestNonDominatedSortStopsAfter(t *testing.T) {
	F := [][]float64{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {0, 5}}
	fronts, rank := NonDominatedSort(F, 3)
	// Fronts: {0,4}, {1}, {2}, {3}; the first two hold 3 rows.
	if len(fronts) != 2 || rank[2] != -1 || rank[3] != -1 || rank[1] != 1 {
		t.Fatalf("fronts %v rank %v; want two fronts and rows 2, 3 unranked", fronts, rank)
	}
}

func TestDominance(t *testing.T) {
	if !Dominates([]float64{1, 2}, []float64{1, 3}) || Dominates([]float64{1, 2}, []float64{1, 2}) ||
		Dominates([]float64{1, 3}, []float64{2, 2}) {
		t.Error("Dominates is wrong")
	}
	if !ConstrainedDominates([]float64{9, 9}, 0, []float64{1, 1}, 0.5) {
		t.Error("a feasible point must dominate an infeasible one")
	}
	if !ConstrainedDominates([]float64{9, 9}, 0.1, []float64{1, 1}, 0.5) {
		t.Error("the smaller violation must dominate")
	}
	if ConstrainedDominates([]float64{1, 1}, 0.5, []float64{9, 9}, 0.5) {
		t.Error("equal violations must not dominate")
	}
}

func TestCrowdingDistance(t *testing.T) {
	// Points on a line from (0,4) to (4,0): extremes infinite; interior (gap/4 + gap/4)/2.
	F := [][]float64{{0, 4}, {1, 3}, {3, 1}, {4, 0}}
	cd := CrowdingDistance(F)
	if !math.IsInf(cd[0], 1) || !math.IsInf(cd[3], 1) {
		t.Errorf("extremes %v, want +Inf", cd)
	}
	// Row 1: neighbours 0 and 3 in f1 -> 3/4; the same in f2 -> 3/4; sum 1.5 over M=2 -> 0.75.
	if math.Abs(cd[1]-0.75) > 1e-15 || math.Abs(cd[2]-0.75) > 1e-15 {
		t.Errorf("interior %v, want 0.75", cd[1:3])
	}
}

// The dominance-bitset sort (populations up to maxBitsetRows) and ENS-SS (larger ones, or any
// with a NaN) must agree exactly, on populations spanning several 64-bit words, with ties,
// duplicates, signed zeros and infinities, and with stopAfter.
func TestBitsetSortMatchesENS(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var s Sorter
	for trial := 0; trial < 120; trial++ {
		m := 2 + r.IntN(5)
		n := 1 + r.IntN(300)
		coarse := trial%2 == 0
		F := make([][]float64, n)
		for i := range F {
			F[i] = make([]float64, m)
			for k := range F[i] {
				switch {
				case coarse:
					F[i][k] = float64(r.IntN(6))
				case trial%4 == 1: // heavily skewed: crowded buckets, recursion
					F[i][k] = math.Exp(8 * r.NormFloat64())
				default:
					F[i][k] = r.NormFloat64()
				}
			}
			switch r.IntN(20) {
			case 0:
				F[i][r.IntN(m)] = math.Copysign(0, -1)
			case 1:
				F[i][r.IntN(m)] = math.Inf(1 - 2*r.IntN(2))
			case 2:
				if i > 0 {
					copy(F[i], F[r.IntN(i)]) // a duplicate
				}
			}
		}
		stop := 0
		if trial%3 == 0 {
			stop = 1 + r.IntN(n)
		}
		fb, rb := s.Sort(F, stop)
		fe, re := nonDominatedSortENS(F, stop, 0)
		if !slices.Equal(rb, re) || len(fb) != len(fe) {
			t.Fatalf("trial %d (n %d, m %d, stop %d): bitset ranks %v, ENS ranks %v", trial, n, m, stop, rb, re)
		}
		for k := range fb {
			if !slices.Equal(fb[k], fe[k]) {
				t.Fatalf("trial %d: front %d is %v by bitsets, %v by ENS", trial, k, fb[k], fe[k])
			}
		}
		if !coarse && n <= 60 {
			want := bruteFronts(F)
			for i := range F {
				if stop == 0 && rb[i] != want[i] {
					t.Fatalf("trial %d: row %d rank %d, want %d", trial, i, rb[i], want[i])
				}
			}
		}
	}
	// Many fronts: a chain (150 fronts of two identical rows, each dominating the next) and a
	// large random 2-objective population (about 80 fronts).
	var chain [][]float64
	for i := 0; i < 300; i++ {
		v := float64(i / 2 * 2) // pairs of identical rows
		chain = append(chain, []float64{v, v + 1, 2 * v})
	}
	r.Shuffle(len(chain), func(a, b int) { chain[a], chain[b] = chain[b], chain[a] })
	var big [][]float64
	for i := 0; i < 2000; i++ {
		big = append(big, []float64{r.Float64(), r.Float64()})
	}
	for _, F := range [][][]float64{chain, big} {
		fb, rb := s.Sort(F, 0)
		fe, re := nonDominatedSortENS(F, 0, 0)
		if !slices.Equal(rb, re) || len(fb) != len(fe) {
			t.Fatalf("%d rows: %d fronts by bitsets, %d by ENS", len(F), len(fb), len(fe))
		}
	}
	// A NaN takes the ENS path (where NaN compares as neither better nor worse).
	F := [][]float64{{1, math.NaN()}, {0, 0}, {2, 2}}
	fb, _ := s.Sort(F, 0)
	fe, _ := nonDominatedSortENS(F, 0, 0)
	if len(fb) != len(fe) {
		t.Errorf("with a NaN: fronts %v, ENS %v", fb, fe)
	}
}
