// Package rank holds the rank and error metrics used to judge predictors against measurements:
// Kendall's tau-b (O(n log n), ties handled), Spearman's rho (average ranks for ties) and RMSE.
//
// It is the one place these metrics live: the accuracy predictors' cross-validation, the transfer
// loop's reports and the hardware-model validation all call it. It is not a statistics library:
// no p-values, no confidence intervals.
package rank

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrConstant is returned (wrapped) when a correlation is undefined because one input has no
// variation at all (every value tied).
var ErrConstant = errors.New("input is constant, correlation undefined")

func check(name string, x, y []float64) error {
	if len(x) != len(y) {
		return fmt.Errorf("rank: %s: length mismatch: %d vs %d values", name, len(x), len(y))
	}
	if len(x) < 2 {
		return fmt.Errorf("rank: %s: need at least 2 pairs, got %d", name, len(x))
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsInf(x[i], 0) {
			return fmt.Errorf("rank: %s: first input[%d] is %v", name, i, x[i])
		}
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return fmt.Errorf("rank: %s: second input[%d] is %v", name, i, y[i])
		}
	}
	return nil
}

// KendallTau returns Kendall's tau-b between x and y:
//
//	tau_b = (C - D) / sqrt((n0 - n1) (n0 - n2))
//
// where C and D count concordant and discordant pairs, n0 = n(n-1)/2, and n1, n2 count the
// pairs tied in x and in y respectively (Kendall 1945; the definition scipy.stats.kendalltau
// uses by default). It runs in O(n log n) with Knight's algorithm (Knight 1966, "A computer
// method for calculating Kendall's tau with ungrouped data", JASA 61:436-439): sort by (x, y),
// then count the exchanges a merge sort by y needs.
//
// It returns an error wrapping ErrConstant when x or y is constant, and an error for
// mismatched lengths, fewer than two pairs, or NaN/Inf values.
func KendallTau(x, y []float64) (float64, error) {
	if err := check("Kendall tau", x, y); err != nil {
		return 0, err
	}
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmpFloat(x[a], x[b]); c != 0 {
			return c
		}
		return cmpFloat(y[a], y[b])
	})
	// Pairs tied in x (n1) and tied in both (n3), from runs in the (x, y)-sorted order.
	var n1, n3 int64
	for i := 0; i < n; {
		j := i + 1
		for j < n && x[idx[j]] == x[idx[i]] {
			j++
		}
		n1 += pairs(j - i)
		for a := i; a < j; {
			b := a + 1
			for b < j && y[idx[b]] == y[idx[a]] {
				b++
			}
			n3 += pairs(b - a)
			a = b
		}
		i = j
	}
	// Merge sort by y counting exchanges: each is a pair discordant in (x, y) order.
	ys := make([]float64, n)
	for i, k := range idx {
		ys[i] = y[k]
	}
	swaps := mergeCount(ys, make([]float64, n))
	var n2 int64
	for i := 0; i < n; {
		j := i + 1
		for j < n && ys[j] == ys[i] {
			j++
		}
		n2 += pairs(j - i)
		i = j
	}
	n0 := pairs(n)
	if n1 == n0 {
		return 0, fmt.Errorf("rank: Kendall tau: first input: %w", ErrConstant)
	}
	if n2 == n0 {
		return 0, fmt.Errorf("rank: Kendall tau: second input: %w", ErrConstant)
	}
	// C - D over pairs untied in both: (n0 - n1 - n2 + n3) - 2*swaps.
	num := float64(n0-n1-n2+n3) - 2*float64(swaps)
	den := math.Sqrt(float64(n0-n1)) * math.Sqrt(float64(n0-n2))
	tau := num / den
	// Round-off can push |tau| a hair above 1.
	return math.Max(-1, math.Min(1, tau)), nil
}

func pairs(k int) int64 { return int64(k) * int64(k-1) / 2 }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// mergeCount sorts a ascending (stable) and returns the number of strict inversions
// (pairs i < j with a[i] > a[j]); equal values are not counted.
func mergeCount(a, buf []float64) int64 {
	n := len(a)
	if n < 2 {
		return 0
	}
	var swaps int64
	// Bottom-up merge sort: no recursion, one buffer.
	src, dst := a, buf
	for width := 1; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid := min(lo+width, n)
			hi := min(lo+2*width, n)
			i, j, k := lo, mid, lo
			for i < mid && j < hi {
				if src[j] < src[i] {
					dst[k] = src[j]
					swaps += int64(mid - i)
					j++
				} else {
					dst[k] = src[i]
					i++
				}
				k++
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
	return swaps
}

// Ranks returns the 1-based ranks of x, ties receiving the average of the ranks they span
// (the "average" method of scipy.stats.rankdata).
func Ranks(x []float64) []float64 {
	n := len(x)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(x[a], x[b]) })
	r := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && x[idx[j]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// Spearman returns Spearman's rank correlation rho: the Pearson correlation of the average
// ranks of x and y (so ties are handled as scipy.stats.spearmanr does).
// It returns an error wrapping ErrConstant when x or y is constant.
func Spearman(x, y []float64) (float64, error) {
	if err := check("Spearman rho", x, y); err != nil {
		return 0, err
	}
	rx, ry := Ranks(x), Ranks(y)
	n := float64(len(x))
	mean := (n + 1) / 2 // mean of ranks 1..n, ties included
	var sxy, sxx, syy float64
	for i := range rx {
		dx, dy := rx[i]-mean, ry[i]-mean
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 {
		return 0, fmt.Errorf("rank: Spearman rho: first input: %w", ErrConstant)
	}
	if syy == 0 {
		return 0, fmt.Errorf("rank: Spearman rho: second input: %w", ErrConstant)
	}
	rho := sxy / math.Sqrt(sxx*syy)
	return math.Max(-1, math.Min(1, rho)), nil
}

// RMSE returns the root mean squared error sqrt(mean((pred - target)^2)).
func RMSE(pred, target []float64) (float64, error) {
	if len(pred) != len(target) {
		return 0, fmt.Errorf("rank: RMSE: length mismatch: %d predictions vs %d targets", len(pred), len(target))
	}
	if len(pred) == 0 {
		return 0, errors.New("rank: RMSE: no values")
	}
	var s float64
	for i := range pred {
		if math.IsNaN(pred[i]) || math.IsInf(pred[i], 0) {
			return 0, fmt.Errorf("rank: RMSE: prediction[%d] is %v", i, pred[i])
		}
		if math.IsNaN(target[i]) || math.IsInf(target[i], 0) {
			return 0, fmt.Errorf("rank: RMSE: target[%d] is %v", i, target[i])
		}
		d := pred[i] - target[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(pred))), nil
}

// Summary is the three metrics of a prediction against its targets.
type Summary struct {
	KendallTau float64 // Kendall's tau-b
	Spearman   float64 // Spearman's rho
	RMSE       float64 // root mean squared error, in the targets' units
}

// Summarize computes Kendall's tau-b, Spearman's rho and RMSE of pred against target.
func Summarize(pred, target []float64) (Summary, error) {
	var s Summary
	var err error
	if s.KendallTau, err = KendallTau(pred, target); err != nil {
		return s, err
	}
	if s.Spearman, err = Spearman(pred, target); err != nil {
		return s, err
	}
	if s.RMSE, err = RMSE(pred, target); err != nil {
		return s, err
	}
	return s, nil
}
