package space

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Arch is one subnet, in the same form as NAT's net.subnet files: resolution, width multiplier,
// a depth per stage, and a kernel size and expansion ratio per active layer, stage by stage.
type Arch struct {
	Resolution int     `json:"r"`
	Width      float64 `json:"w"`
	Depths     []int   `json:"d"`
	Kernels    []int   `json:"ks"`
	Expansions []int   `json:"e"`
}

// ParseArchJSON reads an architecture in net.subnet form. A missing "w" means width 1.0, as in
// some of NAT's released files.
func ParseArchJSON(data []byte) (Arch, error) {
	var raw struct {
		R  *int     `json:"r"`
		W  *float64 `json:"w"`
		D  []int    `json:"d"`
		KS []int    `json:"ks"`
		E  []int    `json:"e"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Arch{}, fmt.Errorf("space: architecture JSON: %w", err)
	}
	if raw.R == nil {
		return Arch{}, fmt.Errorf("space: architecture JSON has no resolution \"r\"")
	}
	a := Arch{Resolution: *raw.R, Width: 1.0, Depths: raw.D, Kernels: raw.KS, Expansions: raw.E}
	if raw.W != nil {
		a.Width = *raw.W
	}
	return a, nil
}

// JSON returns the architecture in net.subnet form.
func (a Arch) JSON() []byte {
	b, _ := json.Marshal(a) // cannot fail: plain ints and a float
	return b
}

// String is a compact one-line description: r224 w1.0 d[2 3 3 3 4] | k3e3 k3e3 | ...
func (a Arch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "r%d w%.1f d%v", a.Resolution, a.Width, a.Depths)
	i := 0
	for _, d := range a.Depths {
		b.WriteString(" |")
		for j := 0; j < d && i < len(a.Kernels) && i < len(a.Expansions); j++ {
			fmt.Fprintf(&b, " k%de%d", a.Kernels[i], a.Expansions[i])
			i++
		}
	}
	return b.String()
}

// Clone returns a deep copy.
func (a Arch) Clone() Arch {
	a.Depths = append([]int(nil), a.Depths...)
	a.Kernels = append([]int(nil), a.Kernels...)
	a.Expansions = append([]int(nil), a.Expansions...)
	return a
}

// Equal reports whether two architectures are the same subnet.
func (a Arch) Equal(b Arch) bool {
	return a.Resolution == b.Resolution && a.Width == b.Width &&
		equalInts(a.Depths, b.Depths) && equalInts(a.Kernels, b.Kernels) && equalInts(a.Expansions, b.Expansions)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// StageLayers returns the kernels and expansions of stage i (0-based) of a validated architecture.
func (a Arch) StageLayers(i int) (kernels, expansions []int) {
	start := 0
	for j := 0; j < i; j++ {
		start += a.Depths[j]
	}
	end := start + a.Depths[i]
	return a.Kernels[start:end], a.Expansions[start:end]
}

// ValidateArch checks that a belongs to the space and names the first field that does not.
func (s *Space) ValidateArch(a Arch) error {
	if indexOf(s.Resolutions, a.Resolution) < 0 {
		return fmt.Errorf("space %s: resolution %d is not one of %s", s.Name, a.Resolution, compactInts(s.Resolutions))
	}
	if indexOfFloat(s.WidthMults, a.Width) < 0 {
		return fmt.Errorf("space %s: width multiplier %v is not one of %v", s.Name, a.Width, s.WidthMults)
	}
	if len(a.Depths) != len(s.Stages) {
		return fmt.Errorf("space %s: %d depths given for %d stages", s.Name, len(a.Depths), len(s.Stages))
	}
	total := 0
	for i, d := range a.Depths {
		if indexOf(s.Depths, d) < 0 {
			return fmt.Errorf("space %s: stage %d depth %d is not one of %v", s.Name, i+1, d, s.Depths)
		}
		total += d
	}
	if len(a.Kernels) != total || len(a.Expansions) != total {
		return fmt.Errorf("space %s: depths %v make %d layers but %d kernels and %d expansions are given",
			s.Name, a.Depths, total, len(a.Kernels), len(a.Expansions))
	}
	for i := range a.Kernels {
		if indexOf(s.Kernels, a.Kernels[i]) < 0 {
			return fmt.Errorf("space %s: layer %d kernel %d is not one of %v", s.Name, i, a.Kernels[i], s.Kernels)
		}
		if indexOf(s.Expansions, a.Expansions[i]) < 0 {
			return fmt.Errorf("space %s: layer %d expansion %d is not one of %v", s.Name, i, a.Expansions[i], s.Expansions)
		}
	}
	return nil
}
