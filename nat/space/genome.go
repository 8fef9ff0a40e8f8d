package space

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Genome is NAT's integer encoding of a subnet (nat-algorithm.md section 2): gene 0 is the
// resolution index, gene 1 the width index, then one gene per (stage, slot) for MaxDepth slots per
// stage. A slot gene is 0 (skip) or 1 + len(Kernels)*iE + iK for expansion index iE and kernel
// index iK; for NAT's space 1 = (e3,k3), 2 = (e3,k5), ..., 9 = (e6,k7). The first MinDepth slots
// of every stage are at least 1.
type Genome []int

// Clone returns a copy of g.
func (g Genome) Clone() Genome { return append(Genome(nil), g...) }

// NumGenes is the genome length: 2 + stages * MaxDepth (22 for NAT's space).
func (s *Space) NumGenes() int { return 2 + len(s.Stages)*s.MaxDepth() }

// Bounds returns the inclusive lower and upper bound of every gene.
func (s *Space) Bounds() (lower, upper []int) {
	n := s.NumGenes()
	lower, upper = make([]int, n), make([]int, n)
	upper[0] = len(s.Resolutions) - 1
	upper[1] = len(s.WidthMults) - 1
	choices := len(s.Kernels) * len(s.Expansions)
	for st := range s.Stages {
		for slot := 0; slot < s.MaxDepth(); slot++ {
			i := 2 + st*s.MaxDepth() + slot
			upper[i] = choices
			if slot < s.MinDepth() {
				lower[i] = 1
			}
		}
	}
	return lower, upper
}

// geneName says which gene index i is, for error messages.
func (s *Space) geneName(i int) string {
	switch i {
	case 0:
		return "gene 0 (resolution)"
	case 1:
		return "gene 1 (width)"
	}
	j := i - 2
	return fmt.Sprintf("gene %d (stage %d slot %d)", i, j/s.MaxDepth()+1, j%s.MaxDepth()+1)
}

// checkGenome verifies length and bounds.
func (s *Space) checkGenome(g Genome) error {
	if len(g) != s.NumGenes() {
		return fmt.Errorf("space %s: genome has %d genes, want %d", s.Name, len(g), s.NumGenes())
	}
	lo, hi := s.Bounds()
	for i, v := range g {
		if v < lo[i] || v > hi[i] {
			return fmt.Errorf("space %s: %s = %d is outside [%d, %d]", s.Name, s.geneName(i), v, lo[i], hi[i])
		}
	}
	return nil
}

// Decode turns a genome into an architecture.
//
// Skip normalisation: a stage's depth is the number of its non-skip slots, and its layers are
// those slots in order. A skip followed by a layer (slot 3 = 0, slot 4 = 5) therefore yields the
// same subnet as the layer moved into slot 3 (one published reproduction's rule). We chose this
// over dropping the later slot (the other reproduction's rule) because it keeps NAT's definition
// "depth = number of non-skip slots" and never makes a gene silently dead: every non-zero gene
// changes the decoded subnet, which is what the accuracy predictor assumes. Normalize returns the
// canonical genome (layers first, skips last) that Encode produces.
func (s *Space) Decode(g Genome) (Arch, error) {
	if err := s.checkGenome(g); err != nil {
		return Arch{}, err
	}
	a := Arch{
		Resolution: s.Resolutions[g[0]],
		Width:      s.WidthMults[g[1]],
		Depths:     make([]int, len(s.Stages)),
	}
	nk := len(s.Kernels)
	for st := range s.Stages {
		d := 0
		for slot := 0; slot < s.MaxDepth(); slot++ {
			v := g[2+st*s.MaxDepth()+slot]
			if v == 0 {
				continue
			}
			d++
			a.Kernels = append(a.Kernels, s.Kernels[(v-1)%nk])
			a.Expansions = append(a.Expansions, s.Expansions[(v-1)/nk])
		}
		if indexOf(s.Depths, d) < 0 {
			return Arch{}, fmt.Errorf("space %s: stage %d has %d layers, allowed depths are %v", s.Name, st+1, d, s.Depths)
		}
		a.Depths[st] = d
	}
	return a, nil
}

// Encode turns an architecture into its canonical genome (each stage's layers in its first
// slots, skips after them).
func (s *Space) Encode(a Arch) (Genome, error) {
	if err := s.ValidateArch(a); err != nil {
		return nil, err
	}
	g := make(Genome, s.NumGenes())
	g[0] = indexOf(s.Resolutions, a.Resolution)
	g[1] = indexOfFloat(s.WidthMults, a.Width)
	nk := len(s.Kernels)
	layer := 0
	for st, d := range a.Depths {
		for slot := 0; slot < d; slot++ {
			ik := indexOf(s.Kernels, a.Kernels[layer])
			ie := indexOf(s.Expansions, a.Expansions[layer])
			g[2+st*s.MaxDepth()+slot] = 1 + nk*ie + ik
			layer++
		}
	}
	return g, nil
}

// Normalize returns the canonical genome of the subnet g decodes to (see Decode). The search uses
// it as its repair step so that equal subnets have equal genomes.
func (s *Space) Normalize(g Genome) (Genome, error) {
	a, err := s.Decode(g)
	if err != nil {
		return nil, err
	}
	return s.Encode(a)
}

// digits is the number of decimal digits of n (at least 1).
func digits(n int) int {
	return len(strconv.Itoa(n))
}

// Format writes a genome as NAT writes it: each gene in decimal, zero-padded to the width of its
// upper bound (so NAT-M1 is "08011001440551052208877": resolution "08", width "0", 20 slot digits).
func (s *Space) Format(g Genome) string {
	_, hi := s.Bounds()
	var b strings.Builder
	for i, v := range g {
		w := 1
		if i < len(hi) {
			w = digits(hi[i])
		}
		fmt.Fprintf(&b, "%0*d", w, v)
	}
	return b.String()
}

// Parse reads the string form written by Format (spaces and '|' separators are ignored) and
// checks the genome's bounds. It does not normalise.
func (s *Space) Parse(str string) (Genome, error) {
	clean := strings.Map(func(r rune) rune {
		if r == ' ' || r == '|' || r == '_' {
			return -1
		}
		return r
	}, str)
	_, hi := s.Bounds()
	want := 0
	for _, h := range hi {
		want += digits(h)
	}
	if len(clean) != want {
		return nil, fmt.Errorf("space %s: encoding %q has %d digits, want %d (%d genes)", s.Name, str, len(clean), want, len(hi))
	}
	g := make(Genome, len(hi))
	pos := 0
	for i, h := range hi {
		w := digits(h)
		field := clean[pos : pos+w]
		v, err := strconv.Atoi(field)
		if err != nil || strings.ContainsAny(field, "+-") {
			return nil, fmt.Errorf("space %s: encoding %q: %s is %q, not a number (at character %d)", s.Name, str, s.geneName(i), field, pos+1)
		}
		g[i] = v
		pos += w
	}
	if err := s.checkGenome(g); err != nil {
		return nil, fmt.Errorf("encoding %q: %w", str, err)
	}
	return g, nil
}

// Sample draws a subnet: resolution and width uniformly, each stage's depth uniformly from
// Depths, and each layer's kernel and expansion uniformly. This is MSuNAS/NAT's random
// architecture sampler; drawing slot genes uniformly instead would bias depth toward the maximum.
func (s *Space) Sample(rng *rand.Rand) Arch {
	a := Arch{
		Resolution: s.Resolutions[rng.IntN(len(s.Resolutions))],
		Width:      s.WidthMults[rng.IntN(len(s.WidthMults))],
		Depths:     make([]int, len(s.Stages)),
	}
	for st := range s.Stages {
		d := s.Depths[rng.IntN(len(s.Depths))]
		a.Depths[st] = d
		for j := 0; j < d; j++ {
			a.Kernels = append(a.Kernels, s.Kernels[rng.IntN(len(s.Kernels))])
			a.Expansions = append(a.Expansions, s.Expansions[rng.IntN(len(s.Expansions))])
		}
	}
	return a
}

// Smallest is the subnet with every choice at its minimum.
func (s *Space) Smallest() Arch {
	return s.uniformArch(0)
}

// Largest is the subnet with every choice at its maximum.
func (s *Space) Largest() Arch {
	return s.uniformArch(-1)
}

func (s *Space) uniformArch(which int) Arch {
	pick := func(v []int) int {
		if which < 0 {
			return v[len(v)-1]
		}
		return v[0]
	}
	a := Arch{Resolution: pick(s.Resolutions), Depths: make([]int, len(s.Stages))}
	if which < 0 {
		a.Width = s.WidthMults[len(s.WidthMults)-1]
	} else {
		a.Width = s.WidthMults[0]
	}
	for st := range s.Stages {
		d := pick(s.Depths)
		a.Depths[st] = d
		for j := 0; j < d; j++ {
			a.Kernels = append(a.Kernels, pick(s.Kernels))
			a.Expansions = append(a.Expansions, pick(s.Expansions))
		}
	}
	return a
}
