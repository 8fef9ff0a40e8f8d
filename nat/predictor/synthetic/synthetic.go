// Package synthetic makes data shaped like NAT's archives for testing and benchmarking the
// accuracy predictors: 22 integer genes in NAT's bounds, and an "accuracy" that is a smooth,
// nonlinear function of them with interactions, plus Gaussian noise.
//
// It is a stand-in for real (subnet, accuracy) pairs, not a model of any dataset: use it to
// compare predictors and to time them, not to claim accuracies.
package synthetic

import (
	"math"
	"math/rand/v2"

	"github.com/natgo/nat/nat/predictor"
)

// Genes is the length of NAT's encoding.
const Genes = 22

// Bounds are NAT's per-gene bounds: resolution index 0..16, width index 0..1, then 5 stages of
// 4 layer slots, the first two in 1..9 and the last two in 0..9 (0 = skipped layer).
func Bounds() predictor.Bounds {
	b := predictor.Bounds{Lo: make([]int, Genes), Hi: make([]int, Genes)}
	b.Hi[0], b.Hi[1] = 16, 1
	for s := 0; s < 5; s++ {
		for j := 0; j < 4; j++ {
			g := 2 + 4*s + j
			b.Hi[g] = 9
			if j < 2 {
				b.Lo[g] = 1
			}
		}
	}
	return b
}

// Accuracy is the synthetic noiseless accuracy (in percent) of genome g: it saturates in a
// capacity proxy (sum over layers of expansion x kernel^2, weighted by stage) scaled by input
// resolution, gains from width, and has interactions between resolution and depth and between
// adjacent layers' expansions, so that no model family fits it exactly.
func Accuracy(g []int) float64 {
	res := float64(192+4*g[0]) / 224
	width := float64(g[1])
	capacity, depth, pairs := 0.0, 0.0, 0.0
	prevE := 0.0
	for s := 0; s < 5; s++ {
		stageW := 1 + 0.5*float64(s)
		for j := 0; j < 4; j++ {
			v := g[2+4*s+j]
			if v == 0 {
				prevE = 0
				continue
			}
			e := []float64{3, 4, 6}[(v-1)/3]
			k := []float64{3, 5, 7}[(v-1)%3]
			capacity += stageW * e * k * k / 75
			depth++
			pairs += prevE * e / 36
			prevE = e
		}
	}
	acc := 62 + 18*(1-math.Exp(-capacity*math.Sqrt(res)/9))
	acc += 1.2 * width * (1 + 0.5*math.Tanh(capacity/10-1))
	acc += 0.9 * math.Tanh((depth-14)/4) * res
	acc += 0.15 * pairs
	acc -= 2.5 * (res - 1) * (res - 1)
	return acc
}

// Sample returns n distinct uniform random genomes within Bounds and their accuracies with
// Gaussian noise of standard deviation noise, all from the PCG stream (seed, 0).
func Sample(n int, noise float64, seed uint64) ([][]int, []float64) {
	return SampleExcluding(n, noise, seed, nil)
}

// SampleExcluding is Sample drawing only genomes not in exclude (e.g. to make a held-out set
// disjoint from a training set).
func SampleExcluding(n int, noise float64, seed uint64, exclude [][]int) ([][]int, []float64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	b := Bounds()
	seen := make(map[[Genes]int]bool, n+len(exclude))
	for _, g := range exclude {
		seen[[Genes]int(g)] = true
	}
	gs := make([][]int, 0, n)
	ys := make([]float64, 0, n)
	for len(gs) < n {
		g := make([]int, Genes)
		for i := range g {
			g[i] = b.Lo[i] + rng.IntN(b.Hi[i]-b.Lo[i]+1)
		}
		key := [Genes]int(g)
		if seen[key] {
			continue
		}
		seen[key] = true
		gs = append(gs, g)
		ys = append(ys, Accuracy(g)+noise*rng.NormFloat64())
	}
	return gs, ys
}
