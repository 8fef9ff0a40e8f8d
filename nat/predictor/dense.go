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

// dot4x2 is dot4 for two vectors: out[r] = rows_r . v0 and out[4+r] = rows_r . v1, each
// with exactly dot4's bits (the assembly shares the row loads between the two).
func dot4x2(v0, v1, rows []float64, stride, n int, out *[8]float64) {
	_ = rows[3*stride+n-1]
	_, _ = v0[:n], v1[:n]
	n8 := n &^ 7
	switch {
	case n8 == 0:
		*out = [8]float64{}
	case useAVX512:
		dot4x2AVX512(&v0[0], &v1[0], &rows[0], stride, n8, out)
	default:
		var o [4]float64
		dot4Go(v0, rows, stride, n8, &o)
		copy(out[:4], o[:])
		dot4Go(v1, rows, stride, n8, &o)
		copy(out[4:], o[:])
	}
	for r := 0; r < 4; r++ {
		s0, s1 := out[r], out[4+r]
		row := rows[r*stride : r*stride+n]
		for k := n8; k < n; k++ {
			s0 = math.FMA(row[k], v0[k], s0)
			s1 = math.FMA(row[k], v1[k], s1)
		}
		out[r], out[4+r] = s0, s1
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

// dot1 is sum_k a[k]*b[k] with fused multiply-adds in four lanes (term k into lane k mod 4,
// combined as (l0+l1)+(l2+l3), then the last len(a) mod 4 terms in order): four independent
// chains instead of one, whose multiply-add latency bounded the scalar loop.
func dot1(a, b []float64) float64 {
	n := len(a)
	b = b[:n]
	var l0, l1, l2, l3 float64
	k := 0
	for ; k+4 <= n; k += 4 {
		l0 = math.FMA(a[k], b[k], l0)
		l1 = math.FMA(a[k+1], b[k+1], l1)
		l2 = math.FMA(a[k+2], b[k+2], l2)
		l3 = math.FMA(a[k+3], b[k+3], l3)
	}
	s := (l0 + l1) + (l2 + l3)
	for ; k < n; k++ {
		s = math.FMA(a[k], b[k], s)
	}
	return s
}

// cholesky overwrites the lower triangle of the q x q symmetric matrix in a (row-major,
// stride) with its Cholesky factor L (A = L L^T), two columns at a time: L_ij = (A_ij -
// L_i,:j . L_j,:j) / L_jj, with the dot products for columns j and j+1 of four rows per kernel
// call (dot4x2), column j+1's last term added once column j is known. The upper triangle is
// not touched. It reports false, as LAPACK's dpotrf, if A is not (numerically) positive
// definite.
func cholesky(a []float64, q, stride int) bool {
	var out [8]float64
	diag := func(j int) (float64, bool) {
		rj := a[j*stride : j*stride+j]
		d := a[j*stride+j] - dot1(rj, rj)
		if !(d > 0) {
			return 0, false
		}
		l := math.Sqrt(d)
		a[j*stride+j] = l
		return l, true
	}
	for j := 0; j < q; j += 2 {
		l0, ok := diag(j)
		if !ok {
			return false
		}
		r0 := a[j*stride : j*stride+j]
		if j+1 == q {
			break
		}
		// Row j+1's entry in column j, then its diagonal.
		at := (j+1)*stride + j
		a[at] = (a[at] - dot1(a[(j+1)*stride:at], r0)) / l0
		l1, ok := diag(j + 1)
		if !ok {
			return false
		}
		r1 := a[(j+1)*stride : (j+1)*stride+j]
		c := a[at] // L_{j+1,j}
		i := j + 2
		for ; i+4 <= q; i += 4 {
			dot4x2(r0, r1, a[i*stride:], stride, j, &out)
			for r := 0; r < 4; r++ {
				row := a[(i+r)*stride:]
				x := (row[j] - out[r]) / l0
				row[j] = x
				row[j+1] = (row[j+1] - math.FMA(x, c, out[4+r])) / l1
			}
		}
		for ; i < q; i++ {
			row := a[i*stride:]
			x := (row[j] - dot1(row[:j], r0)) / l0
			row[j] = x
			row[j+1] = (row[j+1] - math.FMA(x, c, dot1(row[:j], r1))) / l1
		}
	}
	return true
}

// invertLower overwrites the q x q nonsingular lower-triangular matrix L in a (row-major,
// stride) with L^-1, two columns at a time from the last (LAPACK's dtrti2: X_jj = 1/L_jj and
// X_ij = -X_jj sum_{k=j+1..i} X_ik L_kj, the trailing block already inverted; column j-1's
// sums share column j's row segments in dot4x2, plus its term X_ij L_j,j-1). v is scratch for
// 2q values. It reports false if a diagonal entry is zero.
func invertLower(a []float64, q, stride int, v []float64) bool {
	var out [8]float64
	v0, v1 := v[:q], v[q:2*q]
	for j := q - 1; j >= 0; j -= 2 {
		ljj := a[j*stride+j]
		if ljj == 0 {
			return false
		}
		x0 := 1 / ljj
		a[j*stride+j] = x0
		m := q - j - 1
		for t := 0; t < m; t++ {
			v0[t] = a[(j+1+t)*stride+j]
		}
		if j == 0 {
			for i := 1; i < q; i++ {
				a[i*stride] = -x0 * dot1(a[i*stride+1:i*stride+i+1], v0)
			}
			break
		}
		// Column j-1 too: its entries below row j, its diagonal and row j.
		h := j - 1
		lh := a[h*stride+h]
		if lh == 0 {
			return false
		}
		x1 := 1 / lh
		a[h*stride+h] = x1
		c := a[j*stride+h] // L_{j,j-1}
		for t := 0; t < m; t++ {
			v1[t] = a[(j+1+t)*stride+h]
		}
		a[j*stride+h] = -x1 * (x0 * c)
		i := j + 1
		for ; i+4 <= q; i += 4 {
			base := a[i*stride+j+1:]
			dot4x2(v0, v1, base, stride, i-j, &out)
			for r := 0; r < 4; r++ {
				s0, s1, row := out[r], out[4+r], base[r*stride:]
				for t := i - j; t < i+r-j; t++ {
					s0 = math.FMA(row[t], v0[t], s0)
					s1 = math.FMA(row[t], v1[t], s1)
				}
				xij := -x0 * s0
				a[(i+r)*stride+j] = xij
				a[(i+r)*stride+h] = -x1 * math.FMA(xij, c, s1)
			}
		}
		for ; i < q; i++ {
			seg := a[i*stride+j+1 : i*stride+i+1]
			xij := -x0 * dot1(seg, v0)
			a[i*stride+j] = xij
			a[i*stride+h] = -x1 * math.FMA(xij, c, dot1(seg, v1))
		}
	}
	return true
}
