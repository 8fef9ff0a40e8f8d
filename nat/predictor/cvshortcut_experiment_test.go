package predictor_test

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/predictor/synthetic"
)

// TestCVShortcutsAgainstRefitsExperiment compares the cross-validation shortcuts (kriging in
// closed form with theta from the full fit, the trees by out-of-bag predictions) with refitting
// per fold (RefitPerFold), by their mean fold Kendall tau under 3x repeated 10-fold CV on the
// synthetic archives (100/200/300 samples, seeds 1-5). It prints the figures results/predictors
// quotes and runs only when NAT_CV_SHORTCUTS=1 (about 30 s): it measures, it does not test.
func TestCVShortcutsAgainstRefitsExperiment(t *testing.T) {
	if os.Getenv("NAT_CV_SHORTCUTS") != "1" {
		t.Skip("set NAT_CV_SHORTCUTS=1 to run the cross-validation shortcut experiment")
	}
	fm, err := predictor.NewScaled(synthetic.Bounds())
	if err != nil {
		t.Fatal(err)
	}
	pool := []predictor.Spec{
		{Name: "kriging", New: func(uint64) (predictor.Predictor, error) { return predictor.NewKriging(predictor.KrigingOptions{}) }},
		{Name: "kriging-refit", New: func(uint64) (predictor.Predictor, error) {
			return predictor.NewKriging(predictor.KrigingOptions{RefitPerFold: true})
		}},
		{Name: "trees", New: func(sd uint64) (predictor.Predictor, error) {
			return predictor.NewBaggedTrees(predictor.TreesOptions{Seed: sd})
		}},
		{Name: "trees-refit", New: func(sd uint64) (predictor.Predictor, error) {
			return predictor.NewBaggedTrees(predictor.TreesOptions{Seed: sd, RefitPerFold: true})
		}},
	}
	var dk, dt []float64 // shortcut minus refit, mean fold tau
	for _, n := range []int{100, 200, 300} {
		for s := uint64(1); s <= 5; s++ {
			g, y := synthetic.Sample(n, 0.25, s)
			X, err := predictor.Features(fm, g)
			if err != nil {
				t.Fatal(err)
			}
			sw, err := predictor.NewSwitching(predictor.SwitchingOptions{Seed: s, Candidates: pool, Repeats: 3})
			if err != nil {
				t.Fatal(err)
			}
			if err := sw.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			sc := sw.Scores()
			for _, c := range sc {
				if c.Err != nil {
					t.Fatalf("n=%d seed %d: %s: %v", n, s, c.Model, c.Err)
				}
			}
			dk, dt = append(dk, sc[0].Mean-sc[1].Mean), append(dt, sc[2].Mean-sc[3].Mean)
			fmt.Printf("n=%d seed=%d  kriging %.3f (refit %.3f)  trees %.3f (refit %.3f)\n", n, s, sc[0].Mean, sc[1].Mean, sc[2].Mean, sc[3].Mean)
		}
	}
	summary := func(name string, d []float64) {
		lo, hi, sum, absMax := math.Inf(1), math.Inf(-1), 0.0, 0.0
		for _, v := range d {
			lo, hi, sum, absMax = math.Min(lo, v), math.Max(hi, v), sum+v, math.Max(absMax, math.Abs(v))
		}
		fmt.Printf("%s: shortcut minus refit, mean fold tau: mean %+.4f, range %+.3f .. %+.3f, largest |difference| %.3f over %d cases\n",
			name, sum/float64(len(d)), lo, hi, absMax, len(d))
	}
	summary("kriging", dk)
	summary("trees", dt)
}
