package supernet

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet/ops"
)

// DefaultBackendConfig configures the Go backend a supernet creates when Options.Backend is nil.
const DefaultBackendConfig = "ops_sequential"

// Options configure a new supernet. The zero value is valid.
type Options struct {
	// Seed initialises the weights (default 0 is a valid seed).
	Seed uint64
	// Backend runs the graphs; nil uses a new pure-Go backend (github.com/gomlx/compute gobackend)
	// configured with DefaultBackendConfig.
	Backend compute.Backend
	// CacheSize is how many architectures keep their compiled executables (default 16). Evicted
	// executables are finalized, so memory stays flat however many subnets are visited.
	CacheSize int
	// Depthwise chooses how depthwise convolutions are computed (default ops.DepthwiseAuto); all
	// give the same result up to float rounding. For benchmarks and experiments.
	Depthwise ops.DepthwiseMethod
}

// Supernet is a weight-sharing elastic MobileNetV3 over one Space at one width multiplier.
// Its methods are safe for use by one goroutine at a time.
type Supernet struct {
	Space *space.Space
	Width float64

	params  *paramSet
	maxPlan space.Plan // the plan of the largest subnet: the variables' shapes
	backend compute.Backend
	cache   *execCache
	dw      ops.DepthwiseMethod

	// Step counts optimizer updates so far (part of the optimizer state in checkpoints).
	Step int64

	// Mean and Std normalise input pixels (x = (pixel/255 - Mean[c]) / Std[c]); set by
	// pre-training from its dataset and saved with the supernet. Nil means pixel/255.
	Mean, Std []float32

	// importanceSorted reports whether expanded channels were sorted by importance
	// (progressive shrinking does it once, before elastic expansion).
	ImportanceSorted bool

	mu sync.Mutex
}

// New builds a freshly initialised supernet for the space at width multiplier width.
func New(sp *space.Space, width float64, opt Options) (*Supernet, error) {
	if err := sp.Validate(); err != nil {
		return nil, err
	}
	if !slices.Contains(sp.WidthMults, width) {
		return nil, fmt.Errorf("supernet: width multiplier %g is not one of space %s's %v", width, sp.Name, sp.WidthMults)
	}
	n, err := newEmpty(sp, width, opt)
	if err != nil {
		return nil, err
	}
	n.initialise(rand.New(rand.NewPCG(opt.Seed, 0x5eed)))
	return n, nil
}

func newEmpty(sp *space.Space, width float64, opt Options) (*Supernet, error) {
	largest := sp.Largest()
	largest.Width = width
	maxPlan, err := sp.Plan(largest)
	if err != nil {
		return nil, fmt.Errorf("supernet: planning the largest subnet: %w", err)
	}
	be := opt.Backend
	if be == nil {
		// Sequential op execution: the same speed on 2 cores, and peak memory drops 14x (333 MB
		// instead of 4.8 GB for the largest nat-mnist subnet's inference at batch 128), because the
		// k*k independent depthwise taps are not all materialised at once.
		be, err = gobackend.New(DefaultBackendConfig)
		if err != nil {
			return nil, fmt.Errorf("supernet: starting the Go backend: %w", err)
		}
	}
	cs := opt.CacheSize
	if cs <= 0 {
		cs = 16
	}
	n := &Supernet{Space: sp, Width: width, maxPlan: maxPlan, backend: be, cache: newExecCache(cs), dw: opt.Depthwise}
	n.params = declareParams(sp, maxPlan, true)
	return n, nil
}

// Backend is the compute backend the supernet's graphs run on.
func (n *Supernet) Backend() compute.Backend { return n.backend }

// Params lists the supernet's variables in a fixed order (shared with checkpoints). Callers may
// read them; writing them invalidates nothing (executables take parameters as inputs).
func (n *Supernet) Params() []*Param { return n.params.list }

// NumParams counts trainable elements and batch-norm statistics.
func (n *Supernet) NumParams() (trainable, stats int) { return n.params.numElements() }

// Close releases the compiled executables.
func (n *Supernet) Close() {
	n.cache.clear()
}

// Arch fills in the supernet's width in a and validates it against the space.
func (n *Supernet) checkArch(a space.Arch) (space.Arch, space.Plan, error) {
	if a.Width == 0 {
		a.Width = n.Width
	}
	if a.Width != n.Width {
		return a, space.Plan{}, fmt.Errorf("supernet: architecture %s has width %g but this supernet is width %g", a, a.Width, n.Width)
	}
	p, err := n.Space.Plan(a)
	if err != nil {
		return a, space.Plan{}, err
	}
	return a, p, nil
}

// Layer parameter names. Every convolution or linear weight is "<layer>.<part>.w"; batch norms
// are "<layer>.<part>.bn.{gamma,beta,mean,var}".
func bnNames(prefix string) (gamma, beta, mean, variance string) {
	return prefix + ".bn.gamma", prefix + ".bn.beta", prefix + ".bn.mean", prefix + ".bn.var"
}

func transformName(layer string, from, to int) string {
	return fmt.Sprintf("%s.dw.t%dto%d", layer, from, to)
}

// declareParams creates every variable at the size the largest subnet needs.
func declareParams(sp *space.Space, maxPlan space.Plan, transforms bool) *paramSet {
	ps := newParamSet()
	bn := func(prefix string, c int) {
		g, b, m, v := bnNames(prefix)
		ps.add(g, []int{c}, false, false)
		ps.add(b, []int{c}, false, false)
		ps.add(m, []int{c}, false, true)
		ps.add(v, []int{c}, false, true)
	}
	for _, l := range maxPlan.Layers {
		switch l.Kind {
		case space.KindConv:
			ps.add(l.Name+".conv.w", []int{l.Kernel * l.Kernel * l.InC, l.OutC}, true, false)
			bn(l.Name+".conv", l.OutC)
		case space.KindMBConv:
			if l.Expand != 1 {
				ps.add(l.Name+".expand.w", []int{l.InC, l.MidC}, true, false)
				bn(l.Name+".expand", l.MidC)
			}
			ps.add(l.Name+".dw.w", []int{l.Kernel, l.Kernel, l.MidC}, true, false)
			if l.Stage > 0 && transforms {
				ks := sp.Kernels
				for i := len(ks) - 1; i > 0; i-- {
					ps.add(transformName(l.Name, ks[i], ks[i-1]), []int{ks[i-1] * ks[i-1], ks[i-1] * ks[i-1]}, false, false)
				}
			}
			bn(l.Name+".dw", l.MidC)
			if l.SE {
				ps.add(l.Name+".se.w1", []int{l.MidC, l.SEMidC}, true, false)
				ps.add(l.Name+".se.b1", []int{l.SEMidC}, false, false)
				ps.add(l.Name+".se.w2", []int{l.SEMidC, l.MidC}, true, false)
				ps.add(l.Name+".se.b2", []int{l.MidC}, false, false)
			}
			ps.add(l.Name+".project.w", []int{l.MidC, l.OutC}, true, false)
			bn(l.Name+".project", l.OutC)
		case space.KindFinalExpand:
			ps.add(l.Name+".w", []int{l.InC, l.OutC}, true, false)
			bn(l.Name, l.OutC)
		case space.KindFeatureMix:
			ps.add(l.Name+".w", []int{l.InC, l.OutC}, true, false)
		case space.KindClassifier:
			ps.add(l.Name+".w", []int{l.InC, l.OutC}, true, false)
			ps.add(l.Name+".b", []int{l.OutC}, false, false)
		}
	}
	return ps
}

// initialise follows OFA: convolutions normal(0, sqrt(2/(k*k*out))), linear layers
// uniform(+-1/sqrt(in)), batch norm gamma 1 and beta 0, biases 0, transforms identity.
func (n *Supernet) initialise(rng *rand.Rand) {
	for _, p := range n.params.list {
		switch {
		case p.Stat:
			if hasSuffix(p.Name, ".bn.var") {
				fillConst(p.Value, 1)
			}
		case hasSuffix(p.Name, ".bn.gamma"):
			fillConst(p.Value, 1)
		case hasSuffix(p.Name, ".bn.beta"), hasSuffix(p.Name, ".b"), hasSuffix(p.Name, ".b1"), hasSuffix(p.Name, ".b2"):
			fillConst(p.Value, 0)
		case contains(p.Name, ".dw.t"):
			fillIdentity(p.Value, p.Dims[0])
		case hasSuffix(p.Name, ".dw.w"):
			heFanOut(rng, p, p.Dims[0], p.Dims[2]) // depthwise: out channels = C
		case hasSuffix(p.Name, ".conv.w"):
			heFanOut(rng, p, 3, p.Dims[1])
		case p.Name == "feature_mix.w", p.Name == "classifier.w":
			fillUniform(rng, p.Value, 1/sqrt(float64(p.Dims[0])))
		default: // 1x1 convolutions: expand, project, final_expand, SE
			heFanOut(rng, p, 1, p.Dims[1])
		}
	}
}

// errClosed reports use after Close of a finalized backend.
var errClosed = errors.New("supernet: closed")
