package predictor

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// RBFOptions configure an RBF interpolant.
type RBFOptions struct {
	// Ridge is added to the kernel matrix's diagonal. 0 (the default) means automatic: none
	// when the training rows are distinct (exact interpolation), and 1e-8 times the largest
	// kernel entry when some rows repeat, which makes the model average the repeated
	// targets instead of failing on a singular system (pySOT, which MSuNAS/NAT use, adds a
	// fixed 1e-6 always). A negative value forces exactly 0.
	Ridge float64
}

// RBF is a cubic radial-basis-function interpolant with a linear polynomial tail:
//
//	s(x) = sum_i lambda_i |x - x_i|^3 + c_0 + c^T x,   with  sum_i lambda_i p(x_i) = 0 for p in {1, x}
//
// (Powell 1992; the model of pySOT's RBFInterpolant with CubicKernel and LinearTail that NAT
// uses). The symmetric saddle-point system is solved by the null-space method (the cubic
// kernel is conditionally positive definite of order 2, so projected on the polynomial tail's
// null space it is positive definite: gonum's Cholesky, see fitRBFCore), and the backward
// error of the solution of the full system is checked, so a numerically singular system is an
// error, not garbage. The tail uses a maximal affinely independent subset of the features (pivoted QR):
// constant, collinear or one-hot columns (whose indicators per gene sum to 1) would otherwise
// make the system singular.
type RBF struct {
	opts RBFOptions
	m    int
	core *rbfCore
}

// NewRBF returns an unfitted RBF.
func NewRBF(opts RBFOptions) *RBF { return &RBF{opts: opts} }

// Name implements Predictor.
func (r *RBF) Name() string { return "rbf" }

// Describe implements Predictor: centers, features and ridge.
func (r *RBF) Describe() string {
	if r.core == nil {
		return "cubic RBF with linear tail (unfitted)"
	}
	return fmt.Sprintf("cubic RBF with linear tail: %d centers, %d of %d features (%d independent in the tail), ridge %.3g",
		r.core.n, r.core.k, r.m, r.core.tailN, r.core.ridge)
}

// Fit interpolates (X, y). With fewer samples than features the linear tail keeps only as
// many (independent) features as the samples determine.
// MinSamples is the fewest training samples Fit accepts (whatever the number of features).
func (r *RBF) MinSamples(features int) int { return 3 }

func (r *RBF) Fit(X [][]float64, y []float64) error {
	_, err := r.fit(X, y, nil)
	return err
}

func (r *RBF) fit(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	m, err := checkFit("rbf", X, y, r.MinSamples(0))
	if err != nil {
		return nil, err
	}
	x := flatten(X)
	cols := nonConstant(x, len(X), m, allCols(m))
	if len(cols) == 0 {
		return nil, errors.New("rbf: fit: every feature is constant")
	}
	ws := new(rbfWork)
	core, err := fitRBFCore(x, y, m, cols, r.opts.Ridge, folds, ws)
	if err != nil {
		return nil, fmt.Errorf("rbf: fit: %w", err)
	}
	var held []float64
	if folds == nil {
		core.compact()
	} else {
		held = make([]float64, foldsLen(folds))
		core.heldOut(y, folds, ws, held)
		core.inv, core.g1, core.pos = nil, nil, nil
		core.compact()
		for p, v := range held {
			if !finite(v) {
				return nil, fmt.Errorf("rbf: cross-validation: the system without the fold of held-out position %d is singular", p)
			}
		}
	}
	r.core, r.m = core, m
	return held, nil
}

// Predict evaluates the interpolant at every row of X.
func (r *RBF) Predict(X [][]float64) ([]float64, error) {
	m := 0
	if r.core != nil {
		m = r.m
	}
	if err := checkPredict("rbf", X, m); err != nil {
		return nil, err
	}
	out := make([]float64, len(X))
	r.core.predict(flatten(X), len(X), m, out, nil)
	return out, checkOutput("rbf", out)
}

// fitCV implements cvFitter: it fits on all of (X, y) and returns, for every position of the
// concatenated folds, the prediction by the model fitted without that fold, from one
// factorization (see rbfCore.heldOut).
func (r *RBF) fitCV(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	return r.fit(X, y, folds)
}

// rbfCore is one fitted cubic RBF with linear tail over the columns cols of the input.
type rbfCore struct {
	cols    []int
	n, k    int
	centers []float64 // n x k, row-major
	// centersT is centers feature-major (k x n), built at fit time for prediction (which
	// may run on several goroutines at once, so nothing is built lazily).
	centersT []float64
	lambda   []float64 // n kernel weights
	tail     []float64 // k+1: constant, then one coefficient per column
	tailN    int       // features in the tail (the others are affinely dependent: coefficient 0)
	ridge    float64
	ridged   bool // repeated centers possible: compact merges them after any cross-validation
	// Kept only while cross-validating (see heldOut), owned by the fit's workspace: inv holds
	// L^-1 (K = L L^T) in its trailing block, g1 = -L^-1 B, pos maps a sample to its position
	// in pivot order, p and q are the tail's and K's sizes.
	inv, g1 []float64
	pos     []int
	p, q    int
}

// rbfWork holds buffers reused across fits so that an ensemble does not allocate per member.
type rbfWork struct {
	a, a0, rhs, sol, small, smallRHS []float64
	pm, p0, b, v, g1                 []float64 // tail matrix (LU, then as built), B, V, -L^-1 B
	ipiv, smallPiv, order, pos, ordC []int
	lc, prod                         []float64 // heldOut's gathered columns of G and their Gram block
	col, w1, w2                      []float64 // invertLower's and syr2kDots' scratch
	hashes                           map[uint64][]int
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

func growInt(b []int, n int) []int {
	if cap(b) < n {
		return make([]int, n)
	}
	return b[:n]
}

func allCols(m int) []int {
	c := make([]int, m)
	for i := range c {
		c[i] = i
	}
	return c
}

// nonConstant returns the columns of cand whose values vary over the n x m matrix x.
func nonConstant(x []float64, n, m int, cand []int) []int {
	var out []int
	for _, j := range cand {
		for i := 1; i < n; i++ {
			if x[i*m+j] != x[j] {
				out = append(out, j)
				break
			}
		}
	}
	return out
}

// errSingular reports a numerically singular interpolation system.
var errSingular = errors.New("interpolation system is numerically singular (affinely dependent or repeated points)")

// maxBackwardError is the largest normwise backward error |A c - b| / (|A| |c| + |b|)
// (infinity norms) of the saddle-point system accepted from the solve; a backward-stable solve
// achieves ~1e-15 on a nonsingular system, however ill-conditioned; a singular one gives O(1)
// or NaN. Checking the
// backward error rather than the condition number keeps ill-conditioned but well-solved
// interpolants (close centers), which still reproduce their data.
const maxBackwardError = 1e-10

// fitRBFCore fits a cubic RBF on columns cols of the n x m matrix x. With folds != nil it also
// keeps what heldOut needs.
func fitRBFCore(x, y []float64, m int, cols []int, ridge float64, folds [][]int, ws *rbfWork) (*rbfCore, error) {
	n, k := len(y), len(cols)
	c := &rbfCore{cols: cols, n: n, k: k}
	c.centers = make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := x[i*m:]
		for f, j := range cols {
			c.centers[i*k+f] = row[j]
		}
	}
	// The linear tail uses a maximal affinely independent subset of the features: one-hot
	// features (each gene's indicators sum to 1) or collinear columns would otherwise make
	// the system singular. Left-out features get a zero tail coefficient.
	tailF := independentTail(c.centers, n, k)
	t := len(tailF)
	switch {
	case ridge == 0 && ws.hasDuplicates(c.centers, n, k):
		ridge = math.NaN() // decided below, once the largest kernel entry is known
	case ridge < 0:
		if ws.hasDuplicates(c.centers, n, k) {
			return nil, fmt.Errorf("%w: repeated points and no ridge", errSingular)
		}
		ridge = 0
	}
	p, q := 1+t, n-1-t
	if q < 0 {
		return nil, errSingular
	}
	// The saddle-point system [Phi P; P^T 0] [lambda; c] = [y; 0] is solved by the null-space
	// method: P's LU with partial pivoting picks p well-conditioned "pivot" samples (set 1)
	// and gives a basis Z = [-B^T; I] of {lambda : P^T lambda = 0}, B = P2 P1^-1 = L2 L1^-1.
	// The cubic kernel is conditionally positive definite of order 2 (r^3 with a linear
	// tail), so K = Z^T Phi Z is positive definite for distinct points (and with the ridge
	// for repeated ones): one Cholesky factorization of a (n-p) x (n-p) matrix instead of an
	// LU of the (n+p) x (n+p) system, and, for cross-validation, the diagonal blocks of the
	// system's inverse are Gram blocks of G = L^-1 Z^T (see heldOut).
	ws.pm = grow(ws.pm, n*p)
	pm := ws.pm
	for i := 0; i < n; i++ {
		pm[i*p] = 1
		for qq, f := range tailF {
			pm[i*p+1+qq] = c.centers[i*k+f]
		}
	}
	ws.ipiv = growInt(ws.ipiv, p)
	if !lapack64.Getrf(blas64.General{Rows: n, Cols: p, Stride: p, Data: pm}, ws.ipiv) {
		return nil, errSingular
	}
	// order[a] is the sample at position a (pivot samples first); pos is its inverse.
	ws.order = growInt(ws.order, n)
	ws.pos = growInt(ws.pos, n)
	order := ws.order
	for i := range order {
		order[i] = i
	}
	for i, r := range ws.ipiv[:p] {
		order[i], order[r] = order[r], order[i]
	}
	for at, i := range order {
		ws.pos[i] = at
	}
	// B = L2 L1^-1 (q x p).
	ws.b = grow(ws.b, q*p)
	B := ws.b
	copy(B, pm[p*p:n*p])
	L1 := blas64.Triangular{Uplo: blas.Lower, Diag: blas.Unit, N: p, Stride: p, Data: pm}
	U1 := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: p, Stride: p, Data: pm}
	if q > 0 {
		blas64.Trsm(blas.Right, blas.NoTrans, 1, L1, blas64.General{Rows: q, Cols: p, Stride: p, Data: B})
	}
	// Phi in pivot order, and P in pivot order (p0) for the backward-error check.
	a := grow(ws.a, n*n)
	ws.a = a
	ws.p0 = grow(ws.p0, n*p)
	p0 := ws.p0
	maxPhi := 0.0
	for at, i := range order {
		ci := c.centers[i*k : i*k+k]
		a[at*n+at] = 0
		for bt := at + 1; bt < n; bt++ {
			cj := c.centers[order[bt]*k : order[bt]*k+k]
			d2 := 0.0
			for f, v := range ci {
				d := v - cj[f]
				d2 += d * d
			}
			phi := d2 * math.Sqrt(d2)
			a[at*n+bt] = phi
			a[bt*n+at] = phi
			maxPhi = max(maxPhi, phi)
		}
		p0[at*p] = 1
		for qq, f := range tailF {
			p0[at*p+1+qq] = ci[f]
		}
	}
	if math.IsNaN(ridge) {
		ridge = 1e-8 * max(maxPhi, 1)
	}
	c.ridge = ridge
	if ridge > 0 {
		for at := 0; at < n; at++ {
			a[at*n+at] += ridge
		}
	}
	ws.a0 = grow(ws.a0, n*n)
	copy(ws.a0, a)
	rhs := grow(ws.rhs, n+p)
	ws.rhs = rhs
	for at, i := range order {
		rhs[at] = y[i]
	}
	sol := grow(ws.sol, n+p) // lambda in pivot order, then the tail coefficients
	ws.sol = sol
	var K blas64.Triangular
	if q > 0 {
		// K = Phi22 - V B^T - B V^T with V = Phi21 - B Phi11 / 2 (= Z^T Phi Z), lower triangle.
		ws.v = grow(ws.v, q*p)
		V := ws.v
		for r := 0; r < q; r++ {
			copy(V[r*p:r*p+p], a[(p+r)*n:(p+r)*n+p])
		}
		Bg := blas64.General{Rows: q, Cols: p, Stride: p, Data: B}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, -0.5, Bg, blas64.General{Rows: p, Cols: p, Stride: n, Data: a}, 1, blas64.General{Rows: q, Cols: p, Stride: p, Data: V})
		Ks := blas64.Symmetric{Uplo: blas.Lower, N: q, Stride: n, Data: a[p*n+p:]}
		if useAVX512 {
			syr2kDots(Ks.Data, n, V, B, q, p, ws)
		} else {
			blas64.Syr2k(blas.NoTrans, -1, blas64.General{Rows: q, Cols: p, Stride: p, Data: V}, Bg, 1, Ks)
		}
		K = blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: q, Stride: n, Data: Ks.Data}
		if useAVX512 {
			if !cholesky(Ks.Data, q, n) {
				return nil, errSingular
			}
		} else if _, ok := lapack64.Potrf(Ks); !ok {
			return nil, errSingular
		}
		// alpha = K^-1 (y2 - B y1); lambda = Z alpha = [-B^T alpha; alpha].
		alpha := sol[p:n]
		copy(alpha, rhs[p:n])
		blas64.Gemv(blas.NoTrans, -1, Bg, blas64.Vector{N: p, Inc: 1, Data: rhs[:p]}, 1, blas64.Vector{N: q, Inc: 1, Data: alpha})
		blas64.Trsv(blas.NoTrans, K, blas64.Vector{N: q, Inc: 1, Data: alpha})
		blas64.Trsv(blas.Trans, K, blas64.Vector{N: q, Inc: 1, Data: alpha})
		blas64.Gemv(blas.Trans, -1, Bg, blas64.Vector{N: q, Inc: 1, Data: alpha}, 0, blas64.Vector{N: p, Inc: 1, Data: sol[:p]})
	} else {
		clear(sol[:n])
	}
	// Tail: P1 c = y1 - (Phi lambda)_1.
	tc := sol[n : n+p]
	copy(tc, rhs[:p])
	blas64.Gemv(blas.NoTrans, -1, blas64.General{Rows: p, Cols: n, Stride: n, Data: ws.a0}, blas64.Vector{N: n, Inc: 1, Data: sol[:n]}, 1, blas64.Vector{N: p, Inc: 1, Data: tc})
	blas64.Trsv(blas.NoTrans, L1, blas64.Vector{N: p, Inc: 1, Data: tc})
	blas64.Trsv(blas.NoTrans, U1, blas64.Vector{N: p, Inc: 1, Data: tc})
	if be := saddleBackwardError(ws.a0, p0, sol, rhs[:n], n, p); !(be <= maxBackwardError) {
		return nil, fmt.Errorf("%w: backward error %.2g", errSingular, be)
	}
	c.lambda = make([]float64, n)
	for at, i := range order {
		c.lambda[i] = sol[at]
	}
	c.tailN = t
	c.tail = make([]float64, k+1)
	c.tail[0] = tc[0]
	for qq, f := range tailF {
		c.tail[1+f] = tc[1+qq]
	}
	c.ridged = ridge > 0
	c.transposeCenters()
	if folds != nil {
		// G = L^-1 Z^T = [-L^-1 B, L^-1] (columns in pivot order): invert L in place and
		// form G's first p columns.
		c.p, c.q = p, q
		c.pos = ws.pos
		if q > 0 {
			if useAVX512 {
				ws.col = grow(ws.col, 2*q)
				if !invertLower(a[p*n+p:], q, n, ws.col) {
					return nil, errSingular
				}
			} else if !lapack64.Trtri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: q, Stride: n, Data: a[p*n+p:]}) {
				return nil, errSingular
			}
			ws.g1 = grow(ws.g1, q*p)
			if useAVX512 {
				lowerTimes(ws.g1, a[p*n+p:], n, B, q, p, ws)
			} else {
				copy(ws.g1, B)
				blas64.Trmm(blas.Left, blas.NoTrans, -1, blas64.Triangular{Uplo: blas.Lower, Diag: blas.NonUnit, N: q, Stride: n, Data: a[p*n+p:]},
					blas64.General{Rows: q, Cols: p, Stride: p, Data: ws.g1})
			}
		}
		c.inv, c.g1 = a, ws.g1 // owned by ws: valid until the next fit with this workspace
	}
	return c, nil
}

// syr2kDots is Syr2k(-1, V, B) on the lower triangle of the q x q matrix k (stride): k_rs -=
// V_r . B_s + B_r . V_s = [V_r B_r] . [B_s V_s], as dot products of length 2p four rows at a
// time (gonum's Dsyr2k, built on short axpys, took about a sixth of the ensemble's fit).
func syr2kDots(k []float64, stride int, V, B []float64, q, p int, ws *rbfWork) {
	w := 2 * p
	ws.w1 = grow(ws.w1, q*w)
	ws.w2 = grow(ws.w2, q*w)
	w1, w2 := ws.w1, ws.w2
	for r := 0; r < q; r++ {
		copy(w1[r*w:r*w+p], V[r*p:r*p+p])
		copy(w1[r*w+p:r*w+w], B[r*p:r*p+p])
		copy(w2[r*w:r*w+p], B[r*p:r*p+p])
		copy(w2[r*w+p:r*w+w], V[r*p:r*p+p])
	}
	// Rows r and r+1 together (dot4x2 shares the loads of W2's rows), then row r+1's
	// diagonal; an odd last row alone.
	var out [8]float64
	r := 0
	for ; r+1 < q; r += 2 {
		v0, v1 := w1[r*w:r*w+w], w1[(r+1)*w:(r+1)*w+w]
		row0, row1 := k[r*stride:r*stride+r+1], k[(r+1)*stride:(r+1)*stride+r+2]
		s := 0
		for ; s+4 <= r+1; s += 4 {
			dot4x2(v0, v1, w2[s*w:], w, w, &out)
			for t := 0; t < 4; t++ {
				row0[s+t] -= out[t]
				row1[s+t] -= out[4+t]
			}
		}
		for ; s <= r; s++ {
			row0[s] -= dot1(v0, w2[s*w:s*w+w])
			row1[s] -= dot1(v1, w2[s*w:s*w+w])
		}
		row1[r+1] -= dot1(v1, w2[(r+1)*w:(r+1)*w+w])
	}
	if r < q {
		v := w1[r*w : r*w+w]
		row := k[r*stride : r*stride+r+1]
		for s := 0; s <= r; s++ {
			row[s] -= dot1(v, w2[s*w:s*w+w])
		}
	}
}

// lowerTimes sets dst (q x p) = -X B for the q x q lower-triangular X (row-major, stride)
// and B (q x p): dst_kc = -X_k,:k+1 . B_:k+1,c, as dot products with B's columns (gathered
// as rows) four at a time (gonum's Dtrmm, built on short axpys, was slower).
func lowerTimes(dst, x []float64, stride int, B []float64, q, p int, ws *rbfWork) {
	ws.w1 = grow(ws.w1, p*q)
	bt := ws.w1
	for j := 0; j < q; j++ {
		for c := 0; c < p; c++ {
			bt[c*q+j] = B[j*p+c]
		}
	}
	var out [4]float64
	for k := 0; k < q; k++ {
		v := x[k*stride : k*stride+k+1]
		c := 0
		for ; c+4 <= p; c += 4 {
			dot4(v, bt[c*q:], q, k+1, &out)
			for t, d := range out {
				dst[k*p+c+t] = -d
			}
		}
		for ; c < p; c++ {
			dst[k*p+c] = -dot1(v, bt[c*q:c*q+k+1])
		}
	}
}

// saddleBackwardError is the normwise backward error |A s - b| / (|A| |s| + |b|) (infinity
// norms) of the solution s = (lambda, c) of [Phi P; P^T 0] s = (y, 0), Phi n x n, P n x p.
func saddleBackwardError(phi, pm, s, y []float64, n, p int) float64 {
	var rmax, amax, smax, bmax float64
	lam, c := s[:n], s[n:n+p]
	colAbs := make([]float64, p)
	colRes := make([]float64, p)
	for i := 0; i < n; i++ {
		row := phi[i*n : i*n+n]
		r, rs := 0.0, 0.0
		for j, v := range row {
			r += v * lam[j]
			rs += math.Abs(v)
		}
		for q, v := range pm[i*p : i*p+p] {
			r += v * c[q]
			rs += math.Abs(v)
			colAbs[q] += math.Abs(v)
			colRes[q] += v * lam[i]
		}
		rmax = max(rmax, math.Abs(r-y[i]))
		amax = max(amax, rs)
		bmax = max(bmax, math.Abs(y[i]))
	}
	for q := range colAbs {
		rmax = max(rmax, math.Abs(colRes[q]))
		amax = max(amax, colAbs[q])
	}
	for _, v := range s[:n+p] {
		smax = max(smax, math.Abs(v))
	}
	return rmax / (amax*smax + bmax)
}

// independentTail returns the features f (0..k-1) whose columns, with the constant, form a
// maximal linearly independent set of [1, x] (rank-revealing QR with column pivoting, the
// constant kept first; rank tolerance 1e-10 relative).
func independentTail(x []float64, n, k int) []int {
	p := make([]float64, n*(k+1))
	for i := 0; i < n; i++ {
		p[i*(k+1)] = 1
		copy(p[i*(k+1)+1:(i+1)*(k+1)], x[i*k:(i+1)*k])
	}
	jpvt := make([]int, k+1)
	for j := range jpvt {
		jpvt[j] = -1
	}
	jpvt[0] = 0 // the constant leads
	tau := make([]float64, min(n, k+1))
	P := blas64.General{Rows: n, Cols: k + 1, Stride: k + 1, Data: p}
	work := make([]float64, 1)
	lapack64.Geqp3(P, jpvt, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqp3(P, jpvt, tau, work, len(work))
	rmax := 0.0
	for i := 0; i < min(n, k+1); i++ {
		rmax = max(rmax, math.Abs(p[i*(k+1)+i]))
	}
	var out []int
	for i := 0; i < min(n, k+1); i++ {
		if math.Abs(p[i*(k+1)+i]) > 1e-10*rmax && jpvt[i] != 0 {
			out = append(out, jpvt[i]-1)
		}
	}
	slices.Sort(out)
	return out
}

// hasDuplicates reports whether two of the n rows of the n x k matrix x are equal.
func (ws *rbfWork) hasDuplicates(x []float64, n, k int) bool {
	if ws.hashes == nil {
		ws.hashes = make(map[uint64][]int, n)
	}
	clear(ws.hashes)
	for i := 0; i < n; i++ {
		row := x[i*k : i*k+k]
		h := uint64(14695981039346656037)
		for _, v := range row {
			h ^= math.Float64bits(v + 0) // +0 folds -0 into 0
			h *= 1099511628211
		}
		for _, j := range ws.hashes[h] {
			if equalRows(row, x[j*k:j*k+k]) {
				return true
			}
		}
		ws.hashes[h] = append(ws.hashes[h], i)
	}
	return false
}

func equalRows(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// heldOut writes into out, for every position of the concatenated folds, the prediction of
// the interpolant fitted without that fold (folds may overlap, e.g. repeated k-fold). For a
// symmetric system A c = b and a held-out block S, the fold model's
// residuals are y_S - s_{-S}(x_S) = [(A^-1)_SS]^-1 c_S (Rippa 1999, "An algorithm for selecting
// a good value for the parameter c in radial basis function interpolation", Adv. Comput. Math.
// 11:193-210, extended from one point to a block by the Schur complement). This is exact, and
// costs one factorization and the inversion of its triangle instead of one factorization per
// fold: the data block of A^-1 is Z K^-1 Z^T = G^T G (see fitRBFCore), so each block
// (A^-1)_SS is the Gram matrix of |S| columns of G. A fold whose small system is singular gets
// NaN.
func (c *rbfCore) heldOut(y []float64, folds [][]int, ws *rbfWork, out []float64) {
	n, p, q := c.n, c.p, c.q
	// Column a of G (a sample in pivot order): a < p is column a of g1 (dense); otherwise
	// column a-p of L^-1, zero above its diagonal. start is its first possibly nonzero row.
	start := func(i int) int {
		if a := c.pos[i]; a >= p {
			return a - p
		}
		return 0
	}
	at := 0
	for _, S := range folds {
		o := out[at : at+len(S)]
		at += len(S)
		s := len(S)
		mat := grow(ws.small, s*s)
		ws.small = mat
		rhs := grow(ws.smallRHS, s)
		ws.smallRHS = rhs
		// (A^-1)_SS = G_S^T G_S. The columns of G_S, sorted by their first nonzero row,
		// are gathered as rows of gt (s x q); the Gram entry of columns r <= r2 is then a
		// dot product over rows from start(r2) on (the zeros of row r2 before it add
		// nothing), four entries per kernel call (dot4, dense.go).
		ws.ordC = sortedBy(ws.ordC, S, start)
		gt := grow(ws.lc, s*q)
		ws.lc = gt
		for r, pp := range ws.ordC {
			i := S[pp]
			row := gt[r*q : r*q+q]
			if a := c.pos[i]; a < p {
				for kk := range row {
					row[kk] = c.g1[kk*p+a]
				}
			} else {
				j := a - p
				clear(row[:j])
				for kk := j; kk < q; kk++ {
					row[kk] = c.inv[(p+kk)*n+p+j]
				}
			}
		}
		prod := grow(ws.prod, s*s)
		ws.prod = prod
		var d4 [4]float64
		for r := 0; r < s; r++ {
			r2 := r
			for ; r2+4 <= s; r2 += 4 {
				k0 := start(S[ws.ordC[r2]])
				dot4(gt[r*q+k0:r*q+q], gt[r2*q+k0:], q, q-k0, &d4)
				for t, v := range d4 {
					prod[r*s+r2+t] = v
					prod[(r2+t)*s+r] = v
				}
			}
			for ; r2 < s; r2++ {
				k0 := start(S[ws.ordC[r2]])
				v := dot1(gt[r*q+k0:r*q+q], gt[r2*q+k0:r2*q+q])
				prod[r*s+r2] = v
				prod[r2*s+r] = v
			}
		}
		for r, pr := range ws.ordC {
			for r2, pr2 := range ws.ordC {
				mat[pr*s+pr2] = prod[r*s+r2]
			}
		}
		for pp, i := range S {
			rhs[pp] = c.lambda[i]
		}
		ws.smallPiv = growInt(ws.smallPiv, s)
		M := blas64.General{Rows: s, Cols: s, Stride: s, Data: mat}
		if !lapack64.Getrf(M, ws.smallPiv) {
			for r := range o {
				o[r] = math.NaN()
			}
			continue
		}
		lapack64.Getrs(blas.NoTrans, M, blas64.General{Rows: s, Cols: 1, Stride: 1, Data: rhs}, ws.smallPiv)
		for r, i := range S {
			o[r] = y[i] - rhs[r]
		}
	}
}

// sortedBy returns 0..len(S)-1 ordered by key(S[p]) (ties by p), in buf's storage.
func sortedBy(buf []int, S []int, key func(int) int) []int {
	buf = growInt(buf, len(S))
	for p := range buf {
		buf[p] = p
	}
	slices.SortFunc(buf, func(a, b int) int {
		if ka, kb := key(S[a]), key(S[b]); ka != kb {
			return ka - kb
		}
		return a - b
	})
	return buf
}

// compact merges repeated centers into one whose weight is the sum of theirs. The
// interpolant is unchanged, but the weights of repeated centers in a ridged system are huge and
// nearly opposite (about +-dy/ridge): summing them once here avoids cancelling them in every
// prediction, and small-subset members (many repeats) get cheaper to evaluate. It must run after
// heldOut, which needs the per-sample weights.
func (c *rbfCore) compact() {
	if !c.ridged {
		return
	}
	k := c.k
	index := make(map[string]int, c.n)
	var centers, lambda []float64
	key := make([]byte, 8*k)
	for i := 0; i < c.n; i++ {
		row := c.centers[i*k : i*k+k]
		for f, v := range row {
			bits := math.Float64bits(v + 0)
			for b := 0; b < 8; b++ {
				key[8*f+b] = byte(bits >> (8 * b))
			}
		}
		if at, ok := index[string(key)]; ok {
			lambda[at] += c.lambda[i]
			continue
		}
		index[string(key)] = len(lambda)
		centers = append(centers, row...)
		lambda = append(lambda, c.lambda[i])
	}
	c.centers, c.lambda, c.n = centers, lambda, len(lambda)
	c.ridged = false
	c.transposeCenters()
}

// predict evaluates the interpolant at the rows of the rows x m matrix x into out.
// scratch is an optional buffer (returned, possibly grown) for the projected rows and distances.
//
// The centers are stored feature-major (centersT) so that the squared distances from one row
// to all centers accumulate in long, branch-free loops over contiguous memory: about twice as
// fast as a short inner loop over each center's features.
func (c *rbfCore) predict(x []float64, rows, m int, out []float64, scratch []float64) []float64 {
	k, n := c.k, c.n
	scratch = grow(scratch, k+n)
	xa, d2 := scratch[:k], scratch[k:k+n]
	for a := 0; a < rows; a++ {
		row := x[a*m:]
		s := c.tail[0]
		for f, j := range c.cols {
			xa[f] = row[j]
			s += c.tail[1+f] * row[j]
		}
		clear(d2)
		for f, v := range xa {
			col := c.centersT[f*n : f*n+n : f*n+n]
			for i, ci := range col {
				d := v - ci
				d2[i] += d * d
			}
		}
		out[a] = s + cubicSum(c.lambda[:n:n], [][]float64{d2})
	}
	return scratch
}

// transposeCenters fills centersT, the k x n feature-major copy of centers.
func (c *rbfCore) transposeCenters() {
	k, n := c.k, c.n
	c.centersT = make([]float64, k*n)
	for i := 0; i < n; i++ {
		for f := 0; f < k; f++ {
			c.centersT[f*n+i] = c.centers[i*k+f]
		}
	}
}

// foldsLen is the total length of the folds.
func foldsLen(folds [][]int) int {
	n := 0
	for _, S := range folds {
		n += len(S)
	}
	return n
}
