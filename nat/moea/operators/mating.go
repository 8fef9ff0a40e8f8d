package operators

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/natgo/nat/nat/moea"
)

// TournamentSelect picks n groups of parents (each of size parents) by tournaments of size
// pressure, as pymoo's TournamentSelection does: competitors are drawn from concatenated random
// permutations of 0..popSize-1 so that every individual competes about equally often, and
// winner(a, b) returns the index (a or b) that wins a duel. Larger tournaments fold winner over
// the competitors.
func TournamentSelect(r *rand.Rand, popSize, n, parents, pressure int, winner func(a, b int) int) [][]int {
	need := n * parents * pressure
	perm := make([]int, 0, need+popSize)
	for len(perm) < need {
		p := r.Perm(popSize)
		perm = append(perm, p...)
	}
	out := make([][]int, n)
	flat := make([]int, n*parents)
	k := 0
	for i := range out {
		out[i] = flat[i*parents : (i+1)*parents : (i+1)*parents]
		for j := range out[i] {
			w := perm[k]
			for t := 1; t < pressure; t++ {
				w = winner(w, perm[k+t])
			}
			k += pressure
			out[i][j] = w
		}
	}
	return out
}

// DuplicateSet remembers variable vectors exactly (bit for bit, with -0 equal to +0), the
// duplicate test pymoo applies with its 1e-16 tolerance. NAT's genomes are integers, for which
// exact equality is the only meaningful test. It keeps references to the vectors it is given,
// which must not change afterwards.
type DuplicateSet struct {
	// An open-addressing table (linear probing) of vectors by hash: one allocation for the
	// whole set rather than one per entry.
	hashes []uint64
	vecs   [][]float64
	n      int
}

// NewDuplicateSet returns a set holding the variables of pop.
func NewDuplicateSet(pop moea.Population) *DuplicateSet {
	d := &DuplicateSet{}
	d.resize(4 * max(len(pop), 16))
	for _, ind := range pop {
		d.Add(ind.X)
	}
	return d
}

func (d *DuplicateSet) resize(size int) {
	capacity := 1
	for capacity < size {
		capacity <<= 1
	}
	oldH, oldV := d.hashes, d.vecs
	d.hashes, d.vecs, d.n = make([]uint64, capacity), make([][]float64, capacity), 0
	for i, v := range oldV {
		if v != nil {
			d.insert(oldH[i], v)
		}
	}
}

func (d *DuplicateSet) insert(h uint64, x []float64) {
	mask := uint64(len(d.vecs) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if d.vecs[i] == nil {
			d.hashes[i], d.vecs[i] = h, x
			d.n++
			return
		}
	}
}

// find returns whether x is in the set.
func (d *DuplicateSet) find(h uint64, x []float64) bool {
	mask := uint64(len(d.vecs) - 1)
	for i := h & mask; d.vecs[i] != nil; i = (i + 1) & mask {
		if d.hashes[i] == h && equalVectors(d.vecs[i], x) {
			return true
		}
	}
	return false
}

// hashVector is FNV-1a over the bit patterns, with -0 folded into +0.
func hashVector(x []float64) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range x {
		if v == 0 {
			v = 0
		}
		h ^= math.Float64bits(v)
		h *= 1099511628211
	}
	return h ^ h>>29
}

func equalVectors(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] { // -0 == +0, as the hash folds them
			return false
		}
	}
	return true
}

// Add records x and reports whether it was new. A nil or empty x is never recorded.
func (d *DuplicateSet) Add(x []float64) bool {
	if len(x) == 0 {
		return false
	}
	h := hashVector(x)
	if d.find(h, x) {
		return false
	}
	if 2*(d.n+1) > len(d.vecs) {
		d.resize(4 * (d.n + 1))
	}
	d.insert(h, x)
	return true
}

// Contains reports whether x was recorded.
func (d *DuplicateSet) Contains(x []float64) bool {
	return len(x) > 0 && d.find(hashVector(x), x)
}

// Mating produces offspring as pymoo's Mating does: binary tournament selection of parent
// pairs, crossover, mutation, repair (the problem's hook), and elimination of duplicates (among
// the offspring and against the parent population) repeated until enough unique offspring exist
// or MaxIterations rounds have passed.
type Mating struct {
	Crossover Crossover
	Mutation  Mutation
	// MaxIterations bounds the rounds spent replacing duplicates (default 100, pymoo's). When
	// the space is nearly exhausted fewer offspring than asked may come back.
	MaxIterations int
	// KeepDuplicates turns duplicate elimination off.
	KeepDuplicates bool
}

// Offspring returns up to n new individuals (unevaluated) made from pop; winner decides binary
// tournaments between population indices.
func (m *Mating) Offspring(ctx context.Context, run *moea.Run, pop moea.Population, n int, winner func(a, b int) int) (moea.Population, error) {
	lower, upper := run.Lower(), run.Upper()
	nv := len(lower)
	var dup *DuplicateSet
	if !m.KeepDuplicates {
		dup = NewDuplicateSet(pop)
	}
	maxIter := m.MaxIterations
	if maxIter <= 0 {
		maxIter = 100
	}
	off := make(moea.Population, 0, n)
	for iter := 0; len(off) < n && iter < maxIter; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		remaining := n - len(off)
		matings := (remaining + 1) / 2
		parents := TournamentSelect(run.Rand, len(pop), matings, 2, 2, winner)
		buf := make([]float64, 2*matings*nv)
		for k, pp := range parents {
			c1 := buf[(2*k)*nv : (2*k+1)*nv : (2*k+1)*nv]
			c2 := buf[(2*k+1)*nv : (2*k+2)*nv : (2*k+2)*nv]
			m.Crossover.Cross(run.Rand, lower, upper, pop[pp[0]].X, pop[pp[1]].X, c1, c2)
			for _, c := range [][]float64{c1, c2} {
				m.Mutation.Mutate(run.Rand, lower, upper, c)
				run.Repair(c)
				if len(off) == n {
					break
				}
				if dup != nil && !dup.Add(c) {
					continue
				}
				off = append(off, &moea.Individual{X: c})
			}
		}
	}
	return off, nil
}
