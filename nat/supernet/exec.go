package supernet

import (
	"container/list"
	"fmt"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/natgo/nat/nat/space"
)

// execKind names the three graphs an architecture compiles.
type execKind int

const (
	kindTrain execKind = iota // loss, correct count and gradients
	kindCalib                 // batch-norm batch statistics (recalibration)
	kindInfer                 // logits with running statistics
)

// compiled is one architecture's executable of one kind.
type compiled struct {
	exec      *Exec
	names     []string // parameter inputs, in order, after the data inputs
	gradNames []string // kindTrain: gradients returned after loss and correct count
	statNames []string // kindCalib: batch-norm prefixes, each returning mean then variance
	dropout   bool     // kindTrain: takes a dropout mask input
}

// execCache is an LRU of compiled executables that finalizes what it evicts.
type execCache struct {
	cap   int
	order *list.List // front = most recent; values are *cacheEntry
	index map[string]*list.Element
	// Evictions counts finalized executables (for tests and benchmarks).
	Evictions int
}

type cacheEntry struct {
	key string
	c   *compiled
}

func newExecCache(capacity int) *execCache {
	return &execCache{cap: capacity, order: list.New(), index: map[string]*list.Element{}}
}

func (ec *execCache) get(key string) *compiled {
	if e, ok := ec.index[key]; ok {
		ec.order.MoveToFront(e)
		return e.Value.(*cacheEntry).c
	}
	return nil
}

func (ec *execCache) put(key string, c *compiled) {
	ec.index[key] = ec.order.PushFront(&cacheEntry{key: key, c: c})
	for ec.order.Len() > ec.cap {
		last := ec.order.Back()
		ent := last.Value.(*cacheEntry)
		ec.order.Remove(last)
		delete(ec.index, ent.key)
		ent.c.exec.Finalize()
		ec.Evictions++
	}
}

func (ec *execCache) len() int { return ec.order.Len() }

func (ec *execCache) clear() {
	for e := ec.order.Front(); e != nil; e = e.Next() {
		e.Value.(*cacheEntry).c.exec.Finalize()
	}
	ec.order.Init()
	ec.index = map[string]*list.Element{}
}

// trainConfig is what changes a training graph besides the architecture.
type trainConfig struct {
	labelSmoothing float64
	distill        float64 // weight of the distillation loss from the largest subnet; 0 disables
	dropout        bool
}

// storedKernel returns the kernel size stored for a layer (the largest one).
func (n *Supernet) storedKernel(layer string) int {
	p, err := n.params.get(layer + ".dw.w")
	if err != nil {
		return 0
	}
	return p.Dims[0]
}

// executable returns (compiling on first use) the executable of kind for plan.
func (n *Supernet) executable(kind execKind, arch space.Arch, plan space.Plan, tc trainConfig) (*compiled, error) {
	key := fmt.Sprintf("%d|%g|%g|%v|%s", kind, tc.labelSmoothing, tc.distill, tc.dropout, arch.String())
	if c := n.cache.get(key); c != nil {
		return c, nil
	}
	mode := bnBatch
	if kind == kindInfer {
		mode = bnRunning
	}
	names := usedParams(plan, mode, n.storedKernel, n.Space.Kernels)
	studentNames := names
	var teacherPlan space.Plan
	if kind == kindTrain && tc.distill > 0 {
		largest := n.Space.Largest()
		largest.Width = n.Width
		largest.Resolution = arch.Resolution
		var err error
		if teacherPlan, err = n.Space.Plan(largest); err != nil {
			return nil, err
		}
		names = mergeNames(names, usedParams(teacherPlan, bnBatch, n.storedKernel, n.Space.Kernels))
	}
	c := &compiled{names: names, dropout: kind == kindTrain && tc.dropout}
	if kind == kindTrain {
		// Only the student learns: the teacher's outputs are under StopGradient, and a parameter
		// that only the teacher reads must not move (weight decay, momentum).
		for _, nm := range studentNames {
			if p, _ := n.params.get(nm); p != nil && !p.Stat {
				c.gradNames = append(c.gradNames, nm)
			}
		}
	}
	classes := n.Space.Classes
	numData := 1
	if kind == kindTrain {
		numData = 2
		if c.dropout {
			numData = 3
		}
	}
	graphFn := func(in []*Node) []*Node {
		byName := make(map[string]*Node, len(names))
		for i, nm := range names {
			byName[nm] = in[numData+i]
		}
		get := func(nm string) *Node {
			x, ok := byName[nm]
			if !ok {
				panic(fmt.Sprintf("supernet: graph for %s reads %q, which is not among its inputs", arch, nm))
			}
			return x
		}
		b := &builder{kernels: n.Space.Kernels, get: get, mode: mode, dw: n.dw, train: kind == kindTrain}
		switch kind {
		case kindInfer:
			return []*Node{b.forward(plan, in[0], nil)}
		case kindCalib:
			b.forward(plan, in[0], nil)
			c.statNames = b.statNames
			return b.stats
		}
		var mask *Node
		if c.dropout {
			mask = in[2]
		}
		logits := b.forward(plan, in[0], mask)
		labels := in[1]
		loss := crossEntropy(logits, smoothedOneHot(labels, classes, tc.labelSmoothing))
		if tc.distill > 0 {
			tb := &builder{kernels: n.Space.Kernels, get: get, mode: bnBatch, dw: n.dw}
			teacher := StopGradient(tb.forward(teacherPlan, in[0], nil))
			loss = Add(loss, MulScalar(crossEntropy(logits, Softmax(teacher, -1)), tc.distill))
		}
		params := make([]*Node, len(c.gradNames))
		for i, nm := range c.gradNames {
			params[i] = byName[nm]
		}
		grads := Gradient(loss, params...)
		return append([]*Node{loss, correctCount(logits, labels)}, grads...)
	}
	exec, err := NewExec(n.backend, graphFn)
	if err != nil {
		return nil, fmt.Errorf("supernet: building the graph of %s: %w", arch, err)
	}
	exec.SetMaxCache(4)
	c.exec = exec
	n.cache.put(key, c)
	return c, nil
}

// paramTensors makes input tensors of the named parameters (copies of the host values), already
// on the backend's device. Materialising them here, on one goroutine, is what lets concurrent
// executions share them: GoMLX v0.28.2's Exec moves a host tensor to the device while reading its
// state without the tensor's lock, so two executions doing it at once can see a tensor between
// its host and device forms ("Tensor has no local or on-device representation").
func (n *Supernet) paramTensors(names []string) (out []*tensors.Tensor, err error) {
	out = make([]*tensors.Tensor, len(names))
	for i, nm := range names {
		p, err := n.params.get(nm)
		if err != nil {
			finalizeAll(out)
			return nil, err
		}
		out[i] = tensors.FromFlatDataAndDimensions(p.Value, p.Dims...)
		if _, err := out[i].Buffer(n.backend, 0); err != nil {
			finalizeAll(out)
			return nil, fmt.Errorf("supernet: moving %s to the backend: %w", nm, err)
		}
	}
	return out, nil
}

// run executes c on data inputs followed by the parameter tensors, recovering graph-building
// panics (GoMLX reports build errors by panicking) into errors.
func run(c *compiled, data []*tensors.Tensor, params []*tensors.Tensor) (outs []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("supernet: %v", r)
		}
	}()
	args := make([]any, 0, len(data)+len(params))
	for _, t := range data {
		args = append(args, t)
	}
	for _, t := range params {
		args = append(args, t)
	}
	return c.exec.Exec(args...)
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll()
		}
	}
}

// CompileTime builds and compiles the executables a new architecture needs: training (with the
// default TrainOptions' label smoothing, no distillation) at trainBatch images and inference at
// inferBatch images, and reports the time each took (graph building, autodiff and the backend's
// compilation; no execution), in wall-clock and in this process's CPU time. The executables stay cached, so a following Train or Logits on a at
// those batch sizes starts without compiling. Bench uses it to measure the per-architecture
// overhead directly rather than as a difference of two noisy runs.
func (n *Supernet) CompileTime(a space.Arch, trainBatch, inferBatch int) (CompileTimes, error) {
	var ct CompileTimes
	n.mu.Lock()
	defer n.mu.Unlock()
	a, plan, err := n.checkArch(a)
	if err != nil {
		return ct, err
	}
	defaults, _ := TrainOptions{Steps: 1}.withDefaults()
	tc := trainConfig{labelSmoothing: defaults.LabelSmoothing, dropout: n.Space.Dropout > 0}
	img := shapes.Make(dtypes.Float32, trainBatch, a.Resolution, a.Resolution, n.Space.InChannels)
	t0, c0 := time.Now(), cpuTime()
	c, err := n.executable(kindTrain, a, plan, tc)
	if err != nil {
		return ct, err
	}
	in := []shapes.Shape{img, shapes.Make(dtypes.Int32, trainBatch)}
	if c.dropout {
		in = append(in, shapes.Make(dtypes.Float32, trainBatch, plan.Layers[len(plan.Layers)-2].OutC))
	}
	if err := n.compile(c, in); err != nil {
		return ct, fmt.Errorf("supernet: compiling the training graph of %s: %w", a, err)
	}
	ct.Train, ct.TrainCPU = time.Since(t0), cpuTime()-c0
	t0, c0 = time.Now(), cpuTime()
	if c, err = n.executable(kindInfer, a, plan, trainConfig{}); err != nil {
		return ct, err
	}
	img.Dimensions[0] = inferBatch
	if err := n.compile(c, []shapes.Shape{img}); err != nil {
		return ct, fmt.Errorf("supernet: compiling the inference graph of %s: %w", a, err)
	}
	ct.Infer, ct.InferCPU = time.Since(t0), cpuTime()-c0
	return ct, nil
}

// CompileTimes are the wall-clock and CPU times of building and compiling one architecture's
// training and inference executables.
type CompileTimes struct {
	Train, TrainCPU, Infer, InferCPU time.Duration
}

// compile compiles c for the data input shapes followed by its parameters' shapes.
func (n *Supernet) compile(c *compiled, data []shapes.Shape) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	in := append([]shapes.Shape(nil), data...)
	for _, nm := range c.names {
		p, err := n.params.get(nm)
		if err != nil {
			return err
		}
		in = append(in, shapes.Make(dtypes.Float32, p.Dims...))
	}
	_, err = c.exec.Compile(in...)
	return err
}
