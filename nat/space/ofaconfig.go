package space

import (
	"encoding/json"
	"fmt"
)

// ofaConvLayer is a ConvLayer or LinearLayer entry of an OFA/NAT net.config.
type ofaConvLayer struct {
	Name        string  `json:"name"`
	KernelSize  int     `json:"kernel_size"`
	Stride      int     `json:"stride"`
	Groups      int     `json:"groups"`
	Bias        bool    `json:"bias"`
	InChannels  int     `json:"in_channels"`
	OutChannels int     `json:"out_channels"`
	InFeatures  int     `json:"in_features"`
	OutFeatures int     `json:"out_features"`
	UseBN       bool    `json:"use_bn"`
	ActFunc     *string `json:"act_func"`
	Dropout     float64 `json:"dropout_rate"`
}

type ofaConfig struct {
	Name       string        `json:"name"`
	ImgSize    int           `json:"img_size"`
	FirstConv  *ofaConvLayer `json:"first_conv"`
	FinalExp   *ofaConvLayer `json:"final_expand_layer"`
	FeatureMix *ofaConvLayer `json:"feature_mix_layer"`
	Classifier *ofaConvLayer `json:"classifier"`
	Blocks     []struct {
		Name string `json:"name"`
		Conv *struct {
			Name        string  `json:"name"`
			InChannels  int     `json:"in_channels"`
			OutChannels int     `json:"out_channels"`
			KernelSize  int     `json:"kernel_size"`
			Stride      int     `json:"stride"`
			ExpandRatio float64 `json:"expand_ratio"`
			MidChannels *int    `json:"mid_channels"`
			ActFunc     *string `json:"act_func"`
			UseSE       bool    `json:"use_se"`
		} `json:"mobile_inverted_conv"`
		Shortcut json.RawMessage `json:"shortcut"`
	} `json:"blocks"`
}

func ofaAct(p *string) Activation {
	if p == nil {
		return NoAct
	}
	return Activation(*p)
}

// ParseOFAConfig reads a network in the OFA/NAT net.config JSON format (a MobileNetV3 with a
// first_conv, MobileInvertedResidualBlocks, final_expand_layer, feature_mix_layer and classifier)
// into a Plan at the given input resolution. A resolution of 0 takes the file's "img_size";
// it is an error if neither is given. Squeeze-excite hidden widths follow OFA's SEModule
// (make_divisible(mid/4, 8)).
func ParseOFAConfig(data []byte, resolution int) (Plan, error) {
	var cfg ofaConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Plan{}, fmt.Errorf("net.config: %w", err)
	}
	if resolution == 0 {
		resolution = cfg.ImgSize
	}
	if resolution <= 0 {
		return Plan{}, fmt.Errorf("net.config: no input resolution: the file has no img_size, so give one")
	}
	if cfg.FirstConv == nil || cfg.FinalExp == nil || cfg.FeatureMix == nil || cfg.Classifier == nil {
		return Plan{}, fmt.Errorf("net.config: not an OFA MobileNetV3 (needs first_conv, final_expand_layer, feature_mix_layer and classifier)")
	}
	if len(cfg.Blocks) == 0 {
		return Plan{}, fmt.Errorf("net.config: no blocks")
	}
	for name, l := range map[string]*ofaConvLayer{"first_conv": cfg.FirstConv, "final_expand_layer": cfg.FinalExp, "feature_mix_layer": cfg.FeatureMix} {
		if l.InChannels < 1 || l.OutChannels < 1 || l.KernelSize < 1 || l.Stride < 1 {
			return Plan{}, fmt.Errorf("net.config: %s: channels, kernel and stride must be positive", name)
		}
		if l.Groups > 1 {
			return Plan{}, fmt.Errorf("net.config: %s: grouped convolutions are not supported", name)
		}
	}
	p := Plan{Resolution: resolution, InChannels: cfg.FirstConv.InChannels, Classes: cfg.Classifier.OutFeatures, Dropout: cfg.Classifier.Dropout}
	h := resolution
	fc := cfg.FirstConv
	oh := convOut(h, fc.KernelSize, fc.Stride)
	p.Layers = append(p.Layers, Layer{Kind: KindConv, Name: "stem", InH: h, InW: h, InC: fc.InChannels, OutH: oh, OutW: oh,
		OutC: fc.OutChannels, Kernel: fc.KernelSize, Stride: fc.Stride, Act: ofaAct(fc.ActFunc), BN: fc.UseBN, Bias: fc.Bias})
	h = oh
	c := fc.OutChannels
	for i, b := range cfg.Blocks {
		m := b.Conv
		if m == nil {
			return Plan{}, fmt.Errorf("net.config: block %d has no mobile_inverted_conv", i)
		}
		if m.InChannels != c {
			return Plan{}, fmt.Errorf("net.config: block %d takes %d channels but the previous layer gives %d", i, m.InChannels, c)
		}
		if m.KernelSize < 1 || m.Stride < 1 || m.OutChannels < 1 || m.ExpandRatio <= 0 {
			return Plan{}, fmt.Errorf("net.config: block %d: kernel, stride, channels and expand ratio must be positive", i)
		}
		oh := convOut(h, m.KernelSize, m.Stride)
		mid := m.InChannels
		if m.ExpandRatio != 1 {
			mid = MakeDivisible(float64(m.InChannels)*m.ExpandRatio, 8)
			if m.MidChannels != nil {
				mid = *m.MidChannels
			}
		}
		hasShortcut := len(b.Shortcut) > 0 && string(b.Shortcut) != "null"
		l := Layer{Kind: KindMBConv, Name: fmt.Sprintf("block%d", i), Index: i, InH: h, InW: h, InC: c, OutH: oh, OutW: oh,
			OutC: m.OutChannels, Kernel: m.KernelSize, Stride: m.Stride, Expand: int(m.ExpandRatio), MidC: mid,
			Residual: hasShortcut, Act: ofaAct(m.ActFunc), BN: true}
		if i == 0 {
			l.Name = "first"
		}
		if m.UseSE {
			l.SE = true
			l.SEMidC = MakeDivisible(float64(mid/4), 8)
		}
		p.Layers = append(p.Layers, l)
		h, c = oh, m.OutChannels
	}
	fe := cfg.FinalExp
	if fe.InChannels != c {
		return Plan{}, fmt.Errorf("net.config: final_expand_layer takes %d channels but the last block gives %d", fe.InChannels, c)
	}
	p.Layers = append(p.Layers, Layer{Kind: KindFinalExpand, Name: "final_expand", InH: h, InW: h, InC: c, OutH: h, OutW: h,
		OutC: fe.OutChannels, Kernel: fe.KernelSize, Stride: fe.Stride, Act: ofaAct(fe.ActFunc), BN: fe.UseBN, Bias: fe.Bias})
	fm := cfg.FeatureMix
	p.Layers = append(p.Layers, Layer{Kind: KindFeatureMix, Name: "feature_mix", InH: 1, InW: 1, InC: fm.InChannels, OutH: 1, OutW: 1,
		OutC: fm.OutChannels, Kernel: fm.KernelSize, Stride: fm.Stride, Act: ofaAct(fm.ActFunc), BN: fm.UseBN, Bias: fm.Bias})
	cl := cfg.Classifier
	if cl.InFeatures != fm.OutChannels {
		return Plan{}, fmt.Errorf("net.config: classifier takes %d features but feature_mix_layer gives %d", cl.InFeatures, fm.OutChannels)
	}
	p.Layers = append(p.Layers, Layer{Kind: KindClassifier, Name: "classifier", InH: 1, InW: 1, InC: cl.InFeatures, OutH: 1, OutW: 1,
		OutC: cl.OutFeatures, Kernel: 1, Stride: 1, Act: ofaAct(cl.ActFunc), BN: cl.UseBN, Bias: cl.Bias})
	return p, nil
}
