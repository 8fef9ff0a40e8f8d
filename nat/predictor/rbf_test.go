package predictor

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randomData(n, m int, seed uint64, f func([]float64) float64) ([][]float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, m)
		for j := range X[i] {
			X[i][j] = r.Float64()
		}
		y[i] = f(X[i])
	}
	return X, y
}

func smooth(x []float64) float64 {
	s := 0.0
	for j, v := range x {
		s += math.Sin(3*v+float64(j)) + v*v*float64(j%3)
	}
	return s + x[0]*x[len(x)-1]
}

func TestRBFInterpolatesTrainingPoints(t *testing.T) {
	for _, m := range []int{1, 5, 22} {
		X, y := randomData(120, m, uint64(m), smooth)
		r := NewRBF(RBFOptions{})
		if err := r.Fit(X, y); err != nil {
			t.Fatalf("m=%d: %v", m, err)
		}
		p, err := r.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		for i := range y {
			if d := math.Abs(p[i] - y[i]); d > 1e-9 {
				t.Fatalf("m=%d: sample %d: s(x_i) = %.15g, y_i = %.15g (off by %.2g > 1e-9)", m, i, p[i], y[i], d)
			}
		}
	}
}

// With a linear tail, data from a linear function are reproduced exactly everywhere (the
// kernel weights vanish), which checks the tail and the side conditions independently of the
// interpolation property.
func TestRBFReproducesLinearFunctions(t *testing.T) {
	lin := func(x []float64) float64 { return 2 - 3*x[0] + 0.5*x[1] + 7*x[2] }
	X, y := randomData(40, 3, 3, lin)
	r := NewRBF(RBFOptions{})
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	T, want := randomData(50, 3, 4, lin)
	p, _ := r.Predict(T)
	for i := range p {
		if math.Abs(p[i]-want[i]) > 1e-9 {
			t.Fatalf("point %d: %v, want %v", i, p[i], want[i])
		}
	}
}

// A hand-derived case: 1-D points 0, 1, 2 with y = 0, 1, 0. With phi(r) = r^3 the system is
//
//	[0 1 8 1 0] [l0]   [0]
//	[1 0 1 1 1] [l1]   [1]
//	[8 1 0 1 2] [l2] = [0]
//	[1 1 1 0 0] [c0]   [0]
//	[0 1 2 0 0] [c1]   [0]
//
// The side conditions give l0 = l2 = -l1/2; symmetry gives c1 = 0. Row 1: l0 + l2 + c0 = 1,
// so c0 = 1 + l1. Row 0: l1 + 8 l2 + c0 = 0 -> l1 - 4 l1 + 1 + l1 = 0 -> l1 = 1/2, so
// l0 = l2 = -1/4, c0 = 3/2, and s(0.5) = -1/4*0.125 + 1/2*0.125 - 1/4*3.375 + 3/2 = 0.6875.
func TestRBFHandDerived(t *testing.T) {
	r := NewRBF(RBFOptions{})
	if err := r.Fit([][]float64{{0}, {1}, {2}}, []float64{0, 1, 0}); err != nil {
		t.Fatal(err)
	}
	want := []float64{-0.25, 0.5, -0.25}
	for i, w := range want {
		if math.Abs(r.core.lambda[i]-w) > 1e-12 {
			t.Errorf("lambda = %v, want %v", r.core.lambda, want)
		}
	}
	if math.Abs(r.core.tail[0]-1.5) > 1e-12 || math.Abs(r.core.tail[1]) > 1e-12 {
		t.Errorf("tail = %v, want [1.5 0]", r.core.tail)
	}
	p, _ := r.Predict([][]float64{{0.5}})
	if math.Abs(p[0]-0.6875) > 1e-12 {
		t.Errorf("s(0.5) = %v, want 0.6875", p[0])
	}
}

// splitFold returns the samples outside fold S (inputs and targets) and the inputs in S, in S's
// order: what a model refitted without the fold trains and predicts on.
func splitFold(X [][]float64, y []float64, S []int) (trainX [][]float64, trainY []float64, testX [][]float64) {
	in := map[int]bool{}
	for _, i := range S {
		in[i] = true
	}
	for i := range y {
		if !in[i] {
			trainX, trainY = append(trainX, X[i]), append(trainY, y[i])
		}
	}
	for _, i := range S {
		testX = append(testX, X[i])
	}
	return trainX, trainY, testX
}

// The one-factorization cross-validation must equal refitting without each fold.
func TestRBFHeldOutEqualsRefit(t *testing.T) {
	X, y := randomData(60, 4, 5, smooth)
	folds := Folds(len(y), 7, 9)
	r := NewRBF(RBFOptions{})
	held, err := r.fitCV(X, y, folds)
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for f, S := range folds {
		tx, ty, ex := splitFold(X, y, S)
		fr := NewRBF(RBFOptions{})
		if err := fr.Fit(tx, ty); err != nil {
			t.Fatal(err)
		}
		p, _ := fr.Predict(ex)
		for q, i := range S {
			if math.Abs(p[q]-held[at+q]) > 1e-9*(1+math.Abs(p[q])) {
				t.Fatalf("fold %d sample %d: shortcut %v, refit %v", f, i, held[at+q], p[q])
			}
		}
		at += len(S)
	}
	// And the model is left fitted on all the data.
	p, _ := r.Predict(X)
	for i := range y {
		if math.Abs(p[i]-y[i]) > 1e-9 {
			t.Fatalf("after fitCV, s(x_%d) = %v, want %v", i, p[i], y[i])
		}
	}
}

func TestRBFRepeatedPointsAverage(t *testing.T) {
	X := [][]float64{{0}, {1}, {1}, {2}, {3}}
	y := []float64{0, 1, 3, 0, 1}
	r := NewRBF(RBFOptions{})
	if err := r.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if r.core.ridge == 0 {
		t.Fatal("repeated points: expected an automatic ridge")
	}
	p, _ := r.Predict([][]float64{{1}})
	if math.Abs(p[0]-2) > 1e-5 {
		t.Errorf("s(1) = %v, want about 2 (the mean of the repeated targets 1 and 3)", p[0])
	}
	forced := NewRBF(RBFOptions{Ridge: -1})
	if err := forced.Fit(X, y); err == nil {
		t.Error("Ridge < 0 with repeated points: want a singular-system error")
	}
}

func ensembleFor(t testing.TB, members, workers int, seed uint64) *RBFEnsemble {
	e, err := NewRBFEnsemble(RBFEnsembleOptions{Members: members, Workers: workers, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEnsembleDeterministicAcrossWorkersAndProcs(t *testing.T) {
	X, y := randomData(80, 10, 6, smooth)
	T, _ := randomData(300, 10, 7, smooth)
	var ref []float64
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, c := range []struct{ workers, procs int }{{1, 1}, {2, 2}, {3, 1}, {4, 4}} {
		runtime.GOMAXPROCS(c.procs)
		e := ensembleFor(t, 60, c.workers, 42)
		if err := e.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		p, err := e.Predict(T)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = p
			continue
		}
		for i := range p {
			if p[i] != ref[i] {
				t.Fatalf("workers=%d procs=%d: prediction %d = %v, with 1 worker %v", c.workers, c.procs, i, p[i], ref[i])
			}
		}
	}
	other := ensembleFor(t, 60, 2, 43)
	if err := other.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, _ := other.Predict(T)
	same := true
	for i := range p {
		same = same && p[i] == ref[i]
	}
	if same {
		t.Error("a different seed gave identical predictions")
	}
}

// The ensemble's shortcut cross-validation must match fitting the same ensemble (same seed,
// hence same feature subsets) without each fold.
func TestEnsembleHeldOutEqualsRefit(t *testing.T) {
	X, y := randomData(50, 6, 8, smooth)
	folds := append(repeatFolds(len(y), 5, 3, 0), repeatFolds(len(y), 5, 3, 1)...) // two repeats: overlapping folds
	e := ensembleFor(t, 40, 2, 11)
	held, err := e.fitCV(X, y, folds)
	if err != nil {
		t.Fatal(err)
	}
	at := 0
	for _, S := range folds {
		tx, ty, ex := splitFold(X, y, S)
		fe := ensembleFor(t, 40, 2, 11)
		if err := fe.Fit(tx, ty); err != nil {
			t.Fatal(err)
		}
		p, _ := fe.Predict(ex)
		for q, i := range S {
			if math.Abs(p[q]-held[at+q]) > 1e-6*(1+math.Abs(p[q])) {
				t.Fatalf("sample %d: shortcut %v, refit %v", i, held[at+q], p[q])
			}
		}
		at += len(S)
	}
}

func TestEnsembleSpread(t *testing.T) {
	X, y := randomData(60, 8, 9, smooth)
	e := ensembleFor(t, 50, 2, 1)
	if err := e.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	mean, std, err := e.PredictStd(X[:5])
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := e.Predict(X[:5])
	for i := range mean {
		if mean[i] != plain[i] || !(std[i] >= 0) {
			t.Fatalf("row %d: mean %v (Predict %v), spread %v", i, mean[i], plain[i], std[i])
		}
	}
}

func TestMedianAndQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := 1; n < 40; n++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(r.IntN(7))
		}
		s := append([]float64(nil), v...)
		sortFloats(s)
		want := s[n/2]
		if n%2 == 0 {
			want = (s[n/2-1] + s[n/2]) / 2
		}
		if got := median(append([]float64(nil), v...)); got != want {
			t.Fatalf("median(%v) = %v, want %v", v, got, want)
		}
		pos := 0.25 * float64(n-1)
		i := int(pos)
		wq := s[i]
		if i+1 < n {
			wq += (pos - float64(i)) * (s[i+1] - s[i])
		}
		if got := quantile(append([]float64(nil), v...), 0.25); math.Abs(got-wq) > 1e-12 {
			t.Fatalf("quantile(%v, .25) = %v, want %v", v, got, wq)
		}
	}
}

func sortFloats(v []float64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func discreteData(n, m int, seed uint64) ([][]float64, []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	X := make([][]float64, n)
	y := make([]float64, n)
	for i := range X {
		X[i] = make([]float64, m)
		for j := range X[i] {
			X[i][j] = float64(r.IntN(3+j%8)) / float64(2+j%8)
		}
		y[i] = smooth(X[i]) + 0.01*r.NormFloat64()
	}
	return X, y
}

// The tabulated distances (discrete features) must give the direct computation's
// predictions, for members with odd and even feature counts.
func TestTablePathMatchesDirect(t *testing.T) {
	X, y := discreteData(90, 9, 31)
	T, _ := discreteData(500, 9, 32)
	e := ensembleFor(t, 30, 2, 5)
	if err := e.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	x := flatten(T)
	lv := discretize(x, len(T), 9)
	odd, even := false, false
	for _, c := range e.members {
		if !lv.discrete(c.cols) {
			t.Fatal("discrete data not detected as discrete")
		}
		odd, even = odd || c.k%2 == 1, even || c.k%2 == 0
		direct := make([]float64, len(T))
		c.predict(x, len(T), 9, direct, nil)
		tab := make([]float64, len(T))
		c.predictTables(lv, len(T), 9, tab, new(tableWork))
		for a := range tab {
			if math.Abs(tab[a]-direct[a]) > 1e-11*(1+math.Abs(direct[a])) {
				t.Fatalf("member on %v, row %d: table %v, direct %v", c.cols, a, tab[a], direct[a])
			}
		}
	}
	if !odd || !even {
		t.Fatalf("members cover odd %v / even %v feature counts; want both", odd, even)
	}
	// A batch where a column has more than maxLevels values falls back to the direct path
	// for the members using it, with the same predictions.
	want, _ := e.Predict(T)
	T2 := clone(T)
	for a := range T2 {
		T2[a][3] += float64(a%(maxLevels+1)) * 1e-13
	}
	if lv := discretize(flatten(T2), len(T2), 9); lv.values[3] != nil || lv.values[4] == nil {
		t.Fatal("column 3 should be continuous, column 4 discrete")
	}
	got, _ := e.Predict(T2)
	for a := range got {
		if math.Abs(got[a]-want[a]) > 1e-9 {
			t.Fatalf("row %d: mixed path %v, table path %v", a, got[a], want[a])
		}
	}
}

// One-hot features are affinely dependent (each gene's indicators sum to 1); the tail drops
// the dependent columns and the interpolant still reproduces its data.
func TestRBFOneHotFeatures(t *testing.T) {
	b := Bounds{Lo: []int{0, 0, 1, 0}, Hi: []int{16, 1, 9, 9}}
	oh, _ := NewOneHot(b)
	r := rand.New(rand.NewPCG(3, 3))
	var gs [][]int
	var y []float64
	seen := map[[4]int]bool{}
	for len(gs) < 60 {
		g := []int{r.IntN(17), r.IntN(2), 1 + r.IntN(9), r.IntN(10)}
		if seen[[4]int(g)] {
			continue
		}
		seen[[4]int(g)] = true
		gs = append(gs, g)
		y = append(y, float64(g[0])*0.3+float64(g[2]*g[3])*0.1+float64(g[1]))
	}
	X, err := Features(oh, gs)
	if err != nil {
		t.Fatal(err)
	}
	rbf := NewRBF(RBFOptions{})
	if err := rbf.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	p, _ := rbf.Predict(X)
	for i := range y {
		if math.Abs(p[i]-y[i]) > 1e-9 {
			t.Fatalf("sample %d: %v, want %v", i, p[i], y[i])
		}
	}
	e := ensembleFor(t, 40, 2, 1)
	if err := e.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if e.dropped != 0 {
		t.Errorf("%d of 40 members dropped on one-hot features", e.dropped)
	}
}

// Members that draw the same feature subset are fitted once, and rows repeating an earlier
// row's values on a member's features reuse its prediction: the ensemble must still equal the
// median of independently fitted RBFs, one per member, on that member's features.
func TestEnsembleSharedMembersMatchIndependentFits(t *testing.T) {
	X, y := discreteData(70, 5, 41) // 3 varying features: 40 members share 7 possible subsets
	T, _ := discreteData(400, 5, 42)
	for i := range X {
		X[i][2], X[i][4] = 0.5, 0.25 // constant: members drawing only these are dropped
	}
	e := ensembleFor(t, 40, 2, 13)
	if err := e.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, s := range e.same {
		if s >= 0 {
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("no member shares its subset: the test does not exercise sharing")
	}
	got, err := e.Predict(T)
	if err != nil {
		t.Fatal(err)
	}
	if e.dropped == 0 {
		t.Fatal("no member dropped: the test does not exercise sharing after a dropped member")
	}
	varying := []bool{true, true, false, true, false}
	var preds [][]float64
	for j := 0; j < 40; j++ {
		cols := e.memberCols(j, len(X), 5, varying)
		if len(cols) == 0 {
			continue
		}
		project := func(A [][]float64) [][]float64 {
			P := make([][]float64, len(A))
			for i, a := range A {
				for _, c := range cols {
					P[i] = append(P[i], a[c])
				}
			}
			return P
		}
		r := NewRBF(RBFOptions{})
		if err := r.Fit(project(X), y); err != nil {
			t.Fatalf("member %d on %v: %v", j, cols, err)
		}
		p, err := r.Predict(project(T))
		if err != nil {
			t.Fatal(err)
		}
		preds = append(preds, p)
	}
	if len(preds) != len(e.members) {
		t.Fatalf("%d members with features, ensemble kept %d", len(preds), len(e.members))
	}
	col := make([]float64, len(preds))
	for a := range T {
		for j := range col {
			col[j] = preds[j][a]
		}
		if want := median(col); math.Abs(got[a]-want) > 1e-9*(1+math.Abs(want)) {
			t.Fatalf("row %d: ensemble %v, median of independent fits %v", a, got[a], want)
		}
	}
	t.Logf("%d of 40 members shared a subset, %d dropped", shared, e.dropped)
}

// The null-space Cholesky solve must agree with a plain dense solve of the full saddle-point
// system [Phi + ridge I, P; P^T, 0] (gonum/mat LU), on distinct points and on points with
// repeats (automatic ridge), and its cross-validation with refits built from that dense solve.
func TestRBFMatchesDenseSaddleSolve(t *testing.T) {
	for _, name := range []string{"distinct", "repeated"} {
		t.Run(name, func(t *testing.T) {
			X, y := randomData(45, 3, 21, smooth)
			if name == "repeated" {
				X, y = discreteData(45, 3, 22) // 3 features of 3-5 levels: many repeats
			}
			dense := func(X [][]float64, y []float64, ridge float64, T [][]float64) []float64 {
				n, m := len(X), len(X[0])
				N := n + 1 + m
				A := mat.NewDense(N, N, nil)
				b := mat.NewVecDense(N, nil)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						d := 0.0
						for f := range X[i] {
							d += (X[i][f] - X[j][f]) * (X[i][f] - X[j][f])
						}
						A.Set(i, j, math.Pow(d, 1.5))
					}
					A.Set(i, i, ridge)
					A.Set(i, n, 1)
					A.Set(n, i, 1)
					for f, v := range X[i] {
						A.Set(i, n+1+f, v)
						A.Set(n+1+f, i, v)
					}
					b.SetVec(i, y[i])
				}
				var sol mat.VecDense
				if err := sol.SolveVec(A, b); err != nil {
					t.Fatal(err)
				}
				out := make([]float64, len(T))
				for a, x := range T {
					s := sol.AtVec(n)
					for f, v := range x {
						s += sol.AtVec(n+1+f) * v
					}
					for i := 0; i < n; i++ {
						d := 0.0
						for f := range x {
							d += (x[f] - X[i][f]) * (x[f] - X[i][f])
						}
						s += sol.AtVec(i) * math.Pow(d, 1.5)
					}
					out[a] = s
				}
				return out
			}
			T, _ := randomData(50, 3, 23, smooth)
			r := NewRBF(RBFOptions{})
			folds := Folds(len(y), 5, 4)
			held, err := r.fitCV(X, y, folds)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := r.Predict(T)
			want := dense(X, y, r.core.ridge, T)
			if (name == "repeated") != (r.core.ridge > 0) {
				t.Fatalf("ridge %v for %s points", r.core.ridge, name)
			}
			tol := 1e-8
			if r.core.ridge > 0 {
				tol = 1e-7 // looser: the ridge (1e-8 of the largest kernel entry) leaves the system ill-conditioned
			}
			for a := range got {
				if math.Abs(got[a]-want[a]) > tol*(1+math.Abs(want[a])) {
					t.Fatalf("row %d: null-space solve %v, dense saddle solve %v", a, got[a], want[a])
				}
			}
			at := 0
			for _, S := range folds {
				out := map[int]bool{}
				for _, i := range S {
					out[i] = true
				}
				var tx, ex [][]float64
				var ty []float64
				for i := range y {
					if !out[i] {
						tx, ty = append(tx, X[i]), append(ty, y[i])
					}
				}
				for _, i := range S {
					ex = append(ex, X[i])
				}
				p := dense(tx, ty, r.core.ridge, ex)
				for q := range S {
					if math.Abs(p[q]-held[at+q]) > tol*(1+math.Abs(p[q])) {
						t.Fatalf("held-out %d: shortcut %v, dense refit %v", S[q], held[at+q], p[q])
					}
				}
				at += len(S)
			}
		})
	}
}
