#include "textflag.h"

// func cubicLanesAVX2(lam *float64, n int, rows *[]float64, nrows int, lanes *[4]float64)
//
// For i = 0, 4, 8, ... < n: d = rows[0][i:i+4] + rows[1][i:i+4] + ... (in order);
// acc += (lam[i:i+4] * d) * sqrt(d). lanes = acc at the end. Same operations, same order as
// cubicLanesGo, so the results are bit for bit the same.
TEXT ·cubicLanesAVX2(SB), NOSPLIT, $0-40
	MOVQ lam+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ rows+16(FP), DX
	MOVQ nrows+24(FP), BX
	MOVQ lanes+32(FP), DI
	VMOVUPD (DI), Y0
	SHLQ $3, CX          // n in bytes
	XORQ AX, AX          // byte offset of i
	MOVQ 0(DX), R8       // rows[0]'s data
	LEAQ 24(DX), R11     // &rows[1]
	DECQ BX              // rows after the first

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (R8)(AX*1), Y1
	MOVQ BX, R9
	MOVQ R11, R10

rows:
	TESTQ R9, R9
	JZ    rowsdone
	MOVQ  0(R10), R12
	VADDPD (R12)(AX*1), Y1, Y1
	ADDQ  $24, R10
	DECQ  R9
	JMP   rows

rowsdone:
	VSQRTPD Y1, Y2
	VMULPD  (SI)(AX*1), Y1, Y1
	VMULPD  Y2, Y1, Y1
	VADDPD  Y1, Y0, Y0
	ADDQ    $32, AX
	JMP     loop

done:
	VMOVUPD Y0, (DI)
	VZEROUPPER
	RET

// func cubicLanesAVX512(lam *float64, n int, rows *[]float64, nrows int, lanes *[8]float64)
//
// For i = 0, 8, 16, ... < n: d = rows[0][i:i+8] + rows[1][i:i+8] + ... (in order);
// acc += (lam[i:i+8] * d) * sqrt(d). The square root is s0 = d y from the estimate
// y = VRSQRT14PD(d) (relative error below 2^-14), corrected by the series of
// 1/sqrt(1-e) = 1 + e/2 + 3e^2/8 + 5e^3/16 + O(e^4) in e = 1 - s0 y (|e| < 2^-13, one fused
// rounding): sqrt(d) = s0 (1 + e (1/2 + e (3/8 + e 5/16))), the truncation below 0.3 units in
// the last place. y is clamped below 2^1000 so that d = 0 (y = +Inf) gives s0 = 0, not NaN.
// Terms go sixteen at a time while at least sixteen are left (two accumulators, added at the
// end), then eight at a time. lanes = acc at the end.
TEXT ·cubicLanesAVX512(SB), NOSPLIT, $0-40
	MOVQ lam+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ rows+16(FP), DX
	MOVQ nrows+24(FP), BX
	MOVQ lanes+32(FP), DI
	VMOVUPD (DI), Z0
	MOVQ $0x3FE0000000000000, R13 // 1/2
	VPBROADCASTQ R13, Z6
	MOVQ $0x7E70000000000000, R13 // 2^1000
	VPBROADCASTQ R13, Z7
	MOVQ $0x3FF0000000000000, R13 // 1
	VPBROADCASTQ R13, Z8
	MOVQ $0x3FD8000000000000, R13 // 3/8
	VPBROADCASTQ R13, Z9
	MOVQ $0x3FD4000000000000, R13 // 5/16
	VPBROADCASTQ R13, Z10
	SHLQ $3, CX          // n in bytes
	XORQ AX, AX          // byte offset of i
	MOVQ 0(DX), R8       // rows[0]'s data
	LEAQ 24(DX), R11     // &rows[1]
	DECQ BX              // rows after the first

	// Sixteen terms per pass over the row pointers while they last (half the scalar
	// work per term), into two accumulators (Z0 and Z16, added at the end).
	VPXORQ Z16, Z16, Z16

loop16:
	MOVQ CX, R14
	SUBQ AX, R14
	CMPQ R14, $128
	JLT  loop512
	VMOVUPD (R8)(AX*1), Z1
	VMOVUPD 64(R8)(AX*1), Z11
	MOVQ BX, R9
	MOVQ R11, R10

rows16:
	TESTQ R9, R9
	JZ    rowsdone16
	MOVQ  0(R10), R12
	VADDPD (R12)(AX*1), Z1, Z1
	VADDPD 64(R12)(AX*1), Z11, Z11
	ADDQ  $24, R10
	DECQ  R9
	JMP   rows16

rowsdone16:
	VRSQRT14PD   Z1, Z2
	VMINPD       Z7, Z2, Z2
	VMULPD       Z1, Z2, Z3
	VFNMADD213PD Z8, Z3, Z2
	VMOVAPD      Z10, Z5
	VFMADD213PD  Z9, Z2, Z5
	VFMADD213PD  Z6, Z2, Z5
	VMULPD       Z2, Z3, Z4
	VFMADD231PD  Z5, Z4, Z3
	VMULPD       (SI)(AX*1), Z1, Z1
	VFMADD231PD  Z3, Z1, Z0
	VRSQRT14PD   Z11, Z12
	VMINPD       Z7, Z12, Z12
	VMULPD       Z11, Z12, Z13
	VFNMADD213PD Z8, Z13, Z12
	VMOVAPD      Z10, Z15
	VFMADD213PD  Z9, Z12, Z15
	VFMADD213PD  Z6, Z12, Z15
	VMULPD       Z12, Z13, Z14
	VFMADD231PD  Z15, Z14, Z13
	VMULPD       64(SI)(AX*1), Z11, Z11
	VFMADD231PD  Z13, Z11, Z16
	ADDQ         $128, AX
	JMP          loop16

loop512:
	CMPQ AX, CX
	JGE  done512
	VMOVUPD (R8)(AX*1), Z1
	MOVQ BX, R9
	MOVQ R11, R10

rows512:
	TESTQ R9, R9
	JZ    rowsdone512
	MOVQ  0(R10), R12
	VADDPD (R12)(AX*1), Z1, Z1
	ADDQ  $24, R10
	DECQ  R9
	JMP   rows512

rowsdone512:
	VRSQRT14PD   Z1, Z2
	VMINPD       Z7, Z2, Z2  // y
	VMULPD       Z1, Z2, Z3  // s0 = d y
	VFNMADD213PD Z8, Z3, Z2  // e = 1 - s0 y
	VMOVAPD      Z10, Z5
	VFMADD213PD  Z9, Z2, Z5  // p = 3/8 + e 5/16
	VFMADD213PD  Z6, Z2, Z5  // p = 1/2 + e p
	VMULPD       Z2, Z3, Z4  // s0 e
	VFMADD231PD  Z5, Z4, Z3  // s = s0 + (s0 e) p
	VMULPD       (SI)(AX*1), Z1, Z1
	VFMADD231PD  Z3, Z1, Z0  // acc += (lam d) s
	ADDQ         $64, AX
	JMP          loop512

done512:
	VADDPD  Z16, Z0, Z0
	VMOVUPD Z0, (DI)
	VZEROUPPER
	RET

// func dot4AVX512(v *float64, rows *float64, stride int, n int, out *[4]float64)
//
// out[r] = sum over k < n of rows[r*stride + k] * v[k], r < 4, n a positive multiple of 8:
// each row accumulates in eight lanes with fused multiply-adds (term k into lane k mod 8),
// lanes combined as ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), exactly as dot4Go does.
TEXT ·dot4AVX512(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), SI
	MOVQ rows+8(FP), R8
	MOVQ stride+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ out+32(FP), DI
	SHLQ $3, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	SHLQ $3, CX
	XORQ AX, AX

dotloop:
	VMOVUPD     (SI)(AX*1), Z4
	VFMADD231PD (R8)(AX*1), Z4, Z0
	VFMADD231PD (R9)(AX*1), Z4, Z1
	VFMADD231PD (R10)(AX*1), Z4, Z2
	VFMADD231PD (R11)(AX*1), Z4, Z3
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         dotloop

	VEXTRACTF64X4 $1, Z0, Y5
	VADDPD        Y5, Y0, Y0
	VEXTRACTF128  $1, Y0, X5
	VADDPD        X5, X0, X0
	VPERMILPD     $1, X0, X5
	VADDSD        X5, X0, X0
	VMOVSD        X0, 0(DI)

	VEXTRACTF64X4 $1, Z1, Y5
	VADDPD        Y5, Y1, Y1
	VEXTRACTF128  $1, Y1, X5
	VADDPD        X5, X1, X1
	VPERMILPD     $1, X1, X5
	VADDSD        X5, X1, X1
	VMOVSD        X1, 8(DI)

	VEXTRACTF64X4 $1, Z2, Y5
	VADDPD        Y5, Y2, Y2
	VEXTRACTF128  $1, Y2, X5
	VADDPD        X5, X2, X2
	VPERMILPD     $1, X2, X5
	VADDSD        X5, X2, X2
	VMOVSD        X2, 16(DI)

	VEXTRACTF64X4 $1, Z3, Y5
	VADDPD        Y5, Y3, Y3
	VEXTRACTF128  $1, Y3, X5
	VADDPD        X5, X3, X3
	VPERMILPD     $1, X3, X5
	VADDSD        X5, X3, X3
	VMOVSD        X3, 24(DI)

	VZEROUPPER
	RET

// func dot4x2AVX512(v0, v1 *float64, rows *float64, stride int, n int, out *[8]float64)
//
// out[r] = rows_r . v0 and out[4+r] = rows_r . v1 (r < 4, length n a positive multiple of 8),
// each exactly as dot4AVX512 computes it: two vectors share the row loads, and eight
// independent accumulators hide the multiply-add latency.
TEXT ·dot4x2AVX512(SB), NOSPLIT, $0-48
	MOVQ v0+0(FP), SI
	MOVQ v1+8(FP), BX
	MOVQ rows+16(FP), R8
	MOVQ stride+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ out+40(FP), DI
	SHLQ $3, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	SHLQ $3, CX
	XORQ AX, AX

dot2loop:
	VMOVUPD     (SI)(AX*1), Z8
	VMOVUPD     (BX)(AX*1), Z9
	VMOVUPD     (R8)(AX*1), Z10
	VFMADD231PD Z10, Z8, Z0
	VFMADD231PD Z10, Z9, Z4
	VMOVUPD     (R9)(AX*1), Z11
	VFMADD231PD Z11, Z8, Z1
	VFMADD231PD Z11, Z9, Z5
	VMOVUPD     (R10)(AX*1), Z10
	VFMADD231PD Z10, Z8, Z2
	VFMADD231PD Z10, Z9, Z6
	VMOVUPD     (R11)(AX*1), Z11
	VFMADD231PD Z11, Z8, Z3
	VFMADD231PD Z11, Z9, Z7
	ADDQ        $64, AX
	CMPQ        AX, CX
	JLT         dot2loop

	VEXTRACTF64X4 $1, Z0, Y12
	VADDPD        Y12, Y0, Y0
	VEXTRACTF128  $1, Y0, X12
	VADDPD        X12, X0, X0
	VPERMILPD     $1, X0, X12
	VADDSD        X12, X0, X0
	VMOVSD        X0, 0(DI)

	VEXTRACTF64X4 $1, Z1, Y12
	VADDPD        Y12, Y1, Y1
	VEXTRACTF128  $1, Y1, X12
	VADDPD        X12, X1, X1
	VPERMILPD     $1, X1, X12
	VADDSD        X12, X1, X1
	VMOVSD        X1, 8(DI)

	VEXTRACTF64X4 $1, Z2, Y12
	VADDPD        Y12, Y2, Y2
	VEXTRACTF128  $1, Y2, X12
	VADDPD        X12, X2, X2
	VPERMILPD     $1, X2, X12
	VADDSD        X12, X2, X2
	VMOVSD        X2, 16(DI)

	VEXTRACTF64X4 $1, Z3, Y12
	VADDPD        Y12, Y3, Y3
	VEXTRACTF128  $1, Y3, X12
	VADDPD        X12, X3, X3
	VPERMILPD     $1, X3, X12
	VADDSD        X12, X3, X3
	VMOVSD        X3, 24(DI)

	VEXTRACTF64X4 $1, Z4, Y12
	VADDPD        Y12, Y4, Y4
	VEXTRACTF128  $1, Y4, X12
	VADDPD        X12, X4, X4
	VPERMILPD     $1, X4, X12
	VADDSD        X12, X4, X4
	VMOVSD        X4, 32(DI)

	VEXTRACTF64X4 $1, Z5, Y12
	VADDPD        Y12, Y5, Y5
	VEXTRACTF128  $1, Y5, X12
	VADDPD        X12, X5, X5
	VPERMILPD     $1, X5, X12
	VADDSD        X12, X5, X5
	VMOVSD        X5, 40(DI)

	VEXTRACTF64X4 $1, Z6, Y12
	VADDPD        Y12, Y6, Y6
	VEXTRACTF128  $1, Y6, X12
	VADDPD        X12, X6, X6
	VPERMILPD     $1, X6, X12
	VADDSD        X12, X6, X6
	VMOVSD        X6, 48(DI)

	VEXTRACTF64X4 $1, Z7, Y12
	VADDPD        Y12, Y7, Y7
	VEXTRACTF128  $1, Y7, X12
	VADDPD        X12, X7, X7
	VPERMILPD     $1, X7, X12
	VADDSD        X12, X7, X7
	VMOVSD        X7, 56(DI)

	VZEROUPPER
	RET
