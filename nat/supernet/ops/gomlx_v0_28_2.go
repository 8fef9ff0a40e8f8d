package ops

// Workarounds for gaps in GoMLX v0.28.2 (github.com/gomlx/gomlx core/graph). Delete this file when
// upgrading to a version whose graph.VJPRegistration covers NodeTypeRsqrt.
//
// - Rsqrt has no gradient in v0.28.2 (rev_autodiff.go's VJPRegistration lacks NodeTypeRsqrt);
//   registered below: d/dx x^-1/2 = -1/2 x^-3/2.
// - Pad and Reverse have no gradient either, and their parameters are unexported fields of the
//   node, so a VJP cannot be registered from outside the package: PadHW pads by Concatenate
//   instead, and nothing here uses Reverse.

import (
	"sync"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
)

var registerOnce sync.Once

func init() { registerOnce.Do(registerMissingVJPs) }

func registerMissingVJPs() {
	if _, ok := VJPRegistration[NodeTypeRsqrt]; !ok {
		VJPRegistration[NodeTypeRsqrt] = func(node *Node, v []*Node, _ shapes.Shape) []*Node {
			// node = x^-1/2, so d/dx = -1/2 * node^3.
			return []*Node{Mul(v[0], MulScalar(Mul(node, Square(node)), -0.5))}
		}
	}
}
