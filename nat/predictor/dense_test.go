package predictor

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// TestDot4PathsAgree checks that the assembly and portable dot4 give the same bits, and both
// a plain sum to rounding.
func TestDot4PathsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 64, 100, 290} {
		stride := n + rng.IntN(5)
		v := make([]float64, n)
		rows := make([]float64, 3*stride+n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		for i := range rows {
			rows[i] = rng.NormFloat64()
		}
		var fast, portable [4]float64
		dot4(v, rows, stride, n, &fast)
		n8 := n &^ 7
		if n8 > 0 {
			dot4Go(v, rows, stride, n8, &portable)
		}
		for r := range portable {
			for k := n8; k < n; k++ {
				portable[r] = math.FMA(rows[r*stride+k], v[k], portable[r])
			}
			plain, scale := 0.0, 0.0
			for k := 0; k < n; k++ {
				plain += rows[r*stride+k] * v[k]
				scale += math.Abs(rows[r*stride+k] * v[k])
			}
			if math.Float64bits(fast[r]) != math.Float64bits(portable[r]) {
				t.Errorf("n=%d row %d: dot4 %v, portable %v: not the same bits", n, r, fast[r], portable[r])
			}
			if math.Abs(fast[r]-plain) > 1e-14*scale {
				t.Errorf("n=%d row %d: dot4 %v, plain %v", n, r, fast[r], plain)
			}
		}
	}
	if !useAVX512 {
		t.Log("no AVX-512 here: only the portable dot4 was exercised")
	}
}

// TestCholeskyAndInverseMatchLAPACK compares cholesky and invertLower with gonum's dpotrf and
// dtrtri on random positive definite matrices (sizes around the kernel's blocks of 4 and 8),
// and checks L L^T = A and L^-1 L = I directly.
func TestCholeskyAndInverseMatchLAPACK(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, q := range []int{1, 2, 3, 4, 5, 8, 9, 13, 31, 64, 101} {
		stride := q + 3
		a := spd(rng, q, stride)
		orig := append([]float64(nil), a...)
		ref := append([]float64(nil), a...)
		if !cholesky(a, q, stride) {
			t.Fatalf("q=%d: cholesky says not positive definite", q)
		}
		L, ok := lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: q, Stride: stride, Data: ref})
		if !ok {
			t.Fatalf("q=%d: dpotrf failed", q)
		}
		for i := 0; i < q; i++ {
			for j := 0; j < q; j++ {
				if j > i {
					if a[i*stride+j] != orig[i*stride+j] {
						t.Fatalf("q=%d: upper triangle changed at (%d,%d)", q, i, j)
					}
					continue
				}
				if d := math.Abs(a[i*stride+j] - ref[i*stride+j]); d > 1e-12*(1+math.Abs(ref[i*stride+j])) {
					t.Errorf("q=%d: L(%d,%d) = %v, dpotrf %v", q, i, j, a[i*stride+j], ref[i*stride+j])
				}
				s := 0.0
				for k := 0; k <= j; k++ {
					s += a[i*stride+k] * a[j*stride+k]
				}
				if math.Abs(s-orig[i*stride+j]) > 1e-12*float64(q)*float64(q) {
					t.Errorf("q=%d: (L L^T)(%d,%d) = %v, A %v", q, i, j, s, orig[i*stride+j])
				}
			}
		}
		lcopy := append([]float64(nil), a...)
		if !invertLower(a, q, stride, make([]float64, 2*q)) {
			t.Fatalf("q=%d: invertLower failed", q)
		}
		if !lapack64.Trtri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: q, Stride: stride, Data: L.Data}) {
			t.Fatalf("q=%d: dtrtri failed", q)
		}
		for i := 0; i < q; i++ {
			for j := 0; j <= i; j++ {
				if d := math.Abs(a[i*stride+j] - L.Data[i*stride+j]); d > 1e-12*(1+math.Abs(L.Data[i*stride+j])) {
					t.Errorf("q=%d: inverse(%d,%d) = %v, dtrtri %v", q, i, j, a[i*stride+j], L.Data[i*stride+j])
				}
				s := 0.0
				for k := j; k <= i; k++ {
					s += a[i*stride+k] * lcopy[k*stride+j]
				}
				want := 0.0
				if i == j {
					want = 1
				}
				if math.Abs(s-want) > 1e-12 {
					t.Errorf("q=%d: (L^-1 L)(%d,%d) = %v", q, i, j, s)
				}
			}
		}
	}
}

func TestCholeskyRejectsIndefinite(t *testing.T) {
	a := []float64{1, 2, 2, 1} // eigenvalues 3 and -1
	if cholesky(a, 2, 2) {
		t.Error("cholesky accepted an indefinite matrix")
	}
}

// TestDot4x2IsTwoDot4 checks that the two-vector kernel gives dot4's bits for each vector.
func TestDot4x2IsTwoDot4(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 7, 8, 9, 16, 23, 100, 290} {
		stride := n + rng.IntN(5)
		v0, v1 := make([]float64, n), make([]float64, n)
		rows := make([]float64, 3*stride+n)
		for i := range v0 {
			v0[i], v1[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		for i := range rows {
			rows[i] = rng.NormFloat64()
		}
		var both [8]float64
		var a, b [4]float64
		dot4x2(v0, v1, rows, stride, n, &both)
		dot4(v0, rows, stride, n, &a)
		dot4(v1, rows, stride, n, &b)
		for r := 0; r < 4; r++ {
			if math.Float64bits(both[r]) != math.Float64bits(a[r]) || math.Float64bits(both[4+r]) != math.Float64bits(b[r]) {
				t.Errorf("n=%d row %d: dot4x2 (%v, %v), dot4 (%v, %v)", n, r, both[r], both[4+r], a[r], b[r])
			}
		}
	}
}

// spd returns a q x q symmetric positive definite matrix (M M^T + q I, M standard normal from
// rng), row-major with the given row stride (>= q).
func spd(rng *rand.Rand, q, stride int) []float64 {
	m := make([]float64, q*q)
	for i := range m {
		m[i] = rng.NormFloat64()
	}
	a := make([]float64, q*stride)
	for i := 0; i < q; i++ {
		for j := 0; j < q; j++ {
			s := 0.0
			for k := 0; k < q; k++ {
				s += m[i*q+k] * m[j*q+k]
			}
			if i == j {
				s += float64(q)
			}
			a[i*stride+j] = s
		}
	}
	return a
}

// BenchmarkDenseChol compares, in one run, cholesky and invertLower with gonum's dpotrf and
// dtrtri at the ensemble members' size (288).
func BenchmarkDenseChol(b *testing.B) {
	q := 288
	a0 := spd(rand.New(rand.NewPCG(1, 2)), q, q)
	a := make([]float64, q*q)
	b.Run("mine", func(b *testing.B) {
		for b.Loop() {
			copy(a, a0)
			cholesky(a, q, q)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		for b.Loop() {
			copy(a, a0)
			lapack64.Potrf(blas64.Symmetric{Uplo: blas.Lower, N: q, Stride: q, Data: a})
		}
	})
	copy(a, a0)
	cholesky(a, q, q)
	l0 := append([]float64(nil), a...)
	v := make([]float64, 2*q)
	b.Run("inv-mine", func(b *testing.B) {
		for b.Loop() {
			copy(a, l0)
			invertLower(a, q, q, v)
		}
	})
	b.Run("inv-gonum", func(b *testing.B) {
		for b.Loop() {
			copy(a, l0)
			lapack64.Trtri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: q, Stride: q, Data: a})
		}
	})
}
