package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd F(4×4, 5×5) tile transforms of ../winograd8.go (8×8 input
// tiles), and the output transforms of both tile sizes (wgOutputN). Each
// 1-D transform uses the operations of the Go reference (wgIn8, wgOut8,
// wgOut) in the same order and without FMA, so the results are the same
// bits. The constants are 32-byte vectors in memory, used as VMULPS
// operands, to leave the registers to the eight inputs.

var wgVecConsts = map[float32]Mem{}

// vconst returns a 32-byte constant with f in every lane.
func vconst(f float32) Mem {
	if c, ok := wgVecConsts[f]; ok {
		return c
	}
	c := GLOBL(fmtConst(f), RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(math.Float32bits(f)))
	}
	wgVecConsts[f] = c
	return c
}

func fmtConst(f float32) string {
	names := map[float32]string{0.125: "wg8c0125", 0.25: "wg8c025", 0.5: "wg8c05", 1.25: "wg8c125",
		2: "wg8c2", 2.5: "wg8c25", 4: "wg8c4", 4.25: "wg8c425", 5: "wg8c5", 5.25: "wg8c525", 8: "wg8c8"}
	n, ok := names[f]
	if !ok {
		panic("no name for constant")
	}
	return n
}

// mulc returns x·f in a new register.
func mulc(x VecVirtual, f float32) VecVirtual {
	r := YMM()
	VMULPS(vconst(f), x, r)
	return r
}

func add(a, b VecVirtual) VecVirtual { r := YMM(); VADDPS(b, a, r); return r }
func sub(a, b VecVirtual) VecVirtual { r := YMM(); VSUBPS(b, a, r); return r } // a − b

// wgIn8Vec is wgIn8 on eight lanes; each output goes to sink as soon as it
// is computed, so that few registers are live at once.
func wgIn8Vec(d [8]VecVirtual, sink func(i int, r VecVirtual)) {
	sink(0, add(sub(d[0], d[6]), mulc(sub(d[4], d[2]), 5.25)))
	sink(7, add(sub(d[7], d[1]), mulc(sub(d[3], d[5]), 5.25)))
	t1 := sub(add(d[2], d[6]), mulc(d[4], 4.25))
	t2 := sub(add(d[1], d[5]), mulc(d[3], 4.25))
	sink(1, add(t2, t1))
	sink(2, sub(t2, t1))
	u1 := add(sub(mulc(d[2], 0.5), mulc(d[4], 2.5)), mulc(d[6], 2))
	u2 := add(sub(d[1], mulc(d[3], 5)), mulc(d[5], 4))
	sink(3, add(u2, u1))
	sink(4, sub(u2, u1))
	w1 := add(sub(mulc(d[2], 2), mulc(d[4], 2.5)), mulc(d[6], 0.5))
	w2 := add(sub(d[1], mulc(d[3], 1.25)), mulc(d[5], 0.25))
	sink(5, add(w2, w1))
	sink(6, sub(w2, w1))
}

// wgOut8Vec is wgOut8 on eight lanes.
func wgOut8Vec(m [8]VecVirtual) (o [4]VecVirtual) {
	s1, d1 := add(m[1], m[2]), sub(m[1], m[2])
	s3, d3 := add(m[3], m[4]), sub(m[3], m[4])
	s5, d5 := add(m[5], m[6]), sub(m[5], m[6])
	o[0] = add(add(add(m[0], s1), s3), s5)
	o[1] = add(add(d1, mulc(d3, 2)), mulc(d5, 0.5))
	o[2] = add(add(s1, mulc(s3, 4)), mulc(s5, 0.25))
	o[3] = add(add(add(d1, mulc(d3, 8)), mulc(d5, 0.125)), m[7])
	return
}

// wgInput8x8 emits wgInput8x8AVX2.
func wgInput8x8() {
	TEXT("wgInput8x8AVX2", 0, "func(v *float32, vstride int, src *float32, sstride, groups int)")
	Doc(
		"wgInput8x8AVX2 is wgInput8x8Go: for each group of eight tiles, each of",
		"the eight patch rows is loaded as 32+4 floats and transposed to eight",
		"vectors (one per column j, a tile per lane), transformed along j and",
		"kept on the stack; then each column is transformed along i and",
		"stored to V.",
	)
	v := Load(Param("v"), GP64())
	vs := Load(Param("vstride"), GP64())
	src := Load(Param("src"), GP64())
	ss := Load(Param("sstride"), GP64())
	n := Load(Param("groups"), GP64())
	SHLQ(U8(2), vs)
	SHLQ(U8(2), ss)
	vs8 := GP64()
	MOVQ(vs, vs8)
	SHLQ(U8(3), vs8) // 8·vs
	vs24 := GP64()
	LEAQ(Mem{Base: vs8, Index: vs8, Scale: 2}, vs24)
	tmp := AllocLocal(64 * 32)
	rp, q, q4 := GP64(), GP64(), GP64()

	Label("wgin8x8_group")
	MOVQ(src, rp)
	for i := 0; i < 8; i++ {
		row := Mem{Base: rp}
		var d [8]VecVirtual
		for half := 0; half < 2; half++ {
			// Columns 4·half..4·half+3: lane q of column j is row[4q + j].
			var a [4]VecVirtual
			for k := range a {
				a[k] = YMM()
				VMOVUPS(row.Offset(16*half+32*k), a[k])
			}
			p := transpose4x8(a)
			copy(d[4*half:], p[:])
		}
		wgIn8Vec(d, func(j int, r VecVirtual) { VMOVUPS(r, tmp.Offset(32*(8*i+j))) })
		if i < 7 {
			ADDQ(ss, rp)
		}
	}
	for j := 0; j < 8; j++ {
		var c [8]VecVirtual
		for i := range c {
			c[i] = YMM()
			VMOVUPS(tmp.Offset(32*(8*i+j)), c[i])
		}
		// V row 8i+j: v + j·vs + i·8·vs, addressed from q (i < 4) and
		// q4 = q + 4·8·vs (i ≥ 4) with index 8·vs × 0, 1, 2, 4 or 24·vs.
		MOVQ(v, q)
		for k := 0; k < j; k++ {
			ADDQ(vs, q)
		}
		LEAQ(Mem{Base: q, Index: vs8, Scale: 4}, q4)
		wgIn8Vec(c, func(i int, r VecVirtual) {
			base := q
			if i >= 4 {
				base, i = q4, i-4
			}
			var a Mem
			switch i {
			case 0:
				a = Mem{Base: base}
			case 1, 2:
				a = Mem{Base: base, Index: vs8, Scale: uint8(i)}
			case 3:
				a = Mem{Base: base, Index: vs24, Scale: 1}
			}
			VMOVUPS(r, a)
		})
	}
	ADDQ(U32(128), src)
	ADDQ(U32(32), v)
	DECQ(n)
	JNE(LabelRef("wgin8x8_group"))
	VZEROUPPER()
	RET()
}

// wgOut6Vec is wgOut on eight lanes: m0..m5 in, Aᵀm of F(4×4, 3×3) out.
func wgOut6Vec(m []VecVirtual) (o [4]VecVirtual) {
	s1, d1 := add(m[1], m[2]), sub(m[1], m[2])
	s3, d3 := add(m[3], m[4]), sub(m[3], m[4])
	o[0] = add(add(m[0], s1), s3)
	o[1] = add(d1, mulc(d3, 2))
	o[2] = add(s1, mulc(s3, 4))
	o[3] = add(add(d1, mulc(d3, 8)), m[5])
	return
}

// wgOutput8 emits wgOutput8AVX2 (6×6 tiles, F(4×4, 3×3)).
func wgOutput8() { wgOutputN("wgOutput8AVX2", "wgOutputGo", 6, wgOut6Vec) }

// wgOutput8x8 emits wgOutput8x8AVX2 (8×8 tiles, F(4×4, 5×5)).
func wgOutput8x8() {
	wgOutputN("wgOutput8x8AVX2", "wgOutput8x8Go", 8, func(m []VecVirtual) [4]VecVirtual { return wgOut8Vec([8]VecVirtual(m)) })
}

// wgOutputN emits an output transform from n×n tiles to 4×4 outputs,
// eight tiles per group, with at the 1-D transform Aᵀ·x on n vectors.
// wgOutBlock is the most groups whose column transforms wgOutputN keeps
// on the stack at once (16 KiB for 8×8 tiles, half of Zen 3's L1).
const wgOutBlock = 16

func wgOutputN(name, ref string, n int, at func(m []VecVirtual) [4]VecVirtual) {
	TEXT(name, 0, "func(dst *float32, dstride int, m *float32, mstride, groups int, bias, scale, lo float32)")
	Doc(
		name+" is "+ref+" with the epilogue y = scale·max(lo, y+bias)",
		"(lo = 0 and the gain for a ReLU, lo = -Inf and scale = 1 without one;",
		"NaN stays NaN). It works on blocks of up to wgOutBlock groups. First",
		fmt.Sprintf("each column of M is transformed for all the block's groups into %d", 4*n),
		"vectors per group on the stack: n streams of M at a time, which the",
		"hardware prefetcher follows (all n² at once ran 1.7× slower from",
		"memory). Then each group's output rows are transformed, put through",
		"the epilogue, transposed back to pixel order and stored.",
	)
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstride"), GP64())
	m := Load(Param("m"), GP64())
	ms := Load(Param("mstride"), GP64())
	groups := Load(Param("groups"), GP64())
	SHLQ(U8(2), ds)
	SHLQ(U8(2), ms)
	msn := GP64() // n·mstride bytes: from row ξ to row ξ+n
	MOVQ(ms, msn)
	IMUL3Q(U8(n), msn, msn)
	gb := 4 * n * 32 // tmp bytes per group
	tmp := AllocLocal(wgOutBlock * gb)
	var ep [3]Mem // bias, scale, lo broadcast on the stack
	epl := AllocLocal(3 * 32)
	for k, p := range []string{"bias", "scale", "lo"} {
		x := Load(Param(p), XMM())
		y := YMM()
		VBROADCASTSS(x, y)
		ep[k] = epl.Offset(32 * k)
		VMOVUPS(y, ep[k])
	}
	q, t, blk, g := GP64(), GP64(), GP64(), GP64()

	Label(fmt.Sprintf("wgout%d_block", n))
	MOVQ(groups, blk)
	CMPQ(blk, U32(wgOutBlock))
	JLE(LabelRef(fmt.Sprintf("wgout%d_cols", n)))
	MOVQ(U32(wgOutBlock), blk)
	Label(fmt.Sprintf("wgout%d_cols", n))
	for j := 0; j < n; j++ {
		// Column j: rows ξ = j, n+j, …, of every group of the block.
		MOVQ(m, q)
		for k := 0; k < j; k++ {
			ADDQ(ms, q)
		}
		LEAQ(tmp, t)
		MOVQ(blk, g)
		col := fmt.Sprintf("wgout%d_col%d", n, j)
		Label(col)
		c := make([]VecVirtual, n)
		r := GP64()
		MOVQ(q, r)
		for i := range c {
			c[i] = YMM()
			VMOVUPS(Mem{Base: r}, c[i])
			if i < n-1 {
				ADDQ(msn, r)
			}
		}
		for i, o := range at(c) {
			VMOVUPS(o, Mem{Base: t}.Offset(32*(n*i+j)))
		}
		ADDQ(U32(32), q)
		ADDQ(U32(gb), t)
		DECQ(g)
		JNE(LabelRef(col))
	}
	LEAQ(tmp, t)
	MOVQ(blk, g)
	Label(fmt.Sprintf("wgout%d_rows", n))
	MOVQ(dst, q)
	for i := 0; i < 4; i++ {
		c := make([]VecVirtual, n)
		for j := range c {
			c[j] = YMM()
			VMOVUPS(Mem{Base: t}.Offset(32*(n*i+j)), c[j])
		}
		y := at(c)
		for j := range y {
			VADDPS(ep[0], y[j], y[j])
			lo := YMM()
			VMOVUPS(ep[2], lo)
			VMAXPS(y[j], lo, y[j]) // Intel order (lo, y): NaN in y stays
			VMULPS(ep[1], y[j], y[j])
		}
		for k, x := range untranspose4x8(y) {
			VMOVUPS(x, Mem{Base: q}.Offset(32*k))
		}
		if i < 3 {
			ADDQ(ds, q)
		}
	}
	ADDQ(U32(128), dst)
	ADDQ(U32(gb), t)
	DECQ(g)
	JNE(LabelRef(fmt.Sprintf("wgout%d_rows", n)))
	// The next block: M moves on by the block's groups.
	MOVQ(blk, g)
	SHLQ(U8(5), g)
	ADDQ(g, m)
	SUBQ(blk, groups)
	JNE(LabelRef(fmt.Sprintf("wgout%d_block", n)))
	VZEROUPPER()
	RET()
}
