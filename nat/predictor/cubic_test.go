package predictor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCubicSumPathsAgree checks the kernels against a plain sum, for every row count and
// lengths around multiples of 4 and 8: the AVX2 kernel gives the portable one's bits; the
// AVX-512 one (square roots from a refined estimate, fused multiply-adds) agrees to 1e-14 of
// sum |lam_i| d_i^(3/2), which also covers exact zeros among the d_i (centers that coincide
// with the row: VRSQRT14PD(0) = +Inf must give a zero term, not NaN).
func TestCubicSumPathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 3, 4, 5, 7, 8, 9, 16, 31, 300} {
		for nrows := 1; nrows <= 12; nrows++ {
			for _, zeros := range []bool{false, true} {
				lam := make([]float64, n)
				rows := make([][]float64, nrows)
				for i := range lam {
					lam[i] = rng.NormFloat64()
				}
				for r := range rows {
					rows[r] = make([]float64, n+rng.IntN(3)) // rows may be longer than lam
					for i := range rows[r] {
						rows[r][i] = rng.Float64() * math.Exp2(float64(rng.IntN(40)-20))
						if zeros && i%3 != 1 {
							rows[r][i] = 0
						}
					}
				}
				plain, scale := 0.0, 0.0
				for i := range lam {
					d := 0.0
					for _, r := range rows {
						d += r[i]
					}
					plain += lam[i] * math.Pow(d, 1.5)
					scale += math.Abs(lam[i]) * math.Pow(d, 1.5)
				}
				portable := cubicSumWith(lam, rows, kernelGo)
				if math.Abs(portable-plain) > 1e-14*scale {
					t.Errorf("n=%d rows=%d zeros=%v: portable %v, plain sum %v", n, nrows, zeros, portable, plain)
				}
				if useAVX2 {
					if got := cubicSumWith(lam, rows, kernelAVX2); math.Float64bits(got) != math.Float64bits(portable) {
						t.Errorf("n=%d rows=%d zeros=%v: AVX2 %v, portable %v: not the same bits", n, nrows, zeros, got, portable)
					}
				}
				if useAVX512 {
					got := cubicSumWith(lam, rows, kernelAVX512)
					if math.Abs(got-portable) > 1e-14*scale || math.IsNaN(got) {
						t.Errorf("n=%d rows=%d zeros=%v: AVX-512 %v, portable %v: off by %.3g of the scale %.3g", n, nrows, zeros, got, portable, math.Abs(got-portable), scale)
					}
				}
			}
		}
	}
	if !useAVX2 {
		t.Log("no AVX2 here: the AVX2 kernel was not exercised")
	}
	if !useAVX512 {
		t.Log("no AVX-512 here: the AVX-512 kernel was not exercised")
	}
}

// TestCubicSumAVX512Terms checks the refined square root term by term (one nonzero term at a
// time, in every lane of the kernel's sixteen- and eight-term passes) over a wide range of d,
// against math.Sqrt: within 4 units in the last place.
func TestCubicSumAVX512Terms(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this CPU: the kernel cannot run (the portable path is tested above)")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	lam := make([]float64, 24)
	row := make([]float64, 24)
	worst := 0.0
	for trial := 0; trial < 20000; trial++ {
		for i := range row {
			lam[i] = 0
			row[i] = 0
		}
		i := trial % 24
		lam[i] = 1
		d := rng.Float64() * math.Exp2(float64(rng.IntN(200)-100))
		row[i] = d
		got := cubicSumWith(lam, [][]float64{row}, kernelAVX512)
		want := d * math.Sqrt(d)
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
	}
	if worst > 4*0x1p-52 {
		t.Errorf("worst relative error of d^(3/2) %.3g, more than 4 ulp", worst)
	}
	t.Logf("worst relative error of d^(3/2): %.3g (%.2f ulp)", worst, worst/0x1p-52)
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
	for _, k := range []kernelKind{kernelGo, kernelAVX2, kernelAVX512} {
		if (k == kernelAVX2 && !useAVX2) || (k == kernelAVX512 && !useAVX512) {
			continue
		}
		name := map[kernelKind]string{kernelGo: "portable", kernelAVX2: "avx2", kernelAVX512: "avx512"}[k]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				cubicSumWith(lam, rows, k)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/term")
		})
	}
}
