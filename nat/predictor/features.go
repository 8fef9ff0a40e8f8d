package predictor

import (
	"fmt"
	"math"
)

// Bounds are the inclusive per-gene ranges of an integer genome: gene i lies in [Lo[i], Hi[i]].
// For NAT's 22-gene encoding: gene 0 (resolution) in 0..16, gene 1 (width) in 0..1, and the 20
// layer slots in 1..9 (the first two slots of each stage) or 0..9 (the last two).
type Bounds struct {
	Lo, Hi []int
}

// Validate checks that Lo and Hi have the same non-zero length and Lo[i] <= Hi[i].
func (b Bounds) Validate() error {
	if len(b.Lo) != len(b.Hi) {
		return fmt.Errorf("predictor: bounds: %d lower but %d upper bounds", len(b.Lo), len(b.Hi))
	}
	if len(b.Lo) == 0 {
		return fmt.Errorf("predictor: bounds: no genes")
	}
	for i := range b.Lo {
		if b.Lo[i] > b.Hi[i] {
			return fmt.Errorf("predictor: bounds: gene %d has lower bound %d above upper bound %d", i, b.Lo[i], b.Hi[i])
		}
	}
	return nil
}

// Check reports the first gene of g outside the bounds (or a length mismatch) as an error.
func (b Bounds) Check(g []int) error {
	if len(g) != len(b.Lo) {
		return fmt.Errorf("genome has %d genes, bounds have %d", len(g), len(b.Lo))
	}
	for i, v := range g {
		if v < b.Lo[i] || v > b.Hi[i] {
			return fmt.Errorf("gene %d = %d outside [%d, %d]", i, v, b.Lo[i], b.Hi[i])
		}
	}
	return nil
}

// FeatureMap turns an integer genome into the feature vector a model sees.
type FeatureMap interface {
	// Name identifies the map, e.g. "scaled" or "onehot".
	Name() string
	// Dim is the length of the feature vectors.
	Dim() int
	// Map writes the features of genome g (already checked against the bounds) into dst[:Dim()].
	Map(g []int, dst []float64)
	// Bounds are the genome bounds the map was built for.
	Bounds() Bounds
}

// Scaled maps gene i to (g_i - Lo_i) / (Hi_i - Lo_i) in [0, 1]; a gene with Lo == Hi maps to 0.
// It keeps the genes' order, which distance-based models (RBF, kriging) rely on.
type Scaled struct{ b Bounds }

// NewScaled returns the [0,1] scaling for bounds b.
func NewScaled(b Bounds) (*Scaled, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &Scaled{b: b}, nil
}

// Name implements FeatureMap.
func (s *Scaled) Name() string { return "scaled" }

// Dim implements FeatureMap: one feature per gene.
func (s *Scaled) Dim() int { return len(s.b.Lo) }

// Bounds implements FeatureMap.
func (s *Scaled) Bounds() Bounds { return s.b }

// Map implements FeatureMap.
func (s *Scaled) Map(g []int, dst []float64) {
	for i, v := range g {
		if span := s.b.Hi[i] - s.b.Lo[i]; span > 0 {
			dst[i] = float64(v-s.b.Lo[i]) / float64(span)
		} else {
			dst[i] = 0
		}
	}
}

// OneHot maps gene i to Hi_i - Lo_i + 1 indicator features, one per value. It treats genes as
// categories (a layer choice 4 is not "between" 3 and 5), at the price of many more features:
// 168 for NAT's 22 genes.
type OneHot struct {
	b      Bounds
	offset []int
	dim    int
}

// NewOneHot returns the one-hot map for bounds b.
func NewOneHot(b Bounds) (*OneHot, error) {
	if err := b.Validate(); err != nil {
		return nil, err
	}
	o := &OneHot{b: b, offset: make([]int, len(b.Lo))}
	for i := range b.Lo {
		o.offset[i] = o.dim
		o.dim += b.Hi[i] - b.Lo[i] + 1
	}
	return o, nil
}

// Name implements FeatureMap.
func (o *OneHot) Name() string { return "onehot" }

// Dim implements FeatureMap: the sum over genes of their number of values.
func (o *OneHot) Dim() int { return o.dim }

// Bounds implements FeatureMap.
func (o *OneHot) Bounds() Bounds { return o.b }

// Map implements FeatureMap.
func (o *OneHot) Map(g []int, dst []float64) {
	clear(dst[:o.dim])
	for i, v := range g {
		dst[o.offset[i]+v-o.b.Lo[i]] = 1
	}
}

// NewFeatureMap returns the map named name ("scaled" or "onehot") for bounds b.
func NewFeatureMap(name string, b Bounds) (FeatureMap, error) {
	switch name {
	case "scaled", "":
		return NewScaled(b)
	case "onehot", "one-hot":
		return NewOneHot(b)
	}
	return nil, fmt.Errorf("predictor: unknown feature map %q (want scaled or onehot)", name)
}

// Features maps every genome through fm after checking it against fm's bounds; the error
// names the first offending genome and gene.
func Features(fm FeatureMap, genomes [][]int) ([][]float64, error) {
	b := fm.Bounds()
	d := fm.Dim()
	flat := make([]float64, len(genomes)*d)
	out := make([][]float64, len(genomes))
	for i, g := range genomes {
		if err := b.Check(g); err != nil {
			return nil, fmt.Errorf("predictor: genome %d: %w", i, err)
		}
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
		fm.Map(g, out[i])
	}
	return out, nil
}

// GenomeModel is a Predictor over integer genomes: a FeatureMap in front of a model.
type GenomeModel struct {
	Features FeatureMap
	Model    Predictor
}

// Fit maps the genomes and fits the model on (features, accuracies).
func (gm *GenomeModel) Fit(genomes [][]int, acc []float64) error {
	X, err := Features(gm.Features, genomes)
	if err != nil {
		return err
	}
	return gm.Model.Fit(X, acc)
}

// Predict maps the genomes and predicts them as one batch.
func (gm *GenomeModel) Predict(genomes [][]int) ([]float64, error) {
	X, err := Features(gm.Features, genomes)
	if err != nil {
		return nil, err
	}
	return gm.Model.Predict(X)
}

// PredictStd predicts with uncertainty when the model has one, and fails otherwise.
func (gm *GenomeModel) PredictStd(genomes [][]int) (mean, std []float64, err error) {
	u, ok := gm.Model.(Uncertain)
	if !ok {
		return nil, nil, fmt.Errorf("predictor: %s has no uncertainty estimate", gm.Model.Name())
	}
	X, err := Features(gm.Features, genomes)
	if err != nil {
		return nil, nil, err
	}
	return u.PredictStd(X)
}

// Describe names the feature map and describes the model.
func (gm *GenomeModel) Describe() string {
	return fmt.Sprintf("%s features (%d) -> %s", gm.Features.Name(), gm.Features.Dim(), gm.Model.Describe())
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
