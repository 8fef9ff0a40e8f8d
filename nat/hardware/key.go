package hardware

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/natgo/nat/nat/space"
)

// KeyFormat names how a lookup table spells its layer keys.
type KeyFormat string

// The two published key formats. Both join fields with '-' and shapes with 'x'.
const (
	// MSuNAS is NSGANetV2/MSuNAS's format, the one NAT's authors published their i7-8700K table
	// in (LatencyEstimator.predict in NSGANetV2's codebase/networks utils):
	//   first_conv-input:224x224x3-output:112x112x16
	//   MBConv-input:56x56x24-output:28x28x40-expand:3-kernel:5-stride:2-idskip:0-se:1
	//   final_expand_layer-input:7x7x160-output:7x7x960   (the 1x1 conv and global average pooling)
	//   feature_mix_layer-input:1x1x960-output:1x1x1280
	//   classifier-input:1280-output:1000
	// "expand" is the expansion ratio.
	MSuNAS KeyFormat = "msunas"
	// OFA is Once-for-All's MBv3LatencyTable format:
	//   Conv-input:224x224x3-output:112x112x16
	//   expanded_conv-input:56x56x24-output:28x28x40-expand:120-kernel:5-stride:2-idskip:0-se:1-hs:0
	//   Conv_1-input:7x7x160-output:7x7x960, AvgPool2D-input:7x7x960-output:1x1x960,
	//   Conv_2-input:1x1x960-output:1x1x1280, Logits-input:1x1x1280-output:1000
	// "expand" is the number of expanded (middle) channels, and "hs" says whether the block uses
	// h-swish.
	OFA KeyFormat = "ofa"
)

// ParseKeyFormat accepts "msunas" (or "nsganetv2") and "ofa".
func ParseKeyFormat(s string) (KeyFormat, error) {
	switch strings.ToLower(s) {
	case "msunas", "nsganetv2":
		return MSuNAS, nil
	case "ofa":
		return OFA, nil
	}
	return "", fmt.Errorf("hardware: unknown key format %q (known: msunas, ofa)", s)
}

// Layer types as the two formats spell them.
var layerTypes = map[KeyFormat]map[space.LayerKind]string{
	MSuNAS: {
		space.KindConv: "first_conv", space.KindMBConv: "MBConv", space.KindFinalExpand: "final_expand_layer",
		space.KindFeatureMix: "feature_mix_layer", space.KindClassifier: "classifier",
	},
	OFA: {
		space.KindConv: "Conv", space.KindMBConv: "expanded_conv", space.KindFinalExpand: "Conv_1",
		space.KindFeatureMix: "Conv_2", space.KindClassifier: "Logits",
	},
}

// ofaPool is OFA's separate global-average-pooling entry (MSuNAS folds it into final_expand_layer).
const ofaPool = "AvgPool2D"

// LayerKey is one layer configuration as a lookup table keys it.
type LayerKey struct {
	Format KeyFormat
	Type   string // "first_conv", "MBConv", "expanded_conv", "classifier", ...
	In     []int  // input shape as written: H, W, C (or just C for MSuNAS's classifier)
	Out    []int  // output shape as written: H, W, C (or just classes for the classifier)
	// Block fields, present only for MBConv / expanded_conv.
	Block  bool
	Expand int // MSuNAS: expansion ratio; OFA: expanded channels
	Kernel int
	Stride int
	IDSkip bool
	SE     bool
	HSwish bool // OFA only
}

func shapeString(v []int) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, "x")
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// String is the key as the table spells it.
func (k LayerKey) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s-input:%s-output:%s", k.Type, shapeString(k.In), shapeString(k.Out))
	if k.Block {
		fmt.Fprintf(&b, "-expand:%d-kernel:%d-stride:%d-idskip:%d-se:%d", k.Expand, k.Kernel, k.Stride, b2i(k.IDSkip), b2i(k.SE))
		if k.Format == OFA {
			fmt.Fprintf(&b, "-hs:%d", b2i(k.HSwish))
		}
	}
	return b.String()
}

// ParseKey reads a key of either format and reports which format it is in.
func ParseKey(s string) (LayerKey, error) {
	fields := strings.Split(s, "-")
	if len(fields) < 3 {
		return LayerKey{}, fmt.Errorf("hardware: key %q: want type-input:...-output:...", s)
	}
	k := LayerKey{Type: fields[0]}
	switch k.Type {
	case "first_conv", "MBConv", "final_expand_layer", "feature_mix_layer", "classifier":
		k.Format = MSuNAS
	case "Conv", "expanded_conv", "Conv_1", ofaPool, "Conv_2", "Logits":
		k.Format = OFA
	default:
		return LayerKey{}, fmt.Errorf("hardware: key %q: unknown layer type %q", s, k.Type)
	}
	k.Block = k.Type == "MBConv" || k.Type == "expanded_conv"
	want := []string{"input", "output"}
	if k.Block {
		want = append(want, "expand", "kernel", "stride", "idskip", "se")
		if k.Format == OFA {
			want = append(want, "hs")
		}
	}
	if len(fields)-1 != len(want) {
		return LayerKey{}, fmt.Errorf("hardware: key %q: %d fields after the type, want %d (%s)", s, len(fields)-1, len(want), strings.Join(want, ", "))
	}
	for i, name := range want {
		f := fields[i+1]
		label, val, ok := strings.Cut(f, ":")
		if !ok || label != name {
			return LayerKey{}, fmt.Errorf("hardware: key %q: field %d is %q, want %s:...", s, i+2, f, name)
		}
		if name == "input" || name == "output" {
			shape, err := parseShape(val)
			if err != nil {
				return LayerKey{}, fmt.Errorf("hardware: key %q: %s: %w", s, name, err)
			}
			if name == "input" {
				k.In = shape
			} else {
				k.Out = shape
			}
			continue
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return LayerKey{}, fmt.Errorf("hardware: key %q: %s %q is not a non-negative integer", s, name, val)
		}
		switch name {
		case "expand":
			k.Expand = n
		case "kernel":
			k.Kernel = n
		case "stride":
			k.Stride = n
		case "idskip":
			k.IDSkip = n != 0
		case "se":
			k.SE = n != 0
		case "hs":
			k.HSwish = n != 0
		}
	}
	return k, nil
}

func parseShape(s string) ([]int, error) {
	parts := strings.Split(s, "x")
	v := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("shape %q: %q is not a positive integer", s, p)
		}
		v[i] = n
	}
	if len(v) != 1 && len(v) != 3 {
		return nil, fmt.Errorf("shape %q: want C or HxWxC", s)
	}
	return v, nil
}

// PlanKey is one lookup of a network: which plan layer it prices and under which key.
type PlanKey struct {
	Layer string // the plan layer's name ("stem", "first", "s2.l0", ..., "classifier"); OFA's pool is "final_expand.pool"
	Key   LayerKey
}

// KeyOf returns the key of one plan layer in format f.
func KeyOf(l space.Layer, f KeyFormat) (LayerKey, error) {
	types, ok := layerTypes[f]
	if !ok {
		return LayerKey{}, fmt.Errorf("hardware: unknown key format %q", f)
	}
	typ, ok := types[l.Kind]
	if !ok {
		return LayerKey{}, fmt.Errorf("hardware: layer %s: kind %q has no lookup-table key", l.Name, l.Kind)
	}
	k := LayerKey{Format: f, Type: typ, In: []int{l.InH, l.InW, l.InC}, Out: []int{l.OutH, l.OutW, l.OutC}}
	switch l.Kind {
	case space.KindClassifier:
		k.Out = []int{l.OutC}
		if f == MSuNAS {
			k.In = []int{l.InC}
		}
	case space.KindMBConv:
		k.Block = true
		k.Kernel, k.Stride, k.IDSkip, k.SE = l.Kernel, l.Stride, l.Residual, l.SE
		k.Expand = l.Expand
		if f == OFA {
			k.Expand = l.MidC
			k.HSwish = l.Act == space.HSwish
		}
	}
	return k, nil
}

// PlanKeys lists the lookups that price a network in format f, in the network's order: one per
// plan layer, plus OFA's separate pooling entry after the final expansion.
func PlanKeys(p space.Plan, f KeyFormat) ([]PlanKey, error) {
	out := make([]PlanKey, 0, len(p.Layers)+1)
	for _, l := range p.Layers {
		k, err := KeyOf(l, f)
		if err != nil {
			return nil, err
		}
		out = append(out, PlanKey{Layer: l.Name, Key: k})
		if f == OFA && l.Kind == space.KindFinalExpand {
			out = append(out, PlanKey{Layer: l.Name + ".pool", Key: LayerKey{Format: OFA, Type: ofaPool,
				In: []int{l.OutH, l.OutW, l.OutC}, Out: []int{1, 1, l.OutC}}})
		}
	}
	return out, nil
}
