package transfer

import (
	"fmt"
	"math/rand/v2"

	"github.com/natgo/nat/nat/space"
)

// Distribution is a per-gene categorical distribution over genomes: NAT's adaptation sampler.
// Probs[i][v] is the probability that gene i takes value v. Draws are repaired with
// space.Normalize, so a skip followed by a layer becomes the layer moved forward.
type Distribution struct {
	Space *space.Space
	Probs [][]float64
}

// NewDistribution counts the genes of genomes (which must belong to sp).
func NewDistribution(sp *space.Space, genomes []space.Genome) (*Distribution, error) {
	if len(genomes) == 0 {
		return nil, fmt.Errorf("transfer: distribution of no genomes")
	}
	_, hi := sp.Bounds()
	d := &Distribution{Space: sp, Probs: make([][]float64, len(hi))}
	for i := range hi {
		d.Probs[i] = make([]float64, hi[i]+1)
	}
	for _, g := range genomes {
		if len(g) != len(hi) {
			return nil, fmt.Errorf("transfer: genome %v has %d genes, want %d", g, len(g), len(hi))
		}
		for i, v := range g {
			if v < 0 || v > hi[i] {
				return nil, fmt.Errorf("transfer: genome %v: gene %d = %d out of bounds", g, i, v)
			}
			d.Probs[i][v]++
		}
	}
	n := float64(len(genomes))
	for i := range d.Probs {
		for v := range d.Probs[i] {
			d.Probs[i][v] /= n
		}
	}
	return d, nil
}

// SampleGenome draws a genome gene by gene and normalises it.
func (d *Distribution) SampleGenome(rng *rand.Rand) space.Genome {
	g := make(space.Genome, len(d.Probs))
	for i, p := range d.Probs {
		u := rng.Float64()
		v := len(p) - 1
		acc := 0.0
		for j, q := range p {
			acc += q
			if u < acc {
				v = j
				break
			}
		}
		// Rounding can leave u >= acc; the last value with positive probability is then right.
		if u >= acc {
			for v = len(p) - 1; v > 0 && p[v] == 0; v-- {
			}
		}
		g[i] = v
	}
	if n, err := d.Space.Normalize(g); err == nil {
		return n
	}
	return g
}

// Sample implements Sampler: one subnet per step.
func (d *Distribution) Sample(rng *rand.Rand) []space.Arch {
	a, err := d.Space.Decode(d.SampleGenome(rng))
	if err != nil {
		// Every gene's support comes from valid genomes, and the fixed-minimum slots are never
		// zero in them, so decoding cannot fail; fall back to the space's sampler regardless.
		a = d.Space.Sample(rng)
	}
	return []space.Arch{a}
}

// uniformSampler draws subnets with space.Sample.
type uniformSampler struct{ sp *space.Space }

func (u uniformSampler) Sample(rng *rand.Rand) []space.Arch { return []space.Arch{u.sp.Sample(rng)} }
