package predictor

import "math"

// cubicSum returns sum_i lam[i] * d_i^(3/2), where d_i = rows[0][i] + rows[1][i] + ... (added
// in that order) is a squared distance: the kernel part of a cubic RBF's prediction, and the
// ensemble's hot loop (500 members x 10,000 candidates x 300 centers = 1.5e9 terms).
//
// Three paths, chosen once from the CPU's features (results are deterministic on a given
// machine):
//
//   - kernelGo, the portable reference: terms accumulated in four lanes (term i into lane
//     i mod 4, lanes combined as (l0+l1)+(l2+l3), then the n mod 4 last terms added in order),
//     with math.Sqrt. The float64 conversions keep the compiler from fusing multiply-adds.
//   - kernelAVX2 (cubicLanesAVX2, cubic_amd64.s): the same operations in the same order, four
//     at a time with VSQRTPD, so it returns the portable path's bits. Go compiles math.Sqrt to
//     the scalar SQRTSD and offers no packed one, hence the assembly (about 3x faster per
//     term than the portable loop, BenchmarkCubicSum).
//   - kernelAVX512 (cubicLanesAVX512): eight lanes (combined as ((l0+l4)+(l1+l5))+((l2+l6)+
//     (l3+l7)), then the n mod 8 last terms as above), and the square root from the
//     VRSQRT14PD estimate corrected by a short series with fused multiply-adds instead of
//     VSQRTPD, whose throughput bounded the kernel (about 1 ns per term on this CPU for 256-
//     and 512-bit vectors alike). Each term is then within a few units in the last place of
//     the exact one, so the sum differs from the portable path's by rounding only:
//     TestCubicSumPathsAgree bounds it by 1e-14 times sum_i |lam[i]| d_i^(3/2).
func cubicSum(lam []float64, rows [][]float64) float64 {
	return cubicSumWith(lam, rows, bestKernel)
}

// kernelKind selects cubicSum's implementation.
type kernelKind int

const (
	kernelGo kernelKind = iota
	kernelAVX2
	kernelAVX512
)

// bestKernel is the fastest kernel this CPU runs; set once, never changed.
var bestKernel = func() kernelKind {
	switch {
	case useAVX512:
		return kernelAVX512
	case useAVX2:
		return kernelAVX2
	}
	return kernelGo
}()

// cubicSumWith is cubicSum with the given kernel (which the CPU must support).
func cubicSumWith(lam []float64, rows [][]float64, kernel kernelKind) float64 {
	n := len(lam)
	var s float64
	var done int
	switch kernel {
	case kernelAVX512:
		done = n &^ 7
		var l [8]float64
		if done > 0 {
			cubicLanesAVX512(&lam[0], done, &rows[0], len(rows), &l)
		}
		s = ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))
	default:
		done = n &^ 3
		var lanes [4]float64
		if done > 0 {
			if kernel == kernelAVX2 {
				cubicLanesAVX2(&lam[0], done, &rows[0], len(rows), &lanes)
			} else {
				cubicLanesGo(lam[:done], rows, &lanes)
			}
		}
		s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	}
	for i := done; i < n; i++ {
		d := rows[0][i]
		for _, r := range rows[1:] {
			d += r[i]
		}
		s += float64(lam[i] * d * math.Sqrt(d))
	}
	return s
}

// cubicLanesGo is the portable cubicLanesAVX2: len(lam) is a multiple of 4.
func cubicLanesGo(lam []float64, rows [][]float64, lanes *[4]float64) {
	n := len(lam)
	r0 := rows[0][:n]
	l0, l1, l2, l3 := lanes[0], lanes[1], lanes[2], lanes[3]
	switch len(rows) {
	case 1:
		for i := 0; i < n; i += 4 {
			a, b, c, d := r0[i], r0[i+1], r0[i+2], r0[i+3]
			l0 += float64(lam[i] * a * math.Sqrt(a))
			l1 += float64(lam[i+1] * b * math.Sqrt(b))
			l2 += float64(lam[i+2] * c * math.Sqrt(c))
			l3 += float64(lam[i+3] * d * math.Sqrt(d))
		}
	default:
		var d [4]float64
		for i := 0; i < n; i += 4 {
			d = [4]float64(r0[i : i+4])
			for _, r := range rows[1:] {
				r := r[i : i+4 : i+4]
				d[0] += r[0]
				d[1] += r[1]
				d[2] += r[2]
				d[3] += r[3]
			}
			l0 += float64(lam[i] * d[0] * math.Sqrt(d[0]))
			l1 += float64(lam[i+1] * d[1] * math.Sqrt(d[1]))
			l2 += float64(lam[i+2] * d[2] * math.Sqrt(d[2]))
			l3 += float64(lam[i+3] * d[3] * math.Sqrt(d[3]))
		}
	}
	lanes[0], lanes[1], lanes[2], lanes[3] = l0, l1, l2, l3
}
