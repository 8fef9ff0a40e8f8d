package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// RBFEnsembleOptions configure an RBFEnsemble. Zero values take the documented defaults.
type RBFEnsembleOptions struct {
	// Members is the number of RBFs; default 500 (NAT's setting).
	Members int
	// Seed drives the members' feature subsets.
	Seed uint64
	// Workers is how many goroutines fit and predict; default 2. Results do not depend on it.
	Workers int
	// Ridge is passed to every member (see RBFOptions.Ridge).
	Ridge float64
}

func (o RBFEnsembleOptions) withDefaults() RBFEnsembleOptions {
	if o.Members == 0 {
		o.Members = 500
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	return o
}

// RBFEnsemble is NAT's default accuracy predictor: Members cubic RBFs (see RBF), member j fitted
// on a random subset of the features of size drawn from U{1..m}, predicting the median of the
// members. NAT's code also shuffles the samples per member; an interpolant does not depend on
// the order of its samples, so that shuffle is left out. Subsets are drawn from a PCG stream
// seeded by (Seed, member index), so results do not depend on Workers or scheduling.
//
// A member whose subset holds only features constant in the training data, or whose system is
// numerically singular, is dropped (Describe reports how many); fitting fails only if all are.
type RBFEnsemble struct {
	opts    RBFEnsembleOptions
	m       int
	members []*rbfCore
	// same[j] is the index of an earlier member identical to member j (same feature subset,
	// same *rbfCore), or -1: predictions are computed once per distinct member.
	same    []int
	dropped int
	ridged  int
}

// NewRBFEnsemble validates opts and returns an unfitted ensemble.
func NewRBFEnsemble(opts RBFEnsembleOptions) (*RBFEnsemble, error) {
	opts = opts.withDefaults()
	if opts.Members < 1 {
		return nil, fmt.Errorf("rbf-ensemble: members must be positive, got %d", opts.Members)
	}
	return &RBFEnsemble{opts: opts}, nil
}

// Name implements Predictor.
func (e *RBFEnsemble) Name() string { return "rbf-ensemble" }

// Describe implements Predictor: members kept, mean subset size, dropped and ridged members.
func (e *RBFEnsemble) Describe() string {
	if e.members == nil {
		return fmt.Sprintf("ensemble of %d cubic RBFs on random feature subsets, median (unfitted)", e.opts.Members)
	}
	ks := 0
	for _, c := range e.members {
		ks += c.k
	}
	return fmt.Sprintf("ensemble of %d cubic RBFs on random feature subsets (mean %.1f of %d features), median; %d dropped as singular, %d ridged for repeated points",
		len(e.members), float64(ks)/float64(len(e.members)), e.m, e.dropped, e.ridged)
}

// memberCols draws member j's feature subset: a size from U{1..m}, then that many distinct
// features, minus those constant in the training data, capped so the member has more samples
// than unknowns.
func (e *RBFEnsemble) memberCols(j, n, m int, varying []bool) []int {
	rng := rand.New(rand.NewPCG(e.opts.Seed, uint64(j)))
	size := 1 + rng.IntN(m)
	perm := rng.Perm(m)[:size]
	cols := perm[:0]
	for _, c := range perm {
		if varying[c] {
			cols = append(cols, c)
		}
	}
	if len(cols) > n-2 {
		cols = cols[:n-2]
	}
	slices.Sort(cols)
	return cols
}

// Fit fits every member on (X, y).
// MinSamples is the fewest training samples Fit accepts (whatever the number of features).
func (e *RBFEnsemble) MinSamples(features int) int { return 3 }

func (e *RBFEnsemble) Fit(X [][]float64, y []float64) error {
	_, err := e.fit(X, y, nil)
	return err
}

// fitCV implements cvFitter: fit on all data and return, per position of the concatenated
// folds, the held-out prediction (median over members of the member fitted without that fold;
// exact, see rbfCore.heldOut). The feature subsets do not depend on the data, so using the same subsets
// for every fold is an unbiased cross-validation of the ensemble.
func (e *RBFEnsemble) fitCV(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	return e.fit(X, y, folds)
}

func (e *RBFEnsemble) fit(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	m, err := checkFit("rbf-ensemble", X, y, e.MinSamples(0))
	if err != nil {
		return nil, err
	}
	n := len(X)
	x := flatten(X)
	konst := constantColumns(x, n, m)
	varying := make([]bool, m)
	for j := range varying {
		varying[j] = !konst[j]
	}
	M := e.opts.Members
	// Members drawing the same feature subset are the same interpolant (the sample shuffle NAT
	// adds does not change an interpolant): fit each distinct subset once. first[j] is the
	// first member with member j's subset.
	colsOf := make([][]int, M)
	first := make([]int, M)
	var unique []int
	seen := make(map[string]int, M)
	for j := range colsOf {
		colsOf[j] = e.memberCols(j, n, m, varying)
		key := fmt.Sprint(colsOf[j])
		if f, ok := seen[key]; ok {
			first[j] = f
			continue
		}
		seen[key], first[j] = j, j
		unique = append(unique, j)
	}
	members := make([]*rbfCore, M)
	var held []float64 // M x total fold length, NaN where unavailable
	total := foldsLen(folds)
	if folds != nil {
		held = make([]float64, M*total)
		for i := range held {
			held[i] = math.NaN()
		}
	}
	parallel(e.opts.Workers, len(unique), func() func(u int) {
		ws := new(rbfWork)
		return func(u int) {
			j := unique[u]
			cols := colsOf[j]
			if len(cols) == 0 {
				return
			}
			c, err := fitRBFCore(x, y, m, cols, e.opts.Ridge, folds, ws)
			if err != nil {
				return
			}
			if folds != nil {
				c.heldOut(y, folds, ws, held[j*total:(j+1)*total])
				c.inv, c.g1, c.pos = nil, nil, nil
			}
			c.compact()
			members[j] = c
		}
	})
	e.members, e.same, e.dropped, e.ridged, e.m = nil, nil, 0, 0, 0
	kept := make([]*rbfCore, 0, M) // not members[:0]: members[first[j]] is read below
	keptAt := make([]int, M)       // index in kept of member j
	var same []int
	for j, c := range members {
		if f := first[j]; f != j {
			c = members[f]
			if held != nil {
				copy(held[j*total:(j+1)*total], held[f*total:(f+1)*total])
			}
		}
		if c == nil {
			e.dropped++
			continue
		}
		if c.ridge > 0 {
			e.ridged++
		}
		keptAt[j] = len(kept)
		s := -1
		if f := first[j]; f != j {
			s = keptAt[f]
		}
		same = append(same, s)
		kept = append(kept, c)
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("rbf-ensemble: fit: all %d members failed (too few distinct samples for their features?)", M)
	}
	e.members, e.same, e.m = kept, same, m
	if folds == nil {
		return nil, nil
	}
	out := make([]float64, total)
	vals := make([]float64, 0, M)
	for p := 0; p < total; p++ {
		vals = vals[:0]
		for j := 0; j < M; j++ {
			if v := held[j*total+p]; finite(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			return nil, fmt.Errorf("rbf-ensemble: cross-validation: no member could predict held-out position %d without its fold", p)
		}
		out[p] = median(vals)
	}
	return out, nil
}

// predictBlock is the number of rows predicted per pass over the members: the members'
// predictions for a block (Members x predictBlock values) are held before taking medians.
const predictBlock = 4096

// Predict returns the median of the members' predictions for every row of X.
func (e *RBFEnsemble) Predict(X [][]float64) ([]float64, error) {
	mean, _, err := e.predict(X, false)
	return mean, err
}

// PredictStd returns the median prediction and, as spread, the members' interquartile range
// divided by 1.349 (a robust standard deviation: equal to sigma for normal spread).
func (e *RBFEnsemble) PredictStd(X [][]float64) (mean, std []float64, err error) {
	return e.predict(X, true)
}

func (e *RBFEnsemble) predict(X [][]float64, spread bool) ([]float64, []float64, error) {
	if err := checkPredict("rbf-ensemble", X, e.m); err != nil {
		return nil, nil, err
	}
	rows, m := len(X), e.m
	x := flatten(X)
	out := make([]float64, rows)
	var std []float64
	if spread {
		std = make([]float64, rows)
	}
	M := len(e.members)
	vals := make([]float64, M*min(rows, predictBlock)) // member-major: vals[j*r + a]
	for lo := 0; lo < rows; lo += predictBlock {
		hi := min(lo+predictBlock, rows)
		r := hi - lo
		xb := x[lo*m : hi*m]
		lv := discretize(xb, r, m)
		// Members in parallel; each writes its own slice of vals.
		parallel(e.opts.Workers, M, func() func(j int) {
			var scratch []float64
			tw := new(tableWork)
			return func(j int) {
				c := e.members[j]
				if e.same[j] >= 0 {
					return // copied below
				}
				dst := vals[j*r : j*r+r]
				if lv.discrete(c.cols) {
					c.predictTables(lv, r, m, dst, tw)
				} else {
					scratch = c.predict(xb, r, m, dst, scratch)
				}
			}
		})
		for j, f := range e.same {
			if f >= 0 {
				copy(vals[j*r:j*r+r], vals[f*r:f*r+r])
			}
		}
		// Medians in parallel over rows.
		parallel(e.opts.Workers, r, func() func(a int) {
			col := make([]float64, M)
			return func(a int) {
				for j := range col {
					col[j] = vals[j*r+a]
				}
				out[lo+a] = median(col)
				if spread {
					std[lo+a] = (quantile(col, 0.75) - quantile(col, 0.25)) / 1.349
				}
			}
		})
	}
	if err := checkOutput("rbf-ensemble", out); err != nil {
		return nil, nil, err
	}
	return out, std, nil
}

// parallel runs body(i) for i in 0..n-1 on up to workers goroutines. newBody is called once
// per goroutine so each can own its scratch buffers. Which goroutine runs which i does not
// matter as long as body(i) writes only what belongs to i, which keeps results independent
// of scheduling.
func parallel(workers, n int, newBody func() func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := newBody()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				body(i)
			}
		}()
	}
	wg.Wait()
}

// median returns the median of v (the mean of the two middle values for even length),
// reordering v.
func median(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return selectK(v, n/2)
	}
	hi := selectK(v, n/2)
	lo := v[0]
	for _, x := range v[:n/2] {
		lo = max(lo, x)
	}
	return (lo + hi) / 2
}

// quantile returns the q-quantile of v with linear interpolation between order statistics
// (numpy's default), reordering v.
func quantile(v []float64, q float64) float64 {
	pos := q * float64(len(v)-1)
	i := int(math.Floor(pos))
	lo := selectK(v, i)
	if i+1 >= len(v) {
		return lo
	}
	hi := v[i+1]
	for _, x := range v[i+1:] {
		hi = min(hi, x)
	}
	return lo + (pos-float64(i))*(hi-lo)
}

// selectK partially orders v so that v[k] is the k-th smallest value (0-based), everything
// before it <= v[k] and everything after >= v[k], and returns v[k] (Hoare's quickselect,
// median-of-three pivots; deterministic).
func selectK(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		if k <= j {
			hi = j
		} else if k >= i {
			lo = i
		} else {
			return v[k]
		}
	}
	return v[k]
}
