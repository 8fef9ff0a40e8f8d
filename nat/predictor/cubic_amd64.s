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
