package data

import (
	"math/bits"
	"math/rand/v2"
)

// Independent random streams derived from one user seed, so that changing how
// augmentation draws cannot change a split or a shuffle.
const (
	streamSplit   = 0x5eed5b1175b1175b
	streamShuffle = 0x5eed5aff1e5aff1e
	streamAugment = 0x5eed0a09a09a09a0
	streamFolder  = 0x5eedf01de2f01de2
)

// newRNG returns a PCG generator for one stream of a seed. PCG's output is
// fixed by its definition, and shuffleInts and uniform below are written here
// rather than taken from math/rand/v2 because that package does not promise
// the same Shuffle/IntN outputs across Go releases; splits must be
// reproducible forever.
func newRNG(seed, stream uint64) *rand.PCG { return rand.NewPCG(seed, stream) }

// uniform returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-shift method with rejection (no modulo bias).
func uniform(r *rand.PCG, n uint64) uint64 {
	for {
		x := r.Uint64()
		hi, lo := bits.Mul64(x, n)
		if lo < n {
			thresh := -n % n
			if lo < thresh {
				continue
			}
		}
		return hi
	}
}

// shuffleInts applies a Fisher-Yates shuffle driven by r.
func shuffleInts(r *rand.PCG, s []int) {
	for i := len(s) - 1; i > 0; i-- {
		j := int(uniform(r, uint64(i+1)))
		s[i], s[j] = s[j], s[i]
	}
}
