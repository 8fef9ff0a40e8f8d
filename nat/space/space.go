// Package space describes NAT's search spaces as data: the stages of an elastic MobileNetV3, the
// depth, kernel and expansion choices, resolutions and width multipliers. It also holds the integer
// encoding the search works on (genome <-> architecture) and the concrete layer plan a subnet
// builds, which the cost counters, the latency tables and the supernet all read.
//
// It is not a network implementation: the supernet (nat/supernet) builds tensors from a Plan.
package space

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Activation names a nonlinearity, spelled as in the OFA/NAT net.config files.
type Activation string

// The activations that appear in NAT's spaces and released networks.
const (
	ReLU     Activation = "relu"
	HSwish   Activation = "h_swish"
	HSigmoid Activation = "h_sigmoid"
	Mish     Activation = "mish"
	NoAct    Activation = "none"
)

func (a Activation) valid() bool {
	switch a {
	case ReLU, HSwish, HSigmoid, Mish, NoAct:
		return true
	}
	return false
}

// Stage is one searched stage of inverted-residual blocks. Its first block has the stage's stride
// and no shortcut; the others have stride 1 and identity shortcuts.
type Stage struct {
	Width  int        // output channels at width multiplier 1.0, before rounding to Space.Divisor
	Stride int        // stride of the stage's first block
	Act    Activation // activation of the expansion and depthwise convolutions
	SE     bool       // squeeze-and-excite after the depthwise convolution
}

// Space is a search space over elastic MobileNetV3 subnets (nat-algorithm.md section 1).
// Every field is plain data; use Preset for the published spaces or fill one in and call Validate.
type Space struct {
	Name        string
	InChannels  int       // image channels: 3 for RGB, 1 for grayscale
	Classes     int       // classifier outputs
	Resolutions []int     // input resolutions the resolution gene chooses from, ascending
	WidthMults  []float64 // width multipliers the width gene chooses from; each is its own supernet

	StemWidth  int        // output channels of the 3x3 stem convolution at width 1.0
	StemStride int        // stride of the stem
	StemAct    Activation // activation after the stem's batch norm

	FirstBlockWidth int        // output channels of the fixed first block (MBConv k3, e1, s1, shortcut)
	FirstBlockAct   Activation // activation of the first block's depthwise convolution

	Stages     []Stage
	Depths     []int // allowed stage depths, ascending, e.g. {2,3,4}
	Kernels    []int // depthwise kernel sizes, ascending, odd, e.g. {3,5,7}
	Expansions []int // expansion ratios, ascending, e.g. {3,4,6}

	FinalExpandWidth int        // 1x1 conv + BN + act after the last stage, at width 1.0
	FeatureMixWidth  int        // 1x1 conv after global pooling (no BN), at width 1.0
	HeadAct          Activation // activation of both head convolutions

	SEReduction int     // squeeze-excite reduction ratio
	Divisor     int     // channel counts are rounded to multiples of this (OFA's make_divisible)
	Dropout     float64 // dropout rate before the classifier
}

// Validate checks that the space is well formed and returns an error naming the first bad field.
func (s *Space) Validate() error {
	if s == nil {
		return errors.New("space: nil search space")
	}
	name := s.Name
	if name == "" {
		name = "(unnamed)"
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("space %s: %s", name, fmt.Sprintf(format, args...))
	}
	if s.InChannels < 1 {
		return bad("InChannels must be at least 1, got %d", s.InChannels)
	}
	if s.Classes < 2 {
		return bad("Classes must be at least 2, got %d", s.Classes)
	}
	if err := ascendingPositive("Resolutions", s.Resolutions); err != nil {
		return bad("%v", err)
	}
	if len(s.WidthMults) == 0 {
		return bad("WidthMults is empty: give at least one width multiplier (1.0)")
	}
	for i, w := range s.WidthMults {
		if !(w > 0) || math.IsInf(w, 0) {
			return bad("WidthMults[%d] = %v must be positive", i, w)
		}
		if i > 0 && w <= s.WidthMults[i-1] {
			return bad("WidthMults must be strictly ascending, got %v", s.WidthMults)
		}
	}
	if s.StemWidth < 1 || s.StemStride < 1 {
		return bad("stem width and stride must be positive, got %d and %d", s.StemWidth, s.StemStride)
	}
	if s.FirstBlockWidth < 1 {
		return bad("FirstBlockWidth must be positive, got %d", s.FirstBlockWidth)
	}
	if len(s.Stages) == 0 {
		return bad("no stages: a search space needs at least one searched stage")
	}
	for i, st := range s.Stages {
		if st.Width < 1 {
			return bad("stage %d: width must be positive, got %d", i+1, st.Width)
		}
		if st.Stride != 1 && st.Stride != 2 {
			return bad("stage %d: stride must be 1 or 2, got %d", i+1, st.Stride)
		}
		if !st.Act.valid() {
			return bad("stage %d: unknown activation %q", i+1, st.Act)
		}
	}
	for _, a := range []struct {
		field string
		act   Activation
	}{{"StemAct", s.StemAct}, {"FirstBlockAct", s.FirstBlockAct}, {"HeadAct", s.HeadAct}} {
		if !a.act.valid() {
			return bad("%s: unknown activation %q", a.field, a.act)
		}
	}
	if err := ascendingPositive("Depths", s.Depths); err != nil {
		return bad("%v", err)
	}
	if err := ascendingPositive("Kernels", s.Kernels); err != nil {
		return bad("%v", err)
	}
	for _, k := range s.Kernels {
		if k%2 == 0 {
			return bad("Kernels must be odd, got %d", k)
		}
	}
	if err := ascendingPositive("Expansions", s.Expansions); err != nil {
		return bad("%v", err)
	}
	if n := len(s.Kernels) * len(s.Expansions); n > 9 {
		// The canonical string writes a slot gene as one decimal digit, as NAT does.
		return bad("%d kernel x expansion choices; at most 9 fit NAT's one-digit slot genes", n)
	}
	if s.FinalExpandWidth < 1 || s.FeatureMixWidth < 1 {
		return bad("head widths must be positive, got %d and %d", s.FinalExpandWidth, s.FeatureMixWidth)
	}
	if s.SEReduction < 1 {
		return bad("SEReduction must be at least 1, got %d", s.SEReduction)
	}
	if s.Divisor < 1 {
		return bad("Divisor must be at least 1, got %d", s.Divisor)
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		return bad("Dropout must be in [0, 1), got %v", s.Dropout)
	}
	return nil
}

func ascendingPositive(field string, v []int) error {
	if len(v) == 0 {
		return fmt.Errorf("%s is empty", field)
	}
	for i, x := range v {
		if x < 1 {
			return fmt.Errorf("%s[%d] = %d must be positive", field, i, x)
		}
		if i > 0 && x <= v[i-1] {
			return fmt.Errorf("%s must be strictly ascending, got %v", field, v)
		}
	}
	return nil
}

// MinDepth is the smallest allowed stage depth.
func (s *Space) MinDepth() int { return s.Depths[0] }

// MaxDepth is the largest allowed stage depth, which is also the number of slot genes per stage.
func (s *Space) MaxDepth() int { return s.Depths[len(s.Depths)-1] }

// Channels rounds base*widthMult to the space's divisor as OFA's make_divisible does: to the
// nearest multiple, at least one divisor, and never more than 10% below the exact value.
func (s *Space) Channels(base int, widthMult float64) int {
	return MakeDivisible(float64(base)*widthMult, s.Divisor)
}

// MakeDivisible is OFA's make_divisible(v, divisor) with min_value = divisor.
func MakeDivisible(v float64, divisor int) int {
	d := float64(divisor)
	n := math.Max(d, math.Floor((v+d/2)/d)*d)
	if n < 0.9*v {
		n += d
	}
	return int(n)
}

// String summarises the space on a few lines.
func (s *Space) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "space %s: %d stages, depth %v, kernel %v, expansion %v, resolution %v, width %v, %d classes, %d input channels",
		s.Name, len(s.Stages), s.Depths, s.Kernels, s.Expansions, compactInts(s.Resolutions), s.WidthMults, s.Classes, s.InChannels)
	return b.String()
}

// compactInts prints an arithmetic progression as first..last/step.
func compactInts(v []int) string {
	if len(v) > 3 {
		step := v[1] - v[0]
		arith := true
		for i := 2; i < len(v); i++ {
			if v[i]-v[i-1] != step {
				arith = false
				break
			}
		}
		if arith {
			return fmt.Sprintf("%d..%d/%d", v[0], v[len(v)-1], step)
		}
	}
	return fmt.Sprint(v)
}

// Size is the number of distinct subnets of the space (as a float: NAT's space has ~7e20).
func (s *Space) Size() float64 {
	per := 0.0
	kc := float64(len(s.Kernels) * len(s.Expansions))
	for _, d := range s.Depths {
		per += math.Pow(kc, float64(d))
	}
	return float64(len(s.Resolutions)) * float64(len(s.WidthMults)) * math.Pow(per, float64(len(s.Stages)))
}

func indexOf(v []int, x int) int {
	i := sort.SearchInts(v, x)
	if i < len(v) && v[i] == x {
		return i
	}
	return -1
}

func indexOfFloat(v []float64, x float64) int {
	for i, y := range v {
		if math.Abs(x-y) < 1e-9 {
			return i
		}
	}
	return -1
}
