//go:build !purego

// NEON micro-kernel for arm64, written by hand (the Go assembler has no
// vector FADD, FMUL or FMAX, so those few are emitted as WORDs through the
// macros below, each with its A64 mnemonic).
//
// Tile: 8 rows × 12 columns. The 24 accumulators are V0-V23, row i in
// V(3i), V(3i+1), V(3i+2) (columns 0-3, 4-7, 8-11). Each k step loads one
// 12-wide row of the B strip into V24-V26 and replicates A[i,p] into
// V27/V28 (alternating, so a load can run ahead of the FMAs).

#include "textflag.h"

// Vd.4S = Vn.4S + Vm.4S                     (FADD Vd.4S, Vn.4S, Vm.4S)
#define FADD4S(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
// Vd.4S = Vn.4S * Vm.4S                     (FMUL Vd.4S, Vn.4S, Vm.4S)
#define FMUL4S(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))
// Vd.4S = max(Vn.4S, Vm.4S), NaN if either is NaN (FMAX Vd.4S, Vn.4S, Vm.4S)
#define FMAX4S(m, n, d) WORD $(0x4E20F400 | (m)<<16 | (n)<<5 | (d))
// Vd.4S = pairwise sums of Vn:Vm            (FADDP Vd.4S, Vn.4S, Vm.4S)
#define FADDP4S(m, n, d) WORD $(0x6E20D400 | (m)<<16 | (n)<<5 | (d))
// Sd = Vn.S[0] + Vn.S[1]                    (FADDP Sd, Vn.2S)
#define FADDP2S(n, d) WORD $(0x7E30D800 | (n)<<5 | (d))

// func sgemmKernel8x12NEON(np, k int, a *float32, pstride int, b, c *float32, ldc int, flags uintptr, bias, gain, rowsum *float32)
TEXT ·sgemmKernel8x12NEON(SB), NOSPLIT, $0-88
	MOVD np+0(FP), R0
	MOVD a+16(FP), R1       // A micro-panel of this tile
	MOVD pstride+24(FP), R2
	LSL  $2, R2, R2         // panel stride in bytes
	MOVD c+40(FP), R3       // top-left of this tile of C
	MOVD ldc+48(FP), R4
	LSL  $2, R4, R4         // row stride of C in bytes
	MOVD flags+56(FP), R5
	MOVD bias+64(FP), R6
	MOVD gain+72(FP), R7
	MOVD rowsum+80(FP), R8
	CMP  $0, R0
	BLE  done
	MOVW $0x3f800000, R9    // float32(1)
	VDUP R9, V31.S4         // V31 = 1, 1, 1, 1 (for 1+gain)

panel:
	MOVD R1, R10            // A pointer
	MOVD b+32(FP), R11      // B pointer
	MOVD k+8(FP), R12       // k steps left

	// Clear the accumulators.
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16
	VEOR V4.B16, V4.B16, V4.B16
	VEOR V5.B16, V5.B16, V5.B16
	VEOR V6.B16, V6.B16, V6.B16
	VEOR V7.B16, V7.B16, V7.B16
	VEOR V8.B16, V8.B16, V8.B16
	VEOR V9.B16, V9.B16, V9.B16
	VEOR V10.B16, V10.B16, V10.B16
	VEOR V11.B16, V11.B16, V11.B16
	VEOR V12.B16, V12.B16, V12.B16
	VEOR V13.B16, V13.B16, V13.B16
	VEOR V14.B16, V14.B16, V14.B16
	VEOR V15.B16, V15.B16, V15.B16
	VEOR V16.B16, V16.B16, V16.B16
	VEOR V17.B16, V17.B16, V17.B16
	VEOR V18.B16, V18.B16, V18.B16
	VEOR V19.B16, V19.B16, V19.B16
	VEOR V20.B16, V20.B16, V20.B16
	VEOR V21.B16, V21.B16, V21.B16
	VEOR V22.B16, V22.B16, V22.B16
	VEOR V23.B16, V23.B16, V23.B16
	CBZ  R12, epilogue

loop:
	// acc[i][v] += A[i,p] * B[p, 4v..4v+3] for the 8 rows i.
	VLD1.P 48(R11), [V24.S4, V25.S4, V26.S4]
	VLD1R.P 4(R10), [V27.S4]
	VFMLA V24.S4, V27.S4, V0.S4
	VFMLA V25.S4, V27.S4, V1.S4
	VFMLA V26.S4, V27.S4, V2.S4
	VLD1R.P 4(R10), [V28.S4]
	VFMLA V24.S4, V28.S4, V3.S4
	VFMLA V25.S4, V28.S4, V4.S4
	VFMLA V26.S4, V28.S4, V5.S4
	VLD1R.P 4(R10), [V27.S4]
	VFMLA V24.S4, V27.S4, V6.S4
	VFMLA V25.S4, V27.S4, V7.S4
	VFMLA V26.S4, V27.S4, V8.S4
	VLD1R.P 4(R10), [V28.S4]
	VFMLA V24.S4, V28.S4, V9.S4
	VFMLA V25.S4, V28.S4, V10.S4
	VFMLA V26.S4, V28.S4, V11.S4
	VLD1R.P 4(R10), [V27.S4]
	VFMLA V24.S4, V27.S4, V12.S4
	VFMLA V25.S4, V27.S4, V13.S4
	VFMLA V26.S4, V27.S4, V14.S4
	VLD1R.P 4(R10), [V28.S4]
	VFMLA V24.S4, V28.S4, V15.S4
	VFMLA V25.S4, V28.S4, V16.S4
	VFMLA V26.S4, V28.S4, V17.S4
	VLD1R.P 4(R10), [V27.S4]
	VFMLA V24.S4, V27.S4, V18.S4
	VFMLA V25.S4, V27.S4, V19.S4
	VFMLA V26.S4, V27.S4, V20.S4
	VLD1R.P 4(R10), [V28.S4]
	VFMLA V24.S4, V28.S4, V21.S4
	VFMLA V25.S4, V28.S4, V22.S4
	VFMLA V26.S4, V28.S4, V23.S4
	SUBS $1, R12, R12
	BNE  loop

epilogue:
	// kAcc (bit 0): acc += C.
	TBZ  $0, R5, nacc
	MOVD R3, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 0, 0)
	FADD4S(25, 1, 1)
	FADD4S(26, 2, 2)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 3, 3)
	FADD4S(25, 4, 4)
	FADD4S(26, 5, 5)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 6, 6)
	FADD4S(25, 7, 7)
	FADD4S(26, 8, 8)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 9, 9)
	FADD4S(25, 10, 10)
	FADD4S(26, 11, 11)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 12, 12)
	FADD4S(25, 13, 13)
	FADD4S(26, 14, 14)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 15, 15)
	FADD4S(25, 16, 16)
	FADD4S(26, 17, 17)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 18, 18)
	FADD4S(25, 19, 19)
	FADD4S(26, 20, 20)
	ADD  R4, R13, R13
	VLD1 (R13), [V24.S4, V25.S4, V26.S4]
	FADD4S(24, 21, 21)
	FADD4S(25, 22, 22)
	FADD4S(26, 23, 23)
	ADD  R4, R13, R13

nacc:
	// kBias (bit 1): acc += bias[i].
	TBZ  $1, R5, nbias
	MOVD R6, R13
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 0, 0)
	FADD4S(24, 1, 1)
	FADD4S(24, 2, 2)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 3, 3)
	FADD4S(24, 4, 4)
	FADD4S(24, 5, 5)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 6, 6)
	FADD4S(24, 7, 7)
	FADD4S(24, 8, 8)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 9, 9)
	FADD4S(24, 10, 10)
	FADD4S(24, 11, 11)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 12, 12)
	FADD4S(24, 13, 13)
	FADD4S(24, 14, 14)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 15, 15)
	FADD4S(24, 16, 16)
	FADD4S(24, 17, 17)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 18, 18)
	FADD4S(24, 19, 19)
	FADD4S(24, 20, 20)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(24, 21, 21)
	FADD4S(24, 22, 22)
	FADD4S(24, 23, 23)

nbias:
	// kReLU (bit 2): acc = max(acc, 0); FMAX keeps NaN.
	TBZ  $2, R5, nrelu
	VEOR V24.B16, V24.B16, V24.B16
	FMAX4S(24, 0, 0)
	FMAX4S(24, 1, 1)
	FMAX4S(24, 2, 2)
	FMAX4S(24, 3, 3)
	FMAX4S(24, 4, 4)
	FMAX4S(24, 5, 5)
	FMAX4S(24, 6, 6)
	FMAX4S(24, 7, 7)
	FMAX4S(24, 8, 8)
	FMAX4S(24, 9, 9)
	FMAX4S(24, 10, 10)
	FMAX4S(24, 11, 11)
	FMAX4S(24, 12, 12)
	FMAX4S(24, 13, 13)
	FMAX4S(24, 14, 14)
	FMAX4S(24, 15, 15)
	FMAX4S(24, 16, 16)
	FMAX4S(24, 17, 17)
	FMAX4S(24, 18, 18)
	FMAX4S(24, 19, 19)
	FMAX4S(24, 20, 20)
	FMAX4S(24, 21, 21)
	FMAX4S(24, 22, 22)
	FMAX4S(24, 23, 23)

nrelu:
	// kGain (bit 3): acc *= 1+gain[i].
	TBZ  $3, R5, ngain
	MOVD R7, R13
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 0, 0)
	FMUL4S(24, 1, 1)
	FMUL4S(24, 2, 2)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 3, 3)
	FMUL4S(24, 4, 4)
	FMUL4S(24, 5, 5)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 6, 6)
	FMUL4S(24, 7, 7)
	FMUL4S(24, 8, 8)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 9, 9)
	FMUL4S(24, 10, 10)
	FMUL4S(24, 11, 11)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 12, 12)
	FMUL4S(24, 13, 13)
	FMUL4S(24, 14, 14)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 15, 15)
	FMUL4S(24, 16, 16)
	FMUL4S(24, 17, 17)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 18, 18)
	FMUL4S(24, 19, 19)
	FMUL4S(24, 20, 20)
	VLD1R.P 4(R13), [V24.S4]
	FADD4S(31, 24, 24)
	FMUL4S(24, 21, 21)
	FMUL4S(24, 22, 22)
	FMUL4S(24, 23, 23)

ngain:
	// Store the tile; R13 ends one tile below, at the next panel's C.
	MOVD R3, R13
	VST1 [V0.S4, V1.S4, V2.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V3.S4, V4.S4, V5.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V6.S4, V7.S4, V8.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V9.S4, V10.S4, V11.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V12.S4, V13.S4, V14.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V15.S4, V16.S4, V17.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V18.S4, V19.S4, V20.S4], (R13)
	ADD  R4, R13, R13
	VST1 [V21.S4, V22.S4, V23.S4], (R13)
	ADD  R4, R13, R13

	// kRowSum (bit 4): rowsum[i] += the row's 12 values, summed pairwise.
	TBZ  $4, R5, nrowsum
	FADD4S(1, 0, 24)
	FADD4S(2, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 0(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 0(R8)
	FADD4S(4, 3, 24)
	FADD4S(5, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 4(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 4(R8)
	FADD4S(7, 6, 24)
	FADD4S(8, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 8(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 8(R8)
	FADD4S(10, 9, 24)
	FADD4S(11, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 12(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 12(R8)
	FADD4S(13, 12, 24)
	FADD4S(14, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 16(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 16(R8)
	FADD4S(16, 15, 24)
	FADD4S(17, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 20(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 20(R8)
	FADD4S(19, 18, 24)
	FADD4S(20, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 24(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 24(R8)
	FADD4S(22, 21, 24)
	FADD4S(23, 24, 24)
	FADDP4S(24, 24, 24)
	FADDP2S(24, 24)
	FMOVS 28(R8), F25
	FADDS F24, F25, F25
	FMOVS F25, 28(R8)

nrowsum:
	// Next panel: A moves pstride, C and the per-row vectors 8 rows.
	ADD  R2, R1, R1
	MOVD R13, R3
	ADD  $32, R6, R6
	ADD  $32, R7, R7
	ADD  $32, R8, R8
	SUBS $1, R0, R0
	BNE  panel

done:
	RET
