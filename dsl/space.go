package dsl

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strings"

	"github.com/natgo/nat/dsl/display"
	"github.com/natgo/nat/nat/cost"
	"github.com/natgo/nat/nat/space"
)

// Arch is one subnet: resolution, width multiplier, and per stage a depth and per layer a kernel
// size and expansion ratio (NAT's net.subnet form).
type Arch = space.Arch

// Genome is NAT's integer encoding of a subnet.
type Genome = space.Genome

// Stage is one searched stage of a space: output width at multiplier 1.0, stride of its first
// block, activation, squeeze-and-excite.
type Stage = space.Stage

// Activation names a nonlinearity.
type Activation = space.Activation

// The activations a stage may use.
const (
	ReLU   = space.ReLU
	HSwish = space.HSwish
)

// Costs are a subnet's multiply-adds and parameters.
type Costs = cost.Costs

// Space is a search space: the published presets or a custom one derived from them with the
// With... methods. A Space is immutable: every With... returns a new, validated space.
type Space struct {
	s *space.Space
}

// Preset returns a published search space by name: "nat-imagenet" (NAT's OFA MobileNetV3 space)
// or "nat-mnist" (the same structure sized for 28x28 digits).
func Preset(name string) *Space {
	s, err := space.Preset(name)
	if err != nil {
		misuse("Preset", "unknown search space %q; known: %s", name, strings.Join(space.PresetNames(), ", "))
	}
	return &Space{s: s}
}

// MobileNetV3 is NAT's ImageNet search space (Preset("nat-imagenet")).
func MobileNetV3() *Space { return Preset(space.NATImageNet) }

// MNISTSpace is the small space for MNIST-sized images (Preset("nat-mnist")).
func MNISTSpace() *Space { return Preset(space.NATMNIST) }

// with copies the space, applies edit and validates the result.
func (s *Space) with(fn string, edit func(*space.Space)) *Space {
	if s == nil || s.s == nil {
		misuse(fn, "called on a nil search space; start from Preset, MobileNetV3 or MNISTSpace")
	}
	c := *s.s
	c.Resolutions = append([]int(nil), s.s.Resolutions...)
	c.WidthMults = append([]float64(nil), s.s.WidthMults...)
	c.Stages = append([]space.Stage(nil), s.s.Stages...)
	c.Depths = append([]int(nil), s.s.Depths...)
	c.Kernels = append([]int(nil), s.s.Kernels...)
	c.Expansions = append([]int(nil), s.s.Expansions...)
	edit(&c)
	if err := c.Validate(); err != nil {
		misuse(fn, "%v", err)
	}
	return &Space{s: &c}
}

// Named returns the space renamed.
func (s *Space) Named(name string) *Space {
	return s.with("Space.Named", func(c *space.Space) { c.Name = name })
}

// WithResolutions sets the input resolutions the search chooses from (ascending).
func (s *Space) WithResolutions(r ...int) *Space {
	return s.with("Space.WithResolutions", func(c *space.Space) { c.Resolutions = r })
}

// ResolutionRange returns from, from+step, ..., up to to inclusive.
func ResolutionRange(from, to, step int) []int {
	if step <= 0 || to < from {
		misuse("ResolutionRange", "need from <= to and a positive step, got %d, %d, %d", from, to, step)
	}
	var r []int
	for x := from; x <= to; x += step {
		r = append(r, x)
	}
	return r
}

// WithWidths sets the width multipliers (ascending); each is its own supernet.
func (s *Space) WithWidths(w ...float64) *Space {
	return s.with("Space.WithWidths", func(c *space.Space) { c.WidthMults = w })
}

// WithDepths sets the allowed stage depths (ascending).
func (s *Space) WithDepths(d ...int) *Space {
	return s.with("Space.WithDepths", func(c *space.Space) { c.Depths = d })
}

// WithKernels sets the depthwise kernel sizes (ascending, odd).
func (s *Space) WithKernels(k ...int) *Space {
	return s.with("Space.WithKernels", func(c *space.Space) { c.Kernels = k })
}

// WithExpansions sets the expansion ratios (ascending).
func (s *Space) WithExpansions(e ...int) *Space {
	return s.with("Space.WithExpansions", func(c *space.Space) { c.Expansions = e })
}

// WithStages replaces the searched stages.
func (s *Space) WithStages(st ...Stage) *Space {
	return s.with("Space.WithStages", func(c *space.Space) { c.Stages = st })
}

// WithClasses sets the number of classes of the classifier.
func (s *Space) WithClasses(n int) *Space {
	return s.with("Space.WithClasses", func(c *space.Space) { c.Classes = n })
}

// WithInputChannels sets the image channels (3 for RGB, 1 for grayscale).
func (s *Space) WithInputChannels(n int) *Space {
	return s.with("Space.WithInputChannels", func(c *space.Space) { c.InChannels = n })
}

// Engine returns the engine's description of the space, for code that calls nat/... directly.
// The result is a copy.
func (s *Space) Engine() *space.Space {
	c := s.with("Space.Engine", func(*space.Space) {})
	return c.s
}

// Name is the space's name.
func (s *Space) Name() string { return s.s.Name }

// Size is the number of distinct subnets.
func (s *Space) Size() float64 { return s.s.Size() }

// Smallest is the subnet with the lowest choice everywhere.
func (s *Space) Smallest() Arch { return s.s.Smallest() }

// Largest is the subnet with the highest choice everywhere.
func (s *Space) Largest() Arch { return s.s.Largest() }

// Sample draws a uniformly random subnet, reproducibly from seed.
func (s *Space) Sample(seed uint64) Arch { return s.s.Sample(rand.New(rand.NewPCG(seed, 0))) }

// Decode reads a subnet from NAT's encoding string (for example "08|0|1100 1440 5510 5220 8877").
func (s *Space) Decode(encoding string) Arch {
	g, err := s.s.Parse(encoding)
	if err != nil {
		misuse("Space.Decode", "%v", err)
	}
	a, err := s.s.Decode(g)
	if err != nil {
		misuse("Space.Decode", "%v", err)
	}
	return a
}

// Encode writes a subnet as NAT's encoding string.
func (s *Space) Encode(a Arch) string {
	g, err := s.s.Encode(a)
	if err != nil {
		misuse("Space.Encode", "%v", err)
	}
	return s.s.Format(g)
}

// Costs counts a subnet's multiply-adds and parameters.
func (s *Space) Costs(a Arch) Costs {
	c, err := cost.Arch(s.s, a)
	if err != nil {
		misuse("Space.Costs", "%v", err)
	}
	return c
}

// String summarises the space on one line.
func (s *Space) String() string {
	if s == nil || s.s == nil {
		return "space <nil>"
	}
	return fmt.Sprintf("%s (%.3g subnets)", s.s.String(), s.s.Size())
}

// Display shows the space as a table of its stages.
func (s *Space) Display() display.Bundle {
	var md, h strings.Builder
	fmt.Fprintf(&md, "**search space %s**: %.3g subnets; resolution %v; width %v; depth %v; kernel %v; expansion %v\n\n",
		s.s.Name, s.s.Size(), s.s.Resolutions, s.s.WidthMults, s.s.Depths, s.s.Kernels, s.s.Expansions)
	md.WriteString("| stage | width | stride | activation | SE |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&h, "<p><b>search space %s</b>: %.3g subnets; resolution %v; width %v; depth %v; kernel %v; expansion %v</p>",
		html.EscapeString(s.s.Name), s.s.Size(), s.s.Resolutions, s.s.WidthMults, s.s.Depths, s.s.Kernels, s.s.Expansions)
	h.WriteString("<table><tr><th>stage</th><th>width</th><th>stride</th><th>activation</th><th>SE</th></tr>")
	for i, st := range s.s.Stages {
		fmt.Fprintf(&md, "| %d | %d | %d | %s | %v |\n", i+1, st.Width, st.Stride, st.Act, st.SE)
		fmt.Fprintf(&h, "<tr><td>%d</td><td>%d</td><td>%d</td><td>%s</td><td>%v</td></tr>", i+1, st.Width, st.Stride, st.Act, st.SE)
	}
	h.WriteString("</table>")
	return display.Bundle{display.TextPlain: []byte(s.String()), display.Markdown: []byte(md.String()), display.HTML: []byte(h.String())}
}
