// Package ops holds the supernet's hot operations, written in the shapes GoMLX's pure-Go backend
// (github.com/gomlx/compute v0.1.2 gobackend) runs fast: pointwise convolutions as one matrix
// multiplication, depthwise convolutions as k*k shifted slices times per-channel weights, a
// hand-written batch norm that works on sliced (elastic) parameters, an im2col stem, and
// squeeze-excite and linear layers as matrix multiplications.
//
// All tensors are float32 and NHWC. Every function is an ordinary function of graph nodes, so
// gradients come from GoMLX's reverse-mode autodiff; gomlx_v0_28_2.go registers the gradients that
// library version lacks.
//
// It is not a layer library: parameters are created and sliced by the caller (nat/supernet).
package ops
