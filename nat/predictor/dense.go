package predictor

import "math"

// Dense factorizations for the RBF fit, by hand.
//
// Each distinct member of the RBF ensemble needs, with cross-validation, a Cholesky
// factorization and a triangular inverse of about 290 x 290 (see fitRBFCore and heldOut):
// ~450 of each per fit, which with gonum's pure-Go LAPACK (level-3 BLAS built on SSE2 axpy
// and dot loops) took about half of adaptive switching's time. Both are written here as
// dot-product ("left-looking") algorithms whose inner loop, four dot products sharing one
// vector, runs in AVX-512 assembly with fused multiply-adds (dot4AVX512) where the CPU has
// it; elsewhere gonum's routines are used (see fitRBFCore). The portable dot4Go gives the
// assembly's bits, so the results do not depend on which one ran.

// dot4 sets out[r] = sum_{k<n} rows[r*stride+k] * v[k] for r = 0..3: each row in eight
// lanes of fused multiply-adds (term k into lane k mod 8 for k below n rounded down to a
// multiple of 8), lanes combined as ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), then the last
// n mod 8 terms fused in order.
func dot4(v, rows []float64, stride, n int, out *[4]float64) {
	_ = rows[3*stride+n-1] // bounds, once
	n8 := n &^ 7
	switch {
	case n8 == 0:
		*out = [4]float64{}
	case useAVX512:
		dot4AVX512(&v[0], &rows[0], stride, n8, out)
	default:
		dot4Go(v, rows, stride, n8, out)
	}
	for r := range out {
		s := out[r]
		row := rows[r*stride : r*stride+n]
		for k := n8; k < n; k++ {
			s = math.FMA(row[k], v[k], s)
		}
		out[r] = s
	}
}

// dot4Go is the portable dot4AVX512 (n a multiple of 8).
func dot4Go(v, rows []float64, stride, n int, out *[4]float64) {
	for r := range out {
		row := rows[r*stride : r*stride+n]
		var l [8]float64
		for k := 0; k < n; k += 8 {
			for t := range l {
				l[t] = math.FMA(row[k+t], v[k+t], l[t])
			}
		}
		out[r] = ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
	}
}

// dot1 is sum_k a[k]*b[k] with fused multiply-adds, in order.
func dot1(a, b []float64) float64 {
	b = b[:len(a)]
	s := 0.0
	for k, x := range a {
		s = math.FMA(x, b[k], s)
	}
	return s
}

// cholesky overwrites the lower triangle of the q x q symmetric matrix in a (row-major,
// stride) with its Cholesky factor L (A = L L^T), column by column: L_ij = (A_ij - L_i,:j .
// L_j,:j) / L_jj, four rows i per kernel call. The upper triangle is not touched. It reports
// false, as LAPACK's dpotrf, if A is not (numerically) positive definite.
func cholesky(a []float64, q, stride int) bool {
	var out [4]float64
	for j := 0; j < q; j++ {
		rj := a[j*stride : j*stride+j]
		d := a[j*stride+j] - dot1(rj, rj)
		if !(d > 0) {
			return false
		}
		ljj := math.Sqrt(d)
		a[j*stride+j] = ljj
		i := j + 1
		for ; i+4 <= q; i += 4 {
			dot4(rj, a[i*stride:], stride, j, &out)
			for r, s := range out {
				at := (i+r)*stride + j
				a[at] = (a[at] - s) / ljj
			}
		}
		for ; i < q; i++ {
			at := i*stride + j
			a[at] = (a[at] - dot1(a[i*stride:at], rj)) / ljj
		}
	}
	return true
}

// invertLower overwrites the q x q nonsingular lower-triangular matrix L in a (row-major,
// stride) with L^-1, by columns from the last (LAPACK's dtrti2: X_jj = 1/L_jj and X_ij =
// -X_jj sum_{k=j+1..i} X_ik L_kj, the trailing block already inverted). v is scratch for q
// values. It reports false if a diagonal entry is zero.
func invertLower(a []float64, q, stride int, v []float64) bool {
	var out [4]float64
	v = v[:q]
	for j := q - 1; j >= 0; j-- {
		ljj := a[j*stride+j]
		if ljj == 0 {
			return false
		}
		xjj := 1 / ljj
		a[j*stride+j] = xjj
		for t := j + 1; t < q; t++ {
			v[t-j-1] = a[t*stride+j]
		}
		// Row i reads X_i,j+1..i (i - j values) against v: four rows share the first i - j.
		i := j + 1
		for ; i+4 <= q; i += 4 {
			base := a[i*stride+j+1:]
			dot4(v, base, stride, i-j, &out)
			for r := 1; r < 4; r++ {
				s, row := out[r], base[r*stride:]
				for t := i - j; t < i+r-j; t++ {
					s = math.FMA(row[t], v[t], s)
				}
				out[r] = s
			}
			for r, s := range out {
				a[(i+r)*stride+j] = -xjj * s
			}
		}
		for ; i < q; i++ {
			a[i*stride+j] = -xjj * dot1(a[i*stride+j+1:i*stride+i+1], v)
		}
	}
	return true
}
