package sorting

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sphereFront returns n points near the unit sphere's positive orthant in m dimensions, the
// shape of a late NSGA-III population on DTLZ2: most rows are mutually non-dominated.
func sphereFront(n, m int, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	F := make([][]float64, n)
	for i := range F {
		f := make([]float64, m)
		s := 0.0
		for k := range f {
			f[k] = math.Abs(r.NormFloat64())
			s += f[k] * f[k]
		}
		g := 1 + 0.05*r.Float64()
		for k := range f {
			f[k] *= g / math.Sqrt(s)
		}
		F[i] = f
	}
	return F
}

func BenchmarkNonDominatedSortM5N424(b *testing.B) {
	F := sphereFront(424, 5, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NonDominatedSort(F, 212)
	}
}

func BenchmarkNonDominatedSortM3N184(b *testing.B) {
	F := sphereFront(184, 3, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		NonDominatedSort(F, 92)
	}
}
