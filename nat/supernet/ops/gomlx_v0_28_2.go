package ops

// Workarounds for gaps in GoMLX v0.28.2 (github.com/gomlx/gomlx core/graph). Delete this file when
// upgrading to a version whose graph.VJPRegistration covers NodeTypeRsqrt.
//
// - Rsqrt has no gradient in v0.28.2 (rev_autodiff.go's VJPRegistration lacks NodeTypeRsqrt);
//   registered below: d/dx x^-1/2 = -1/2 x^-3/2.
// - Pad and Reverse have no gradient either, and their parameters are unexported fields of the
//   node, so a VJP cannot be registered from outside the package: PadHW pads by Concatenate
//   instead, and nothing here uses Reverse.
// - Grouped (depthwise) ConvGeneral is ~100x slower than Depthwise's shifted slices on the Go
//   backend, and a native NHWC depthwise kernel cannot be added from outside the library:
//   github.com/gomlx/compute v0.1.2 registers node executors only inside internal/gobackend
//   (SetNodeExecutor), compute.Function has no custom-call op, and gomlx core/graph cannot wrap a
//   backend value in a *Node. A native kernel needs an upstream op (a fused depthwise
//   convolution, or ConvGeneral specialising channelGroupCount == channels); when one exists,
//   Depthwise becomes a single call and its gradient a pair of them.
//   Until then depthwise.go offers the fastest formulations built from other ops (shifted
//   slices; a Toeplitz batched matmul along the width; a 2-D Toeplitz matmul over small maps).
// - compute v0.1.2's parallel executor (the Go backend's default configuration) deadlocks when two
//   large matrix products that do not depend on each other run at once: each waits in
//   workerspool.Saturate for workers the executor itself holds. The 2-D Toeplitz form's band
//   products depend only on the weights, so graphs with several such layers trigger it. The
//   supernet (supernet.DefaultBackendConfig) and latency measurement (measure.DefaultBackendConfig)
//   run "ops_sequential", which cannot.
// - Elementwise ops against a broadcast operand, and ReduceSum, run a per-element index iterator
//   in compute v0.1.2; BroadcastRows and ColumnSums (ops.go) route them through MatMul instead.
// - GoMLX v0.28.2 differentiates DotGeneral into products whose contracting axis is not the last
//   of the left operand, which compute v0.1.2 runs by transposing activation-sized operands with
//   a slow generic iterator. customgrad.go's withGradient lets batch norm, the pointwise
//   convolutions and the Toeplitz depthwise forms supply backward passes that avoid it; with a backend
//   whose transposes are fast (or a GoMLX whose VJP picks layouts), PointwiseTrain, BatchNormTrain
//   and DepthwiseTrain can become their plain counterparts.

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
