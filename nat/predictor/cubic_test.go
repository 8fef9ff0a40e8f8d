package predictor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCubicSumPathsAgree checks that the assembly and portable kernels give identical bits, and
// both match a plain sum to rounding, for every row count and lengths around multiples of 4.
func TestCubicSumPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 4, 5, 8, 31, 300} {
		for nrows := 1; nrows <= 12; nrows++ {
			lam := make([]float64, n)
			rows := make([][]float64, nrows)
			for i := range lam {
				lam[i] = rng.NormFloat64()
			}
			for r := range rows {
				rows[r] = make([]float64, n+rng.IntN(3)) // rows may be longer than lam
				for i := range rows[r] {
					rows[r][i] = rng.Float64()
				}
			}
			plain := 0.0
			for i := range lam {
				d := 0.0
				for _, r := range rows {
					d += r[i]
				}
				plain += lam[i] * math.Pow(d, 1.5)
			}
			fast := cubicSum(lam, rows)
			portable := cubicSumWith(lam, rows, false)
			if math.Float64bits(fast) != math.Float64bits(portable) {
				t.Errorf("n=%d rows=%d: kernel %v, portable %v: not the same bits", n, nrows, fast, portable)
			}
			if math.Abs(portable-plain) > 1e-12*(1+math.Abs(plain)) {
				t.Errorf("n=%d rows=%d: cubicSum %v, plain sum %v", n, nrows, portable, plain)
			}
		}
	}
	if !useAVX2 {
		t.Log("no AVX2 here: only the portable kernel was exercised")
	}
}

func BenchmarkCubicSum(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	n := 300
	lam := make([]float64, n)
	rows := make([][]float64, 6)
	for r := range rows {
		rows[r] = make([]float64, n)
		for i := range rows[r] {
			rows[r][i] = rng.Float64()
		}
	}
	for _, fast := range []bool{false, true} {
		if fast && !useAVX2 {
			continue
		}
		name := map[bool]string{false: "portable", true: "avx2"}[fast]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				cubicSumWith(lam, rows, fast)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/term")
		})
	}
}
