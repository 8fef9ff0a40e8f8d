package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
)

// TreesOptions configure BaggedTrees. Zero values take the documented defaults.
type TreesOptions struct {
	// Trees is the number of bagged trees; default 200. NAT's code uses 1,000; beyond a
	// few hundred the mean barely moves on archives of a few hundred samples, and adaptive
	// switching fits the model 11 times per iteration.
	Trees int
	// MaxFeatures is how many randomly chosen features each split considers; default
	// ceil(m/3), the usual choice for regression forests. Set it to m for plain bagging.
	MaxFeatures int
	// MinLeaf is the smallest number of samples in a leaf; default 2.
	MinLeaf int
	// Seed drives the bootstrap samples and feature choices; tree t uses stream (Seed, t).
	Seed uint64
	// Workers is how many goroutines grow trees; default 2. Results do not depend on it.
	Workers int
	// RefitPerFold makes adaptive switching cross-validate the forest by refitting it on every
	// fold (NAT's way) instead of from the out-of-bag predictions of one fit of e times the trees
	// (see fitCV), which costs about a third of one 10-fold cross-validation by refitting
	// (BenchmarkCV10Trees against BenchmarkCV10TreesRefit: 0.17-0.22 against 0.67-0.71 CPU-s)
	// and the same for any number of repeats.
	RefitPerFold bool
}

// BaggedTrees is an ensemble of CART regression trees (Breiman et al. 1984: binary splits
// minimising the children's summed squared error, grown until leaves hold MinLeaf samples or
// are pure), each grown on a bootstrap sample with a random subset of features per split, and
// averaged (Breiman 2001). NAT's "CART" predictor is this kind of bagged forest.
type BaggedTrees struct {
	opts  TreesOptions
	m     int
	trees []treeNodes
	nodes int
}

// treeNode is a split (Feature >= 0) or a leaf (Feature < 0, prediction Value).
type treeNode struct {
	Feature     int32
	Left, Right int32
	Threshold   float64 // rows with x[Feature] <= Threshold go left
	Value       float64
}

// NewBaggedTrees validates opts and returns an unfitted forest.
func NewBaggedTrees(opts TreesOptions) (*BaggedTrees, error) {
	if opts.Trees == 0 {
		opts.Trees = 200
	}
	if opts.MinLeaf == 0 {
		opts.MinLeaf = 2
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Trees < 1 || opts.MinLeaf < 1 || opts.MaxFeatures < 0 {
		return nil, fmt.Errorf("bagged-trees: need Trees >= 1, MinLeaf >= 1, MaxFeatures >= 0; got %d, %d, %d", opts.Trees, opts.MinLeaf, opts.MaxFeatures)
	}
	return &BaggedTrees{opts: opts}, nil
}

// Name implements Predictor.
func (b *BaggedTrees) Name() string { return "bagged-trees" }

// Describe implements Predictor: the forest's size and settings.
func (b *BaggedTrees) Describe() string {
	if b.trees == nil {
		return fmt.Sprintf("%d bagged CART regression trees (unfitted)", b.opts.Trees)
	}
	return fmt.Sprintf("%d bagged CART regression trees, %.1f nodes per tree, %d of %d features per split, min leaf %d",
		len(b.trees), float64(b.nodes)/float64(len(b.trees)), b.mtry(), b.m, b.opts.MinLeaf)
}

func (b *BaggedTrees) mtry() int {
	if b.opts.MaxFeatures > 0 {
		return min(b.opts.MaxFeatures, b.m)
	}
	return (b.m + 2) / 3
}

// Fit grows every tree on a bootstrap sample of (X, y).
// MinSamples is the fewest training samples Fit accepts (whatever the number of features).
func (b *BaggedTrees) MinSamples(features int) int { return 2 }

func (b *BaggedTrees) Fit(X [][]float64, y []float64) error {
	_, _, err := b.fit(X, y, 0)
	return err
}

// fit grows the forest of opts.Trees trees; with extra > 0 it grows that many more (tree t is the
// same whatever the total), keeps only the first opts.Trees as the model and returns every tree
// grown, with which samples each one's bootstrap drew.
func (b *BaggedTrees) fit(X [][]float64, y []float64, extra int) ([]treeNodes, [][]bool, error) {
	m, err := checkFit("bagged-trees", X, y, b.MinSamples(0))
	if err != nil {
		return nil, nil, err
	}
	b.m = m
	x := flatten(X)
	n := len(y)
	trees := make([]treeNodes, b.opts.Trees+extra)
	var inBag [][]bool
	if extra > 0 {
		inBag = make([][]bool, len(trees))
	}
	// Each feature's sample order, sorted once; every tree derives its bootstrap sample's
	// orders from these in O(n) per feature instead of sorting at every node.
	sorted := make([][]int, m)
	for f := range sorted {
		sorted[f] = make([]int, n)
		for i := range sorted[f] {
			sorted[f][i] = i
		}
		slices.SortStableFunc(sorted[f], func(a, b int) int { return cmpF(x[a*m+f], x[b*m+f]) })
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(b.opts.Workers, len(trees)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := &treeGrower{x: x, y: y, m: m, mtry: b.mtry(), minLeaf: b.opts.MinLeaf, featPerm: make([]int, m),
				orders: make([][]int, m), buf: make([]int, n+1), rbuf: make([]int, n+1), goesLeft: make([]int32, n), count: make([]int, n)}
			for f := range g.orders {
				g.orders[f] = make([]int, n, n+4) // room for the expansion's unconditional writes
			}
			for {
				t := int(next.Add(1) - 1)
				if t >= len(trees) {
					return
				}
				g.rng = rand.New(rand.NewPCG(b.opts.Seed, uint64(t)))
				clear(g.count)
				for range n {
					g.count[g.rng.IntN(n)]++ // bootstrap: n draws with replacement
				}
				if inBag != nil {
					bag := make([]bool, n)
					for i, c := range g.count {
						bag[i] = c > 0
					}
					inBag[t] = bag
				}
				// Each feature's order of the bootstrap sample: sorted[f] with sample i
				// repeated count[i] times. Four copies are written unconditionally and the
				// position advanced by the count (the next sample overwrites the extra ones),
				// which avoids a branch on the count (0 for about a third of the samples).
				for f, order := range g.orders {
					o := order[:n+4]
					at := 0
					for _, i := range sorted[f] {
						c := g.count[i]
						w := o[at : at+4 : at+4]
						w[0], w[1], w[2], w[3] = i, i, i, i
						for k := 4; k < c; k++ {
							o[at+k] = i
						}
						at += c
					}
				}
				g.nodes = nil
				for i := range g.featPerm {
					g.featPerm[i] = i // each tree's draws must not depend on the trees before it
				}
				g.grow(0, n)
				trees[t] = g.nodes
			}
		}()
	}
	wg.Wait()
	b.trees, b.nodes = trees[:b.opts.Trees], 0
	for _, t := range b.trees {
		b.nodes += len(t)
	}
	return trees, inBag, nil
}

// fitCV implements cvFitter: it returns, for every position of the concatenated folds, the
// sample's out-of-bag prediction: the mean of the trees whose bootstrap sample left it out
// (Breiman 1996, "Out-of-bag estimation"). Like a held-out prediction it never saw the sample's
// target, and it costs one fit whatever the folds, so repeated cross-validation adds nothing; the
// folds then only group the samples into per-fold Kendall taus. A tree leaves out a given sample
// with probability (1-1/n)^n, about 1/e, so fitCV grows e times opts.Trees trees (the first
// opts.Trees are the model Fit would grow, and are kept): each sample's out-of-bag mean then
// averages about opts.Trees trees, as the model does. With only opts.Trees of them it would average
// a third as many, and on the synthetic archives rank 0.01-0.05 tau below per-fold refits.
// A sample in every tree's bootstrap (possible only with very few trees) falls back to refitting
// per fold.
func (b *BaggedTrees) fitCV(X [][]float64, y []float64, folds [][]int) ([]float64, error) {
	if b.opts.RefitPerFold {
		return nil, errNoCVShortcut
	}
	extra := int(math.Ceil(float64(b.opts.Trees) * (math.E - 1)))
	all, inBag, err := b.fit(X, y, extra)
	if err != nil {
		return nil, err
	}
	oob := make([]float64, len(y))
	for i, row := range X {
		s, c := 0.0, 0
		for t, tree := range all {
			if inBag[t][i] {
				continue
			}
			s += tree.predict(row)
			c++
		}
		if c == 0 {
			return nil, errNoCVShortcut
		}
		oob[i] = s / float64(c)
	}
	out := make([]float64, 0, foldsLen(folds))
	for _, S := range folds {
		for _, i := range S {
			out = append(out, oob[i])
		}
	}
	return out, nil
}

// treeNodes is one grown tree; predict follows row down to its leaf.
type treeNodes []treeNode

func (t treeNodes) predict(row []float64) float64 {
	nd := &t[0]
	for nd.Feature >= 0 {
		if row[nd.Feature] <= nd.Threshold {
			nd = &t[nd.Left]
		} else {
			nd = &t[nd.Right]
		}
	}
	return nd.Value
}

type treeGrower struct {
	x, y     []float64
	m, mtry  int
	minLeaf  int
	rng      *rand.Rand
	nodes    []treeNode
	featPerm []int
	// orders[f][lo:hi] are the samples of the node being grown, sorted by feature f
	// (bootstrap copies repeated); splitting partitions every order stably.
	orders   [][]int
	buf      []int
	rbuf     []int
	goesLeft []int32 // 1 if the sample goes left at the split being made
	count    []int
}

// grow appends the subtree for the samples in orders[.][lo:hi] and returns its node index.
func (g *treeGrower) grow(lo, hi int) int32 {
	id := int32(len(g.nodes))
	idx := g.orders[0][lo:hi]
	sum := 0.0
	for _, i := range idx {
		sum += g.y[i]
	}
	n := len(idx)
	g.nodes = append(g.nodes, treeNode{Feature: -1, Value: sum / float64(n)})
	if n < 2*g.minLeaf {
		return id
	}
	pure := true
	for _, i := range idx[1:] {
		if g.y[i] != g.y[idx[0]] {
			pure = false
			break
		}
	}
	if pure {
		return id
	}
	// Best split over mtry random features: maximise sumL^2/nL + sumR^2/nR (equivalent to
	// minimising the children's squared error).
	bestScore := sum * sum / float64(n)
	bestF, bestThr := -1, 0.0
	for c := 0; c < g.m; c++ {
		// Partial Fisher-Yates: features are drawn until mtry of them have been tried;
		// like common implementations, keep drawing past constant ones if no split is found.
		r := c + g.rng.IntN(g.m-c)
		g.featPerm[c], g.featPerm[r] = g.featPerm[r], g.featPerm[c]
		f := g.featPerm[c]
		if c >= g.mtry && bestF >= 0 {
			break
		}
		order := g.orders[f][lo:hi]
		left := 0.0
		for p := 0; p < n-1; p++ {
			left += g.y[order[p]]
			v, w := g.x[order[p]*g.m+f], g.x[order[p+1]*g.m+f]
			if v == w || p+1 < g.minLeaf || n-p-1 < g.minLeaf {
				continue
			}
			nl := float64(p + 1)
			right := sum - left
			score := left*left/nl + right*right/(float64(n)-nl)
			if score > bestScore*(1+1e-12) {
				bestScore, bestF, bestThr = score, f, v+(w-v)/2
			}
		}
	}
	if bestF < 0 {
		return id
	}
	// Stable partition of every feature's order by the chosen split.
	// Branch-free: every sample is written to the next slot of both buffers and only the
	// side it goes to advances (left and right are ~50/50, so branches would mispredict).
	nLeft := 0
	for _, i := range g.orders[bestF][lo:hi] {
		left := int32(0)
		if g.x[i*g.m+bestF] <= bestThr {
			left = 1
		}
		g.goesLeft[i] = left
		nLeft += int(left)
	}
	lbuf, rbuf := g.buf[:n+1], g.rbuf[:n+1]
	for _, order := range g.orders {
		seg := order[lo:hi]
		l, r := 0, 0
		for _, i := range seg {
			gl := int(g.goesLeft[i])
			lbuf[l] = i
			rbuf[r] = i
			l += gl
			r += 1 - gl
		}
		copy(seg, lbuf[:nLeft])
		copy(seg[nLeft:], rbuf[:n-nLeft])
	}
	l := g.grow(lo, lo+nLeft)
	r := g.grow(lo+nLeft, hi)
	g.nodes[id].Feature, g.nodes[id].Threshold = int32(bestF), bestThr
	g.nodes[id].Left, g.nodes[id].Right = l, r
	return id
}

func cmpF(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Predict returns the mean of the trees' predictions.
func (b *BaggedTrees) Predict(X [][]float64) ([]float64, error) {
	mean, _, err := b.predict(X, false)
	return mean, err
}

// PredictStd also returns the standard deviation of the trees' predictions.
func (b *BaggedTrees) PredictStd(X [][]float64) (mean, std []float64, err error) {
	return b.predict(X, true)
}

func (b *BaggedTrees) predict(X [][]float64, withStd bool) ([]float64, []float64, error) {
	m := 0
	if b.trees != nil {
		m = b.m
	}
	if err := checkPredict("bagged-trees", X, m); err != nil {
		return nil, nil, err
	}
	out := make([]float64, len(X))
	var std []float64
	if withStd {
		std = make([]float64, len(X))
	}
	T := float64(len(b.trees))
	for a, row := range X {
		s, ss := 0.0, 0.0
		for _, t := range b.trees {
			v := t.predict(row)
			s += v
			ss += v * v
		}
		out[a] = s / T
		if withStd {
			std[a] = math.Sqrt(max(ss/T-out[a]*out[a], 0))
		}
	}
	return out, std, checkOutput("bagged-trees", out)
}
