package predictor

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/rank"
)

func TestTreesFitStepFunctionExactly(t *testing.T) {
	step := func(x []float64) float64 {
		if x[1] > 0.5 {
			return 3
		}
		return 1
	}
	X, y := randomData(100, 4, 21, step)
	b, _ := NewBaggedTrees(TreesOptions{Trees: 30, MaxFeatures: 4, MinLeaf: 1, Seed: 1})
	if err := b.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	T, want := randomData(200, 4, 22, step)
	p, _ := b.Predict(T)
	wrong := 0
	for i := range p {
		if math.Abs(p[i]-want[i]) > 0.5 {
			wrong++
		}
	}
	// Only points near the step, between training samples that bootstraps keep or drop,
	// can be misplaced: allow 5%.
	if wrong > 10 {
		t.Errorf("%d of %d points on the wrong side of a step", wrong, len(p))
	}
}

func TestTreesDeterministicAcrossWorkers(t *testing.T) {
	X, y := randomData(80, 6, 23, smooth)
	var ref []float64
	for _, w := range []int{1, 2, 5} {
		b, _ := NewBaggedTrees(TreesOptions{Trees: 40, Seed: 3, Workers: w})
		if err := b.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		p, _ := b.Predict(X[:20])
		if ref == nil {
			ref = p
		}
		for i := range p {
			if p[i] != ref[i] {
				t.Fatalf("workers=%d: prediction %d differs", w, i)
			}
		}
	}
}

// The forest's cross-validation shortcut predicts each sample by the trees that never drew it:
// such a prediction cannot depend on the sample's own target (the other trees' bootstraps and
// splits do not see it), yet it must rank the samples as a held-out prediction would.
func TestTreesOutOfBagIgnoresOwnTarget(t *testing.T) {
	X, y := randomData(120, 4, 7, smooth)
	folds := Folds(len(y), 10, 2)
	fit := func(y []float64) []float64 {
		b, _ := NewBaggedTrees(TreesOptions{Trees: 60, Seed: 5})
		held, err := b.fitCV(X, y, folds)
		if err != nil {
			t.Fatal(err)
		}
		return held
	}
	held := fit(y)
	var truth []float64
	for _, S := range folds {
		for _, i := range S {
			truth = append(truth, y[i])
		}
	}
	if tau, err := rank.KendallTau(held, truth); err != nil || tau < 0.4 {
		t.Fatalf("out-of-bag predictions rank the targets with tau %v (%v), want >= 0.4", tau, err)
	}
	// Moving one sample's target far away changes every tree that drew it, and no other.
	at := 0
	for _, S := range folds[:3] {
		for q, i := range S {
			y2 := append([]float64(nil), y...)
			y2[i] += 1000
			if h := fit(y2); h[at+q] != held[at+q] {
				t.Fatalf("sample %d: its out-of-bag prediction moved from %v to %v with its own target", i, held[at+q], h[at+q])
			}
		}
		at += len(S)
	}
	// With a single tree most samples are in its bootstrap: refit per fold instead.
	b, _ := NewBaggedTrees(TreesOptions{Trees: 1, Seed: 5})
	if _, err := b.fitCV(X, y, folds); !errors.Is(err, errNoCVShortcut) {
		t.Fatalf("one tree: err %v, want errNoCVShortcut", err)
	}
}

func TestMLPLearnsSmoothFunction(t *testing.T) {
	X, y := randomData(150, 3, 24, smooth)
	p, _ := NewMLP(MLPOptions{Hidden: []int{32, 32, 32}, Epochs: 400, Seed: 5})
	if err := p.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	T, want := randomData(200, 3, 25, smooth)
	pred, _ := p.Predict(T)
	tau, err := rank.KendallTau(pred, want)
	if err != nil || tau < 0.8 {
		t.Errorf("held-out tau %v (%v), want > 0.8", tau, err)
	}
	q, _ := NewMLP(MLPOptions{Hidden: []int{32, 32, 32}, Epochs: 400, Seed: 5})
	_ = q.Fit(X, y)
	again, _ := q.Predict(T)
	for i := range again {
		if again[i] != pred[i] {
			t.Fatal("same seed, different predictions")
		}
	}
}

// constModel predicts the training mean: no ranking ability at all.
type constModel struct{ mean float64 }

func (c *constModel) Name() string     { return "constant" }
func (c *constModel) Describe() string { return "constant" }
func (c *constModel) Fit(X [][]float64, y []float64) error {
	c.mean = 0
	for _, v := range y {
		c.mean += v / float64(len(y))
	}
	return nil
}
func (c *constModel) Predict(X [][]float64) ([]float64, error) {
	out := make([]float64, len(X))
	for i := range out {
		out[i] = c.mean
	}
	return out, nil
}

func TestSwitchingChoosesByMeanMinusStd(t *testing.T) {
	X, y := randomData(60, 3, 26, smooth)
	rbf, _ := SpecOf("rbf")
	trees, _ := SpecOf("bagged-trees")
	failing := Spec{Name: "broken", New: func(uint64) (Predictor, error) { return nil, errors.New("cannot build") }}
	constant := Spec{Name: "constant", New: func(uint64) (Predictor, error) { return &constModel{}, nil }}
	s, err := NewSwitching(SwitchingOptions{Folds: 5, Repeats: 1, Seed: 1, Candidates: []Spec{constant, failing, trees, rbf}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	sc := s.Scores()
	if len(sc) != 4 || sc[1].Err == nil || sc[0].Mean != 0 {
		t.Fatalf("scores: %+v", sc)
	}
	best := -1
	for i, c := range sc {
		if c.Err != nil {
			continue
		}
		if len(c.Tau) != 5 {
			t.Fatalf("%s: %d fold scores, want 5", c.Model, len(c.Tau))
		}
		mu, sd := meanStdPop(c.Tau)
		if math.Abs(c.Score-(mu-sd)) > 1e-15 {
			t.Fatalf("%s: score %v, want mean-std %v", c.Model, c.Score, mu-sd)
		}
		if best < 0 || c.Score > sc[best].Score {
			best = i
		}
	}
	if s.Choice() != sc[best].Model || s.Choice() == "constant" {
		t.Fatalf("chose %s, best by mean-std is %s", s.Choice(), sc[best].Model)
	}
	if !strings.Contains(s.Describe(), "chose "+s.Choice()) {
		t.Errorf("Describe does not report the choice: %s", s.Describe())
	}
	p, err := s.Predict(X[:3])
	if err != nil || len(p) != 3 {
		t.Fatalf("Predict: %v, %v", p, err)
	}
	// The refit winner is the same as fitting that model on all data directly.
	direct, _ := s.opts.Candidates[best].New(1)
	_ = direct.Fit(X, y)
	dp, _ := direct.Predict(X[:3])
	for i := range dp {
		if math.Abs(dp[i]-p[i]) > 1e-9 {
			t.Fatalf("winner's prediction %v, direct fit %v", p, dp)
		}
	}
}

func TestFolds(t *testing.T) {
	f := Folds(23, 10, 7)
	seen := make([]bool, 23)
	for i, fold := range f {
		want := 2
		if i < 3 {
			want = 3
		}
		if len(fold) != want {
			t.Fatalf("fold %d has %d samples, want %d", i, len(fold), want)
		}
		for _, j := range fold {
			if seen[j] {
				t.Fatalf("sample %d in two folds", j)
			}
			seen[j] = true
		}
	}
}

func TestFeatureMaps(t *testing.T) {
	b := Bounds{Lo: []int{0, 0, 1}, Hi: []int{16, 1, 9}}
	s, _ := NewScaled(b)
	X, err := Features(s, [][]int{{8, 1, 1}, {16, 0, 9}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]float64{{0.5, 1, 0}, {1, 0, 1}}; !equal2(X, want) {
		t.Errorf("scaled: %v, want %v", X, want)
	}
	o, _ := NewOneHot(b)
	if o.Dim() != 17+2+9 {
		t.Fatalf("one-hot dim %d", o.Dim())
	}
	X, _ = Features(o, [][]int{{2, 1, 9}})
	var hot []int
	for i, v := range X[0] {
		if v == 1 {
			hot = append(hot, i)
		} else if v != 0 {
			t.Fatalf("one-hot value %v", v)
		}
	}
	if len(hot) != 3 || hot[0] != 2 || hot[1] != 18 || hot[2] != 27 {
		t.Errorf("hot positions %v, want [2 18 27]", hot)
	}
	if _, err := Features(s, [][]int{{8, 1, 1}, {8, 2, 1}}); err == nil || !strings.Contains(err.Error(), "genome 1") || !strings.Contains(err.Error(), "gene 1") {
		t.Errorf("out-of-bounds gene: err = %v", err)
	}
	if _, err := Features(s, [][]int{{8, 1}}); err == nil {
		t.Error("short genome: no error")
	}
	if _, err := NewScaled(Bounds{Lo: []int{3}, Hi: []int{2}}); err == nil {
		t.Error("inverted bounds: no error")
	}
	gm := &GenomeModel{Features: s, Model: NewRBF(RBFOptions{})}
	gs := [][]int{{0, 0, 1}, {16, 1, 9}, {8, 0, 5}, {4, 1, 2}, {12, 0, 7}, {2, 1, 3}}
	acc := []float64{70, 80, 75, 72, 78, 71}
	if err := gm.Fit(gs, acc); err != nil {
		t.Fatal(err)
	}
	p, err := gm.Predict(gs[:2])
	if err != nil || math.Abs(p[0]-70) > 1e-9 || math.Abs(p[1]-80) > 1e-9 {
		t.Errorf("genome model: %v, %v", p, err)
	}
}

func equal2(a, b [][]float64) bool {
	for i := range a {
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-15 {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// Every model rejects bad input with an error naming the problem, never NaN predictions.
func TestBadInput(t *testing.T) {
	X, y := randomData(40, 3, 27, smooth)
	nanX := clone(X)
	nanX[5][1] = math.NaN()
	infY := append([]float64(nil), y...)
	infY[7] = math.Inf(1)
	constY := make([]float64, len(y))
	ragged := clone(X)
	ragged[3] = ragged[3][:2]
	cases := []struct {
		name, want string
		X          [][]float64
		y          []float64
	}{
		{"mismatched lengths", "targets", X, y[:30]},
		{"too few samples", "too few", X[:1], y[:1]},
		{"NaN feature", "NaN", nanX, y},
		{"Inf target", "+Inf", X, infY},
		{"constant targets", "equal", X, constY},
		{"ragged rows", "row 3", ragged, y},
	}
	for _, name := range ModelNames() {
		for _, c := range cases {
			m := fastModel(t, name)
			err := m.Fit(c.X, c.y)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s, %s: err = %v, want it to mention %q", name, c.name, err, c.want)
			}
		}
		m := fastModel(t, name)
		if _, err := m.Predict(X); !errors.Is(err, ErrNotFitted) {
			t.Errorf("%s: predict before fit: %v", name, err)
		}
		if err := m.Fit(X, y); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := m.Predict([][]float64{{1, 2}}); err == nil {
			t.Errorf("%s: predict with 2 of 3 features: no error", name)
		}
		if _, err := m.Predict([][]float64{{1, math.Inf(-1), 2}}); err == nil {
			t.Errorf("%s: predict -Inf feature: no error", name)
		}
		p, err := m.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range p {
			if !finite(v) {
				t.Fatalf("%s: prediction %d is %v", name, i, v)
			}
		}
	}
}

// fastModel is the named model with small settings so tests stay quick.
func fastModel(t *testing.T, name string) Predictor {
	t.Helper()
	var p Predictor
	var err error
	switch name {
	case "rbf-ensemble":
		p, err = NewRBFEnsemble(RBFEnsembleOptions{Members: 20})
	case "bagged-trees":
		p, err = NewBaggedTrees(TreesOptions{Trees: 10})
	case "mlp":
		p, err = NewMLP(MLPOptions{Hidden: []int{8, 8, 8}, Epochs: 20})
	case "adaptive-switching":
		p, err = NewSwitching(SwitchingOptions{Folds: 4, Candidates: []Spec{{Name: "rbf", New: func(uint64) (Predictor, error) { return NewRBF(RBFOptions{}), nil }}}})
	default:
		p, err = New(name, 1)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func clone(X [][]float64) [][]float64 {
	out := make([][]float64, len(X))
	for i := range X {
		out[i] = append([]float64(nil), X[i]...)
	}
	return out
}

// Adaptive switching as a whole (folds run concurrently, ensemble and trees parallel inside)
// gives identical scores and predictions whatever GOMAXPROCS and Workers are.
func TestSwitchingDeterministic(t *testing.T) {
	X, y := discreteData(70, 6, 41)
	T, _ := discreteData(200, 6, 42)
	pool := func(workers int) []Spec {
		return []Spec{
			{Name: "rbf-ensemble", New: func(seed uint64) (Predictor, error) {
				return NewRBFEnsemble(RBFEnsembleOptions{Members: 40, Seed: seed, Workers: workers})
			}},
			{Name: "bagged-trees", New: func(seed uint64) (Predictor, error) {
				return NewBaggedTrees(TreesOptions{Trees: 20, Seed: seed, Workers: workers})
			}},
			{Name: "kriging", New: func(uint64) (Predictor, error) { return NewKriging(KrigingOptions{}) }},
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var refScores []ModelScore
	var refPred []float64
	for _, c := range []struct{ procs, workers int }{{1, 1}, {2, 2}, {4, 3}} {
		runtime.GOMAXPROCS(c.procs)
		s, err := NewSwitching(SwitchingOptions{Folds: 5, Seed: 9, Workers: c.workers, Candidates: pool(c.workers)})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		p, err := s.Predict(T)
		if err != nil {
			t.Fatal(err)
		}
		if refScores == nil {
			refScores, refPred = s.Scores(), p
			continue
		}
		for i, sc := range s.Scores() {
			for f := range sc.Tau {
				if sc.Tau[f] != refScores[i].Tau[f] {
					t.Fatalf("procs=%d workers=%d: %s fold %d tau %v, first run %v", c.procs, c.workers, sc.Model, f, sc.Tau[f], refScores[i].Tau[f])
				}
			}
		}
		for i := range p {
			if p[i] != refPred[i] {
				t.Fatalf("procs=%d workers=%d: prediction %d differs", c.procs, c.workers, i)
			}
		}
	}
}

// Repeated k-fold scores Folds x Repeats folds; its first repeat is plain k-fold's.
func TestSwitchingRepeats(t *testing.T) {
	X, y := randomData(50, 3, 28, smooth)
	rbf, _ := SpecOf("rbf")
	trees := Spec{Name: "bagged-trees", New: func(seed uint64) (Predictor, error) {
		return NewBaggedTrees(TreesOptions{Trees: 10, Seed: seed})
	}}
	one, _ := NewSwitching(SwitchingOptions{Folds: 5, Repeats: 1, Seed: 4, Candidates: []Spec{rbf, trees}})
	three, _ := NewSwitching(SwitchingOptions{Folds: 5, Seed: 4, Repeats: 3, Candidates: []Spec{rbf, trees}})
	if err := one.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if err := three.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	for c := range one.Scores() {
		a, b := one.Scores()[c], three.Scores()[c]
		if len(a.Tau) != 5 || len(b.Tau) != 15 {
			t.Fatalf("%s: %d and %d fold scores, want 5 and 15", a.Model, len(a.Tau), len(b.Tau))
		}
		for f := range a.Tau {
			if a.Tau[f] != b.Tau[f] || a.HeldOut[f] != b.HeldOut[f] {
				t.Fatalf("%s: repeat 0 differs from plain 5-fold at fold %d", a.Model, f)
			}
		}
	}
	if !strings.Contains(three.Describe(), "3x repeated 5-fold") {
		t.Errorf("Describe: %s", three.Describe())
	}
	if _, err := NewSwitching(SwitchingOptions{Repeats: -1}); err == nil {
		t.Error("Repeats -1: no error")
	}
}

// An empty batch is a valid request: no predictions, no error.
func TestEmptyBatch(t *testing.T) {
	X, y := randomData(40, 3, 29, smooth)
	for _, name := range ModelNames() {
		m := fastModel(t, name)
		if err := m.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		p, err := m.Predict(nil)
		if err != nil || len(p) != 0 {
			t.Errorf("%s: Predict(nil) = %v, %v", name, p, err)
		}
	}
}

func TestMinSamplesIsWhatFitNeeds(t *testing.T) {
	if n, err := MinSamples("as", 22); err != nil || n != 23 {
		t.Errorf("MinSamples(as, 22) = %d, %v; want 23 (more samples than NAT's 22 genes)", n, err)
	}
	if _, err := MinSamples("svm", 3); err == nil {
		t.Error("MinSamples of an unknown model succeeded")
	}
	rng := rand.New(rand.NewPCG(4, 4))
	const features = 3
	for _, name := range ModelNames() {
		min, err := MinSamples(name, features)
		if err != nil {
			t.Fatal(err)
		}
		X, y := make([][]float64, min-1), make([]float64, min-1)
		for i := range X {
			X[i] = []float64{rng.Float64(), rng.Float64(), rng.Float64()}
			y[i] = rng.Float64()
		}
		m, _ := New(name, 1)
		if err := m.Fit(X, y); err == nil {
			t.Errorf("%s fitted on %d samples, one fewer than MinSamples", name, min-1)
		}
	}
}
