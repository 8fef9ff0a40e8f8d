package ops

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph building reads best unqualified
)

// withGradient returns forward(inputs), differentiated by backward instead of by GoMLX's
// automatic differentiation of forward's ops: given v, the gradient with respect to the result,
// backward returns the gradient with respect to each input (nil for none).
//
// Why: GoMLX v0.28.2 differentiates a DotGeneral (hence MatMul, and this package's BroadcastRows
// and ColumnSums) into products whose contracting axis is not the last of the left operand, and
// the Go backend (compute v0.1.2) then transposes activation-sized operands with its slow generic
// iterator: a third of a training step's CPU went to such transposes. A hand-written backward
// can choose layouts the backend multiplies directly.
//
// How, with only GoMLX's single-input IdentityWithCustomGradient: forward runs on
// StopGradient(inputs); every input also passes through an identity whose custom gradient
// returns backward's result for it, and one element of each identity is added, times zero, to
// one element of the result, which puts the identities on the path to the loss. The result's
// own identity hands its gradient to backward and nothing to forward's ops. Reverse-mode
// differentiation reaches it before the input identities, which were built earlier. The price
// is a zero-filled result-sized buffer and an Add in the forward pass, and a zero-filled
// input-sized gradient per input (the carrier's) in the backward pass.
func withGradient(inputs []*Node, forward func(in []*Node) *Node, backward func(v *Node) []*Node) *Node {
	g := inputs[0].Graph()
	var grads []*Node
	var carrier *Node
	stopped := make([]*Node, len(inputs))
	for i, x := range inputs {
		id := IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
			if grads == nil {
				panic("ops: a custom gradient was read before the result's gradient was computed")
			}
			return grads[i]
		})
		first := make([]SliceAxisSpec, x.Rank())
		for a := range first {
			first[a] = AxisElem(0)
		}
		elem := Reshape(Slice(id, first...), 1)
		if carrier == nil {
			carrier = elem
		} else {
			carrier = Add(carrier, elem)
		}
		stopped[i] = StopGradient(x)
	}
	y := forward(stopped)
	// The result's gradient goes to backward only: returning nil sends nothing into forward's
	// ops, which GoMLX would otherwise differentiate (needlessly, down to the StopGradients).
	y = IdentityWithCustomGradient(y, func(_, v *Node) *Node {
		grads = backward(v)
		if len(grads) != len(inputs) {
			panic(fmt.Sprintf("ops: custom backward returned %d gradients for %d inputs", len(grads), len(inputs)))
		}
		for i, gr := range grads {
			if gr == nil {
				grads[i] = ZerosLike(inputs[i])
			}
		}
		return nil
	})
	// Built after y, so reverse-mode differentiation, which visits nodes from the last built to
	// the first, runs backward above before the identities' gradients read its results.
	size := y.Shape().Size()
	bump := MulScalar(carrier, 0)
	if size > 1 {
		bump = Concatenate([]*Node{bump, Zeros(g, shapes.Make(y.DType(), size-1))}, 0)
	}
	return Add(y, Reshape(bump, y.Shape().Dimensions...))
}
