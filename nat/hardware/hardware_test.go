package hardware

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// i7Path is the authors' published CPU table (NSGANetV2 repository, Apache-2.0), read from the
// reference data beside the checkout; the project does not copy it.
const i7Path = "../../../shared/reference/hardware/i7-8700K_lut.yaml"

func loadI7(t *testing.T) *LUT {
	t.Helper()
	if _, err := os.Stat(i7Path); err != nil {
		t.Skipf("the published i7-8700K table is not at %s (reference data beside the checkout): %v", i7Path, err)
	}
	lut, err := Load(i7Path)
	if err != nil {
		t.Fatal(err)
	}
	return lut
}

func preset(t testing.TB, name string) *space.Space {
	t.Helper()
	sp, err := space.Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func planOf(t testing.TB, sp *space.Space, enc string) (space.Arch, space.Plan) {
	t.Helper()
	g, err := sp.Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sp.Decode(g)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sp.Plan(a)
	if err != nil {
		t.Fatal(err)
	}
	return a, p
}

// NAT's four ImageNet models (nat-algorithm.md, released encodings).
var natModels = map[string]string{
	"NAT-M1": "08011001440551052208877",
	"NAT-M2": "08111003100632076009771",
	"NAT-M3": "08121105451581189759771",
	"NAT-M4": "12115105572981578947781",
}

func TestPublishedTableShape(t *testing.T) {
	lut := loadI7(t)
	if lut.Name != "i7-8700K" || lut.Format != MSuNAS {
		t.Fatalf("name %q format %q, want i7-8700K msunas", lut.Name, lut.Format)
	}
	counts := map[string]int{}
	for _, k := range lut.Keys() {
		pk, err := ParseKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if pk.String() != k {
			t.Fatalf("key %q re-spelt as %q", k, pk.String())
		}
		counts[pk.Type]++
	}
	// nat-algorithm.md section 5: 3,952 MBConv entries plus stem and head entries.
	want := map[string]int{"MBConv": 3952, "first_conv": 82, "final_expand_layer": 12, "feature_mix_layer": 2, "classifier": 2}
	for typ, n := range want {
		if counts[typ] != n {
			t.Errorf("%s: %d entries, want %d", typ, counts[typ], n)
		}
	}
	s, ok := lut.Get("MBConv-input:100x100x16-output:100x100x16-expand:1-kernel:3-stride:1-idskip:1-se:0")
	if !ok || s.Mean != 0.45952554792165756 || s.Var != 0.0002015640251613604 {
		t.Errorf("first entry = %+v %v, want the file's mean 0.45952554792165756 and var 0.0002015640251613604", s, ok)
	}
}

func TestPlanKeysOfNATM1(t *testing.T) {
	sp := preset(t, space.NATImageNet)
	_, p := planOf(t, sp, natModels["NAT-M1"])
	keys, err := PlanKeys(p, MSuNAS)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(p.Layers) {
		t.Fatalf("%d keys for %d layers", len(keys), len(p.Layers))
	}
	// Shapes as NSGANetV2's look_up_latency derives them for r=224, width 1.0: stem 224->112x16,
	// first block 112x112x16 e1 with shortcut, stage 1 112->56x24, ..., head at 7x7x160.
	want := map[int]string{
		0:             "first_conv-input:224x224x3-output:112x112x16",
		1:             "MBConv-input:112x112x16-output:112x112x16-expand:1-kernel:3-stride:1-idskip:1-se:0",
		2:             "MBConv-input:112x112x16-output:56x56x24-expand:3-kernel:3-stride:2-idskip:0-se:0",
		3:             "MBConv-input:56x56x24-output:56x56x24-expand:3-kernel:3-stride:1-idskip:1-se:0",
		4:             "MBConv-input:56x56x24-output:28x28x40-expand:3-kernel:3-stride:2-idskip:0-se:1",
		len(keys) - 3: "final_expand_layer-input:7x7x160-output:7x7x960",
		len(keys) - 2: "feature_mix_layer-input:1x1x960-output:1x1x1280",
		len(keys) - 1: "classifier-input:1280-output:1000",
	}
	for i, w := range want {
		if got := keys[i].Key.String(); got != w {
			t.Errorf("layer %d (%s): key %q, want %q", i, keys[i].Layer, got, w)
		}
	}
	ofa, err := PlanKeys(p, OFA)
	if err != nil {
		t.Fatal(err)
	}
	// OFA spells the same block with its expanded channels (16*3 = 48) and h-swish flag, and prices
	// pooling on its own.
	if got, w := ofa[2].Key.String(), "expanded_conv-input:112x112x16-output:56x56x24-expand:48-kernel:3-stride:2-idskip:0-se:0-hs:0"; got != w {
		t.Errorf("OFA key %q, want %q", got, w)
	}
	if len(ofa) != len(p.Layers)+1 || ofa[len(ofa)-3].Key.String() != "AvgPool2D-input:7x7x960-output:1x1x960" {
		t.Errorf("OFA keys lack the pooling entry: %v", ofa[len(ofa)-3].Key)
	}
	for _, pk := range ofa {
		back, err := ParseKey(pk.Key.String())
		if err != nil || back.String() != pk.Key.String() || back.Format != OFA {
			t.Errorf("OFA key %q does not round-trip: %v %v", pk.Key, back, err)
		}
	}
}

// Every layer of NAT-M1..M4 and of random nat-imagenet subnets (both widths) has its entry in the
// published table, and the whole space is covered.
func TestPublishedTableCoversNATImageNet(t *testing.T) {
	lut := loadI7(t)
	sp := preset(t, space.NATImageNet)
	for name, enc := range natModels {
		_, p := planOf(t, sp, enc)
		pred, err := lut.Predict(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(pred.Layers) != len(p.Layers) || !(pred.Mean > 1 && pred.Mean < 100) {
			t.Errorf("%s: %d terms, %.3f ms", name, len(pred.Layers), pred.Mean)
		}
		t.Logf("%s: %.3f ms on the i7-8700K table", name, pred.Mean)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for i := 0; i < 300; i++ {
		a := sp.Sample(rng)
		p, err := sp.Plan(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lut.Predict(p); err != nil {
			t.Fatalf("random subnet %v: %v", a, err)
		}
	}
	_, keys, err := SpaceLayers(sp, MSuNAS)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if _, ok := lut.Get(k.String()); !ok {
			t.Errorf("space layer configuration %q is not in the table", k)
		}
	}
	if len(keys) != 1734 {
		t.Errorf("nat-imagenet has %d distinct layer configurations, want 1734", len(keys))
	}
}

func TestPredictSumsAndNamesMissingKeys(t *testing.T) {
	sp := preset(t, space.NATMNIST)
	_, p := planOf(t, sp, sp.Format(mustEncode(t, sp, sp.Smallest())))
	lut := NewLUT("toy", "")
	keys, _ := PlanKeys(p, MSuNAS)
	// Layers with equal configurations share an entry (nat-mnist's first stage keeps 16 channels
	// at stride 1, so its blocks after the first repeat a key).
	value := map[string]float64{}
	want := 0.0
	for _, k := range keys {
		ks := k.Key.String()
		if _, ok := value[ks]; !ok {
			value[ks] = float64(len(value) + 1)
			if err := lut.Set(ks, Stat{Mean: value[ks], Var: 0.5}); err != nil {
				t.Fatal(err)
			}
		}
		want += value[ks]
	}
	pred, err := lut.Predict(p)
	if err != nil {
		t.Fatal(err)
	}
	if pred.Mean != want || pred.Var != 0.5*float64(len(keys)) || len(value) >= len(keys) {
		t.Errorf("predicted %v (var %v), want %v (var %v)", pred.Mean, pred.Var, want, 0.5*float64(len(keys)))
	}
	// Remove the stem's and the classifier's entries: the error names the first missing layer and
	// its key, and counts the rest.
	lut2 := NewLUT("toy", MSuNAS)
	first, last := keys[0], keys[len(keys)-1]
	for _, k := range keys[1 : len(keys)-1] {
		_ = lut2.Set(k.Key.String(), Stat{Mean: 1})
	}
	_, err = lut2.Predict(p)
	var miss *MissingKeyError
	if !errors.As(err, &miss) || len(miss.Missing) != 2 || miss.Layers[0] != "stem" || miss.Layers[1] != "classifier" {
		t.Fatalf("error %v, want a MissingKeyError for layers stem and classifier", err)
	}
	if !strings.Contains(err.Error(), first.Key.String()) || !strings.Contains(err.Error(), last.Key.String()) || !strings.Contains(err.Error(), "toy") {
		t.Errorf("error %q does not name the table and the missing keys", err)
	}
}

func mustEncode(t testing.TB, sp *space.Space, a space.Arch) space.Genome {
	g, err := sp.Encode(a)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestSetRejectsBadEntries(t *testing.T) {
	lut := NewLUT("x", MSuNAS)
	for _, c := range []struct {
		key string
		s   Stat
	}{
		{"MBConv-input:8x8x16", Stat{Mean: 1}},
		{"Conv-input:8x8x3-output:4x4x16", Stat{Mean: 1}}, // OFA key in an MSuNAS table
		{"first_conv-input:8x8x3-output:4x4x16", Stat{Mean: math.NaN()}},
		{"first_conv-input:8x8x3-output:4x4x16", Stat{Mean: 1, Var: -1}},
		{"first_conv-input:8x8x0-output:4x4x16", Stat{Mean: 1}},
		{"pool-input:8x8x3-output:4x4x16", Stat{Mean: 1}},
		{"MBConv-input:8x8x16-output:8x8x16-expand:3-kernel:3-stride:1-idskip:1-hs:0", Stat{Mean: 1}},
	} {
		if err := lut.Set(c.key, c.s); err == nil {
			t.Errorf("Set(%q, %+v) accepted", c.key, c.s)
		}
	}
}

func TestYAMLRoundTripIsByteIdentical(t *testing.T) {
	lut := loadI7(t)
	orig, err := os.ReadFile(i7Path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, &LUT{Format: lut.Format, entries: lut.entries}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		a, b := buf.String(), string(orig)
		i := 0
		for i < len(a) && i < len(b) && a[i] == b[i] {
			i++
		}
		t.Fatalf("written table differs from the published file at byte %d: %q vs %q", i, a[i:min(len(a), i+80)], b[i:min(len(b), i+80)])
	}
}

func TestYAMLMetadataAndFlowStyle(t *testing.T) {
	in := `# a comment
# nat-lut name: box
# nat-lut device: test cpu
# nat-lut batch: 4
---
first_conv-input:8x8x3-output:4x4x16: {mean: 0.5, std: 0.1, count: 7}
'classifier-input:64-output:10':
  mean: 2e-3   # trailing comment
  var: 0
`
	lut, err := ReadYAML(strings.NewReader(in), "box.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := lut.Get("first_conv-input:8x8x3-output:4x4x16")
	if lut.Name != "box" || lut.Meta.Device != "test cpu" || lut.Meta.Batch != 4 || s.Mean != 0.5 || math.Abs(s.Var-0.01) > 1e-15 || s.Samples != 7 {
		t.Fatalf("read %+v %+v %+v", lut.Name, lut.Meta, s)
	}
	if c, _ := lut.Get("classifier-input:64-output:10"); c.Mean != 0.002 {
		t.Errorf("classifier mean %v", c.Mean)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, lut); err != nil {
		t.Fatal(err)
	}
	back, err := ReadYAML(&buf, "again")
	if err != nil {
		t.Fatal(err)
	}
	if back.Name != "box" || back.Meta != lut.Meta || back.Len() != 2 {
		t.Errorf("round trip lost metadata: %+v %+v", back.Name, back.Meta)
	}
}

func TestYAMLErrorsNameTheLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"first_conv-input:8x8x3-output:4x4x16:\n  mean: fast\n", "t.yaml:2:9"},
		{"first_conv-input:8x8x3-output:4x4x16:\n  var: 1\n", "t.yaml:1: entry"},
		{"first_conv-input:8x8x3-output:4x4x16:\n  mean: 1\n  median: 1\n", "t.yaml:3:"},
		{"  mean: 1\n", "t.yaml:1:3: indented line"},
		{"a:\n  mean: 1\n", "t.yaml:1: hardware: key \"a\""},
		{"first_conv-input:8x8x3-output:4x4x16:\n  mean: 1\nfirst_conv-input:8x8x3-output:4x4x16:\n  mean: 2\n", "t.yaml:3:1: key \"first_conv-input:8x8x3-output:4x4x16\" already given at line 1"},
		{"first_conv-input:8x8x3-output:4x4x16:\n  mean: .nan\n", "not a finite number"},
		{"# only a comment\n", "no entries"},
	} {
		_, err := ReadYAML(strings.NewReader(c.in), "t.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadYAML(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestParquetRoundTrip(t *testing.T) {
	lut := loadI7(t)
	lut.Meta = Meta{Device: "Intel i7-8700K", Backend: "pytorch (NSGANetV2)", Space: "nat-imagenet", Batch: 1, Notes: "published"}
	dir := t.TempDir()
	path := filepath.Join(dir, "i7.parquet")
	if err := Save(path, lut); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Name != lut.Name || back.Format != lut.Format || back.Meta != lut.Meta || back.Len() != lut.Len() {
		t.Fatalf("round trip: %q %q %+v %d, want %q %q %+v %d", back.Name, back.Format, back.Meta, back.Len(), lut.Name, lut.Format, lut.Meta, lut.Len())
	}
	for _, k := range lut.Keys() {
		a, _ := lut.Get(k)
		b, ok := back.Get(k)
		if !ok || a != b {
			t.Fatalf("entry %q: %+v after round trip, want %+v", k, b, a)
		}
	}
	yamlPath := filepath.Join(dir, "i7.yaml")
	if err := Save(yamlPath, back); err != nil {
		t.Fatal(err)
	}
	again, err := Load(yamlPath)
	if err != nil || again.Meta != lut.Meta || again.Len() != lut.Len() {
		t.Fatalf("Parquet -> YAML -> table lost something: %v %+v", err, again)
	}
	// Not a table: a clear error, not a panic.
	bad := filepath.Join(dir, "bad.parquet")
	_ = os.WriteFile(bad, []byte("not parquet"), 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.parquet") {
		t.Errorf("Load(garbage) = %v", err)
	}
}

func TestParseConstraint(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Constraint
	}{
		{"latency <= 15ms", Constraint{Latency, 15}},
		{"latency<=15", Constraint{Latency, 15}},
		{"latency <= 0.5 s", Constraint{Latency, 500}},
		{"latency <= 800us", Constraint{Latency, 0.8}},
		{"MAdds <= 300M", Constraint{MAdds, 300e6}},
		{"params <= 5.2M", Constraint{Params, 5.2e6}},
		{"madds <= 1.5G", Constraint{MAdds, 1.5e9}},
		{"energy <= 30 mJ", Constraint{Energy, 30}},
		{"memory <= 20MB", Constraint{Memory, 20}},
	} {
		got, err := ParseConstraint(c.in)
		if err != nil || got.Metric != c.want.Metric || math.Abs(got.Max-c.want.Max) > 1e-9*c.want.Max {
			t.Errorf("ParseConstraint(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"latency < 15ms", "speed <= 3", "latency <= fast", "latency <= -1ms", "madds <= 3ms"} {
		if _, err := ParseConstraint(in); err == nil {
			t.Errorf("ParseConstraint(%q) accepted", in)
		}
	}
}

func TestTargetEvaluateChecksBudgets(t *testing.T) {
	lut := loadI7(t)
	sp := preset(t, space.NATImageNet)
	_, p := planOf(t, sp, natModels["NAT-M1"])
	c := cost.Plan(p)
	pred, _ := lut.Predict(p)
	tg := NewLUTTarget(lut, Constraint{Latency, pred.Mean - 0.1}, Constraint{MAdds, float64(c.MAdds) + 1}, Constraint{Params, float64(c.Params) - 1})
	ev, err := tg.Evaluate(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Value != pred.Mean || ev.Feasible() || len(ev.Violations) != 2 ||
		ev.Violations[0].Constraint.Metric != Latency || ev.Violations[1].Constraint.Metric != Params {
		t.Fatalf("evaluation %+v: want latency and params violated, MAdds met", ev)
	}
	tg.Constraints = append(tg.Constraints, Constraint{Energy, 1})
	if _, err := tg.Evaluate(context.Background(), p); err == nil {
		t.Error("a latency target checked an energy budget")
	}
	an := &Target{Name: "linear", Metric: Latency, Method: ByAnalytic, Estimator: Analytic{Fixed: 1, PerMAdd: 0.01}}
	ev, _ = an.Evaluate(context.Background(), p)
	if want := 1 + 0.01*float64(c.MAdds)/1e6; math.Abs(ev.Value-want) > 1e-12 {
		t.Errorf("analytic %v, want %v", ev.Value, want)
	}
}

func TestResolveByPathAndName(t *testing.T) {
	if _, err := os.Stat(i7Path); err != nil {
		t.Skipf("the published i7-8700K table is not at %s: %v", i7Path, err)
	}
	dir := filepath.Dir(i7Path)
	byName, err := Resolve("i7-8700K", []string{t.TempDir(), dir})
	if err != nil {
		t.Fatal(err)
	}
	byPath, err := Resolve(i7Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if byName.Name != "i7-8700K" || byPath.Table.Len() != byName.Table.Len() || byName.Method != ByLookupTable || byName.Metric != Latency {
		t.Errorf("resolved %+v and %+v", byName, byPath)
	}
	_, err = Resolve("pixel-9", []string{dir})
	if !errors.Is(err, ErrTargetNotFound) || !strings.Contains(err.Error(), "pixel-9_lut.yaml") {
		t.Errorf("Resolve(unknown) = %v", err)
	}
}

// A table in OFA's format prices a network through its own keys, pooling entry included.
func TestPredictWithAnOFATable(t *testing.T) {
	sp := preset(t, space.NATImageNet)
	_, p := planOf(t, sp, natModels["NAT-M2"])
	keys, err := PlanKeys(p, OFA)
	if err != nil {
		t.Fatal(err)
	}
	var yml strings.Builder
	seen := map[string]bool{}
	for _, k := range keys {
		if ks := k.Key.String(); !seen[ks] {
			seen[ks] = true
			yml.WriteString(ks + ": {count: 3, mean: 0.25, std: 0.0}\n")
		}
	}
	lut, err := ReadYAML(strings.NewReader(yml.String()), "ofa.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if lut.Format != OFA {
		t.Fatalf("format %q, want ofa", lut.Format)
	}
	pred, err := lut.Predict(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.25 * float64(len(keys)); math.Abs(pred.Mean-want) > 1e-12 || len(pred.Layers) != len(p.Layers)+1 {
		t.Errorf("OFA prediction %v over %d terms, want %v over %d", pred.Mean, len(pred.Layers), want, len(p.Layers)+1)
	}
}
