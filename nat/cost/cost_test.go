package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/natgo/nat/nat/space"
)

// Exact counts from nat-algorithm.md section 8 (the authors' model code in PyTorch, batch 1).
var table = []struct {
	dir                   string
	r                     int
	madds, params, natOps int64
}{
	{"imagenet/NAT-M1", 224, 222557600, 6067408, 222573680},
	{"imagenet/NAT-M2", 224, 302885360, 7688312, 302901760},
	{"imagenet/NAT-M3", 224, 482413168, 9066368, 482436160},
	{"imagenet/NAT-M4", 240, 599725312, 9135928, 599748544},
	{"cifar10/net-img@224-flops@468-top1@98.4", 224, 464108720, 6862186, 477303232},
}

func sharedDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "..", "shared", "reference", "natnets")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference networks not found at %s (../shared beside the checkout): %v", dir, err)
	}
	return dir
}

func TestReleasedNetConfigsMatchTheTable(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range table {
		data, err := os.ReadFile(filepath.Join(dir, c.dir, "net.config"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := space.ParseOFAConfig(data, c.r)
		if err != nil {
			t.Fatalf("%s: %v", c.dir, err)
		}
		got := Plan(p)
		if got.MAdds != c.madds || got.Params != c.params || got.NATOps != c.natOps {
			t.Errorf("%s: got madds %d params %d nat %d; want %d %d %d", c.dir, got.MAdds, got.Params, got.NATOps, c.madds, c.params, c.natOps)
		}
	}
}

// The same networks built from their encodings in the nat-imagenet space: multiply-adds and
// parameters do not depend on the activation, so they match the table exactly (the released nets
// use Mish where the space has ReLU/h-swish, so NAT's counter differs and is not compared).
func TestEncodingsMatchTheTable(t *testing.T) {
	s, err := space.Preset(space.NATImageNet)
	if err != nil {
		t.Fatal(err)
	}
	encodings := []string{"08011001440551052208877", "08111003100632076009771", "08121105451581189759771", "12115105572981578947781"}
	for i, enc := range encodings {
		g, err := s.Parse(enc)
		if err != nil {
			t.Fatal(err)
		}
		a, err := s.Decode(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Arch(s, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.MAdds != table[i].madds || got.Params != table[i].params {
			t.Errorf("%s: madds %d params %d, want %d %d", enc, got.MAdds, got.Params, table[i].madds, table[i].params)
		}
	}
}

// The other nine released nets: conv+FC multiply-adds must be close to the number in their
// directory names (another counter made those tags; nat-algorithm.md says they do not match
// exactly, so allow 3%).
func TestOtherReleasedNetsNearTheirTags(t *testing.T) {
	dir := sharedDir(t)
	configs, err := filepath.Glob(filepath.Join(dir, "*", "net-img@*", "net.config"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no configs found: %v", err)
	}
	for _, cfg := range configs {
		var r, flops int
		var top1 float64
		name := filepath.Base(filepath.Dir(cfg))
		if _, err := fmtSscanf(name, &r, &flops, &top1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		p, err := space.ParseOFAConfig(data, r)
		if err != nil {
			t.Fatalf("%s: %v", cfg, err)
		}
		m := float64(Plan(p).MAdds) / 1e6
		if m < 0.97*float64(flops) || m > 1.03*float64(flops) {
			t.Errorf("%s: %.1fM multiply-adds, tag says %dM", cfg, m, flops)
		}
	}
}

func TestMNISTPresetBudget(t *testing.T) {
	s, err := space.Preset(space.NATMNIST)
	if err != nil {
		t.Fatal(err)
	}
	big, err := Arch(s, s.Largest())
	if err != nil {
		t.Fatal(err)
	}
	small, err := Arch(s, s.Smallest())
	if err != nil {
		t.Fatal(err)
	}
	if big.MAdds > 20e6 {
		t.Errorf("largest nat-mnist subnet costs %d multiply-adds, budget is about 20M", big.MAdds)
	}
	if small.MAdds*2 > big.MAdds {
		t.Errorf("smallest (%d) and largest (%d) are too close for a useful trade-off", small.MAdds, big.MAdds)
	}
}

// A hand count of one small inverted residual block (no SE): 8x8x16 in, expand 3 (48), k3 s1, 16 out.
func TestHandCountedBlock(t *testing.T) {
	l := space.Layer{Kind: space.KindMBConv, InH: 8, InW: 8, InC: 16, OutH: 8, OutW: 8, OutC: 16, Kernel: 3, Stride: 1,
		Expand: 3, MidC: 48, Residual: true, Act: space.ReLU, BN: true}
	got := Layer(l)
	// expand 64*48*16 + depthwise 64*48*9 + project 64*16*48
	wantMAdds := int64(64*48*16 + 64*48*9 + 64*16*48)
	// weights 16*48 + 48*9 + 48*16, BN 2*(48+48+16)
	wantParams := int64(16*48 + 48*9 + 48*16 + 2*(48+48+16))
	if got.MAdds != wantMAdds || got.Params != wantParams {
		t.Errorf("got %v, want madds %d params %d", got, wantMAdds, wantParams)
	}
	if got.NATOps != wantMAdds+2*64*48 {
		t.Errorf("NAT ops %d, want %d (two ReLUs over 64x48)", got.NATOps, wantMAdds+2*64*48)
	}
}

// fmtSscanf parses "net-img@R-flops@F-top1@T".
func fmtSscanf(name string, r, flops *int, top1 *float64) (int, error) {
	return fmt.Sscanf(name, "net-img@%d-flops@%d-top1@%g", r, flops, top1)
}
