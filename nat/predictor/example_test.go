package predictor_test

import (
	"fmt"

	"github.com/natgo/nat/nat/predictor"
	"github.com/natgo/nat/nat/predictor/synthetic"
	"github.com/natgo/nat/nat/rank"
)

// Fit adaptive switching on an archive of (genome, accuracy) pairs and rank new candidates,
// as NAT's search does every iteration.
func Example() {
	archive, acc := synthetic.Sample(120, 0.25, 1)                     // stand-in for measured subnets
	candidates, truth := synthetic.SampleExcluding(200, 0, 2, archive) // to be ranked

	features, err := predictor.NewScaled(synthetic.Bounds()) // genes -> [0,1]
	if err != nil {
		panic(err)
	}
	as, err := predictor.NewSwitching(predictor.SwitchingOptions{
		Seed: 1,
		// A smaller ensemble keeps the example quick; the default is NAT's 500.
		Candidates: []predictor.Spec{
			{Name: "rbf", New: func(uint64) (predictor.Predictor, error) { return predictor.NewRBF(predictor.RBFOptions{}), nil }},
			{Name: "rbf-ensemble", New: func(seed uint64) (predictor.Predictor, error) {
				return predictor.NewRBFEnsemble(predictor.RBFEnsembleOptions{Members: 50, Seed: seed})
			}},
			{Name: "kriging", New: func(uint64) (predictor.Predictor, error) { return predictor.NewKriging(predictor.KrigingOptions{}) }},
		},
	})
	if err != nil {
		panic(err)
	}
	model := &predictor.GenomeModel{Features: features, Model: as}
	if err := model.Fit(archive, acc); err != nil {
		panic(err)
	}
	pred, err := model.Predict(candidates)
	if err != nil {
		panic(err)
	}
	tau, _ := rank.KendallTau(pred, truth)
	fmt.Println("chose:", as.Choice())
	fmt.Printf("folds scored per model: %d\n", len(as.Scores()[0].Tau))
	fmt.Printf("held-out Kendall tau above 0.7: %v\n", tau > 0.7)
	// Output:
	// chose: kriging
	// folds scored per model: 50
	// held-out Kendall tau above 0.7: true
}
