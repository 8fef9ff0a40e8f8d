package space

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// natNets are the released ImageNet NATNets: their net.encoding and net.subnet files
// (../shared/reference/natnets/imagenet/NAT-M*/), written here as facts.
var natNets = []struct {
	name, encoding, subnet string
}{
	{"NAT-M1", "08011001440551052208877", `{"ks": [3, 3, 3, 3, 3, 5, 5, 3, 5, 5, 5, 5, 5, 3, 3], "e": [3, 3, 3, 4, 4, 4, 4, 3, 4, 3, 3, 6, 6, 6, 6], "d": [2, 3, 3, 3, 4], "r": 224, "w": 1.0}`},
	{"NAT-M2", "08111003100632076009771", `{"ks": [3, 3, 7, 3, 7, 7, 5, 3, 7, 7, 3, 3, 3], "e": [3, 3, 3, 3, 4, 3, 3, 6, 4, 6, 6, 6, 3], "d": [2, 2, 3, 2, 4], "r": 224, "w": 1.2}`},
	{"NAT-M3", "08121105451581189759771", `{"ks": [5, 3, 3, 5, 3, 5, 3, 5, 5, 3, 3, 5, 7, 3, 5, 7, 3, 3, 3], "e": [3, 3, 3, 4, 4, 4, 3, 4, 6, 3, 3, 6, 6, 6, 4, 6, 6, 6, 3], "d": [3, 4, 4, 4, 4], "r": 224, "w": 1.2}`},
	{"NAT-M4", "12115105572981578947781", `{"ks": [3, 5, 3, 5, 5, 3, 5, 7, 5, 3, 5, 3, 5, 7, 3, 3, 3, 5, 3], "e": [3, 4, 3, 4, 4, 6, 3, 6, 6, 3, 4, 6, 6, 6, 4, 6, 6, 6, 3], "d": [3, 4, 4, 4, 4], "r": 240, "w": 1.2}`},
}

func mustPreset(t testing.TB, name string) *Space {
	t.Helper()
	s, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPresetsValidate(t *testing.T) {
	for _, name := range PresetNames() {
		s := mustPreset(t, name)
		if s.NumGenes() != 22 {
			t.Errorf("%s: %d genes, want NAT's 22", name, s.NumGenes())
		}
	}
	if _, err := Preset("nope"); err == nil || !strings.Contains(err.Error(), "nat-imagenet") {
		t.Errorf("unknown preset error should list the known ones, got %v", err)
	}
}

// The size of NAT's space, nat-algorithm.md section 1: 17 * 2 * (9^2 + 9^3 + 9^4)^5 ~ 7.4e20.
func TestImageNetSpaceSize(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	want := 17 * 2 * math.Pow(81+729+6561, 5)
	if got := s.Size(); math.Abs(got-want)/want > 1e-12 || math.Abs(got-7.4e20)/7.4e20 > 0.01 {
		t.Errorf("Size = %g, want %g (~7.4e20)", got, want)
	}
}

func TestNATNetEncodingsDecodeToTheirSubnets(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	for _, n := range natNets {
		g, err := s.Parse(n.encoding)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		got, err := s.Decode(g)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		want, err := ParseArchJSON([]byte(n.subnet))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Errorf("%s: decoded %v, want %v", n.name, got, want)
		}
		back, err := s.Encode(got)
		if err != nil {
			t.Fatal(err)
		}
		if s.Format(back) != n.encoding {
			t.Errorf("%s: re-encoded %s, want %s", n.name, s.Format(back), n.encoding)
		}
	}
}

// The check vector of nat-algorithm.md section 2.
func TestM1CheckVector(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	g, err := s.Parse("08|0|1100 1440 5510 5220 8877")
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Decode(g)
	if err != nil {
		t.Fatal(err)
	}
	want := Arch{Resolution: 224, Width: 1.0, Depths: []int{2, 3, 3, 3, 4},
		Kernels:    []int{3, 3, 3, 3, 3, 5, 5, 3, 5, 5, 5, 5, 5, 3, 3},
		Expansions: []int{3, 3, 3, 4, 4, 4, 4, 3, 4, 3, 3, 6, 6, 6, 6}}
	if !a.Equal(want) {
		t.Errorf("got %v\nwant %v", a, want)
	}
}

func randomGenome(s *Space, rng *rand.Rand) Genome {
	lo, hi := s.Bounds()
	g := make(Genome, len(lo))
	for i := range g {
		g[i] = lo[i] + rng.IntN(hi[i]-lo[i]+1)
	}
	return g
}

func TestRoundTripRandomGenomes(t *testing.T) {
	for _, name := range PresetNames() {
		s := mustPreset(t, name)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 100000; i++ {
			g := randomGenome(s, rng)
			a, err := s.Decode(g)
			if err != nil {
				t.Fatalf("%s: genome %v: %v", name, g, err)
			}
			canon, err := s.Encode(a)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			a2, err := s.Decode(canon)
			if err != nil || !a2.Equal(a) {
				t.Fatalf("%s: decode(encode(decode(%v))) = %v, %v; want %v", name, g, a2, err, a)
			}
			n, err := s.Normalize(g)
			if err != nil || s.Format(n) != s.Format(canon) {
				t.Fatalf("%s: Normalize(%v) = %v, want %v", name, g, n, canon)
			}
			p, err := s.Parse(s.Format(g))
			if err != nil || s.Format(p) != s.Format(g) {
				t.Fatalf("%s: Parse(Format(%v)) = %v, %v", name, g, p, err)
			}
			if err := s.ValidateArch(a); err != nil {
				t.Fatalf("%s: decoded arch invalid: %v", name, err)
			}
		}
	}
}

// A skip followed by a layer is the same subnet as the layer moved forward.
func TestSkipNormalisation(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	g, _ := s.Parse("08 0 1105 1440 5510 5220 8877")
	n, err := s.Normalize(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Format(n); got != "08011501440551052208877" {
		t.Errorf("normalised to %s", got)
	}
	a, _ := s.Decode(g)
	if a.Depths[0] != 3 {
		t.Errorf("depth of stage 1 = %d, want 3 (non-skip slots)", a.Depths[0])
	}
}

func TestSampleIsValidAndSeeded(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	r1 := rand.New(rand.NewPCG(7, 7))
	r2 := rand.New(rand.NewPCG(7, 7))
	depthCount := map[int]int{}
	for i := 0; i < 3000; i++ {
		a, b := s.Sample(r1), s.Sample(r2)
		if !a.Equal(b) {
			t.Fatal("same seed gave different samples")
		}
		if err := s.ValidateArch(a); err != nil {
			t.Fatal(err)
		}
		depthCount[a.Depths[0]]++
	}
	for _, d := range s.Depths {
		if c := depthCount[d]; c < 800 || c > 1200 {
			t.Errorf("depth %d drawn %d times of 3000; want uniform (~1000)", d, c)
		}
	}
	sm, lg := s.Smallest(), s.Largest()
	if sm.Resolution != 192 || lg.Resolution != 256 || lg.Width != 1.2 || len(lg.Kernels) != 20 || len(sm.Kernels) != 10 {
		t.Errorf("smallest %v largest %v", sm, lg)
	}
}

func TestBadGenomesAndArchsGiveClearErrors(t *testing.T) {
	s := mustPreset(t, NATImageNet)
	cases := []struct {
		enc  string
		want string
	}{
		{"0801100144055105220887", "has 22 digits, want 23"},
		{"17011001440551052208877", "gene 0 (resolution) = 17 is outside [0, 16]"},
		{"08211001440551052208877", "gene 1 (width) = 2 is outside [0, 1]"},
		{"08001001440551052208877", "gene 2 (stage 1 slot 1) = 0 is outside [1, 9]"},
		{"0801x001440551052208877", "not a number"},
		{"08-11001440551052208877", "not a number"},
	}
	for _, c := range cases {
		_, err := s.Parse(c.enc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error = %v, want it to contain %q", c.enc, err, c.want)
		}
	}
	if _, err := s.Decode(Genome{1, 2}); err == nil {
		t.Error("short genome decoded")
	}
	bad := s.Largest()
	bad.Kernels[3] = 4
	if err := s.ValidateArch(bad); err == nil || !strings.Contains(err.Error(), "layer 3 kernel 4") {
		t.Errorf("bad kernel: %v", err)
	}
	bad = s.Largest()
	bad.Depths = bad.Depths[:4]
	if err := s.ValidateArch(bad); err == nil || !strings.Contains(err.Error(), "4 depths given for 5 stages") {
		t.Errorf("bad depths: %v", err)
	}
	empty := &Space{Name: "empty", InChannels: 3, Classes: 10}
	if err := empty.Validate(); err == nil {
		t.Error("empty space validated")
	}
}

func FuzzParseDecode(f *testing.F) {
	for _, n := range natNets {
		f.Add(n.encoding)
	}
	f.Add("")
	f.Add("99999999999999999999999")
	s, err := Preset(NATImageNet)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, enc string) {
		g, err := s.Parse(enc)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		a, err := s.Decode(g)
		if err != nil {
			return
		}
		if err := s.ValidateArch(a); err != nil {
			t.Fatalf("decoded architecture does not validate: %v", err)
		}
	})
}

func FuzzDecodeGenome(f *testing.F) {
	f.Add([]byte{8, 0, 1, 1, 0, 0, 1, 4, 4, 0, 5, 5, 1, 0, 5, 2, 2, 0, 8, 8, 7, 7})
	s, err := Preset(NATMNIST)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		g := make(Genome, len(raw))
		for i, b := range raw {
			g[i] = int(int8(b))
		}
		if a, err := s.Decode(g); err == nil {
			if _, err := s.Plan(a); err != nil {
				t.Fatalf("decoded %v but cannot plan it: %v", g, err)
			}
		}
	})
}

func TestMakeDivisible(t *testing.T) {
	// Values from OFA's make_divisible (ofa/utils/common_tools.py) applied by hand.
	cases := []struct {
		v    float64
		want int
	}{{19.2, 24}, {28.8, 32}, {48, 48}, {134.4, 136}, {18, 24}, {84, 88}, {1152, 1152}, {3, 8}}
	for _, c := range cases {
		if got := MakeDivisible(c.v, 8); got != c.want {
			t.Errorf("MakeDivisible(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}
