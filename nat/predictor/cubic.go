package predictor

import "math"

// cubicSum returns sum_i lam[i] * d_i^(3/2), where d_i = rows[0][i] + rows[1][i] + ... (added
// in that order) is a squared distance: the kernel part of a cubic RBF's prediction, and the
// ensemble's hot loop (500 members x 10,000 candidates x 300 centers = 1.5e9 terms).
//
// The terms are accumulated in four lanes (term i into lane i mod 4, lanes combined as
// (l0+l1)+(l2+l3), then the n mod 4 last terms added in order). On amd64 with AVX2 the
// first n - n mod 4 terms are computed four at a time by cubicLanesAVX2 (cubic_amd64.s),
// with exactly the same operations in the same order (no fused multiply-add), so both paths
// return identical bits and results do not depend on the CPU (the float64 conversions keep
// the compiler from fusing multiply-adds where it could). The square root is what costs:
// Go compiles math.Sqrt to the scalar SQRTSD, and neither the compiler nor gonum offers a
// packed one, hence the few lines of assembly (about 3x faster per term, measured by
// BenchmarkCubicSum).
func cubicSum(lam []float64, rows [][]float64) float64 {
	return cubicSumWith(lam, rows, useAVX2)
}

// cubicSumWith is cubicSum with the assembly kernel used if avx2 (which needs useAVX2).
func cubicSumWith(lam []float64, rows [][]float64, avx2 bool) float64 {
	n := len(lam)
	n4 := n &^ 3
	var lanes [4]float64
	if n4 > 0 {
		if avx2 {
			cubicLanesAVX2(&lam[0], n4, &rows[0], len(rows), &lanes)
		} else {
			cubicLanesGo(lam[:n4], rows, &lanes)
		}
	}
	s := (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
	for i := n4; i < n; i++ {
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
