package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// nanMax sets a = max(a, b) with NaN winning from either side, as
// PyTorch's pooling: VMAXPS returns its second (Intel) source when either
// is NaN, so b's NaN passes, and a blend restores a's.
func nanMax(a, b VecVirtual) {
	r, u := YMM(), YMM()
	VMAXPS(b, a, r) // Intel max(a, b): b if either is NaN
	VCMPPS(U8(3), a, a, u)
	VBLENDVPS(u, a, r, a) // a where a is NaN, else r
}

// maxRows emits maxRowsAVX2.
func maxRows() {
	TEXT("maxRowsAVX2", NOSPLIT, "func(dst, src *float32, n int)")
	Doc(
		"maxRowsAVX2 sets dst[x] = max(dst[x], src[x]) for x < n, a multiple of",
		"8, with NaN winning (the Go reference is maxRowsGo).",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("maxrows_done"))
	Label("maxrows_loop")
	a, b := YMM(), YMM()
	VMOVUPS(Mem{Base: dst}, a)
	VMOVUPS(Mem{Base: src}, b)
	nanMax(a, b)
	VMOVUPS(a, Mem{Base: dst})
	ADDQ(U32(32), dst)
	ADDQ(U32(32), src)
	DECQ(n)
	JNZ(LabelRef("maxrows_loop"))
	Label("maxrows_done")
	VZEROUPPER()
	RET()
}

// pairMax returns the maxima of the pairs (x[2j], x[2j+1]) of the 16
// values lo:hi, in-lane: [p0 p1 p4 p5 | p2 p3 p6 p7], which VPERMPD 0xd8
// puts in order.
func pairMax(lo, hi VecVirtual) VecVirtual {
	e, o := YMM(), YMM()
	VSHUFPS(U8(0x88), hi, lo, e)
	VSHUFPS(U8(0xdd), hi, lo, o)
	nanMax(e, o)
	return e
}

// evens returns the even elements x[2j] of the 16 values lo:hi, in the
// in-lane order of pairMax.
func evens(lo, hi VecVirtual) VecVirtual {
	e := YMM()
	VSHUFPS(U8(0x88), hi, lo, e)
	return e
}

// maxWindows2 emits maxWindows2AVX2: windows of k = 2 or 3 at stride 2.
func maxWindows2() {
	TEXT("maxWindows2AVX2", NOSPLIT, "func(dst, col *float32, n, k int)")
	Doc(
		"maxWindows2AVX2 sets dst[j] = max(col[2j : 2j+k]) for j < n, a multiple",
		"of 8, and k = 2 or 3, with NaN winning (the Go reference is",
		"maxWindowsGo). It reads col[:2n+k-1] (rounded up to a vector).",
	)
	dst := Load(Param("dst"), GP64())
	col := Load(Param("col"), GP64())
	n := Load(Param("n"), GP64())
	k := Load(Param("k"), GP64())
	SHRQ(U8(3), n)
	JZ(LabelRef("maxwin_done"))
	Label("maxwin_loop")
	lo, hi := YMM(), YMM()
	VMOVUPS(Mem{Base: col}, lo)
	VMOVUPS(Mem{Base: col}.Offset(32), hi)
	e := pairMax(lo, hi)
	CMPQ(k, U8(3))
	JNE(LabelRef("maxwin_store"))
	// Third element of each window: the evens of col[2:].
	VMOVUPS(Mem{Base: col}.Offset(8), lo)
	VMOVUPS(Mem{Base: col}.Offset(40), hi)
	nanMax(e, evens(lo, hi))
	Label("maxwin_store")
	VPERMPD(U8(0xd8), e, e)
	VMOVUPS(e, Mem{Base: dst})
	ADDQ(U32(32), dst)
	ADDQ(U32(64), col)
	DECQ(n)
	JNZ(LabelRef("maxwin_loop"))
	Label("maxwin_done")
	VZEROUPPER()
	RET()
}

// maxPool2Rows emits maxPool2RowsAVX2: one output row of a k×k window
// (k = 2 or 3) at stride 2, from the k input rows in place.
func maxPool2Rows() {
	TEXT("maxPool2RowsAVX2", NOSPLIT, "func(dst, src *float32, ld, n, k int)")
	Doc(
		"maxPool2RowsAVX2 sets dst[j] to the maximum of src[r·ld + 2j + c] over",
		"r, c < k for j < n, a multiple of 8, and k = 2 or 3, with NaN winning",
		"(the Go reference is maxPool2RowsGo). From each of the k rows it",
		"reads 2n+2 values (2n for k = 2), rounded up to a vector.",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	ld := Load(Param("ld"), GP64())
	n := Load(Param("n"), GP64())
	k := Load(Param("k"), GP64())
	SHLQ(U8(2), ld)
	src2 := GP64() // the row two below src (k = 3)
	LEAQ(Mem{Base: src, Index: ld, Scale: 2}, src2)
	SHRQ(U8(3), n)
	JZ(LabelRef("mp2_done"))
	Label("mp2_loop")
	// The rows stream from memory on VGG's first pool (205 MB): fetch
	// ahead in each.
	PREFETCHT0(Mem{Base: src}.Offset(512))
	PREFETCHT0(Mem{Base: src, Index: ld, Scale: 1}.Offset(512))
	// colMax loads 16 values at byte offset off of the first row into lo
	// and hi and takes their maxima with the second row's and the
	// third's; with a label, the third row is skipped (to the label)
	// unless k = 3.
	colMax := func(off int, label string) (lo, hi VecVirtual) {
		lo, hi = YMM(), YMM()
		VMOVUPS(Mem{Base: src}.Offset(off), lo)
		VMOVUPS(Mem{Base: src}.Offset(off+32), hi)
		for r, row := range []Mem{{Base: src, Index: ld, Scale: 1}, {Base: src2}} {
			if r == 1 && label != "" {
				CMPQ(k, U8(3))
				JNE(LabelRef(label))
			}
			b, c := YMM(), YMM()
			VMOVUPS(row.Offset(off), b)
			VMOVUPS(row.Offset(off+32), c)
			nanMax(lo, b)
			nanMax(hi, c)
		}
		if label != "" {
			Label(label)
		}
		return lo, hi
	}
	e := pairMax(colMax(0, "mp2_cols"))
	CMPQ(k, U8(3))
	JNE(LabelRef("mp2_store"))
	// Third column of each window (k = 3): the even columns from two on.
	nanMax(e, evens(colMax(8, "")))
	Label("mp2_store")
	VPERMPD(U8(0xd8), e, e)
	VMOVUPS(e, Mem{Base: dst})
	ADDQ(U32(32), dst)
	ADDQ(U32(64), src)
	ADDQ(U32(64), src2)
	DECQ(n)
	JNZ(LabelRef("mp2_loop"))
	Label("mp2_done")
	VZEROUPPER()
	RET()
}

// scaleReLU emits scaleReLUAVX2.
func scaleReLU() {
	TEXT("scaleReLUAVX2", NOSPLIT, "func(dst, src *float32, n int, scale float32)")
	Doc(
		"scaleReLUAVX2 sets dst[x] = scale·max(0, src[x]) for x < n, a multiple",
		"of 32, with NaN staying NaN (the Go reference is scaleReLUGo).",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("n"), GP64())
	s := YMM()
	VBROADCASTSS(Load(Param("scale"), XMM()), s)
	zero := YMM()
	VXORPS(zero, zero, zero)
	SHRQ(U8(5), n)
	JZ(LabelRef("relu_done"))
	Label("relu_loop")
	for k := 0; k < 4; k++ {
		x := YMM()
		VMOVUPS(Mem{Base: src}.Offset(32*k), x)
		VMAXPS(x, zero, x) // Intel max(0, x): x if it is NaN (or −0)
		VMULPS(s, x, x)
		VMOVUPS(x, Mem{Base: dst}.Offset(32*k))
	}
	ADDQ(U32(128), dst)
	ADDQ(U32(128), src)
	DECQ(n)
	JNZ(LabelRef("relu_loop"))
	Label("relu_done")
	VZEROUPPER()
	RET()
}

// copyRows emits copyRowsAVX2.
func copyRows() {
	TEXT("copyRowsAVX2", NOSPLIT, "func(dst *float32, dstride int, src *float32, sstride, rows, width int)")
	Doc(
		"copyRowsAVX2 copies rows rows of width floats, width ≥ 8, from src",
		"(row stride sstride) to dst (row stride dstride), as copyRowsGo: eight",
		"floats at a time, the last eight of a row overlapping the ones before.",
	)
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("sstride"), GP64())
	rows := Load(Param("rows"), GP64())
	w := Load(Param("width"), GP64())
	SHLQ(U8(2), ds)
	SHLQ(U8(2), ss)
	SHLQ(U8(2), w)
	last := GP64() // byte offset of a row's last eight floats
	MOVQ(w, last)
	SUBQ(U8(32), last)
	TESTQ(rows, rows)
	JZ(LabelRef("copyrows_done"))
	Label("copyrows_row")
	off := GP64()
	XORQ(off, off)
	CMPQ(off, last)
	JGE(LabelRef("copyrows_tail"))
	Label("copyrows_vec")
	x := YMM()
	VMOVUPS(Mem{Base: src, Index: off, Scale: 1}, x)
	VMOVUPS(x, Mem{Base: dst, Index: off, Scale: 1})
	ADDQ(U8(32), off)
	CMPQ(off, last)
	JL(LabelRef("copyrows_vec"))
	Label("copyrows_tail")
	y := YMM()
	VMOVUPS(Mem{Base: src, Index: last, Scale: 1}, y)
	VMOVUPS(y, Mem{Base: dst, Index: last, Scale: 1})
	ADDQ(ds, dst)
	ADDQ(ss, src)
	DECQ(rows)
	JNZ(LabelRef("copyrows_row"))
	Label("copyrows_done")
	VZEROUPPER()
	RET()
}
