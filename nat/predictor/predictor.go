// Package predictor holds NAT's accuracy predictors (surrogates): models fitted on the archive's
// (encoding, accuracy) pairs that rank unseen subnets for the evolutionary search, so that only
// a few candidates per iteration need a real evaluation.
//
// Models (all behind Predictor): a cubic RBF with linear tail, NAT's default ensemble of 500 RBFs
// on random feature subsets (median), kriging (DACE-style Gaussian process), bagged CART trees, a
// small MLP, and adaptive switching, which picks one of them by k-fold cross-validated Kendall
// tau (Lu et al., NSGANetV2/MSuNAS and NAT; ../shared/reference/nat-algorithm.md section 4).
// Genomes reach the models through a FeatureMap (genes scaled to [0,1] by their bounds, or one-hot
// per gene); GenomeModel ties the two together.
//
// It is not the search (nat/...) and not the metrics: rank correlations live in nat/rank.
// Every model is deterministic for a given seed, whatever GOMAXPROCS is, and rejects bad input
// (too few samples, NaN/Inf, constant targets, mismatched lengths) with an error instead of
// returning NaN predictions.
package predictor

import (
	"errors"
	"fmt"
	"math"
)

// Predictor is a regression model of accuracy from a feature vector.
//
// Fit may be called again to refit from scratch; Predict predicts a whole batch at once and
// fails before the first successful Fit. Implementations are not safe for concurrent use.
type Predictor interface {
	// Name is a short stable identifier, e.g. "rbf-ensemble".
	Name() string
	// Fit fits the model to rows X (n samples x m features) and targets y (n values).
	Fit(X [][]float64, y []float64) error
	// Predict returns one prediction per row of X.
	Predict(X [][]float64) ([]float64, error)
	// Describe is a one-line human-readable summary of the fitted state (or of the
	// settings, before Fit).
	Describe() string
}

// Uncertain is implemented by predictors that also estimate their uncertainty:
// kriging (the predictor's standard error) and the ensembles (spread of the members).
type Uncertain interface {
	Predictor
	// PredictStd returns the predictions and, per row, a standard-deviation-like spread in
	// the targets' units. What the spread means is documented by each model.
	PredictStd(X [][]float64) (mean, std []float64, err error)
}

// ErrNotFitted is returned (wrapped) by Predict before a successful Fit.
var ErrNotFitted = errors.New("predictor is not fitted")

// Spec names a model and builds fresh, unfitted instances of it. Adaptive switching uses a
// Spec per candidate model because cross-validation fits a new instance per fold.
type Spec struct {
	Name string
	// New returns a fresh model. seed lets repeated instances (one per fold) differ in
	// their own randomness while staying reproducible.
	New func(seed uint64) (Predictor, error)
}

// checkFit validates training data: equal lengths, at least minSamples rows, rows of equal
// non-zero width, every value finite, targets not all equal. It returns the width.
func checkFit(model string, X [][]float64, y []float64, minSamples int) (int, error) {
	if len(X) != len(y) {
		return 0, fmt.Errorf("%s: fit: %d feature rows but %d targets", model, len(X), len(y))
	}
	if len(X) < minSamples {
		return 0, fmt.Errorf("%s: fit: too few samples: %d, need at least %d", model, len(X), minSamples)
	}
	m := len(X[0])
	if m == 0 {
		return 0, fmt.Errorf("%s: fit: rows have no features", model)
	}
	for i, row := range X {
		if len(row) != m {
			return 0, fmt.Errorf("%s: fit: row %d has %d features, row 0 has %d", model, i, len(row), m)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return 0, fmt.Errorf("%s: fit: feature %d of row %d is %v", model, j, i, v)
			}
		}
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%s: fit: target %d is %v", model, i, v)
		}
	}
	constant := true
	for _, v := range y[1:] {
		if v != y[0] {
			constant = false
			break
		}
	}
	if constant {
		return 0, fmt.Errorf("%s: fit: all %d targets equal %v: nothing to learn or rank", model, len(y), y[0])
	}
	return m, nil
}

// checkPredict validates a batch to predict against the fitted width m.
func checkPredict(model string, X [][]float64, m int) error {
	if m == 0 {
		return fmt.Errorf("%s: predict: %w", model, ErrNotFitted)
	}
	for i, row := range X {
		if len(row) != m {
			return fmt.Errorf("%s: predict: row %d has %d features, the model was fitted on %d", model, i, len(row), m)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s: predict: feature %d of row %d is %v", model, j, i, v)
			}
		}
	}
	return nil
}

// checkOutput turns a non-finite prediction (a numerical failure) into an error rather than
// letting a NaN reach the search.
func checkOutput(model string, pred []float64) error {
	for i, v := range pred {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s: predict: numerical failure: prediction %d is %v", model, i, v)
		}
	}
	return nil
}

// flatten copies rows into one row-major slice.
func flatten(X [][]float64) []float64 {
	if len(X) == 0 {
		return nil
	}
	m := len(X[0])
	out := make([]float64, len(X)*m)
	for i, row := range X {
		copy(out[i*m:], row)
	}
	return out
}

// constantColumns reports, per column of the row-major n x m matrix x, whether every value is equal.
func constantColumns(x []float64, n, m int) []bool {
	c := make([]bool, m)
	for j := 0; j < m; j++ {
		c[j] = true
		for i := 1; i < n; i++ {
			if x[i*m+j] != x[j] {
				c[j] = false
				break
			}
		}
	}
	return c
}
