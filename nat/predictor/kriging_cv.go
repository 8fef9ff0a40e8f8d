package predictor

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// fitCV implements cvFitter: it fits on all of (X, y), theta by maximum likelihood as Fit does,
// and returns, for every position of the concatenated folds, the prediction of the kriging model
// with that theta fitted without the fold, in closed form from the one factorization.
//
// The kriging predictor f(x)^T beta + r(x)^T gamma, with beta the generalised least-squares
// trend, is the interpolant of the bordered system [R F; F^T 0] [gamma; beta] = [y; 0], so the
// block form of Rippa's rule applies as for the RBF models (rbfCore.heldOut): the fold's residuals
// are y_S - yhat_{-S}(x_S) = [(A^-1)_SS]^-1 gamma_S, where the data block of A^-1 is
// R^-1 - R^-1 F (F^T R^-1 F)^-1 F^T R^-1 = U^-1 U^-T - V V^T with R = U^T U and
// V = U^-1 (U^-T F) G^-1 (G the triangular factor of U^-T F = Q G).
//
// What is held fixed across folds, unlike refitting per fold (KrigingOptions.RefitPerFold): theta,
// the features' normalisation and the trend's feature subset come from all the data. The fold
// scores are therefore slightly optimistic for kriging; the saving is about 8x for one 10-fold
// (one maximum-likelihood search instead of one per fold), which is what makes repeated cross-validation
// affordable in adaptive switching. TestKrigingHeldOutEqualsRefit checks the identity against
// fold models fitted with the same fixed theta.
func (k *Kriging) fitCV(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	if k.opts.RefitPerFold {
		return nil, errNoCVShortcut
	}
	if err := k.Fit(X, y); err != nil {
		return nil, err
	}
	n, p, m := len(y), k.p(), k.m
	// Uinv = U^-1 (upper triangular).
	uinv := make([]float64, n*n)
	for i := 0; i < n; i++ {
		copy(uinv[i*n+i:(i+1)*n], k.chol[i*n+i:(i+1)*n])
	}
	Uinv := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: uinv}
	if ok := lapack64.Trtri(Uinv); !ok {
		return nil, errNotPD
	}
	// V = U^-1 (U^-T F) G^-1, n x p.
	U := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: k.chol}
	v := make([]float64, n*p)
	for i := 0; i < n; i++ {
		k.regressors(k.x[i*m:(i+1)*m], v[i*p:(i+1)*p])
	}
	V := blas64.General{Rows: n, Cols: p, Stride: p, Data: v}
	blas64.Trsm(blas.Left, blas.Trans, 1, U, V)
	blas64.Trsm(blas.Left, blas.NoTrans, 1, U, V)
	G := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: p, Stride: p, Data: k.qrG}
	blas64.Trsm(blas.Right, blas.NoTrans, 1, G, V)

	out := make([]float64, foldsLen(folds))
	at := 0
	var mat, rhs []float64
	var piv []int
	for _, S := range folds {
		s := len(S)
		o := out[at : at+s]
		at += s
		mat, rhs, piv = grow(mat, s*s), grow(rhs, s), growInt(piv, s)
		for a, i := range S {
			for b := a; b < s; b++ {
				j := S[b]
				// (R^-1)_ij = sum_t Uinv_it Uinv_jt over t >= max(i, j) (upper triangular).
				from := max(i, j)
				e := dot1(uinv[i*n+from:(i+1)*n], uinv[j*n+from:(j+1)*n])
				e -= dot1(v[i*p:(i+1)*p], v[j*p:(j+1)*p])
				mat[a*s+b], mat[b*s+a] = e, e
			}
			rhs[a] = k.gamma[i]
		}
		M := blas64.General{Rows: s, Cols: s, Stride: s, Data: mat}
		if !lapack64.Getrf(M, piv) {
			for r := range o {
				o[r] = math.NaN()
			}
			continue
		}
		lapack64.Getrs(blas.NoTrans, M, blas64.General{Rows: s, Cols: 1, Stride: 1, Data: rhs}, piv)
		for a, i := range S {
			o[a] = y[i] - k.yStd*rhs[a]
		}
	}
	return out, nil
}
