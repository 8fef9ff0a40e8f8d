package sorting

import (
	"math"
	"math/bits"
)

// maxBitsetRows is the largest population sorted with dominance bitsets; their memory grows as
// n^2/8 bytes (512 KiB at this size). Larger ones use ENS-SS.
const maxBitsetRows = 2048

// Sorter is non-dominated sorting with scratch memory kept between calls, for an algorithm that
// sorts a population of similar size every generation. The zero value is ready to use; a Sorter
// must not be used by two goroutines at once. Its results are the same as NonDominatedSort's.
type Sorter struct {
	pairs []keyIndex
	tmp   []keyIndex
	bins  [3][]int32 // bucket counts, one slice per level of bucketPairs
	words []uint64
	rsum  []int32
	order []int32
	count []int32
	// fronts[r] is the set G[r] of bitsetRanks, in gbuf.
	fronts [][]uint64
	gbuf   []uint64
}

// Sort is NonDominatedSort with the Sorter's scratch memory. The returned slices are new (they
// do not alias the Sorter).
func (s *Sorter) Sort(F [][]float64, stopAfter int) (fronts [][]int, rank []int) {
	return s.SortKnown(F, stopAfter, 0)
}

// SortKnown is NonDominatedSortKnown with the Sorter's scratch memory.
func (s *Sorter) SortKnown(F [][]float64, stopAfter, mutual int) (fronts [][]int, rank []int) {
	if len(F) == 0 || len(F) > maxBitsetRows || hasNaN(F) {
		return nonDominatedSortENS(F, stopAfter, mutual)
	}
	rank = make([]int, len(F))
	s.bitsetRanks(F, rank)
	return frontsFromRanks(rank, stopAfter), rank
}

func hasNaN(F [][]float64) bool {
	for _, f := range F {
		for _, v := range f {
			if v != v {
				return true
			}
		}
	}
	return false
}

// keyIndex is one row's value in one objective.
type keyIndex struct {
	v float64
	i int32
}

// bitsetRanks sets rank[i] to the front of row i (0 for the non-dominated rows) using dominance
// bitsets: for every objective the rows are sorted, and row i's set "rows no worse than i in
// every objective" is the intersection over the objectives of the prefixes of those orders
// that end with i's group of equal values. A row j of that set other than i dominates i unless
// i is in j's set too (then the two rows are identical). This costs M sorts and n^2 M / 64 word
// operations instead of up to n^2 M comparisons, and it is exact: only comparisons of the
// objective values decide anything. Ranks then follow in an order where every dominator comes
// first: by the sum over the objectives of a row's dense rank (the index of its group of equal
// values), which is strictly smaller for a dominator; each row's rank is found by bisection
// over the nested sets "rows ranked r or more", nw word operations per step.
func (s *Sorter) bitsetRanks(F [][]float64, rank []int) {
	n, m := len(F), len(F[0])
	nw := (n + 63) / 64
	s.pairs = growPairs(s.pairs, n)
	s.words = growU64(s.words, n*nw)
	s.rsum = growI32(s.rsum, n)
	W, rsum, pairs := s.words, s.rsum, s.pairs
	clear(rsum)
	prefix := make([]uint64, nw)
	for k := 0; k < m; k++ {
		for i, f := range F {
			pairs[i] = keyIndex{f[k], int32(i)}
		}
		s.sortPairs(pairs)
		clear(prefix)
		dense := int32(0)
		for a := 0; a < n; {
			b := a + 1
			for b < n && pairs[b].v == pairs[a].v {
				b++
			}
			for _, p := range pairs[a:b] {
				prefix[p.i>>6] |= 1 << (uint(p.i) & 63)
			}
			for _, p := range pairs[a:b] {
				w := W[int(p.i)*nw : int(p.i)*nw+nw : int(p.i)*nw+nw]
				if k == 0 {
					copy(w, prefix)
				} else {
					for t := range w {
						w[t] &= prefix[t]
					}
				}
				rsum[p.i] += dense
			}
			dense++
			a = b
		}
	}
	// Rows by increasing rsum (a counting sort; rsum < m*n).
	s.count = growI32(s.count, m*n+1)
	count := s.count
	clear(count)
	for _, r := range rsum {
		count[r+1]++
	}
	for r := 1; r < len(count); r++ {
		count[r] += count[r-1]
	}
	s.order = growI32(s.order, n)
	order := s.order
	for i, r := range rsum {
		order[count[r]] = int32(i)
		count[r]++
	}
	// G[r] (r = 0, 1, ..) is the set of rows ranked r or more so far: nested, G[0] ⊇ G[1] ⊇ ...
	// Rows of equal rsum cannot dominate each other, so each such group is ranked against the
	// rows of smaller rsum only (then every member of W(i) in G is a dominator of i, never i
	// itself or a row identical to it) and inserted afterwards. The rank of i is then one more
	// than the largest r with W(i) ∩ G[r] non-empty, found by bisection.
	s.fronts = s.fronts[:0]
	for a := 0; a < n; {
		b := a + 1
		for b < n && rsum[order[b]] == rsum[order[a]] {
			b++
		}
		for _, i32 := range order[a:b] {
			i := int(i32)
			w := W[i*nw : i*nw+nw : i*nw+nw]
			// Largest r in [-1, len(G)) with w ∩ G[r] non-empty (G[-1]: everything).
			lo, hi := -1, len(s.fronts)
			for hi-lo > 1 {
				mid := (lo + hi) / 2
				if intersects(w, s.fronts[mid]) {
					lo = mid
				} else {
					hi = mid
				}
			}
			rank[i] = lo + 1
		}
		for _, i32 := range order[a:b] {
			i := int(i32)
			for len(s.fronts) <= rank[i] {
				k := len(s.fronts)
				s.gbuf = s.gbuf[:k*nw]
				for range nw {
					s.gbuf = append(s.gbuf, 0) // the new set, empty
				}
				s.fronts = append(s.fronts, nil)
				// Re-slice every set: gbuf may have moved.
				for t := range s.fronts {
					s.fronts[t] = s.gbuf[t*nw : (t+1)*nw : (t+1)*nw]
				}
			}
			for r := 0; r <= rank[i]; r++ {
				s.fronts[r][i>>6] |= 1 << (uint(i) & 63)
			}
		}
		a = b
	}
}

func intersects(a, b []uint64) bool {
	b = b[:len(a)]
	for t, x := range a {
		if x&b[t] != 0 {
			return true
		}
	}
	return false
}

// frontsFromRanks lists the rows of each front in increasing order, cutting as
// NonDominatedSort's stopAfter says (rank -1 for the rows cut off).
func frontsFromRanks(rank []int, stopAfter int) [][]int {
	nf := 0
	for _, r := range rank {
		nf = max(nf, r+1)
	}
	sizes := make([]int, nf)
	for _, r := range rank {
		sizes[r]++
	}
	if stopAfter > 0 {
		count := 0
		for k, sz := range sizes {
			count += sz
			if count >= stopAfter {
				nf = k + 1
				break
			}
		}
	}
	fronts := make([][]int, nf)
	buf := make([]int, 0, len(rank))
	for k := range fronts {
		fronts[k] = buf[len(buf) : len(buf) : len(buf)+sizes[k]]
		buf = buf[:len(buf)+sizes[k]]
	}
	for i, r := range rank {
		if r >= nf {
			rank[i] = -1
			continue
		}
		fronts[r] = append(fronts[r], i)
	}
	return fronts
}

// sortPairs sorts by value. A bucket sort first (n buckets over the range of values, then an
// insertion sort that only moves values within a bucket) is exact because the bucket index,
// computed in floating point, never decreases as the value increases; crowded buckets are
// bucket-sorted again over their own range, and infinite ranges use quickPairs. The order
// among equal values is unspecified.
func (s *Sorter) sortPairs(a []keyIndex) {
	s.tmp = growPairs(s.tmp, len(a))
	s.bucketPairs(a, s.tmp, len(s.bins)-1)
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].v < a[j-1].v; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// bucketPairs scatters a into len(a) buckets over its range, recursing into crowded buckets
// (level counts down to 0, then quickPairs), so that a final insertion sort only moves values
// within small buckets. tmp is scratch of a's length.
func (s *Sorter) bucketPairs(a, tmp []keyIndex, level int) {
	n := len(a)
	if n <= 16 {
		return // left to the final insertion sort
	}
	if level < 0 {
		quickPairs(a, 2*bits.Len(uint(n)))
		return
	}
	lo, hi := a[0].v, a[0].v
	for _, p := range a[1:] {
		// Plain comparisons rather than min and max, which also order -0 before +0 and
		// propagate NaN (neither matters here) at a higher cost.
		if p.v < lo {
			lo = p.v
		}
		if p.v > hi {
			hi = p.v
		}
	}
	span := hi - lo
	if span == 0 {
		return // all equal
	}
	scale := float64(n) / span
	if math.IsInf(span, 0) || math.IsInf(scale, 0) || span != span {
		quickPairs(a, 2*bits.Len(uint(n)))
		return
	}
	s.bins[level] = growI32(s.bins[level], n+1)
	bins := s.bins[level]
	clear(bins)
	bucket := func(v float64) int { return min(int((v-lo)*scale), n-1) }
	for _, p := range a {
		bins[bucket(p.v)+1]++
	}
	for b := 1; b <= n; b++ {
		bins[b] += bins[b-1]
	}
	for _, p := range a {
		b := bucket(p.v)
		tmp[bins[b]] = p
		bins[b]++
	}
	copy(a, tmp)
	// bins[b] is now the end of bucket b.
	for b, from := 0, 0; b < n; b++ {
		to := int(bins[b])
		if to-from > 16 {
			s.bucketPairs(a[from:to], tmp[from:to], level-1)
		}
		from = to
	}
}

// quickPairs sorts by value: quicksort with a median-of-three pivot and insertion sort on short
// ranges, falling back to heapsort when the recursion gets deep. Written out rather than
// slices.SortFunc because the comparison then inlines, which makes the M sorts of a
// generation several times cheaper. The order among equal values is unspecified.
func quickPairs(a []keyIndex, depth int) {
	for len(a) > 16 {
		if depth == 0 {
			heapPairs(a)
			return
		}
		depth--
		n := len(a)
		mid := n / 2
		// Median of three into a[mid].
		if a[mid].v < a[0].v {
			a[mid], a[0] = a[0], a[mid]
		}
		if a[n-1].v < a[mid].v {
			a[n-1], a[mid] = a[mid], a[n-1]
			if a[mid].v < a[0].v {
				a[mid], a[0] = a[0], a[mid]
			}
		}
		pivot := a[mid].v
		i, j := 0, n-1
		for i <= j {
			for a[i].v < pivot {
				i++
			}
			for pivot < a[j].v {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Recurse into the smaller part, loop on the larger.
		if j+1 < n-i {
			quickPairs(a[:j+1], depth)
			a = a[i:]
		} else {
			quickPairs(a[i:], depth)
			a = a[:j+1]
		}
	}
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].v < a[j-1].v; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func heapPairs(a []keyIndex) {
	n := len(a)
	sift := func(root, end int) {
		for {
			child := 2*root + 1
			if child >= end {
				return
			}
			if child+1 < end && a[child].v < a[child+1].v {
				child++
			}
			if !(a[root].v < a[child].v) {
				return
			}
			a[root], a[child] = a[child], a[root]
			root = child
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		sift(i, n)
	}
	for end := n - 1; end > 0; end-- {
		a[0], a[end] = a[end], a[0]
		sift(0, end)
	}
}

func growPairs(v []keyIndex, n int) []keyIndex {
	if cap(v) < n {
		return make([]keyIndex, n)
	}
	return v[:n]
}

func growU64(v []uint64, n int) []uint64 {
	if cap(v) < n {
		return make([]uint64, n)
	}
	return v[:n]
}

func growI32(v []int32, n int) []int32 {
	if cap(v) < n {
		return make([]int32, n)
	}
	return v[:n]
}
