package predictor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Hand-derived ordinary kriging with two points, x = 0 and 1, y = y1, y2, fixed theta, raw
// (unnormalised) units. With e = exp(-theta) and R = [[1, e], [e, 1]]:
//
//	R^-1 = [[1, -e], [-e, 1]] / (1 - e^2),  1^T R^-1 1 = 2 / (1 + e)
//	beta = (y1 + y2) / 2 (by symmetry),  y - beta 1 = (d, -d), d = (y1 - y2) / 2
//	R^-1 (d, -d) = (d, -d) / (1 - e),  sigma^2 = (y - beta 1)^T R^-1 (y - beta 1) / n = d^2 / (1 - e)
//	yhat(x) = beta + d (r1 - r2) / (1 - e),  r = (exp(-theta x^2), exp(-theta (x-1)^2))
//	mse(x) = sigma^2 (1 - r^T R^-1 r + (1 - 1^T R^-1 r)^2 / (1^T R^-1 1))
//
// (the universal-kriging MSE with a constant trend; Sacks et al. 1989, eq. 7). DACE's nugget
// of (10+n) eps on the diagonal moves these by ~1e-15.
func TestKrigingHandDerivedConstantTrend(t *testing.T) {
	const theta, y1, y2 = 0.7, 3.0, 1.0
	k, err := NewKriging(KrigingOptions{Regression: ConstantTrend, Theta: theta, Raw: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Fit([][]float64{{0}, {1}}, []float64{y1, y2}); err != nil {
		t.Fatal(err)
	}
	e := math.Exp(-theta)
	beta, d := (y1+y2)/2, (y1-y2)/2
	sigma2 := d * d / (1 - e)
	if math.Abs(k.beta[0]-beta) > 1e-12 || math.Abs(k.sigma2-sigma2) > 1e-12 {
		t.Errorf("beta, sigma^2 = %v, %v; want %v, %v", k.beta[0], k.sigma2, beta, sigma2)
	}
	for _, x := range []float64{-0.5, 0, 0.3, 1, 2.2} {
		r1, r2 := math.Exp(-theta*x*x), math.Exp(-theta*(x-1)*(x-1))
		want := beta + d*(r1-r2)/(1-e)
		rRr := (r1*r1 - 2*e*r1*r2 + r2*r2) / (1 - e*e)
		oneRr := (r1 + r2) * (1 - e) / (1 - e*e)
		mse := sigma2 * (1 - rRr + (1-oneRr)*(1-oneRr)/(2/(1+e)))
		mean, std, err := k.PredictStd([][]float64{{x}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(mean[0]-want) > 1e-12 {
			t.Errorf("yhat(%v) = %.15g, want %.15g", x, mean[0], want)
		}
		if math.Abs(std[0]-math.Sqrt(max(mse, 0))) > 1e-7 {
			t.Errorf("std(%v) = %.10g, want %.10g", x, std[0], math.Sqrt(max(mse, 0)))
		}
	}
}

// A linear trend fits linear data exactly, whatever theta, since the residual process is 0.
func TestKrigingLinearTrendReproducesLinearData(t *testing.T) {
	lin := func(x []float64) float64 { return 1 + 2*x[0] - x[1] }
	X, y := randomData(30, 2, 12, lin)
	k, _ := NewKriging(KrigingOptions{Theta: 3})
	if err := k.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	T, want := randomData(20, 2, 13, lin)
	p, _ := k.Predict(T)
	for i := range p {
		if math.Abs(p[i]-want[i]) > 1e-8 {
			t.Fatalf("point %d: %v, want %v", i, p[i], want[i])
		}
	}
}

// Maximum likelihood picks a theta inside the bounds, no worse (by DACE's objective) than any
// point of a fine grid, and the fitted model interpolates with near-zero error bars.
func TestKrigingMaximumLikelihood(t *testing.T) {
	X, y := randomData(40, 3, 14, smooth)
	k, _ := NewKriging(KrigingOptions{})
	if err := k.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	best := k.logLikeliObj
	if th := k.Theta(); th < 1e-5 || th > 100 {
		t.Fatalf("theta %v outside [1e-5, 100]", th)
	}
	for lt := -5.0; lt <= 2; lt += 0.05 {
		g, _ := NewKriging(KrigingOptions{Theta: math.Pow(10, lt)})
		if err := g.Fit(X, y); err != nil {
			continue
		}
		if g.logLikeliObj < best-1e-6 {
			t.Fatalf("theta %.4g has objective %.6g, below the fitted theta %.4g's %.6g", math.Pow(10, lt), g.logLikeliObj, k.Theta(), best)
		}
	}
	mean, std, _ := k.PredictStd(X)
	for i := range y {
		if math.Abs(mean[i]-y[i]) > 1e-6 || std[i] > 1e-4 {
			t.Fatalf("training point %d: %v ± %v, want %v ± 0", i, mean[i], std[i], y[i])
		}
	}
}

// A linear trend on one-hot features keeps only independent columns (the indicators of a gene
// sum to 1), and the model still interpolates.
func TestKrigingOneHotLinearTrend(t *testing.T) {
	b := Bounds{Lo: []int{0, 0, 1, 0}, Hi: []int{16, 1, 9, 9}}
	oh, _ := NewOneHot(b)
	r := rand.New(rand.NewPCG(51, 1))
	gs := make([][]int, 60)
	y := make([]float64, len(gs))
	for i := range gs {
		gs[i] = []int{r.IntN(17), r.IntN(2), 1 + r.IntN(9), r.IntN(10)}
		y[i] = 0.2*float64(gs[i][0]) + float64(gs[i][1]) + 0.1*float64(gs[i][2]*gs[i][3]) + 0.01*r.NormFloat64()
	}
	F, err := Features(oh, gs)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := NewKriging(KrigingOptions{})
	if err := k.Fit(F, y); err != nil {
		t.Fatal(err)
	}
	if p := k.p(); p >= 1+oh.Dim()-3 {
		t.Errorf("trend has %d terms for %d one-hot features of 4 genes: dependent columns kept", p, oh.Dim())
	}
	p, _ := k.Predict(F)
	for i := range y {
		// Repeated genomes with different targets cannot both be interpolated; skip them.
		if math.Abs(p[i]-y[i]) > 1e-5 && !repeated(gs, i) {
			t.Fatalf("training point %d: %v, want %v", i, p[i], y[i])
		}
	}
}

func repeated(gs [][]int, i int) bool {
	for j := range gs {
		if j != i && fmt.Sprint(gs[j]) == fmt.Sprint(gs[i]) {
			return true
		}
	}
	return false
}

// With theta and the normalisation fixed, the closed-form cross-validation (fitCV) must equal
// kriging models fitted without each fold, for both trends and overlapping (repeated) folds.
func TestKrigingHeldOutEqualsRefit(t *testing.T) {
	X, y := randomData(50, 3, 11, smooth)
	var folds [][]int
	for r := 0; r < 2; r++ {
		folds = append(folds, repeatFolds(len(y), 6, 3, r)...)
	}
	for _, reg := range []Regression{LinearTrend, ConstantTrend} {
		opts := KrigingOptions{Regression: reg, Theta: 2, Raw: true}
		k, _ := NewKriging(opts)
		held, err := k.fitCV(X, y, folds)
		if err != nil {
			t.Fatal(err)
		}
		at := 0
		for f, S := range folds {
			tx, ty, ex := splitFold(X, y, S)
			fk, _ := NewKriging(opts)
			if err := fk.Fit(tx, ty); err != nil {
				t.Fatal(err)
			}
			p, _ := fk.Predict(ex)
			for q, i := range S {
				if math.Abs(p[q]-held[at+q]) > 1e-8*(1+math.Abs(p[q])) {
					t.Fatalf("%s trend, fold %d sample %d: closed form %v, refit %v", reg, f, i, held[at+q], p[q])
				}
			}
			at += len(S)
		}
		// The model is left fitted on all the data: it interpolates them.
		p, _ := k.Predict(X)
		for i := range y {
			if math.Abs(p[i]-y[i]) > 1e-6 {
				t.Fatalf("%s trend: after fitCV, prediction at x_%d = %v, want %v", reg, i, p[i], y[i])
			}
		}
	}
}

// RefitPerFold turns the shortcut off: adaptive switching then refits per fold.
func TestKrigingRefitPerFoldHasNoShortcut(t *testing.T) {
	X, y := randomData(30, 3, 1, smooth)
	k, _ := NewKriging(KrigingOptions{RefitPerFold: true})
	if _, err := k.fitCV(X, y, Folds(len(y), 5, 1)); !errors.Is(err, errNoCVShortcut) {
		t.Fatalf("fitCV with RefitPerFold: err %v, want errNoCVShortcut", err)
	}
}
