// Command _gen writes the amd64 SGEMM micro-kernels of package simd with avo.
//
// Run it from this directory (go generate in the parent does the same):
//
//	go run . -out ../gemm_amd64.s -stubs ../gemm_amd64.go -pkg simd
//
// Both kernels come from one function, gemmKernel, parameterised by the tile
// (MR rows × NR columns), the vector register file and the width of a
// vector. The AVX-512 kernel therefore shares every line of logic with the
// AVX2 one, which matters because the AVX2 kernel is the one that CI
// machines without AVX-512 can execute.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Epilogue flags. They must match the k* constants in ../kernel.go.
const (
	kAcc    = 1 << iota // C += A·B (else C = A·B)
	kBias               // add bias[i]
	kReLU               // max(0, ·), NaN stays NaN
	kGain               // multiply by 1+gain[i]
	kRowSum             // rowsum[i] += Σ_j C[i,j]
)

// unroll is how many k steps one trip of the main loop does.
const unroll = 4

type spec struct {
	name   string
	mr     int // rows of the tile (A micro-panel height)
	nv     int // vectors per tile row
	lanes  int // float32 lanes per vector
	avx512 bool
}

func (s spec) nr() int { return s.nv * s.lanes }

// vec returns the vector register numbered i in the spec's register file.
func (s spec) vec(i int) VecPhysical {
	if s.avx512 {
		return zmm[i]
	}
	return ymm[i]
}

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

var (
	ymmOf = map[VecPhysical]VecPhysical{}
	xmmOf = map[VecPhysical]VecPhysical{}
)

func init() {
	xs := []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
		X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}
	ys := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15,
		Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}
	for i := range xs {
		ymmOf[zmm[i]] = ys[i]
		ymmOf[ys[i]] = ys[i]
		xmmOf[zmm[i]] = xs[i]
		xmmOf[ys[i]] = xs[i]
	}
}

func main() {
	ConstraintExpr("!purego")
	one := ConstData("one", U32(0x3f800000)) // float32(1)
	gemmKernel(spec{name: "sgemmKernel6x16AVX2", mr: 6, nv: 2, lanes: 8}, one)
	gemmKernel(spec{name: "sgemmKernel16x16AVX512", mr: 16, nv: 1, lanes: 16, avx512: true}, one)
	packStrips16()
	prefetchRows()
	packTrans16()
	rowsKernel6x16()
	wgInput8(false)
	wgInput8(true)
	wgOutput8()
	wgInput8x8()
	wgOutput8x8()
	maxRows()
	maxWindows2()
	maxPool2Rows()
	scaleReLU()
	copyRows()
	Generate()
}

const signature = "func(np, k int, a *float32, pstride int, b, c *float32, ldc int, flags uintptr, bias, gain, rowsum *float32)"

func gemmKernel(s spec, one Mem) {
	mr, nr, nv, lanes := s.mr, s.nr(), s.nv, s.lanes
	// How far ahead the loop prefetches A: about 48 k steps (300-800
	// cycles, a DRAM latency) but at most 24 lines, a whole number of lines.
	aDist := min((48*mr*4+63)&^63, 24*64)
	TEXT(s.name, NOSPLIT, signature)
	Doc(
		fmt.Sprintf("%s computes np tiles of %d×%d stacked down a column of C:", s.name, mr, nr),
		"",
		"\tfor q := 0; q < np; q++ {",
		fmt.Sprintf("\t\tfor i := 0; i < %d; i++ {", mr),
		fmt.Sprintf("\t\t\tr := q*%d + i", mr),
		fmt.Sprintf("\t\t\tfor j := 0; j < %d; j++ {", nr),
		"\t\t\t\tvar s float32",
		"\t\t\t\tfor p := 0; p < k; p++ {",
		fmt.Sprintf("\t\t\t\t\ts += a[q*pstride+p*%d+i] * b[p*%d+j]", mr, nr),
		"\t\t\t\t}",
		"\t\t\t\tif flags&kAcc != 0 { s += c[r*ldc+j] }",
		"\t\t\t\tif flags&kBias != 0 { s += bias[r] }",
		"\t\t\t\tif flags&kReLU != 0 && s < 0 { s = 0 } // NaN stays NaN",
		"\t\t\t\tif flags&kGain != 0 { s *= 1 + gain[r] }",
		"\t\t\t\tc[r*ldc+j] = s",
		"\t\t\t\tif flags&kRowSum != 0 { rowsum[r] += s } // summed pairwise here",
		"\t\t\t}",
		"\t\t}",
		"\t}",
		"",
		fmt.Sprintf("a holds np micro-panels pstride floats apart, each k×%d; b is one strip", mr),
		fmt.Sprintf("k×%d. ldc and pstride count float32s. The products use FMA. The Go", nr),
		"reference with the same arguments is sgemmKernelGo.",
	)

	np := Load(Param("np"), GP64())
	aBase := Load(Param("a"), GP64())
	pstride := Load(Param("pstride"), GP64())
	SHLQ(U8(2), pstride)
	cBase := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	flags := Load(Param("flags"), GP64())
	bias := Load(Param("bias"), GP64())
	gain := Load(Param("gain"), GP64())
	rowsum := Load(Param("rowsum"), GP64())

	// Vector registers: accumulators first, then B loads, then A
	// broadcasts (AVX2 only; AVX-512 broadcasts from memory inside the FMA).
	acc := func(i, v int) VecPhysical { return s.vec(i*nv + v) }
	nacc := mr * nv
	bReg := func(u, v int) VecPhysical {
		if s.avx512 {
			return s.vec(nacc + (u%2)*nv + v)
		}
		return s.vec(nacc + v)
	}
	aReg := func(i int) VecPhysical { return s.vec(nacc + nv + i%2) }
	// Scratch registers for the epilogue (the loop's B/A registers are
	// dead by then).
	t0, t1 := s.vec(nacc), s.vec(nacc+1)
	t2 := s.vec(nacc + 2)

	TESTQ(np, np)
	JLE(LabelRef("done"))

	Label("panel")
	ap := GP64()
	bp := GP64()
	kk := GP64()
	MOVQ(aBase, ap)
	Load(Param("b"), bp)
	Load(Param("k"), kk)

	Comment("Zero the accumulators and prefetch this tile of C.")
	for i := 0; i < nacc; i++ {
		zero(s, s.vec(i))
	}
	crow := GP64()
	// The start of the next panel (the in-loop prefetches below cover
	// the rest): for N ≤ NR products A streams from memory panel by panel.
	MOVQ(aBase, crow)
	ADDQ(pstride, crow)
	for d := 0; d < aDist; d += 64 {
		PREFETCHT0(Mem{Base: crow, Disp: d})
	}
	MOVQ(cBase, crow)
	for i := 0; i < mr; i++ {
		PREFETCHT0(Mem{Base: crow})
		PREFETCHT0(Mem{Base: crow, Disp: 4*nr - 1})
		ADDQ(ldc, crow)
	}

	Comment(fmt.Sprintf("Main loop: %d k steps per trip.", unroll))
	CMPQ(kk, U8(unroll))
	JL(LabelRef("tail"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(s, u, Mem{Base: ap}, Mem{Base: bp}, acc, bReg, aReg)
	}
	// Prefetch A (from L2, or memory) aDist ahead, and B 2 KiB ahead:
	// for the first panel of a column the strip comes from L3 (after that
	// it is in L1 and these are cheap). One prefetch per line consumed.
	for d := 0; d < unroll*mr*4; d += 64 {
		PREFETCHT0(Mem{Base: ap, Disp: aDist + d})
	}
	for d := 0; d < unroll*nr*4; d += 64 {
		PREFETCHT0(Mem{Base: bp, Disp: 2048 + d})
	}
	ADDQ(U32(unroll*mr*4), ap)
	ADDQ(U32(unroll*nr*4), bp)
	SUBQ(U8(unroll), kk)
	CMPQ(kk, U8(unroll))
	JGE(LabelRef("loop"))

	Label("tail")
	TESTQ(kk, kk)
	JE(LabelRef("epilogue"))
	Label("tailloop")
	step(s, 0, Mem{Base: ap}, Mem{Base: bp}, acc, bReg, aReg)
	ADDQ(U32(mr*4), ap)
	ADDQ(U32(nr*4), bp)
	DECQ(kk)
	JNE(LabelRef("tailloop"))

	Label("epilogue")
	Comment("C += acc")
	TESTQ(U32(kAcc), flags)
	JE(LabelRef("nacc"))
	MOVQ(cBase, crow)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VADDPS(Mem{Base: crow, Disp: 4 * lanes * v}, acc(i, v), acc(i, v))
		}
		ADDQ(ldc, crow)
	}
	Label("nacc")

	Comment("+= bias[i]")
	TESTQ(U32(kBias), flags)
	JE(LabelRef("nbias"))
	for i := 0; i < mr; i++ {
		VBROADCASTSS(Mem{Base: bias, Disp: 4 * i}, t0)
		for v := 0; v < nv; v++ {
			VADDPS(t0, acc(i, v), acc(i, v))
		}
	}
	Label("nbias")

	Comment("ReLU: VMAXPS returns its second (Intel) source when either is NaN,")
	Comment("so with the accumulator there NaN stays NaN.")
	TESTQ(U32(kReLU), flags)
	JE(LabelRef("nrelu"))
	zero(s, t1)
	for i := 0; i < nacc; i++ {
		VMAXPS(s.vec(i), t1, s.vec(i))
	}
	Label("nrelu")

	Comment("*= 1+gain[i]")
	TESTQ(U32(kGain), flags)
	JE(LabelRef("ngain"))
	VBROADCASTSS(one, t1)
	for i := 0; i < mr; i++ {
		VBROADCASTSS(Mem{Base: gain, Disp: 4 * i}, t0)
		VADDPS(t1, t0, t0)
		for v := 0; v < nv; v++ {
			VMULPS(t0, acc(i, v), acc(i, v))
		}
	}
	Label("ngain")

	Comment("Store the tile.")
	MOVQ(cBase, crow)
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(acc(i, v), Mem{Base: crow, Disp: 4 * lanes * v})
		}
		ADDQ(ldc, crow)
	}

	Comment("rowsum[i] += the row's sum, reduced pairwise across lanes.")
	TESTQ(U32(kRowSum), flags)
	JE(LabelRef("nrowsum"))
	for i := 0; i < mr; i++ {
		// Fold the row into one 256-bit vector in t0.
		var y VecPhysical
		switch {
		case s.avx512:
			VEXTRACTF64X4(U8(1), acc(i, 0), ymmOf[t0])
			VADDPS(ymmOf[t0], ymmOf[acc(i, 0)], ymmOf[t0])
			y = ymmOf[t0]
		case nv == 2:
			VADDPS(acc(i, 1), acc(i, 0), t0)
			y = t0
		default:
			panic("unsupported tile")
		}
		x0, x1 := xmmOf[y], xmmOf[t2]
		if s.avx512 {
			VEXTRACTF32X4(U8(1), y, x1)
		} else {
			VEXTRACTF128(U8(1), y, x1)
		}
		VADDPS(x1, x0, x0)
		VMOVHLPS(x0, x0, x1)
		VADDPS(x1, x0, x0)
		VMOVSHDUP(x0, x1)
		VADDSS(x1, x0, x0)
		VADDSS(Mem{Base: rowsum, Disp: 4 * i}, x0, x0)
		VMOVSS(x0, Mem{Base: rowsum, Disp: 4 * i})
	}
	Label("nrowsum")

	Comment("Next panel: A moves pstride, C and the per-row vectors MR rows.")
	ADDQ(pstride, aBase)
	MOVQ(crow, cBase) // crow = c + MR*ldc after the store loop
	ADDQ(U32(4*mr), bias)
	ADDQ(U32(4*mr), gain)
	ADDQ(U32(4*mr), rowsum)
	DECQ(np)
	JNE(LabelRef("panel"))

	Label("done")
	VZEROUPPER()
	RET()
}

// zero clears v.
func zero(s spec, v VecPhysical) {
	if s.avx512 {
		VPXORD(v, v, v)
	} else {
		VXORPS(v, v, v)
	}
}

// step emits one k step at unroll position u: acc[i][v] += A[i,p]*B[p,v].
func step(s spec, u int, a, b Mem, acc func(i, v int) VecPhysical, bReg func(u, v int) VecPhysical, aReg func(i int) VecPhysical) {
	mr, nv, lanes := s.mr, s.nv, s.lanes
	for v := 0; v < nv; v++ {
		VMOVUPS(b.Offset(4*(u*s.nr()+lanes*v)), bReg(u, v))
	}
	for i := 0; i < mr; i++ {
		am := a.Offset(4 * (u*mr + i))
		if s.avx512 {
			for v := 0; v < nv; v++ {
				VFMADD231PS_BCST(am, bReg(u, v), acc(i, v))
			}
			continue
		}
		VBROADCASTSS(am, aReg(i))
		for v := 0; v < nv; v++ {
			VFMADD231PS(bReg(u, v), aReg(i), acc(i, v))
		}
	}
}

// packStrips16 emits the B packer for 16-wide strips with SSE moves, which
// every amd64 has: row by row through B (so the source streams in order),
// each row's 16-float pieces go to their strips.
func packStrips16() {
	TEXT("packStrips16", NOSPLIT, "func(dst, src *float32, kc, ld, strips int)")
	Doc(
		"packStrips16 copies kc rows of strips×16 floats of B into strips:",
		"",
		"\tfor p := 0; p < kc; p++ {",
		"\t\tfor s := 0; s < strips; s++ {",
		"\t\t\tcopy(dst[s*kc*16+p*16:][:16], src[p*ld+s*16:][:16])",
		"\t\t}",
		"\t}",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	kc := Load(Param("kc"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	strips := Load(Param("strips"), GP64())
	pfd := GP64() // prefetch distance: two rows of B ahead
	MOVQ(ld, pfd)
	SHLQ(U8(1), pfd)
	sstride := GP64() // bytes from one strip to the next: kc*64
	MOVQ(kc, sstride)
	SHLQ(U8(6), sstride)
	TESTQ(kc, kc)
	JLE(LabelRef("done"))
	TESTQ(strips, strips)
	JLE(LabelRef("done"))

	Label("row")
	s, d, n := GP64(), GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, d)
	MOVQ(strips, n)
	Label("strip")
	// B rows are far apart (ld), so each row restarts the hardware
	// prefetcher; fetching two rows ahead keeps DRAM busy.
	PREFETCHT0(Mem{Base: s, Index: pfd, Scale: 1})
	x := []VecPhysical{X0, X1, X2, X3}
	for i, r := range x {
		MOVUPS(Mem{Base: s, Disp: 16 * i}, r)
	}
	for i, r := range x {
		MOVUPS(r, Mem{Base: d, Disp: 16 * i})
	}
	ADDQ(U8(64), s)
	ADDQ(sstride, d)
	DECQ(n)
	JNE(LabelRef("strip"))
	ADDQ(ld, src)
	ADDQ(U8(64), dst)
	DECQ(kc)
	JNE(LabelRef("row"))
	Label("done")
	RET()
}

// prefetchRows emits a loop of PREFETCHT1 over a block of B's rows, which
// the driver spreads over the computation before those rows are packed.
func prefetchRows() {
	TEXT("prefetchRows", NOSPLIT, "func(p *float32, rows, ld, n int)")
	Doc(
		"prefetchRows asks for the cache lines of rows×n floats from p, row",
		"stride ld, to be brought into L2 (PREFETCHT1). It reads nothing.",
	)
	p := Load(Param("p"), GP64())
	rows := Load(Param("rows"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	n := Load(Param("n"), GP64())
	SHLQ(U8(2), n)
	TESTQ(rows, rows)
	JLE(LabelRef("done"))
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("row")
	off := GP64()
	XORQ(off, off)
	Label("line")
	PREFETCHT1(Mem{Base: p, Index: off, Scale: 1})
	ADDQ(U8(64), off)
	CMPQ(off, n)
	JL(LabelRef("line"))
	// The last line of the row, if the row does not end on a line boundary.
	PREFETCHT1(Mem{Base: p, Index: n, Scale: 1, Disp: -4})
	ADDQ(ld, p)
	DECQ(rows)
	JNE(LabelRef("row"))
	Label("done")
	RET()
}

// packTrans16 emits the packer for one 16-wide strip of a B stored
// transposed (B[p,j] = src[j*ld+p]): 4×4 blocks are loaded from four
// columns of B, transposed in SSE registers and stored as four strip rows.
func packTrans16() {
	TEXT("packTrans16", NOSPLIT, "func(dst, src *float32, kc4, ld int)")
	Doc(
		"packTrans16 packs kc4 (a multiple of 4) rows of one 16-column strip",
		"from a transposed B:",
		"",
		"\tfor p := 0; p < kc4; p++ {",
		"\t\tfor q := 0; q < 16; q++ {",
		"\t\t\tdst[p*16+q] = src[q*ld+p]",
		"\t\t}",
		"\t}",
	)
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	n := Load(Param("kc4"), GP64())
	ld := Load(Param("ld"), GP64())
	SHLQ(U8(2), ld)
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	SHRQ(U8(2), n)
	JE(LabelRef("done"))
	Label("loop")
	t := GP64()
	MOVQ(src, t)
	for qb := 0; qb < 4; qb++ {
		// Rows a, b, c, d are columns j..j+3 of B; lanes are p..p+3.
		MOVUPS(Mem{Base: t}, X0)
		MOVUPS(Mem{Base: t, Index: ld, Scale: 1}, X1)
		MOVUPS(Mem{Base: t, Index: ld, Scale: 2}, X2)
		MOVUPS(Mem{Base: t, Index: ld3, Scale: 1}, X3)
		MOVAPS(X0, X4)
		UNPCKLPS(X1, X4) // a0 b0 a1 b1
		UNPCKHPS(X1, X0) // a2 b2 a3 b3
		MOVAPS(X2, X5)
		UNPCKLPS(X3, X5) // c0 d0 c1 d1
		UNPCKHPS(X3, X2) // c2 d2 c3 d3
		MOVAPS(X4, X1)
		MOVLHPS(X5, X1) // a0 b0 c0 d0
		MOVHLPS(X4, X5) // a1 b1 c1 d1
		MOVAPS(X0, X3)
		MOVLHPS(X2, X3) // a2 b2 c2 d2
		MOVHLPS(X0, X2) // a3 b3 c3 d3
		MOVUPS(X1, Mem{Base: dst, Disp: 16 * qb})
		MOVUPS(X5, Mem{Base: dst, Disp: 64 + 16*qb})
		MOVUPS(X3, Mem{Base: dst, Disp: 128 + 16*qb})
		MOVUPS(X2, Mem{Base: dst, Disp: 192 + 16*qb})
		if qb < 3 {
			LEAQ(Mem{Base: t, Index: ld, Scale: 4}, t)
		}
	}
	ADDQ(U8(16), src)
	ADDQ(U32(256), dst)
	DECQ(n)
	JNE(LabelRef("loop"))
	Label("done")
	RET()
}
