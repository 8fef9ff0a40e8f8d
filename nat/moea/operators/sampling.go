package operators

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/natgo/nat/nat/moea"
)

// Sampling draws a random variable vector within bounds into x.
type Sampling interface {
	Sample(r *rand.Rand, lower, upper, x []float64)
}

// RealSampling draws every variable uniformly from [lower, upper] (pymoo's FloatRandomSampling).
type RealSampling struct{}

// Sample implements Sampling.
func (RealSampling) Sample(r *rand.Rand, lower, upper, x []float64) {
	for i := range x {
		x[i] = lower[i] + r.Float64()*(upper[i]-lower[i])
	}
}

// IntegerSampling draws every gene uniformly from the integers in [lower, upper].
type IntegerSampling struct{}

// Sample implements Sampling.
func (IntegerSampling) Sample(r *rand.Rand, lower, upper, x []float64) {
	for i := range x {
		lo, hi := int64(math.Ceil(lower[i])), int64(math.Floor(upper[i]))
		if hi < lo {
			x[i] = lower[i]
			continue
		}
		x[i] = float64(lo + r.Int64N(hi-lo+1))
	}
}

// InitialPopulation builds an unevaluated starting population of size individuals: the given
// initial vectors first (copied, checked against the bounds, repaired, duplicates dropped unless
// keepDuplicates), then random ones from sampling until size is reached (at most 100*size draws,
// so a tiny space yields a smaller population rather than a hang). If more initial vectors than
// size are given, all unique ones are kept; the algorithm's survival step reduces them.
func InitialPopulation(ctx context.Context, run *moea.Run, size int, initial [][]float64, sampling Sampling, keepDuplicates bool) (moea.Population, error) {
	lower, upper := run.Lower(), run.Upper()
	dup := NewDuplicateSet(nil)
	pop := make(moea.Population, 0, max(size, len(initial)))
	for i, x := range initial {
		if len(x) != len(lower) {
			return nil, fmt.Errorf("operators: initial individual %d has %d variables, want %d", i, len(x), len(lower))
		}
		for j, v := range x {
			if !(v >= lower[j] && v <= upper[j]) {
				return nil, fmt.Errorf("operators: initial individual %d variable %d = %v is outside [%v, %v]", i, j, v, lower[j], upper[j])
			}
		}
		c := append([]float64(nil), x...)
		run.Repair(c)
		if !keepDuplicates && !dup.Add(c) {
			continue
		}
		pop = append(pop, &moea.Individual{X: c})
	}
	for tries := 0; len(pop) < size && tries < 100*size; tries++ {
		if tries%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := make([]float64, len(lower))
		sampling.Sample(run.Rand, lower, upper, c)
		run.Repair(c)
		if !keepDuplicates && !dup.Add(c) {
			continue
		}
		pop = append(pop, &moea.Individual{X: c})
	}
	if len(pop) == 0 {
		return nil, fmt.Errorf("operators: could not build any initial individual")
	}
	return pop, nil
}
