package nsga3

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/moea"
	"github.com/natgo/nat/nat/moea/indicator"
	"github.com/natgo/nat/nat/moea/problems"
	"github.com/natgo/nat/nat/moea/refdirs"
	"github.com/natgo/nat/nat/moea/termination"
)

func runDTLZ(t testing.TB, name string, m, n, p, gens int, seed uint64) (igd float64, res *moea.Result) {
	t.Helper()
	return runDTLZWith(t, name, m, n, p, gens, seed, false)
}

func runDTLZWith(t testing.TB, name string, m, n, p, gens int, seed uint64, randomNiching bool) (igd float64, res *moea.Result) {
	t.Helper()
	prob, err := problems.New(name, m, n)
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := refdirs.DasDennis(m, p)
	if err != nil {
		t.Fatal(err)
	}
	alg, err := New(Options{RefDirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	var algo moea.Algorithm = alg
	if randomNiching {
		algo = brokenNiching{alg}
	}
	res, err = moea.Minimize(context.Background(), prob, algo, termination.Generations(gens), seed)
	if err != nil {
		t.Fatal(err)
	}
	front, err := prob.ParetoFront(dirs)
	if err != nil {
		t.Fatal(err)
	}
	igd, err = indicator.IGD(res.Opt.Objectives(), front)
	if err != nil {
		t.Fatal(err)
	}
	return igd, res
}

// A correct NSGA-III on DTLZ2 (M=3, 12 variables, population 92, 91 Das-Dennis directions)
// reaches an IGD near 1.5e-3 at pymoo's 250 generations (../shared/reference/moea-reference.md).
// After 150 generations this implementation is at 3.1e-3..4.2e-3 (seeds 1..3); the test asks
// for a median below 7e-3 and, as a control that the check can fail, that the same run with
// niching replaced by a random choice is clearly worse. The full-length check against pymoo's
// ranges is `nat bench moea` (results/moea/README.md).
func TestNSGA3ConvergesOnDTLZ2(t *testing.T) {
	median := func(broken bool) float64 {
		var igds []float64
		for seed := uint64(1); seed <= 3; seed++ {
			igd, res := runDTLZWith(t, "dtlz2", 3, 12, 12, 150, seed, broken)
			if len(res.Population) != 92 {
				t.Fatalf("population %d, want 92", len(res.Population))
			}
			if res.Evaluations != 92*151 {
				t.Errorf("evaluations %d, want %d", res.Evaluations, 92*151)
			}
			igds = append(igds, igd)
		}
		sort.Float64s(igds)
		return igds[1]
	}
	good := median(false)
	t.Logf("median IGD after 150 generations: %.3g", good)
	if good > 7e-3 {
		t.Errorf("median IGD %.3g after 150 generations, want < 7e-3", good)
	}
	bad := median(true)
	t.Logf("median IGD with random niching: %.3g", bad)
	if bad < 1.5*good {
		t.Errorf("random niching gave IGD %.3g, not clearly worse than %.3g: the test cannot tell", bad, good)
	}
}

// With five objectives normalisation and niching matter more. After 100 generations on DTLZ2
// (14 variables, 210 directions) this implementation is at 0.037..0.041 (seeds 1..2); pymoo's
// 350-generation value is 4.6e-3.
func TestNSGA3FiveObjectivesShortRun(t *testing.T) {
	igd, res := runDTLZ(t, "dtlz2", 5, 14, 6, 100, 1)
	t.Logf("DTLZ2 M=5 IGD after 100 generations: %.3g (%d in Opt)", igd, len(res.Opt))
	if igd > 0.065 {
		t.Errorf("IGD %.3g after 100 generations, want < 0.065", igd)
	}
	if len(res.Opt) < 190 {
		t.Errorf("only %d of 210 directions have a front member", len(res.Opt))
	}
}

func TestSameSeedSameResultWhateverGOMAXPROCS(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	_, a := runDTLZ(t, "dtlz1", 3, 7, 12, 15, 42)
	runtime.GOMAXPROCS(max(2, old))
	_, b := runDTLZ(t, "dtlz1", 3, 7, 12, 15, 42)
	runtime.GOMAXPROCS(old)
	if len(a.Population) != len(b.Population) {
		t.Fatal("population sizes differ")
	}
	for i := range a.Population {
		if !slices.Equal(a.Population[i].X, b.Population[i].X) || !slices.Equal(a.Population[i].F, b.Population[i].F) {
			t.Fatalf("individual %d differs between runs with the same seed", i)
		}
	}
	_, c := runDTLZ(t, "dtlz1", 3, 7, 12, 15, 43)
	if slices.Equal(a.Population[0].X, c.Population[0].X) {
		t.Error("different seeds gave the same first individual")
	}
}

func TestSurvivalOnASmallCase(t *testing.T) {
	// Two objectives, three directions (0,1), (0.5,0.5), (1,0); four non-dominated points and
	// one dominated point: keeping 3 must keep the two extremes and the point nearest the
	// middle line, never the dominated one.
	dirs := [][]float64{{0, 1}, {0.5, 0.5}, {1, 0}}
	pop := moea.Population{
		{X: []float64{0}, F: []float64{0, 1}},
		{X: []float64{1}, F: []float64{0.45, 0.5}},
		{X: []float64{2}, F: []float64{0.3, 0.75}},
		{X: []float64{3}, F: []float64{1, 0}},
		{X: []float64{4}, F: []float64{1, 1}},
	}
	s, err := NewSurvival(dirs)
	if err != nil {
		t.Fatal(err)
	}
	run := moea.NewRun(&moea.FuncProblem{Lower: []float64{0}, Upper: []float64{5}, Objectives: 2}, moea.NewRand(1), &moea.State{})
	out := s.Do(run, pop, 3)
	got := []float64{}
	for _, ind := range out {
		got = append(got, ind.X[0])
	}
	slices.Sort(got)
	if !slices.Equal(got, []float64{0, 1, 3}) {
		t.Errorf("survivors %v, want [0 1 3]", got)
	}
	if len(s.Opt) != 3 {
		t.Errorf("Opt has %d members, want 3", len(s.Opt))
	}
}

func TestConstrainedProblemPrefersFeasible(t *testing.T) {
	// Minimise (x, 1-x) subject to x >= 0.6 (g = 0.6 - x <= 0).
	prob := &moea.FuncProblem{
		Lower: []float64{0, 0}, Upper: []float64{1, 1}, Objectives: 2, Constraints: 1,
		Func: func(ctx context.Context, X, F, G [][]float64) error {
			for i, x := range X {
				F[i][0], F[i][1] = x[0], 1-x[0]+x[1]
				G[i][0] = 0.6 - x[0]
			}
			return nil
		},
	}
	dirs, _ := refdirs.DasDennis(2, 11)
	alg, err := New(Options{RefDirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	res, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(30), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, ind := range res.Opt {
		if !ind.Feasible() || ind.X[0] < 0.6 {
			t.Fatalf("answer %v (CV %v) is infeasible", ind.X, ind.CV)
		}
	}
}

func TestCancellationAndCallback(t *testing.T) {
	prob, _ := problems.New("dtlz2", 3, 12)
	dirs, _ := refdirs.DasDennis(3, 12)
	alg, _ := New(Options{RefDirs: dirs})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var gens []int
	res, err := moea.Minimize(ctx, prob, alg, termination.Generations(1000), 1, moea.WithCallback(func(s *moea.State) error {
		gens = append(gens, s.Generation)
		if s.Generation == 5 {
			cancel()
		}
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if res == nil || res.Generations != 5 || len(res.Population) != 92 {
		t.Fatalf("result after cancellation: %+v", res)
	}
	if !slices.Equal(gens, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("callback saw generations %v", gens)
	}
	stop := errors.New("enough")
	_, err = moea.Minimize(context.Background(), prob, alg, termination.Generations(1000), 1,
		moea.WithCallback(func(s *moea.State) error {
			if s.Generation == 2 {
				return stop
			}
			return nil
		}))
	if !errors.Is(err, stop) {
		t.Errorf("callback error not returned: %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("no reference directions accepted")
	}
	if _, err := New(Options{RefDirs: [][]float64{{0.5, 0.5}, {1}}}); err == nil {
		t.Error("ragged directions accepted")
	}
	if _, err := NewSurvival([][]float64{{0, 0}}); err == nil {
		t.Error("a zero direction accepted")
	}
	alg, _ := New(Options{RefDirs: [][]float64{{0.5, 0.5}, {1, 0}}})
	prob, _ := problems.New("dtlz2", 3, 12)
	if _, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(1), 1); err == nil {
		t.Error("2-D directions on a 3-objective problem accepted")
	}
}

// brokenNiching is NSGA-III with niching replaced by a random choice of the last front.
type brokenNiching struct{ *NSGA3 }

func (b brokenNiching) Setup(run *moea.Run) error {
	err := b.NSGA3.Setup(run)
	b.survival.randomNiching = true
	return err
}

func TestInitialPopulationFromAnArchive(t *testing.T) {
	prob, _ := problems.New("dtlz2", 3, 12)
	dirs, _ := refdirs.DasDennis(3, 12)
	// 300 archive members (more than the population) with a duplicate.
	r := moea.NewRand(5)
	var archive [][]float64
	for i := 0; i < 300; i++ {
		x := make([]float64, 12)
		for k := range x {
			x[k] = r.Float64()
		}
		archive = append(archive, x)
	}
	archive = append(archive, archive[0])
	alg, err := New(Options{RefDirs: dirs, Initial: archive})
	if err != nil {
		t.Fatal(err)
	}
	res, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(0), 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evaluations != 300 || len(res.Population) != 92 {
		t.Errorf("evaluations %d, population %d; want the 300 unique archive members reduced to 92", res.Evaluations, len(res.Population))
	}
	in := map[float64]bool{}
	for _, x := range archive {
		in[x[0]] = true
	}
	for _, ind := range res.Population {
		if !in[ind.X[0]] {
			t.Fatalf("individual %v is not from the archive", ind.X)
		}
	}
	bad := [][]float64{make([]float64, 12)}
	bad[0][3] = 1.5
	alg, _ = New(Options{RefDirs: dirs, Initial: bad})
	if _, err := moea.Minimize(context.Background(), prob, alg, termination.Generations(1), 1); err == nil || !strings.Contains(err.Error(), "variable 3") {
		t.Errorf("out-of-bounds archive member: error %v, want one naming variable 3", err)
	}
}
