package transfer

import (
	"fmt"
	"math"
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

// top1StandardError is the binomial standard error, in points, of a top-1 (in %) measured on n
// images.
func top1StandardError(top1 float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	p := math.Min(math.Max(top1/100, 0), 1)
	return 100 * math.Sqrt(p*(1-p)/float64(n))
}

// toleranceRanks ranks points (minimised objectives; column t1 is the measured, noisy one) by
// non-dominated sorting under a tolerance on that column: i outranks j when i is no worse than
// j in every other column, and either strictly better in one of them with F[i][t1] <=
// F[j][t1]+tol(i, j), or equal in all of them with F[i][t1] < F[j][t1]. Rank 0 is the points
// no other outranks, rank 1 those only rank-0 points outrank, and so on. The relation is
// acyclic (following it never increases the exact columns, and strictly decreases column t1
// where they stay equal), so every point gets a rank. With tol = 0 the ranks are the usual
// non-dominated ranks. Written by hand: the tolerance applies to one column and depends on the
// pair, which the sorting libraries' epsilon-dominance (one epsilon per objective) cannot say.
func toleranceRanks(F [][]float64, t1 int, tol func(i, j int) float64) []int {
	n := len(F)
	outranks := func(i, j int) bool {
		strict := false
		for k := range F[i] {
			if k == t1 {
				continue
			}
			if F[i][k] > F[j][k] {
				return false
			}
			if F[i][k] < F[j][k] {
				strict = true
			}
		}
		if strict {
			return F[i][t1] <= F[j][t1]+tol(i, j)
		}
		return F[i][t1] < F[j][t1]
	}
	count := make([]int, n)    // how many points outrank i
	beaten := make([][]int, n) // the points i outranks
	for i := range n {
		for j := range n {
			if i != j && outranks(i, j) {
				beaten[i] = append(beaten[i], j)
				count[j]++
			}
		}
	}
	rank := make([]int, n)
	var current []int
	for i := range n {
		if count[i] == 0 {
			current = append(current, i)
		}
	}
	for r := 0; len(current) > 0; r++ {
		var next []int
		for _, i := range current {
			rank[i] = r
			for _, j := range beaten[i] {
				if count[j]--; count[j] == 0 {
					next = append(next, j)
				}
			}
		}
		current = next
	}
	return rank
}
