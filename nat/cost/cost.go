// Package cost counts what a subnet costs to run: convolution and fully connected
// multiply-adds, parameters, and NAT's own operation counter.
//
// The counts follow the conventions of NAT's and OFA's released code (nat-algorithm.md section 8):
// a k x k convolution with Cin/groups inputs per output costs OutH*OutW*OutC*(Cin/groups)*k*k
// multiply-adds, a linear layer In*Out; biases, batch norm, pooling and additions are free.
// Parameters count weights, biases and batch norm's scale and shift (not its running statistics).
// NAT's counter adds elementwise activation costs: ReLU 1, h-sigmoid 3, h-swish 4 operations per
// output element; Mish and identity are not counted.
//
// It is not a latency model: see nat/hardware for that.
package cost

import (
	"fmt"

	"github.com/natgo/nat/nat/space"
)

// Costs of one network.
type Costs struct {
	MAdds  int64 // convolution and fully connected multiply-adds
	Params int64 // trainable parameters
	NATOps int64 // MAdds plus NAT's counted activation operations
}

// String prints the costs in millions.
func (c Costs) String() string {
	return fmt.Sprintf("%.1fM MAdds, %.3fM params, %.1fM NAT ops", float64(c.MAdds)/1e6, float64(c.Params)/1e6, float64(c.NATOps)/1e6)
}

// Add returns the sum of two costs.
func (c Costs) Add(o Costs) Costs {
	return Costs{MAdds: c.MAdds + o.MAdds, Params: c.Params + o.Params, NATOps: c.NATOps + o.NATOps}
}

// actOps is NAT's per-element cost of an activation.
func actOps(a space.Activation) int64 {
	switch a {
	case space.ReLU:
		return 1
	case space.HSigmoid:
		return 3
	case space.HSwish:
		return 4
	}
	return 0
}

// conv is one convolution's costs, optionally with batch norm, bias and activation.
func conv(outH, outW, inC, outC, k, groups int, bn, bias bool, act space.Activation) Costs {
	perOut := int64(inC/groups) * int64(k*k)
	madds := int64(outH*outW*outC) * perOut
	params := int64(outC) * perOut
	if bias {
		params += int64(outC)
	}
	if bn {
		params += 2 * int64(outC)
	}
	return Costs{MAdds: madds, Params: params, NATOps: madds + actOps(act)*int64(outH*outW*outC)}
}

// Layer returns the costs of one layer of a plan.
func Layer(l space.Layer) Costs {
	switch l.Kind {
	case space.KindConv, space.KindFinalExpand, space.KindFeatureMix:
		return conv(l.OutH, l.OutW, l.InC, l.OutC, l.Kernel, 1, l.BN, l.Bias, l.Act)
	case space.KindClassifier:
		c := conv(1, 1, l.InC, l.OutC, 1, 1, l.BN, l.Bias, l.Act)
		return c
	case space.KindMBConv:
		var c Costs
		if l.Expand != 1 {
			c = c.Add(conv(l.InH, l.InW, l.InC, l.MidC, 1, 1, true, false, l.Act))
		}
		c = c.Add(conv(l.OutH, l.OutW, l.MidC, l.MidC, l.Kernel, l.MidC, true, false, l.Act))
		if l.SE {
			// OFA's SEModule: pool, 1x1 reduce with bias, ReLU, 1x1 expand with bias, h-sigmoid.
			c = c.Add(conv(1, 1, l.MidC, l.SEMidC, 1, 1, false, true, space.ReLU))
			c = c.Add(conv(1, 1, l.SEMidC, l.MidC, 1, 1, false, true, space.HSigmoid))
		}
		c = c.Add(conv(l.OutH, l.OutW, l.MidC, l.OutC, 1, 1, true, false, space.NoAct))
		return c
	}
	return Costs{}
}

// Plan returns the total costs of a network. MAdds and Params are exact sums; NATOps is NAT's
// counter as its released code computes it (see NATCounter).
func Plan(p space.Plan) Costs {
	var c Costs
	for _, l := range p.Layers {
		c = c.Add(Layer(l))
	}
	c.NATOps = NATCounter(p)
	return c
}

// NATCounter reproduces the operation count of NAT's released code exactly. That code (OFA's
// flops_counter profile with activation hooks) stores each leaf module's count in a float32
// tensor and sums the tensors in module order, so its totals carry float32 rounding (tens of
// operations on ~1e8). We emulate it: the same per-module counts, in the same order, each rounded
// to float32 and accumulated in float32. The result matches nat-algorithm.md section 8 to the
// operation; the exact (unrounded) count is MAdds plus the activation terms of Layer.
func NATCounter(p space.Plan) int64 {
	var acc float32
	add := func(ops int64) { acc += float32(ops) }
	conv := func(outH, outW, inC, outC, k, groups int) {
		add(int64(outH*outW*outC) * int64(inC/groups) * int64(k*k))
	}
	act := func(a space.Activation, elems int) { add(actOps(a) * int64(elems)) }
	for _, l := range p.Layers {
		switch l.Kind {
		case space.KindConv, space.KindFinalExpand, space.KindFeatureMix:
			conv(l.OutH, l.OutW, l.InC, l.OutC, l.Kernel, 1)
			act(l.Act, l.OutH*l.OutW*l.OutC)
		case space.KindClassifier:
			add(int64(l.InC) * int64(l.OutC))
		case space.KindMBConv:
			if l.Expand != 1 {
				conv(l.InH, l.InW, l.InC, l.MidC, 1, 1)
				act(l.Act, l.InH*l.InW*l.MidC)
			}
			conv(l.OutH, l.OutW, l.MidC, l.MidC, l.Kernel, l.MidC)
			act(l.Act, l.OutH*l.OutW*l.MidC)
			if l.SE {
				conv(1, 1, l.MidC, l.SEMidC, 1, 1)
				act(space.ReLU, l.SEMidC)
				conv(1, 1, l.SEMidC, l.MidC, 1, 1)
				act(space.HSigmoid, l.MidC)
			}
			conv(l.OutH, l.OutW, l.MidC, l.OutC, 1, 1)
		}
	}
	return int64(acc)
}

// Arch plans an architecture of a space and counts it.
func Arch(s *space.Space, a space.Arch) (Costs, error) {
	p, err := s.Plan(a)
	if err != nil {
		return Costs{}, err
	}
	return Plan(p), nil
}
