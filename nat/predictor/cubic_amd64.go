package predictor

import "golang.org/x/sys/cpu"

// useAVX2 selects cubicLanesAVX2 (it uses AVX only, but AVX2 marks CPUs whose 256-bit square
// root is fast). Set once from the CPU's features, never changed.
var useAVX2 = cpu.X86.HasAVX2

// useAVX512 selects cubicLanesAVX512 (AVX-512F: VRSQRT14PD and fused multiply-adds on 512-bit
// vectors). Set once from the CPU's features, never changed.
var useAVX512 = cpu.X86.HasAVX512F

// cubicLanesAVX2 adds, for i < n (a positive multiple of 4), lam[i]*d_i*sqrt(d_i) with d_i =
// rows[0][i] + ... + rows[nrows-1][i] into lanes[i mod 4]; every row holds at least n values.
// Implemented in cubic_amd64.s.
//
//go:noescape
func cubicLanesAVX2(lam *float64, n int, rows *[]float64, nrows int, lanes *[4]float64)

// cubicLanesAVX512 is cubicLanesAVX2 eight lanes at a time (n a positive multiple of 8, term
// i into lanes[i mod 8]), with the square root from VRSQRT14PD corrected by a short series
// instead of VSQRTPD: each term is within a few units in the last place of the exact one
// (see cubicSum). Implemented in cubic_amd64.s.
//
//go:noescape
func cubicLanesAVX512(lam *float64, n int, rows *[]float64, nrows int, lanes *[8]float64)

// dot4AVX512 is dot4Go for n a positive multiple of 8, with the same bits. Implemented in
// cubic_amd64.s.
//
//go:noescape
func dot4AVX512(v *float64, rows *float64, stride int, n int, out *[4]float64)

// dot4x2AVX512 is dot4AVX512 for two vectors at once, with the same bits. Implemented in
// cubic_amd64.s.
//
//go:noescape
func dot4x2AVX512(v0, v1 *float64, rows *float64, stride int, n int, out *[8]float64)
