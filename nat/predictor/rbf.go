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
// uses). The symmetric saddle-point system is solved by LU with partial pivoting (LAPACK dgetrf
// via gonum), and its backward error is checked so a numerically singular system is an error,
// not garbage. The tail uses a maximal affinely independent subset of the features (pivoted QR):
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
func (r *RBF) Fit(X [][]float64, y []float64) error {
	_, err := r.fit(X, y, nil)
	return err
}

func (r *RBF) fit(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	m, err := checkFit("rbf", X, y, 3)
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
		core.inv = nil
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
	// inv holds the inverses of the triangles of the saddle-point matrix's LU factors, kept
	// only while cross-validating (see heldOut).
	inv []float64
	dim int // side of the full system, n+k+1
}

// rbfWork holds buffers reused across fits so that an ensemble does not allocate per member.
type rbfWork struct {
	a, a0, rhs, small, smallRHS []float64
	ipiv, smallPiv              []int
	proj                        []float64
	us, lc                      []float64 // heldOut's gathered rows of U^-1 and columns of L^-1
	pos, rowAt, ordR, ordC      []int
	prod                        []float64
	hashes                      map[uint64][]int
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
// (infinity norms) accepted from the LU solve. LU with partial pivoting achieves ~1e-15 on any
// nonsingular system, however ill-conditioned; a singular one gives O(1) or NaN. Checking the
// backward error rather than the condition number keeps ill-conditioned but well-solved
// interpolants (close centers), which still reproduce their data.
const maxBackwardError = 1e-10

// backwardError returns the normwise backward error of solution c for the N x N system a
// with right-hand side (y, 0...).
func backwardError(a, c, y []float64, N int) float64 {
	var rmax, amax, cmax, bmax float64
	for i := 0; i < N; i++ {
		row := a[i*N : (i+1)*N]
		s, rs := 0.0, 0.0
		for j, v := range row {
			s += v * c[j]
			rs += math.Abs(v)
		}
		b := 0.0
		if i < len(y) {
			b = y[i]
		}
		rmax = max(rmax, math.Abs(s-b))
		amax = max(amax, rs)
		cmax = max(cmax, math.Abs(c[i]))
		bmax = max(bmax, math.Abs(b))
	}
	return rmax / (amax*cmax + bmax)
}

// fitRBFCore fits a cubic RBF on columns cols of the n x m matrix x. With folds != nil it also
// keeps the inverted triangles of the system's LU factors for heldOut.
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
	N := n + 1 + t
	c.dim = N
	if ridge == 0 && ws.hasDuplicates(c.centers, n, k) {
		ridge = math.NaN() // decided below, once the largest kernel entry is known
	}
	if ridge < 0 {
		ridge = 0
	}
	a := grow(ws.a, N*N)
	ws.a = a
	maxPhi := 0.0
	for i := 0; i < n; i++ {
		ci := c.centers[i*k : i*k+k]
		a[i*N+i] = 0
		for j := i + 1; j < n; j++ {
			cj := c.centers[j*k : j*k+k]
			d2 := 0.0
			for f, v := range ci {
				d := v - cj[f]
				d2 += d * d
			}
			phi := d2 * math.Sqrt(d2)
			a[i*N+j] = phi
			a[j*N+i] = phi
			maxPhi = max(maxPhi, phi)
		}
		a[i*N+n] = 1
		a[n*N+i] = 1
		for q, f := range tailF {
			a[i*N+n+1+q] = ci[f]
			a[(n+1+q)*N+i] = ci[f]
		}
	}
	for i := n; i < N; i++ {
		clear(a[i*N+n : i*N+N])
	}
	if math.IsNaN(ridge) {
		ridge = 1e-8 * max(maxPhi, 1)
	}
	c.ridge = ridge
	if ridge > 0 {
		for i := 0; i < n; i++ {
			a[i*N+i] += ridge
		}
	}
	A := blas64.General{Rows: N, Cols: N, Stride: N, Data: a}
	ws.a0 = grow(ws.a0, N*N)
	copy(ws.a0, a)
	ws.ipiv = growInt(ws.ipiv, N)
	if !lapack64.Getrf(A, ws.ipiv) {
		return nil, errSingular
	}
	rhs := grow(ws.rhs, N)
	ws.rhs = rhs
	copy(rhs, y)
	clear(rhs[n:])
	// Solve P L U c = rhs: the row interchanges, then the two triangles (dgetrs with one
	// right-hand side, done as two dtrsv: gonum's dtrsm is slow for a single column).
	for i, p := range ws.ipiv[:N] {
		rhs[i], rhs[p] = rhs[p], rhs[i]
	}
	blas64.Trsv(blas.NoTrans, blas64.Triangular{Uplo: blas.Lower, Diag: blas.Unit, N: N, Stride: N, Data: a}, blas64.Vector{N: N, Inc: 1, Data: rhs})
	blas64.Trsv(blas.NoTrans, blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: N, Stride: N, Data: a}, blas64.Vector{N: N, Inc: 1, Data: rhs})
	if be := backwardError(ws.a0, rhs, y, N); !(be <= maxBackwardError) {
		return nil, fmt.Errorf("%w: backward error %.2g", errSingular, be)
	}
	c.lambda = append([]float64(nil), rhs[:n]...)
	c.tailN = t
	c.tail = make([]float64, k+1)
	c.tail[0] = rhs[n]
	for q, f := range tailF {
		c.tail[1+f] = rhs[n+1+q]
	}
	c.ridged = ridge > 0
	c.transposeCenters()
	if folds != nil {
		// A = P L U. heldOut needs diagonal blocks of A^-1 = U^-1 L^-1 P^T: invert both
		// triangles in place (they occupy disjoint parts of a: U with its diagonal, L's unit
		// diagonal implicit), which costs half of forming A^-1 (dgetri) and is all heldOut needs.
		if !lapack64.Trtri(blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: N, Stride: N, Data: a}) {
			return nil, errSingular
		}
		lapack64.Trtri(blas64.Triangular{Uplo: blas.Lower, Diag: blas.Unit, N: N, Stride: N, Data: a})
		// pos[j] is the row of L U that row j of A went to: column pos[j] of L^-1 is L^-1 P^T e_j.
		ws.pos = growInt(ws.pos, N)
		ws.rowAt = growInt(ws.rowAt, N)
		for i := range ws.rowAt {
			ws.rowAt[i] = i
		}
		for i, p := range ws.ipiv[:N] {
			ws.rowAt[i], ws.rowAt[p] = ws.rowAt[p], ws.rowAt[i]
		}
		for at, j := range ws.rowAt {
			ws.pos[j] = at
		}
		c.inv = a // owned by ws: valid until the next fit with this workspace
	}
	return c, nil
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
// costs one factorization and the inversion of its two triangles instead of one
// factorization per fold; each block (A^-1)_SS is the product of |S| rows of U^-1 and |S|
// columns of L^-1. A fold whose small system is singular gets NaN.
func (c *rbfCore) heldOut(y []float64, folds [][]int, ws *rbfWork, out []float64) {
	N := c.dim
	at := 0
	for _, S := range folds {
		o := out[at : at+len(S)]
		at += len(S)
		s := len(S)
		mat := grow(ws.small, s*s)
		ws.small = mat
		rhs := grow(ws.smallRHS, s)
		ws.smallRHS = rhs
		// (A^-1)_SS = (U^-1)_{S,:} (L^-1)_{:,pos(S)}, both triangles inverted in c.inv. Row i
		// of U^-1 is zero before column i and column p of L^-1 zero above row p: with the rows
		// sorted by i and the columns by p, each chunk of the inner dimension only meets a
		// leading block of rows and columns, which skips about two thirds of the products.
		ws.ordR = sortedBy(ws.ordR, S, func(i int) int { return i })
		ws.ordC = sortedBy(ws.ordC, S, func(j int) int { return ws.pos[j] })
		us := grow(ws.us, s*N)
		ws.us = us
		lc := grow(ws.lc, N*s)
		ws.lc = lc
		for r, p := range ws.ordR {
			i := S[p]
			row := us[r*N : r*N+N]
			clear(row[:i])
			copy(row[i:], c.inv[i*N+i:i*N+N])
		}
		for q, p := range ws.ordC {
			pj := ws.pos[S[p]]
			for k := 0; k < pj; k++ {
				lc[k*s+q] = 0
			}
			lc[pj*s+q] = 1
			for k := pj + 1; k < N; k++ {
				lc[k*s+q] = c.inv[k*N+pj]
			}
		}
		prod := grow(ws.prod, s*s)
		ws.prod = prod
		clear(prod)
		rc, cc := 0, 0
		for k0 := 0; k0 < N; k0 += blockChunk {
			k1 := min(k0+blockChunk, N)
			for rc < s && S[ws.ordR[rc]] < k1 {
				rc++
			}
			for cc < s && ws.pos[S[ws.ordC[cc]]] < k1 {
				cc++
			}
			if rc == 0 || cc == 0 {
				continue
			}
			blas64.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas64.General{Rows: rc, Cols: k1 - k0, Stride: N, Data: us[k0:]},
				blas64.General{Rows: k1 - k0, Cols: cc, Stride: s, Data: lc[k0*s:]},
				1, blas64.General{Rows: rc, Cols: cc, Stride: s, Data: prod})
		}
		for r, p := range ws.ordR {
			for q, pq := range ws.ordC {
				mat[p*s+pq] = prod[r*s+q]
			}
		}
		for p, i := range S {
			rhs[p] = c.lambda[i]
		}
		ws.smallPiv = growInt(ws.smallPiv, s)
		M := blas64.General{Rows: s, Cols: s, Stride: s, Data: mat}
		if !lapack64.Getrf(M, ws.smallPiv) {
			for p := range o {
				o[p] = math.NaN()
			}
			continue
		}
		lapack64.Getrs(blas.NoTrans, M, blas64.General{Rows: s, Cols: 1, Stride: 1, Data: rhs}, ws.smallPiv)
		for p, i := range S {
			o[p] = y[i] - rhs[p]
		}
	}
}

// blockChunk is the inner-dimension chunk of heldOut's block products.
const blockChunk = 32

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
