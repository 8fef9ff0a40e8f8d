package predictor

import (
	"fmt"
	"slices"
)

// ModelNames lists the models New knows, in a stable order.
func ModelNames() []string {
	return []string{"rbf", "rbf-ensemble", "kriging", "kriging-const", "bagged-trees", "mlp", "adaptive-switching"}
}

// New returns a fresh model by name with default options and the given seed. "as" is an
// alias of "adaptive-switching", "gp" of "kriging", "cart" of "bagged-trees".
func New(name string, seed uint64) (Predictor, error) {
	switch name {
	case "rbf":
		return NewRBF(RBFOptions{}), nil
	case "rbf-ensemble", "rbfs":
		return NewRBFEnsemble(RBFEnsembleOptions{Seed: seed})
	case "kriging", "gp":
		return NewKriging(KrigingOptions{})
	case "kriging-const":
		return NewKriging(KrigingOptions{Regression: ConstantTrend})
	case "bagged-trees", "cart", "carts":
		return NewBaggedTrees(TreesOptions{Seed: seed})
	case "mlp":
		return NewMLP(MLPOptions{Seed: seed})
	case "adaptive-switching", "as":
		return NewSwitching(SwitchingOptions{Seed: seed})
	}
	return nil, fmt.Errorf("predictor: unknown model %q (known: %v)", name, ModelNames())
}

// MinSamples is the fewest training samples the named model, with default options, fits on with
// the given number of features: what a caller must measure before the first fit.
func MinSamples(name string, features int) (int, error) {
	m, err := New(name, 0)
	if err != nil {
		return 0, err
	}
	return m.(interface{ MinSamples(int) int }).MinSamples(features), nil
}

// SpecOf returns a Spec building the named model with default options.
func SpecOf(name string) (Spec, error) {
	if _, err := New(name, 0); err != nil {
		return Spec{}, err
	}
	return Spec{Name: name, New: func(seed uint64) (Predictor, error) { return New(name, seed) }}, nil
}

// DefaultPool is adaptive switching's default candidates: rbf, rbf-ensemble, kriging (linear
// trend) and bagged-trees. The MLP is left out by default: trained per fold it costs more than
// the rest of the pool together; add SpecOf("mlp") to include it.
func DefaultPool() []Spec {
	var specs []Spec
	for _, name := range []string{"rbf", "rbf-ensemble", "kriging", "bagged-trees"} {
		s, _ := SpecOf(name)
		specs = append(specs, s)
	}
	return specs
}

// IsModel reports whether name is a model New knows (aliases included).
func IsModel(name string) bool {
	return slices.Contains(ModelNames(), name) || slices.Contains([]string{"as", "gp", "cart", "carts", "rbfs"}, name)
}
