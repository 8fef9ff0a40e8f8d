// Package measure times layers and networks on this machine with GoMLX, implementing
// hardware.Measurer, so that `nat hardware lut build` can fill a latency table for the backend
// the supernet runs on.
//
// Graphs are the deployed form of a subnet, written with the supernet's operations
// (nat/supernet/ops: matmul pointwise, shifted-slice depthwise, im2col stem, batch norm with
// running statistics, squeeze-excite, linear): weights are plain inputs at their final sizes (the
// depthwise kernel already transformed to k x k, as an exported subnet holds it), batch norms use
// running statistics, and there is no dropout. A whole network is the same layers chained in one
// graph, which is what `nat hardware validate` compares the table's sums with.
//
// It is not the supernet: weights are random (timing does not depend on their values; they are
// He-scaled so activations stay in the normal float range and no denormal slows a run).
package measure

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads best unqualified
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/hardware"
	"github.com/natgo/nat/nat/space"
	"github.com/natgo/nat/nat/supernet"
	"github.com/natgo/nat/nat/supernet/ops"
)

// GoMLX measures on a GoMLX backend. It is safe for use by one goroutine at a time (timing two
// things at once on the same cores would measure neither).
type GoMLX struct {
	backend compute.Backend
	name    string
	seed    uint64
	mu      sync.Mutex
}

// DefaultBackendConfig is the Go backend configuration used when Options.BackendConfig is empty:
// nat/supernet's (supernet.DefaultBackendConfig), so that measured latencies are of the
// networks as the supernet runs them.
const DefaultBackendConfig = supernet.DefaultBackendConfig

// Options configures NewGoMLX.
type Options struct {
	// Backend to run on; nil means GoMLX's pure-Go backend (github.com/gomlx/compute gobackend)
	// configured by BackendConfig.
	Backend compute.Backend
	// BackendConfig configures the Go backend when Backend is nil. "" means DefaultBackendConfig,
	// nat/supernet's "ops_sequential" (one op at a time); "ops_parallel" is the
	// backend's own default. On a 2-core machine shared with other work ops_sequential ran the
	// nat-mnist subnets about twice as fast, and compute v0.1.2's parallel executor deadlocks on
	// graphs where two large matrix products are independent of each other (both wait in
	// workerspool.Saturate for workers the executor holds), which the depthwise convolution's
	// 2-D Toeplitz form creates (its per-layer band products depend only on the weights).
	BackendConfig string
	// BackendName describes Backend in the tables built; default "gomlx/<backend name>".
	BackendName string
	// Seed for the random weights and inputs.
	Seed uint64
}

// NewGoMLX returns a measurer on the given backend.
func NewGoMLX(opt Options) (*GoMLX, error) {
	be := opt.Backend
	if opt.BackendConfig == "" {
		opt.BackendConfig = DefaultBackendConfig
	}
	if be == nil {
		var err error
		if be, err = gobackend.New(opt.BackendConfig); err != nil {
			return nil, fmt.Errorf("measure: starting GoMLX's Go backend with config %q: %w", opt.BackendConfig, err)
		}
	}
	name := opt.BackendName
	if name == "" {
		name = fmt.Sprintf("gomlx v0.28.2 %s (%s", be.Name(), be.Description())
		if opt.Backend == nil {
			name += fmt.Sprintf(", config %q", opt.BackendConfig)
		}
		name += ")"
	}
	return &GoMLX{backend: be, name: name, seed: opt.Seed}, nil
}

// Device implements hardware.Measurer: this machine's CPU model and core count, and the backend.
func (g *GoMLX) Device() (string, string) {
	return fmt.Sprintf("%s, %d cores", cpuModel(), runtime.NumCPU()), g.name
}

// cpuModel reads the CPU model from /proc/cpuinfo (Linux); elsewhere it names GOOS/GOARCH.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if label, val, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(label) == "model name" {
				return strings.TrimSpace(val)
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

// weights creates one layer's inputs: a name, its dimensions and its scale.
type weightSpec struct {
	dims  []int
	std   float64 // normal(0, std); 0 means constant value
	value float64
}

// layerInputs lists the weight tensors a layer's graph reads, in the order layerGraph consumes
// them.
func layerInputs(l space.Layer) []weightSpec {
	he := func(fanIn int) float64 { return math.Sqrt(2 / float64(fanIn)) }
	bn := func(c int) []weightSpec { // gamma, beta, running mean, running variance
		return []weightSpec{{dims: []int{c}, value: 1}, {dims: []int{c}, value: 0}, {dims: []int{c}, value: 0}, {dims: []int{c}, value: 1}}
	}
	var w []weightSpec
	switch l.Kind {
	case space.KindConv:
		w = append(w, weightSpec{dims: []int{l.Kernel * l.Kernel * l.InC, l.OutC}, std: he(l.Kernel * l.Kernel * l.InC)})
		if l.BN {
			w = append(w, bn(l.OutC)...)
		}
	case space.KindMBConv:
		if l.Expand != 1 {
			w = append(w, weightSpec{dims: []int{l.InC, l.MidC}, std: he(l.InC)})
			w = append(w, bn(l.MidC)...)
		}
		w = append(w, weightSpec{dims: []int{l.Kernel, l.Kernel, l.MidC}, std: he(l.Kernel * l.Kernel)})
		w = append(w, bn(l.MidC)...)
		if l.SE {
			w = append(w, weightSpec{dims: []int{l.MidC, l.SEMidC}, std: he(l.MidC)}, weightSpec{dims: []int{l.SEMidC}},
				weightSpec{dims: []int{l.SEMidC, l.MidC}, std: he(l.SEMidC)}, weightSpec{dims: []int{l.MidC}})
		}
		w = append(w, weightSpec{dims: []int{l.MidC, l.OutC}, std: he(l.MidC)})
		w = append(w, bn(l.OutC)...)
	case space.KindFinalExpand:
		w = append(w, weightSpec{dims: []int{l.InC, l.OutC}, std: he(l.InC)})
		if l.BN {
			w = append(w, bn(l.OutC)...)
		}
	case space.KindFeatureMix, space.KindClassifier:
		w = append(w, weightSpec{dims: []int{l.InC, l.OutC}, std: he(l.InC)})
		if l.Bias {
			w = append(w, weightSpec{dims: []int{l.OutC}})
		}
		if l.BN {
			w = append(w, bn(l.OutC)...)
		}
	}
	return w
}

// layerGraph applies layer l to x, reading its weights from next().
func layerGraph(l space.Layer, x *Node, next func() *Node) *Node {
	act := string(l.Act)
	bn := func(h *Node) *Node {
		gamma, beta, mean, variance := next(), next(), next(), next()
		return ops.BatchNormInfer(h, gamma, beta, mean, variance)
	}
	switch l.Kind {
	case space.KindConv:
		x = ops.Conv2D(x, next(), l.Kernel, l.Stride)
		if l.BN {
			x = bn(x)
		}
		return ops.Activate(act, x)
	case space.KindMBConv:
		in, h := x, x
		if l.Expand != 1 {
			h = ops.Activate(act, bn(ops.Pointwise(h, next())))
		}
		h = ops.Activate(act, bn(ops.Depthwise(h, next(), l.Stride)))
		if l.SE {
			w1, b1, w2, b2 := next(), next(), next(), next()
			h = ops.SqueezeExcite(h, w1, b1, w2, b2)
		}
		h = bn(ops.Pointwise(h, next()))
		if l.Residual {
			h = Add(h, in)
		}
		return h
	case space.KindFinalExpand:
		x = ops.Pointwise(x, next())
		if l.BN {
			x = bn(x)
		}
		return ReduceMean(ops.Activate(act, x), 1, 2) // global average pooling, as MSuNAS's entry includes
	case space.KindFeatureMix, space.KindClassifier:
		w := next()
		var b *Node
		if l.Bias {
			b = next()
		}
		x = ops.Linear(x, w, b)
		if l.BN {
			x = bn(Reshape(x, x.Shape().Dimensions[0], 1, 1, l.OutC))
			x = Reshape(x, x.Shape().Dimensions[0], l.OutC)
		}
		return ops.Activate(act, x)
	}
	panic(fmt.Sprintf("measure: layer %s has unknown kind %q", l.Name, l.Kind))
}

// inputDims is the shape of a layer's input at batch b.
func inputDims(l space.Layer, b int) []int {
	switch l.Kind {
	case space.KindFeatureMix, space.KindClassifier:
		return []int{b, l.InC}
	}
	return []int{b, l.InH, l.InW, l.InC}
}

func randomTensor(rng *rand.Rand, w weightSpec) *tensors.Tensor {
	n := 1
	for _, d := range w.dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		if w.std > 0 {
			v[i] = float32(rng.NormFloat64() * w.std)
		} else {
			v[i] = float32(w.value)
		}
	}
	return tensors.FromFlatDataAndDimensions(v, w.dims...)
}

// program is a compiled graph with its inputs ready.
type program struct {
	exec *Exec
	args []any
}

func (p *program) run() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("measure: %v", r)
		}
	}()
	outs, err := p.exec.Exec(p.args...)
	for _, o := range outs {
		_ = o.FinalizeAll()
	}
	return err
}

func (p *program) close() {
	p.exec.Finalize()
	for _, a := range p.args {
		_ = a.(*tensors.Tensor).FinalizeAll()
	}
}

// newProgram builds the graph of layers chained (one layer, or a whole network) at batch b.
func (g *GoMLX) newProgram(layers []space.Layer, b int) (*program, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("measure: nothing to run")
	}
	rng := rand.New(rand.NewPCG(g.seed, uint64(len(layers))))
	in := randomTensor(rng, weightSpec{dims: inputDims(layers[0], b), std: 1})
	args := []any{in}
	for _, l := range layers {
		for _, w := range layerInputs(l) {
			args = append(args, randomTensor(rng, w))
		}
	}
	fn := func(nodes []*Node) *Node {
		i := 1
		next := func() *Node { i++; return nodes[i-1] }
		x := nodes[0]
		for _, l := range layers {
			x = layerGraph(l, x, next)
		}
		return x
	}
	exec, err := NewExec(g.backend, fn)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	return &program{exec: exec, args: args}, nil
}

func (g *GoMLX) time(ctx context.Context, layers []space.Layer, opt hardware.MeasureOptions) (hardware.Timing, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	opt = opt.WithDefaults()
	p, err := g.newProgram(layers, opt.Batch)
	if err != nil {
		return hardware.Timing{}, err
	}
	defer p.close()
	// The first run compiles; it is not a warm-up run.
	if err := p.run(); err != nil {
		return hardware.Timing{}, err
	}
	return hardware.TimeRuns(ctx, opt, p.run)
}

// MeasureLayer implements hardware.Measurer.
func (g *GoMLX) MeasureLayer(ctx context.Context, l space.Layer, opt hardware.MeasureOptions) (hardware.Timing, error) {
	return g.time(ctx, []space.Layer{l}, opt)
}

// MeasureNetwork implements hardware.Measurer: the plan's layers, input image to logits, as one
// graph.
func (g *GoMLX) MeasureNetwork(ctx context.Context, p space.Plan, opt hardware.MeasureOptions) (hardware.Timing, error) {
	return g.time(ctx, p.Layers, opt)
}

// MeasureOverhead implements hardware.OverheadMeasurer: the time of one run of a graph that
// does almost nothing (adds one to a [batch, 1] tensor), i.e. what every run pays for dispatch.
func (g *GoMLX) MeasureOverhead(ctx context.Context, opt hardware.MeasureOptions) (hardware.Timing, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	opt = opt.WithDefaults()
	exec, err := NewExec(g.backend, func(x *Node) *Node { return AddScalar(x, 1) })
	if err != nil {
		return hardware.Timing{}, fmt.Errorf("measure: %w", err)
	}
	p := &program{exec: exec, args: []any{tensors.FromFlatDataAndDimensions(make([]float32, opt.Batch), opt.Batch, 1)}}
	defer p.close()
	if err := p.run(); err != nil {
		return hardware.Timing{}, err
	}
	return hardware.TimeRuns(ctx, opt, p.run)
}
