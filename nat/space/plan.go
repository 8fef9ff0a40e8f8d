package space

import "fmt"

// LayerKind names the kind of a layer in a Plan.
type LayerKind string

// The layer kinds of an elastic MobileNetV3.
const (
	KindConv        LayerKind = "conv"         // the stem: 3x3 convolution, BN, activation
	KindMBConv      LayerKind = "mbconv"       // inverted residual: [1x1 expand, BN, act], depthwise, BN, act, [SE], 1x1 project, BN
	KindFinalExpand LayerKind = "final_expand" // 1x1 convolution, BN, activation
	KindFeatureMix  LayerKind = "feature_mix"  // after global average pooling: 1x1 convolution, activation
	KindClassifier  LayerKind = "classifier"   // linear layer with bias
)

// Layer is one concrete layer of a subnet with its shapes resolved.
type Layer struct {
	Kind             LayerKind
	Name             string // "stem", "first", "s1.l0", ..., "final_expand", "feature_mix", "classifier"
	Stage, Index     int    // searched stage 1..N (0 for fixed layers) and layer index within it
	InH, InW, InC    int
	OutH, OutW, OutC int
	Kernel, Stride   int
	Expand           int // expansion ratio; 1 for the first block (which then has no expansion conv)
	MidC             int // expanded channels; InC when Expand == 1
	SE               bool
	SEMidC           int  // squeeze-excite hidden channels
	Residual         bool // identity shortcut
	Act              Activation
	BN               bool // batch norm after the convolution(s)
	Bias             bool // the layer's convolution or linear map has a bias
}

// Plan is the concrete network of one subnet: every layer from stem to classifier.
type Plan struct {
	Resolution int
	InChannels int
	Classes    int
	Dropout    float64
	Layers     []Layer
}

// convOut is the output size of a convolution with "same" padding k/2.
func convOut(in, k, stride int) int {
	return (in+2*(k/2)-k)/stride + 1
}

// Plan resolves an architecture of the space into its layers.
func (s *Space) Plan(a Arch) (Plan, error) {
	if err := s.ValidateArch(a); err != nil {
		return Plan{}, err
	}
	w := a.Width
	p := Plan{Resolution: a.Resolution, InChannels: s.InChannels, Classes: s.Classes, Dropout: s.Dropout}
	h := a.Resolution
	c := s.InChannels

	stemC := s.Channels(s.StemWidth, w)
	oh := convOut(h, 3, s.StemStride)
	p.Layers = append(p.Layers, Layer{
		Kind: KindConv, Name: "stem", InH: h, InW: h, InC: c, OutH: oh, OutW: oh, OutC: stemC,
		Kernel: 3, Stride: s.StemStride, Act: s.StemAct, BN: true,
	})
	h, c = oh, stemC

	firstC := s.Channels(s.FirstBlockWidth, w)
	p.Layers = append(p.Layers, Layer{
		Kind: KindMBConv, Name: "first", InH: h, InW: h, InC: c, OutH: h, OutW: h, OutC: firstC,
		Kernel: 3, Stride: 1, Expand: 1, MidC: c, Residual: c == firstC, Act: s.FirstBlockAct, BN: true,
	})
	c = firstC

	layer := 0
	for st, stage := range s.Stages {
		outC := s.Channels(stage.Width, w)
		for i := 0; i < a.Depths[st]; i++ {
			k, e := a.Kernels[layer], a.Expansions[layer]
			layer++
			stride := 1
			if i == 0 {
				stride = stage.Stride
			}
			oh := convOut(h, k, stride)
			mid := MakeDivisible(float64(c*e), s.Divisor)
			l := Layer{
				Kind: KindMBConv, Name: fmt.Sprintf("s%d.l%d", st+1, i), Stage: st + 1, Index: i,
				InH: h, InW: h, InC: c, OutH: oh, OutW: oh, OutC: outC,
				Kernel: k, Stride: stride, Expand: e, MidC: mid,
				Residual: stride == 1 && c == outC, Act: stage.Act, BN: true,
			}
			if stage.SE {
				l.SE = true
				l.SEMidC = MakeDivisible(float64(mid/s.SEReduction), s.Divisor)
			}
			p.Layers = append(p.Layers, l)
			h, c = oh, outC
		}
	}

	fe := s.Channels(s.FinalExpandWidth, w)
	p.Layers = append(p.Layers, Layer{
		Kind: KindFinalExpand, Name: "final_expand", InH: h, InW: h, InC: c, OutH: h, OutW: h, OutC: fe,
		Kernel: 1, Stride: 1, Act: s.HeadAct, BN: true,
	})
	fm := s.Channels(s.FeatureMixWidth, w)
	p.Layers = append(p.Layers, Layer{
		Kind: KindFeatureMix, Name: "feature_mix", InH: 1, InW: 1, InC: fe, OutH: 1, OutW: 1, OutC: fm,
		Kernel: 1, Stride: 1, Act: s.HeadAct,
	})
	p.Layers = append(p.Layers, Layer{
		Kind: KindClassifier, Name: "classifier", InH: 1, InW: 1, InC: fm, OutH: 1, OutW: 1, OutC: s.Classes,
		Kernel: 1, Stride: 1, Act: NoAct, Bias: true,
	})
	return p, nil
}
