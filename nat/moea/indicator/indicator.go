// Package indicator measures how good an approximation of a Pareto front is, for minimisation:
// the exact hypervolume (2-D sweep, 3-D sweep, WFG for 4 or more objectives), IGD and IGD+.
// Every function takes its reference point or reference set explicitly: there is no hidden
// normalisation.
//
// It is not a plotting or reporting package; callers format the numbers.
package indicator

import (
	"errors"
	"fmt"
	"math"
)

// IGD is the inverted generational distance: the mean, over the reference set (usually points
// of the true front), of the Euclidean distance to the nearest point of the approximation A
// (Coello & Reyes Sierra 2004; pymoo's IGD).
func IGD(A, reference [][]float64) (float64, error) {
	return invertedDistance(A, reference, func(a, z []float64) float64 {
		s := 0.0
		for i := range a {
			d := a[i] - z[i]
			s += d * d
		}
		return s
	})
}

// IGDPlus is IGD+ (Ishibuchi, Masuda, Tanigaki, Nojima, EMO 2015): like IGD but with the
// dominance-compliant distance d+(z, a) = sqrt(sum_i max(a_i - z_i, 0)^2) for minimisation.
func IGDPlus(A, reference [][]float64) (float64, error) {
	return invertedDistance(A, reference, func(a, z []float64) float64 {
		s := 0.0
		for i := range a {
			if d := a[i] - z[i]; d > 0 {
				s += d * d
			}
		}
		return s
	})
}

func invertedDistance(A, Z [][]float64, sq func(a, z []float64) float64) (float64, error) {
	if len(A) == 0 {
		return 0, errors.New("indicator: empty approximation set")
	}
	if len(Z) == 0 {
		return 0, errors.New("indicator: empty reference set")
	}
	m := len(Z[0])
	if err := checkRows("approximation", A, m); err != nil {
		return 0, err
	}
	if err := checkRows("reference set", Z, m); err != nil {
		return 0, err
	}
	total := 0.0
	for _, z := range Z {
		best := math.Inf(1)
		for _, a := range A {
			if d := sq(a, z); d < best {
				best = d
			}
		}
		total += math.Sqrt(best)
	}
	return total / float64(len(Z)), nil
}

func checkRows(what string, X [][]float64, m int) error {
	for i, x := range X {
		if len(x) != m {
			return fmt.Errorf("indicator: %s row %d has %d values, want %d", what, i, len(x), m)
		}
		for j, v := range x {
			if math.IsNaN(v) {
				return fmt.Errorf("indicator: %s row %d value %d is NaN", what, i, j)
			}
		}
	}
	return nil
}
