package supernet

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/natgo/nat/nat/space"
)

// Sampler chooses the subnets one training step trains. Their gradients are summed into one
// update (OFA's "dynamic batch size").
type Sampler interface {
	Sample(rng *rand.Rand) []space.Arch
}

// SamplerFunc adapts a function to Sampler.
type SamplerFunc func(rng *rand.Rand) []space.Arch

// Sample calls f.
func (f SamplerFunc) Sample(rng *rand.Rand) []space.Arch { return f(rng) }

// Fixed always trains the given architectures (fine-tuning one subnet, or the full network).
func Fixed(archs ...space.Arch) Sampler {
	return SamplerFunc(func(*rand.Rand) []space.Arch { return archs })
}

// Uniform draws one subnet per step with space.Sample (uniform resolution, depth per stage,
// kernel and expansion per layer) at the supernet's own width.
func Uniform(sp *space.Space) Sampler {
	return SamplerFunc(func(rng *rand.Rand) []space.Arch {
		a := sp.Sample(rng)
		a.Width = 0 // the training supernet's width
		return []space.Arch{a}
	})
}

// Sandwich trains the largest and the smallest subnet and random ones each step (BigNAS's
// sandwich rule); all share one random resolution.
func Sandwich(sp *space.Space, random int) Sampler {
	return SamplerFunc(func(rng *rand.Rand) []space.Arch {
		r := sp.Resolutions[rng.IntN(len(sp.Resolutions))]
		lg, sm := sp.Largest(), sp.Smallest()
		lg.Resolution, sm.Resolution = r, r
		lg.Width, sm.Width = 0, 0
		out := []space.Arch{lg, sm}
		for i := 0; i < random; i++ {
			a := sp.Sample(rng)
			a.Resolution, a.Width = r, 0
			out = append(out, a)
		}
		return out
	})
}

// Restricted draws uniformly from subsets of the choices (nil keeps the space's own): the phases
// of progressive shrinking. The width multiplier is the space's first.
type Restricted struct {
	Space                                    *space.Space
	Resolutions, Depths, Kernels, Expansions []int
	// PerStep subnets per step (default 1).
	PerStep int
}

// Sample implements Sampler.
func (r Restricted) Sample(rng *rand.Rand) []space.Arch {
	sp := r.Space
	pick := func(allowed, all []int) int {
		if len(allowed) == 0 {
			allowed = all
		}
		return allowed[rng.IntN(len(allowed))]
	}
	n := max(r.PerStep, 1)
	out := make([]space.Arch, n)
	res := pick(r.Resolutions, sp.Resolutions)
	for i := range out {
		a := space.Arch{Resolution: res, Depths: make([]int, len(sp.Stages))}
		for st := range sp.Stages {
			a.Depths[st] = pick(r.Depths, sp.Depths)
			for j := 0; j < a.Depths[st]; j++ {
				a.Kernels = append(a.Kernels, pick(r.Kernels, sp.Kernels))
				a.Expansions = append(a.Expansions, pick(r.Expansions, sp.Expansions))
			}
		}
		out[i] = a
	}
	return out
}

// GeneDistribution samples genomes gene by gene from per-gene categorical distributions: NAT's
// adaptation sampler, whose probabilities the transfer loop sets from its archive.
type GeneDistribution struct {
	Space *space.Space
	// Probs[i][v] is the probability of value lower[i]+v for gene i (rows need not be normalised).
	Probs [][]float64
	// PerStep subnets per step (default 1).
	PerStep int
}

// NewGeneDistribution counts the values of each gene over genomes (e.g. the archive's best),
// adding smoothing to every count so no value becomes impossible.
func NewGeneDistribution(sp *space.Space, genomes []space.Genome, smoothing float64) (*GeneDistribution, error) {
	lower, upper := sp.Bounds()
	probs := make([][]float64, len(lower))
	for i := range probs {
		probs[i] = make([]float64, upper[i]-lower[i]+1)
		for v := range probs[i] {
			probs[i][v] = smoothing
		}
	}
	for gi, g := range genomes {
		if len(g) != len(lower) {
			return nil, fmt.Errorf("supernet: genome %d has %d genes; space %s has %d", gi, len(g), sp.Name, len(lower))
		}
		for i, v := range g {
			if v < lower[i] || v > upper[i] {
				return nil, fmt.Errorf("supernet: genome %d gene %d = %d outside [%d,%d]", gi, i, v, lower[i], upper[i])
			}
			probs[i][v-lower[i]]++
		}
	}
	return &GeneDistribution{Space: sp, Probs: probs}, nil
}

// Sample implements Sampler. A drawn genome is normalised (the space's repair) before decoding;
// its width gene is ignored (a supernet has one width).
func (d *GeneDistribution) Sample(rng *rand.Rand) []space.Arch {
	lower, _ := d.Space.Bounds()
	out := make([]space.Arch, max(d.PerStep, 1))
	for k := range out {
		g := make(space.Genome, len(lower))
		for i := range g {
			g[i] = lower[i] + categorical(rng, d.Probs[i])
		}
		a, err := decodeNormalised(d.Space, g)
		if err != nil {
			a = d.Space.Sample(rng) // unreachable for well-formed probabilities; never stall training
		}
		a.Width = 0
		out[k] = a
	}
	return out
}

func decodeNormalised(sp *space.Space, g space.Genome) (space.Arch, error) {
	ng, err := sp.Normalize(g)
	if err != nil {
		return space.Arch{}, err
	}
	return sp.Decode(ng)
}

func categorical(rng *rand.Rand, w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	u := rng.Float64() * total
	for i, x := range w {
		u -= x
		if u < 0 {
			return i
		}
	}
	return len(w) - 1
}

// maxOf is the largest value of v.
func maxOf(v []int) int { return slices.Max(v) }
