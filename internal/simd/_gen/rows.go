package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// rowsUnroll is how many k steps one trip of the rows kernel's loop does:
// 16 steps consume one cache line of each of the six A rows.
const rowsUnroll = 16

// rowsPrefetch is how far ahead (bytes) the rows kernel prefetches each A
// row: eight lines, about 130 k steps or 800 cycles, a DRAM latency.
const rowsPrefetch = 0

// rowsKernel6x16 emits the AVX2 kernel for products whose left operand is
// read in place, row-major, instead of packed: a weight matrix that is
// streamed once per call (a fully connected layer on a small batch), where
// packing it would cost as much as the multiplication.
func rowsKernel6x16() {
	TEXT("sgemmRows6x16AVX2", NOSPLIT, "func(np, k int, a *float32, lda int, b, c *float32, ldc int, flags uintptr)")
	Doc(
		"sgemmRows6x16AVX2 computes np tiles of 6×16 stacked down a column of C,",
		"with A read in place (row stride lda) and b one packed strip k×16:",
		"",
		"\tfor r := 0; r < 6*np; r++ {",
		"\t\tfor j := 0; j < 16; j++ {",
		"\t\t\tvar s float32",
		"\t\t\tfor p := 0; p < k; p++ {",
		"\t\t\t\ts += a[r*lda+p] * b[p*16+j]",
		"\t\t\t}",
		"\t\t\tif flags&kAcc != 0 { s += c[r*ldc+j] }",
		"\t\t\tc[r*ldc+j] = s",
		"\t\t}",
		"\t}",
		"",
		"Only kAcc is honoured. The products use FMA. The Go reference is",
		"sgemmRowsGo.",
	)
	np := Load(Param("np"), GP64())
	aBase := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	cBase := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flags := Load(Param("flags"), GP64())
	// Accumulators Y0..Y11 (row i in Y2i, Y2i+1), B in Y12, Y13, A
	// broadcasts in Y14, Y15.
	acc := func(i, v int) VecPhysical { return ymm[2*i+v] }
	b0, b1 := Y12, Y13
	aReg := func(i int) VecPhysical { return ymm[14+i%2] }

	TESTQ(np, np)
	JLE(LabelRef("done"))
	Label("panel")
	a0, a3, bp, kk := GP64(), GP64(), GP64(), GP64()
	MOVQ(aBase, a0)
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, a3)
	ADDQ(aBase, a3) // a3 = row 3
	Load(Param("b"), bp)
	Load(Param("k"), kk)
	for i := 0; i < 12; i++ {
		VXORPS(ymm[i], ymm[i], ymm[i])
	}
	// Row i at disp d: rows 0, 1, 2, 4 from a0 (index lda×0,1,2,4), rows
	// 3 and 5 from a3 (index 0 and lda×2).
	row := func(i, d int) Mem {
		switch i {
		case 0:
			return Mem{Base: a0, Disp: d}
		case 1:
			return Mem{Base: a0, Index: lda, Scale: 1, Disp: d}
		case 2:
			return Mem{Base: a0, Index: lda, Scale: 2, Disp: d}
		case 3:
			return Mem{Base: a3, Disp: d}
		case 4:
			return Mem{Base: a0, Index: lda, Scale: 4, Disp: d}
		default:
			return Mem{Base: a3, Index: lda, Scale: 2, Disp: d}
		}
	}
	step := func(u int) {
		VMOVUPS(Mem{Base: bp, Disp: 64 * u}, b0)
		VMOVUPS(Mem{Base: bp, Disp: 64*u + 32}, b1)
		for i := 0; i < 6; i++ {
			VBROADCASTSS(row(i, 4*u), aReg(i))
			VFMADD231PS(b0, aReg(i), acc(i, 0))
			VFMADD231PS(b1, aReg(i), acc(i, 1))
		}
	}

	// One trip: prefetch (while the prefetched lines are still inside
	// this call's k range), then rowsUnroll steps.
	trip := func(loop string, prefetch bool) {
		Label(loop)
		if prefetch && rowsPrefetch > 0 {
			for i := 0; i < 6; i++ {
				PREFETCHT0(row(i, rowsPrefetch))
			}
		}
		for u := 0; u < rowsUnroll; u++ {
			step(u)
		}
		ADDQ(U8(4*rowsUnroll), a0)
		ADDQ(U8(4*rowsUnroll), a3)
		ADDQ(U32(64*rowsUnroll), bp)
		SUBQ(U8(rowsUnroll), kk)
	}
	CMPQ(kk, U32(rowsUnroll+rowsPrefetch/4))
	JL(LabelRef("last"))
	trip("loop", true)
	CMPQ(kk, U32(rowsUnroll+rowsPrefetch/4))
	JGE(LabelRef("loop"))
	Label("last")
	CMPQ(kk, U8(rowsUnroll))
	JL(LabelRef("tail"))
	trip("lastloop", false)
	CMPQ(kk, U8(rowsUnroll))
	JGE(LabelRef("lastloop"))

	Label("tail")
	TESTQ(kk, kk)
	JE(LabelRef("store"))
	Label("tailloop")
	step(0)
	ADDQ(U8(4), a0)
	ADDQ(U8(4), a3)
	ADDQ(U8(64), bp)
	DECQ(kk)
	JNE(LabelRef("tailloop"))

	Label("store")
	crow := GP64()
	MOVQ(cBase, crow)
	TESTQ(U32(kAcc), flags)
	JE(LabelRef("nacc"))
	for i := 0; i < 6; i++ {
		VADDPS(Mem{Base: crow}, acc(i, 0), acc(i, 0))
		VADDPS(Mem{Base: crow, Disp: 32}, acc(i, 1), acc(i, 1))
		ADDQ(ldc, crow)
	}
	MOVQ(cBase, crow)
	Label("nacc")
	for i := 0; i < 6; i++ {
		VMOVUPS(acc(i, 0), Mem{Base: crow})
		VMOVUPS(acc(i, 1), Mem{Base: crow, Disp: 32})
		ADDQ(ldc, crow)
	}
	// Next tile: A and C move six rows.
	MOVQ(crow, cBase)
	LEAQ(Mem{Base: lda, Index: lda, Scale: 2}, a0)
	LEAQ(Mem{Base: aBase, Index: a0, Scale: 2}, aBase)
	DECQ(np)
	JNE(LabelRef("panel"))

	Label("done")
	VZEROUPPER()
	RET()
}
