package space

import (
	"fmt"
	"sort"
)

// Preset names accepted by Preset.
const (
	NATImageNet = "nat-imagenet"
	NATMNIST    = "nat-mnist"
)

// PresetNames lists the published spaces, sorted.
func PresetNames() []string {
	names := []string{NATImageNet, NATMNIST}
	sort.Strings(names)
	return names
}

// Preset returns a fresh copy of a named search space; callers may modify it.
func Preset(name string) (*Space, error) {
	switch name {
	case NATImageNet:
		return natImageNet(), nil
	case NATMNIST:
		return natMNIST(), nil
	}
	return nil, fmt.Errorf("space: unknown preset %q (known: %v)", name, PresetNames())
}

// natImageNet is exactly NAT's OFA MobileNetV3 space (nat-algorithm.md sections 1 and 2):
// resolutions 192..256 step 4 (17 values), widths 1.0 and 1.2, five stages of 24/40/80/112/160
// channels with strides 2,2,2,1,2, depth {2,3,4}, kernel {3,5,7}, expansion {3,4,6}.
func natImageNet() *Space {
	res := make([]int, 0, 17)
	for r := 192; r <= 256; r += 4 {
		res = append(res, r)
	}
	return &Space{
		Name:             NATImageNet,
		InChannels:       3,
		Classes:          1000,
		Resolutions:      res,
		WidthMults:       []float64{1.0, 1.2},
		StemWidth:        16,
		StemStride:       2,
		StemAct:          HSwish,
		FirstBlockWidth:  16,
		FirstBlockAct:    ReLU,
		Stages:           mobileNetV3Stages(24, 40, 80, 112, 160),
		Depths:           []int{2, 3, 4},
		Kernels:          []int{3, 5, 7},
		Expansions:       []int{3, 4, 6},
		FinalExpandWidth: 960,
		FeatureMixWidth:  1280,
		HeadAct:          HSwish,
		SEReduction:      4,
		Divisor:          8,
		Dropout:          0.2, // NAT's released net.config classifiers use 0.2 (OFA's default is 0.1)
	}
}

// mobileNetV3Stages gives MobileNetV3-Large's five searched stages: strides 2,2,2,1,2; ReLU in the
// first two, h-swish after; squeeze-excite in stages 2, 4 and 5.
func mobileNetV3Stages(w1, w2, w3, w4, w5 int) []Stage {
	return []Stage{
		{Width: w1, Stride: 2, Act: ReLU},
		{Width: w2, Stride: 2, Act: ReLU, SE: true},
		{Width: w3, Stride: 2, Act: HSwish},
		{Width: w4, Stride: 1, Act: HSwish, SE: true},
		{Width: w5, Stride: 2, Act: HSwish, SE: true},
	}
}

// natMNIST keeps NAT's structure (five stages, the same depth, kernel and expansion choices,
// the same 22-gene encoding) sized for 28x28 grayscale digits on a 2-core CPU:
//
//   - Resolutions 20..32 step 4: around the native 28, so the resolution gene still trades
//     accuracy for cost (4 values instead of 17; the gene's bound shrinks accordingly).
//   - One width multiplier (1.0): every width is its own supernet, and one supernet is what a
//     2-core machine can pre-train; the width gene stays in the encoding with bound 0..0.
//   - Stage strides 1,2,2,1,2 after a stride-2 stem: with ImageNet's five stride-2 stages a 28x28
//     input would shrink to 1x1 before the last stage; dropping the first stage's stride (as
//     CIFAR adaptations of MobileNet do) ends at 2x2 for every resolution from 20 to 32.
//   - Stage widths 16/24/32/48/64 and head 256/512 (ImageNet: 24/40/80/112/160, 960/1280):
//     chosen with the cost counter so the largest subnet at 32x32 stays under about 20 M
//     multiply-adds (see TestMNISTPresetBudget), while the smallest still has capacity for digits.
func natMNIST() *Space {
	return &Space{
		Name:            NATMNIST,
		InChannels:      1,
		Classes:         10,
		Resolutions:     []int{20, 24, 28, 32},
		WidthMults:      []float64{1.0},
		StemWidth:       16,
		StemStride:      2,
		StemAct:         HSwish,
		FirstBlockWidth: 16,
		FirstBlockAct:   ReLU,
		Stages: []Stage{
			{Width: 16, Stride: 1, Act: ReLU},
			{Width: 24, Stride: 2, Act: ReLU, SE: true},
			{Width: 32, Stride: 2, Act: HSwish},
			{Width: 48, Stride: 1, Act: HSwish, SE: true},
			{Width: 64, Stride: 2, Act: HSwish, SE: true},
		},
		Depths:           []int{2, 3, 4},
		Kernels:          []int{3, 5, 7},
		Expansions:       []int{3, 4, 6},
		FinalExpandWidth: 256,
		FeatureMixWidth:  512,
		HeadAct:          HSwish,
		SEReduction:      4,
		Divisor:          8,
		Dropout:          0.1,
	}
}
