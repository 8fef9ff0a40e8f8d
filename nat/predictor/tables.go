package predictor

import "gonum.org/v1/gonum/floats"

import ()

// Fast prediction for discrete features.
//
// NAT's features are genes scaled to [0,1] (or one-hot): each column takes a handful of
// values. For an RBF member on columns S, the squared distance from a row to center i is
// sum_{f in S} (x_f - c_fi)^2, which costs three flops per feature per (row, center): for the
// 500-member ensemble predicting 10,000 candidates that is ~5e10 flops, most of the time.
// When every column of a batch takes at most maxLevels values, the per-feature terms are
// tabulated once per member and batch, T_f[u][i] = (U_f[u] - c_fi)^2, and pairs of features
// are merged into T_fg[u,w][i] = T_f[u][i] + T_g[w][i]; a row's distances to all centers
// are then the sum of k/2 table rows: half an add per feature instead of three flops, summed
// on the fly by cubicSum.
// The result equals the direct sum up to floating-point reassociation (~1e-16 relative).

// maxLevels is the largest number of distinct values per column for the table path:
// NAT's genes have at most 17; larger makes the pair tables outgrow the cache.
const maxLevels = 20

// levels holds, per column of a batch, its distinct values and each row's index among them.
type levels struct {
	values [][]float64 // per column; nil if the column has more than maxLevels values
	codes  []uint8     // rows x m, codes[a*m+j] indexes values[j]
}

// discretize finds each column's distinct values in the rows x m batch x.
func discretize(x []float64, rows, m int) *levels {
	lv := &levels{values: make([][]float64, m), codes: make([]uint8, rows*m)}
	for j := 0; j < m; j++ {
		vals := make([]float64, 0, maxLevels)
		ok := true
		for a := 0; a < rows && ok; a++ {
			v := x[a*m+j]
			idx := -1
			for u, w := range vals {
				if w == v {
					idx = u
					break
				}
			}
			if idx < 0 {
				if len(vals) == maxLevels {
					ok = false
					break
				}
				idx = len(vals)
				vals = append(vals, v)
			}
			lv.codes[a*m+j] = uint8(idx)
		}
		if ok {
			lv.values[j] = vals
		}
	}
	return lv
}

// discrete reports whether every column of c has a table.
func (lv *levels) discrete(cols []int) bool {
	for _, j := range cols {
		if lv.values[j] == nil {
			return false
		}
	}
	return true
}

// tableWork is per-goroutine scratch for predictTables.
type tableWork struct {
	single, pair []float64
	offs         []int
	memo         []int
	from, at     []int
	todo         []int
	rows         [][]float64
	tailOff      []int
	tailTerm     []float64
	lam          []float64
}

// predictTables is predict for a batch whose columns c uses are all discrete in lv.
func (c *rbfCore) predictTables(lv *levels, rows, m int, out []float64, tw *tableWork) {
	k, n := c.k, c.n
	// Table rows (and the weights) are padded with zeros to a multiple of 16 for the AVX-512
	// kernel, which then sums every row in its sixteen-term passes with no scalar tail (a zero
	// d and weight add an exact zero). Other kernels keep n, and the direct path's bits.
	np := n
	if bestKernel == kernelAVX512 {
		np = (n + 15) &^ 15
	}
	// Single-feature tables, laid out one after another: T_f starts at offs[f].
	tw.offs = growInt(tw.offs, k+1)
	size := 0
	for f, j := range c.cols {
		tw.offs[f] = size
		size += len(lv.values[j]) * np
	}
	tw.single = grow(tw.single, size)
	for f, j := range c.cols {
		col := c.centersT[f*n : f*n+n]
		for u, v := range lv.values[j] {
			t := tw.single[tw.offs[f]+u*np : tw.offs[f]+u*np+np]
			for i, ci := range col {
				d := v - ci
				t[i] = d * d
			}
			clear(t[n:])
		}
	}
	// Pair tables for features (0,1), (2,3), ...; an odd last feature uses its single table.
	// (Measured side by side: single tables only, which stay in L2, are ~1.6x slower.)
	pairs := k / 2
	pairOff := make([]int, pairs+1)
	psize := 0
	for p := 0; p < pairs; p++ {
		pairOff[p] = psize
		psize += len(lv.values[c.cols[2*p]]) * len(lv.values[c.cols[2*p+1]]) * np
	}
	tw.pair = grow(tw.pair, psize)
	for p := 0; p < pairs; p++ {
		f, g := 2*p, 2*p+1
		nf, ng := len(lv.values[c.cols[f]]), len(lv.values[c.cols[g]])
		for u := 0; u < nf; u++ {
			tu := tw.single[tw.offs[f]+u*np : tw.offs[f]+u*np+np]
			for w := 0; w < ng; w++ {
				tg := tw.single[tw.offs[g]+w*np : tw.offs[g]+w*np+np]
				floats.AddTo(tw.pair[pairOff[p]+(u*ng+w)*np:pairOff[p]+(u*ng+w)*np+np], tu, tg)
			}
		}
	}
	// Rows whose codes on c's columns repeat an earlier row's (common for small subsets: one
	// feature has a handful of values) copy its value. The key is the codes in mixed radix;
	// the memo is used when it has at most as many slots as there are rows.
	slots := 1
	for _, j := range c.cols {
		slots *= len(lv.values[j])
		if slots > rows {
			slots = 0
			break
		}
	}
	var memo []int
	if slots > 0 {
		tw.memo = growInt(tw.memo, slots)
		memo = tw.memo
		for i := range memo {
			memo[i] = -1
		}
	}
	// The tail's terms per feature and level (tail coefficient times value, the products
	// the direct evaluation forms), so that a row's tail is k lookups.
	tw.tailOff = growInt(tw.tailOff, k)
	tw.tailTerm = tw.tailTerm[:0]
	for f, j := range c.cols {
		tw.tailOff[f] = len(tw.tailTerm)
		for _, v := range lv.values[j] {
			tw.tailTerm = append(tw.tailTerm, c.tail[1+f]*v)
		}
	}
	tailOff, tailTerm := tw.tailOff[:k], tw.tailTerm
	// First pass: the tail, which rows to compute, and where their table rows start.
	R := pairs + k - 2*pairs // table rows summed per row
	tw.from = growInt(tw.from, rows)
	tw.at = growInt(tw.at, rows*R)
	todo := tw.todo[:0]
	for a := 0; a < rows; a++ {
		codes := lv.codes[a*m : a*m+m]
		tw.from[a] = a
		if memo != nil {
			key := 0
			for _, j := range c.cols {
				key = key*len(lv.values[j]) + int(codes[j])
			}
			if memo[key] >= 0 {
				tw.from[a] = memo[key]
				continue
			}
			memo[key] = a
		}
		todo = append(todo, a)
		s := c.tail[0]
		for f, j := range c.cols {
			s += tailTerm[tailOff[f]+int(codes[j])]
		}
		out[a] = s
		at := tw.at[a*R : a*R+R]
		for p := 0; p < pairs; p++ {
			f, g := c.cols[2*p], c.cols[2*p+1]
			ng := len(lv.values[g])
			at[p] = len(tw.single) + pairOff[p] + (int(codes[f])*ng+int(codes[g]))*np
		}
		for f := 2 * pairs; f < k; f++ {
			at[f-pairs] = tw.offs[f] + int(codes[c.cols[f]])*np
		}
	}
	tw.todo = todo
	// Then the kernel sums. (Summing a chunk of centers at a time, so that the chunk's table
	// columns stay in cache, measured no faster.)
	if cap(tw.rows) < R {
		tw.rows = make([][]float64, R)
	}
	rs := tw.rows[:R]
	lam := c.lambda[:n:n]
	if np > n {
		tw.lam = grow(tw.lam, np)
		copy(tw.lam, lam)
		clear(tw.lam[n:])
		lam = tw.lam[:np:np]
	}
	for _, a := range todo {
		for q, o := range tw.at[a*R : a*R+R] {
			if o >= len(tw.single) {
				o -= len(tw.single)
				rs[q] = tw.pair[o : o+np : o+np]
			} else {
				rs[q] = tw.single[o : o+np : o+np]
			}
		}
		out[a] += cubicSum(lam, rs)
	}
	for a := 0; a < rows; a++ {
		if f := tw.from[a]; f != a {
			out[a] = out[f]
		}
	}
}
