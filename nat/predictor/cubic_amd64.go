package predictor

import "golang.org/x/sys/cpu"

// useAVX2 selects cubicLanesAVX2 (it uses AVX only, but AVX2 marks CPUs whose 256-bit square
// root is fast). Set once from the CPU's features, never changed.
var useAVX2 = cpu.X86.HasAVX2

// cubicLanesAVX2 adds, for i < n (a positive multiple of 4), lam[i]*d_i*sqrt(d_i) with d_i =
// rows[0][i] + ... + rows[nrows-1][i] into lanes[i mod 4]; every row holds at least n values.
// Implemented in cubic_amd64.s.
//
//go:noescape
func cubicLanesAVX2(lam *float64, n int, rows *[]float64, nrows int, lanes *[4]float64)
