package supernet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Param is one variable of the supernet at its maximum size, in host memory.
type Param struct {
	Name     string
	Dims     []int
	Value    []float32
	Momentum []float32 // SGD momentum buffer; nil for statistics
	Decay    bool      // weight decay applies (convolution and linear weights)
	Stat     bool      // batch-norm running statistic: set by recalibration, never by the optimizer
}

// Size is the number of elements.
func (p *Param) Size() int { return len(p.Value) }

// paramSet is an ordered, named set of parameters.
type paramSet struct {
	list   []*Param
	byName map[string]*Param
}

func newParamSet() *paramSet { return &paramSet{byName: map[string]*Param{}} }

func (ps *paramSet) add(name string, dims []int, decay, stat bool) *Param {
	if _, dup := ps.byName[name]; dup {
		panic("supernet: duplicate parameter " + name)
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	p := &Param{Name: name, Dims: slices.Clone(dims), Value: make([]float32, n), Decay: decay, Stat: stat}
	if !stat {
		p.Momentum = make([]float32, n)
	}
	ps.list = append(ps.list, p)
	ps.byName[name] = p
	return p
}

func (ps *paramSet) get(name string) (*Param, error) {
	p, ok := ps.byName[name]
	if !ok {
		return nil, fmt.Errorf("supernet: no parameter %q", name)
	}
	return p, nil
}

// numElements counts trainable (non-statistic) elements.
func (ps *paramSet) numElements() (trainable, stats int) {
	for _, p := range ps.list {
		if p.Stat {
			stats += p.Size()
		} else {
			trainable += p.Size()
		}
	}
	return
}

func fillNormal(rng *rand.Rand, v []float32, std float64) {
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
}

func fillUniform(rng *rand.Rand, v []float32, bound float64) {
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * bound)
	}
}

func fillConst(v []float32, c float32) {
	for i := range v {
		v[i] = c
	}
}

func fillIdentity(v []float32, n int) {
	fillConst(v, 0)
	for i := 0; i < n; i++ {
		v[i*n+i] = 1
	}
}

// heFanOut is OFA's convolution init: normal with std sqrt(2 / (k*k*outChannels)).
func heFanOut(rng *rand.Rand, p *Param, k, out int) {
	fillNormal(rng, p.Value, math.Sqrt(2/float64(k*k*out)))
}
