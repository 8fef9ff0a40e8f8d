package predictor

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Regression is the trend of a kriging model.
type Regression int

const (
	// LinearTrend is f(x) = (1, x): NAT's setting.
	LinearTrend Regression = iota
	// ConstantTrend is f(x) = 1 (ordinary kriging).
	ConstantTrend
)

// String is "linear" or "constant".
func (r Regression) String() string {
	if r == ConstantTrend {
		return "constant"
	}
	return "linear"
}

// KrigingOptions configure a Kriging model. Zero values take the documented defaults.
type KrigingOptions struct {
	// Regression is the trend; default LinearTrend.
	Regression Regression
	// Theta, when positive, fixes the correlation parameter instead of fitting it.
	Theta float64
	// ThetaLo and ThetaHi bound the maximum-likelihood search; defaults 1e-5 and 100 (NAT's).
	ThetaLo, ThetaHi float64
	// RefitPerFold makes adaptive switching cross-validate this model by refitting it, theta
	// included, on every fold (NAT's way) instead of the closed form from the full fit with
	// theta held fixed (see fitCV), which costs about an eighth (BenchmarkCV10Kriging against
	// BenchmarkCV10KrigingRefit: 0.063 against 0.54 CPU-s).
	RefitPerFold bool
	// Raw disables DACE's normalisation of the features and targets to zero mean and unit
	// variance (on by default; turning it off is for checking against hand-derived values).
	Raw bool
}

// Kriging is a DACE-style Gaussian process (Lophaven, Nielsen & Sondergaard 2002, "DACE: a
// Matlab kriging toolbox"; NAT uses its Python port pydacefit): y(x) = f(x)^T beta + z(x),
// with z a zero-mean process of variance sigma^2 and Gaussian correlation
// R(x, x') = exp(-theta |x - x'|^2) (one theta for all features, as NAT's scalar setting).
// beta is the generalised least-squares fit, and theta maximises the concentrated likelihood,
// i.e. minimises sigma^2 det(R)^(1/n), over [ThetaLo, ThetaHi]: an 8-point grid in log theta, then 12
// golden-section steps around the best grid point, 20 evaluations in all, locating theta within
// ~0.02 decades (DACE uses a pattern search; the objective is one-dimensional here).
// Like DACE it adds (10+n) machine epsilons to R's diagonal.
type Kriging struct {
	opts KrigingOptions
	m    int
	// fitted state, in normalised units
	x            []float64 // n x m
	xMean, xStd  []float64
	yMean, yStd  float64
	theta        float64
	trend        []int // features in the linear trend: a maximal independent subset (nil: constant trend)
	beta, gamma  []float64
	sigma2       float64
	chol         []float64 // n x n upper Cholesky factor U of R (R = U^T U)
	qrG          []float64 // p x p upper-triangular factor G of U^-T F = Q G
	logLikeliObj float64
}

// NewKriging validates opts and returns an unfitted model.
func NewKriging(opts KrigingOptions) (*Kriging, error) {
	if opts.ThetaLo == 0 {
		opts.ThetaLo = 1e-5
	}
	if opts.ThetaHi == 0 {
		opts.ThetaHi = 100
	}
	if !(opts.ThetaLo > 0 && opts.ThetaLo <= opts.ThetaHi) {
		return nil, fmt.Errorf("kriging: need 0 < ThetaLo <= ThetaHi, got %g and %g", opts.ThetaLo, opts.ThetaHi)
	}
	if opts.Theta < 0 || math.IsNaN(opts.Theta) {
		return nil, fmt.Errorf("kriging: Theta must be positive (or 0 to fit it), got %g", opts.Theta)
	}
	if opts.Regression != LinearTrend && opts.Regression != ConstantTrend {
		return nil, fmt.Errorf("kriging: unknown regression %d", opts.Regression)
	}
	return &Kriging{opts: opts}, nil
}

// Name implements Predictor: "kriging", or "kriging-const" with a constant trend.
func (k *Kriging) Name() string {
	if k.opts.Regression == ConstantTrend {
		return "kriging-const"
	}
	return "kriging"
}

// Describe implements Predictor: trend, theta and how it was set, process sigma.
func (k *Kriging) Describe() string {
	if k.m == 0 {
		return fmt.Sprintf("kriging, %s trend, Gaussian correlation (unfitted)", k.opts.Regression)
	}
	how := "maximum likelihood"
	if k.opts.Theta > 0 {
		how = "fixed"
	}
	return fmt.Sprintf("kriging, %s trend (%d terms), Gaussian correlation: theta %.4g (%s), process sigma %.4g, %d samples",
		k.opts.Regression, k.p(), k.theta, how, math.Sqrt(k.sigma2)*k.yStd, len(k.x)/k.m)
}

// Theta returns the fitted (or fixed) correlation parameter, in normalised feature units.
func (k *Kriging) Theta() float64 { return k.theta }

func (k *Kriging) p() int {
	return 1 + len(k.trend)
}

// regressors writes f(x) into dst.
func (k *Kriging) regressors(x, dst []float64) {
	dst[0] = 1
	for q, j := range k.trend {
		dst[1+q] = x[j]
	}
}

// Fit fits the trend, sigma^2 and (unless fixed) theta on (X, y).
// MinSamples is the fewest training samples Fit accepts (whatever the number of features).
func (k *Kriging) MinSamples(features int) int { return 2 }

func (k *Kriging) Fit(X [][]float64, y []float64) error {
	m, err := checkFit(k.Name(), X, y, k.MinSamples(0))
	if err != nil {
		return err
	}
	n := len(X)
	k.m = m
	x := flatten(X)
	k.xMean, k.xStd = make([]float64, m), make([]float64, m)
	for j := range k.xStd {
		k.xStd[j] = 1
	}
	k.yMean, k.yStd = 0, 1
	ys := append([]float64(nil), y...)
	if !k.opts.Raw {
		for j := 0; j < m; j++ {
			mu, sd := meanStd(x, n, m, j)
			if sd == 0 {
				sd = 1
			}
			k.xMean[j], k.xStd[j] = mu, sd
			for i := 0; i < n; i++ {
				x[i*m+j] = (x[i*m+j] - mu) / sd
			}
		}
		mu, sd := meanStd(ys, n, 1, 0)
		k.yMean, k.yStd = mu, sd
		for i := range ys {
			ys[i] = (ys[i] - mu) / sd
		}
	}
	k.x = x
	// Like the RBF tail, the linear trend keeps a maximal independent subset of the features:
	// one-hot indicators (which sum to 1 per gene) or collinear columns would make the
	// regression matrix singular.
	k.trend = nil
	if k.opts.Regression == LinearTrend {
		k.trend = independentTail(x, n, m)
	}
	if p := k.p(); n <= p {
		k.m = 0
		return fmt.Errorf("%s: fit: too few samples: %d for a %s trend with %d independent terms (need more samples than terms)", k.Name(), n, k.opts.Regression, p)
	}
	d2 := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := 0.0
			for f := 0; f < m; f++ {
				d := x[i*m+f] - x[j*m+f]
				s += d * d
			}
			d2[i*n+j] = s
		}
	}
	st := &krigState{}
	if k.opts.Theta > 0 {
		if err := k.fitTheta(k.opts.Theta, d2, ys, st); err != nil {
			k.m = 0
			return fmt.Errorf("%s: fit: theta %g: %w", k.Name(), k.opts.Theta, err)
		}
		return nil
	}
	obj := func(lt float64) float64 {
		if err := k.fitTheta(math.Pow(10, lt), d2, ys, st); err != nil {
			return math.Inf(1)
		}
		return k.logLikeliObj
	}
	lo, hi := math.Log10(k.opts.ThetaLo), math.Log10(k.opts.ThetaHi)
	best := minimise1D(obj, lo, hi, 8, 12)
	if err := k.fitTheta(math.Pow(10, best), d2, ys, st); err != nil {
		k.m = 0
		return fmt.Errorf("%s: fit: no theta in [%g, %g] gives a positive-definite correlation matrix: %w", k.Name(), k.opts.ThetaLo, k.opts.ThetaHi, err)
	}
	return nil
}

func meanStd(x []float64, n, m, j int) (float64, float64) {
	mu := 0.0
	for i := 0; i < n; i++ {
		mu += x[i*m+j]
	}
	mu /= float64(n)
	ss := 0.0
	for i := 0; i < n; i++ {
		d := x[i*m+j] - mu
		ss += d * d
	}
	return mu, math.Sqrt(ss / float64(n-1)) // DACE normalises with the sample (n-1) std
}

// minimise1D minimises f on [lo, hi] by a grid of gridN points and golden-section search in
// the bracket around the best grid point; it returns the best argument seen.
func minimise1D(f func(float64) float64, lo, hi float64, gridN, iters int) float64 {
	bestX, bestF := lo, math.Inf(1)
	step := (hi - lo) / float64(gridN-1)
	for i := 0; i < gridN; i++ {
		x := lo + float64(i)*step
		if v := f(x); v < bestF {
			bestX, bestF = x, v
		}
	}
	a, b := max(lo, bestX-step), min(hi, bestX+step)
	g := (math.Sqrt(5) - 1) / 2
	c, d := b-g*(b-a), a+g*(b-a)
	fc, fd := f(c), f(d)
	for i := 0; i < iters; i++ {
		if fc < fd {
			b, d, fd = d, c, fc
			c = b - g*(b-a)
			fc = f(c)
		} else {
			a, c, fc = c, d, fd
			d = a + g*(b-a)
			fd = f(d)
		}
	}
	for _, p := range [][2]float64{{c, fc}, {d, fd}} {
		if p[1] < bestF {
			bestX, bestF = p[0], p[1]
		}
	}
	return bestX
}

type krigState struct {
	r, ft, yt, tau, work []float64
}

var errNotPD = errors.New("correlation matrix is not positive definite")

// fitTheta computes the GLS fit for a given theta (DACE's objfunc) and stores it in k.
func (k *Kriging) fitTheta(theta float64, d2, ys []float64, st *krigState) error {
	n, p := len(ys), k.p()
	m := k.m
	st.r = grow(st.r, n*n)
	r := st.r
	nugget := float64(10+n) * 2.220446049250313e-16
	for i := 0; i < n; i++ {
		r[i*n+i] = 1 + nugget
		for j := i + 1; j < n; j++ {
			r[i*n+j] = math.Exp(-theta * d2[i*n+j])
		}
	}
	U := blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: n, Stride: n, Data: r}
	if useAVX512 {
		// The hand-written Cholesky (dense.go) is lower: mirror R into the lower triangle,
		// factor R = L L^T and store U = L^T in the upper one.
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				r[j*n+i] = r[i*n+j]
			}
		}
		if !cholesky(r, n, n) {
			return errNotPD
		}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				r[i*n+j] = r[j*n+i]
			}
		}
	} else if _, ok := lapack64.Potrf(blas64.Symmetric{N: n, Stride: n, Data: r, Uplo: blas.Upper}); !ok {
		return errNotPD
	}
	// Ft = U^-T F, Yt = U^-T y (R = U^T U, so U^T plays DACE's C).
	st.ft = grow(st.ft, n*p)
	ft := st.ft
	f := make([]float64, p)
	for i := 0; i < n; i++ {
		k.regressors(k.x[i*m:(i+1)*m], f)
		copy(ft[i*p:], f)
	}
	Ft := blas64.General{Rows: n, Cols: p, Stride: p, Data: ft}
	blas64.Trsm(blas.Left, blas.Trans, 1, U, Ft)
	st.yt = grow(st.yt, n)
	yt := st.yt
	copy(yt, ys)
	blas64.Trsv(blas.Trans, U, blas64.Vector{N: n, Inc: 1, Data: yt})
	// QR of Ft; beta = G^-1 Q^T Yt.
	st.tau = grow(st.tau, p)
	st.work = grow(st.work, max(64*p, n))
	qr := append([]float64(nil), ft...)
	QR := blas64.General{Rows: n, Cols: p, Stride: p, Data: qr}
	lapack64.Geqrf(QR, st.tau, st.work, len(st.work))
	G := make([]float64, p*p)
	for i := 0; i < p; i++ {
		copy(G[i*p+i:(i+1)*p], qr[i*p+i:(i+1)*p])
	}
	Gt := blas64.Triangular{N: p, Stride: p, Data: G, Uplo: blas.Upper, Diag: blas.NonUnit}
	if rc := lapack64.Trcon(lapack.MaxColumnSum, Gt, st.work[:3*p], make([]int, p)); !(rc > 1e-10) {
		return fmt.Errorf("regression matrix is too ill-conditioned (reciprocal condition %.2g): too few distinct samples for a %s trend?", rc, k.opts.Regression)
	}
	qty := append([]float64(nil), yt...)
	lapack64.Ormqr(blas.Left, blas.Trans, QR, st.tau, blas64.General{Rows: n, Cols: 1, Stride: 1, Data: qty}, st.work, len(st.work))
	beta := append([]float64(nil), qty[:p]...)
	blas64.Trsv(blas.NoTrans, Gt, blas64.Vector{N: p, Inc: 1, Data: beta})
	// rho = Yt - Ft beta; sigma^2 = |rho|^2 / n; gamma = U^-1 rho.
	rho := append([]float64(nil), yt...)
	blas64.Gemv(blas.NoTrans, -1, blas64.General{Rows: n, Cols: p, Stride: p, Data: ft}, blas64.Vector{N: p, Inc: 1, Data: beta}, 1, blas64.Vector{N: n, Inc: 1, Data: rho})
	ss := 0.0
	for _, v := range rho {
		ss += v * v
	}
	sigma2 := ss / float64(n)
	logDet := 0.0 // log det(R)^(1/n) = (2/n) sum log U_ii
	for i := 0; i < n; i++ {
		logDet += math.Log(r[i*n+i])
	}
	logDet *= 2 / float64(n)
	gamma := rho
	blas64.Trsv(blas.NoTrans, U, blas64.Vector{N: n, Inc: 1, Data: gamma})
	k.theta, k.beta, k.gamma, k.sigma2, k.qrG = theta, beta, gamma, sigma2, G
	k.chol = append(k.chol[:0], r...)
	// Minimising sigma^2 det(R)^(1/n) is DACE's objective; in logs it is monotone and safe
	// from underflow of det(R).
	k.logLikeliObj = math.Log(sigma2) + logDet
	if sigma2 == 0 {
		k.logLikeliObj = math.Inf(-1)
	}
	return nil
}

// Predict returns the kriging predictor (the best linear unbiased predictor) at each row.
func (k *Kriging) Predict(X [][]float64) ([]float64, error) {
	mean, _, err := k.predict(X, false)
	return mean, err
}

// PredictStd also returns the predictor's standard error, sqrt of DACE's mean squared error
// sigma^2 (1 + u^T (F^T R^-1 F)^-1 u - r^T R^-1 r) with u = F^T R^-1 r - f(x), in target units.
// It is 0 (up to round-off) at the training points and grows away from them.
func (k *Kriging) PredictStd(X [][]float64) (mean, std []float64, err error) {
	return k.predict(X, true)
}

func (k *Kriging) predict(X [][]float64, withStd bool) ([]float64, []float64, error) {
	if err := checkPredict(k.Name(), X, k.m); err != nil {
		return nil, nil, err
	}
	m, n, p := k.m, len(k.gamma), k.p()
	out := make([]float64, len(X))
	var std []float64
	if withStd {
		std = make([]float64, len(X))
	}
	xs := make([]float64, m)
	f := make([]float64, p)
	r := make([]float64, n)
	u := make([]float64, p)
	U := blas64.Triangular{N: n, Stride: n, Data: k.chol, Uplo: blas.Upper, Diag: blas.NonUnit}
	G := blas64.Triangular{N: p, Stride: p, Data: k.qrG, Uplo: blas.Upper, Diag: blas.NonUnit}
	for a, row := range X {
		for j, v := range row {
			xs[j] = (v - k.xMean[j]) / k.xStd[j]
		}
		k.regressors(xs, f)
		s := 0.0
		for j := range f {
			s += f[j] * k.beta[j]
		}
		for i := 0; i < n; i++ {
			d2 := 0.0
			xi := k.x[i*m : (i+1)*m]
			for j, v := range xs {
				d := v - xi[j]
				d2 += d * d
			}
			r[i] = math.Exp(-k.theta * d2)
			s += r[i] * k.gamma[i]
		}
		out[a] = k.yMean + k.yStd*s
		if !withStd {
			continue
		}
		// rt = U^-T r; u = G^-T (Ft^T rt - f).
		blas64.Trsv(blas.Trans, U, blas64.Vector{N: n, Inc: 1, Data: r})
		rr := 0.0
		for _, v := range r {
			rr += v * v
		}
		for j := range u {
			u[j] = -f[j]
		}
		// Ft^T rt: Ft = U^-T F, so Ft^T rt = F^T U^-1 rt; recompute via the stored rows.
		k.ftTimes(r, u)
		blas64.Trsv(blas.Trans, G, blas64.Vector{N: p, Inc: 1, Data: u})
		uu := 0.0
		for _, v := range u {
			uu += v * v
		}
		mse := k.sigma2 * (1 + uu - rr)
		std[a] = k.yStd * math.Sqrt(max(mse, 0))
	}
	if err := checkOutput(k.Name(), out); err != nil {
		return nil, nil, err
	}
	return out, std, nil
}

// ftTimes adds Ft^T v to dst, where Ft = U^-T F: Ft^T v = F^T (U^-1 v).
func (k *Kriging) ftTimes(v, dst []float64) {
	n, m := len(k.gamma), k.m
	w := append([]float64(nil), v...)
	U := blas64.Triangular{N: n, Stride: n, Data: k.chol, Uplo: blas.Upper, Diag: blas.NonUnit}
	blas64.Trsv(blas.NoTrans, U, blas64.Vector{N: n, Inc: 1, Data: w})
	f := make([]float64, k.p())
	for i := 0; i < n; i++ {
		k.regressors(k.x[i*m:(i+1)*m], f)
		for j := range f {
			dst[j] += f[j] * w[i]
		}
	}
}
