package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd F(4×4, 3×3) tile transforms of ../winograd.go, eight tiles
// per vector lane set. Each 1-D transform uses the operations of the Go
// reference (wgIn, wgOut) in the same order and without FMA, so the
// results are the same bits.

// wgConsts holds the transforms' constants 2, 4, 5 and 8, declared once.
var wgConsts = map[string]Mem{}

// bcast returns a vector register holding the float32 bits f in every lane.
func bcast(name string, f uint32) VecVirtual {
	c, ok := wgConsts[name]
	if !ok {
		c = GLOBL(name, RODATA|NOPTR)
		DATA(0, U32(f))
		wgConsts[name] = c
	}
	r := YMM()
	VBROADCASTSS(c, r)
	return r
}

// wgInVec is wgIn on eight lanes: d0..d5 in, Bᵀd out (new registers).
func wgInVec(d [6]VecVirtual, c4, c5, c2 VecVirtual) (o [6]VecVirtual) {
	t1, t2, t3, t4 := YMM(), YMM(), YMM(), YMM()
	VMULPS(d[2], c4, t1)
	VSUBPS(t1, d[4], t1) // d4 - 4*d2
	VMULPS(d[1], c4, t2)
	VSUBPS(t2, d[3], t2) // d3 - 4*d1
	VSUBPS(d[2], d[4], t3)
	VSUBPS(d[1], d[3], t4)
	VMULPS(t4, c2, t4)
	for i := range o {
		o[i] = YMM()
	}
	u := YMM()
	VMULPS(d[0], c4, o[0])
	VMULPS(d[2], c5, u)
	VSUBPS(u, o[0], o[0])
	VADDPS(d[4], o[0], o[0])
	VADDPS(t2, t1, o[1])
	VSUBPS(t2, t1, o[2])
	VADDPS(t4, t3, o[3])
	VSUBPS(t4, t3, o[4])
	VMULPS(d[1], c4, o[5])
	VMULPS(d[3], c5, u)
	VSUBPS(u, o[5], o[5])
	VADDPS(d[5], o[5], o[5])
	return
}

// wgOutVec is wgOut on eight lanes: m0..m5 in, Aᵀm out.
func wgOutVec(m [6]VecVirtual, c2, c4, c8 VecVirtual) (o [4]VecVirtual) {
	s1, d1, s3, d3 := YMM(), YMM(), YMM(), YMM()
	VADDPS(m[2], m[1], s1)
	VSUBPS(m[2], m[1], d1)
	VADDPS(m[4], m[3], s3)
	VSUBPS(m[4], m[3], d3)
	for i := range o {
		o[i] = YMM()
	}
	u := YMM()
	VADDPS(s1, m[0], o[0])
	VADDPS(s3, o[0], o[0])
	VMULPS(d3, c2, u)
	VADDPS(u, d1, o[1])
	VMULPS(s3, c4, u)
	VADDPS(u, s1, o[2])
	VMULPS(d3, c8, u)
	VADDPS(u, d1, o[3])
	VADDPS(m[5], o[3], o[3])
	return
}

// wgInput8 emits wgInput8AVX2 (tiles 4 apart, F(4×4, 3×3)) or, with
// step 2, wgInput8S2AVX2 (tiles 2 apart, F(2×2, 5×5)).
func wgInput8(step int) {
	name := "wgInput8AVX2"
	gather := "loaded as 32+4 floats and transposed to six"
	if step == 2 {
		name = "wgInput8S2AVX2"
		gather = "loaded as three pairs of 16 floats and split into even and odd"
	}
	TEXT(name, 0, "func(v *float32, vstride int, src *float32, sstride, groups int)")
	Doc(
		name+" is wgInput8Go with tiles "+fmt.Sprint(step)+" apart: for each group of",
		"eight tiles, each of the six patch rows is "+gather,
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
	vs6 := GP64()
	LEAQ(Mem{Base: vs, Index: vs, Scale: 2}, vs6) // 3·vs
	ADDQ(vs6, vs6)                                // 6·vs
	tmp := AllocLocal(36 * 32)
	c4 := bcast("wgc4", 0x40800000)
	c5 := bcast("wgc5", 0x40a00000)
	c2 := bcast("wgc2", 0x40000000)
	rp, q := GP64(), GP64()

	label := fmt.Sprintf("wgin%d_group", step)
	Label(label)
	MOVQ(src, rp)
	for i := 0; i < 6; i++ {
		row := Mem{Base: rp}
		var d [6]VecVirtual
		if step == 4 {
			var a [4]VecVirtual
			for k := range a {
				a[k] = YMM()
				VMOVUPS(row.Offset(32*k), a[k])
			}
			p := transpose4x8(a)
			copy(d[:4], p[:])
			for k := range a {
				a[k] = YMM()
				VMOVUPS(row.Offset(16+32*k), a[k])
			}
			d[4], d[5] = transpose4x8First2(a)
		} else {
			// Column j of tile q is row[2q + j]: the even elements of
			// row[j:] for even j, the odd ones of row[j−1:] for odd j.
			for j := 0; j < 6; j += 2 {
				lo, hi := YMM(), YMM()
				VMOVUPS(row.Offset(4*j), lo)
				VMOVUPS(row.Offset(4*j+32), hi)
				d[j], d[j+1] = evenOdd(lo, hi)
			}
		}
		r := wgInVec(d, c4, c5, c2)
		for j := 0; j < 6; j++ {
			VMOVUPS(r[j], tmp.Offset(32*(6*i+j)))
		}
		if i < 5 {
			ADDQ(ss, rp)
		}
	}
	for j := 0; j < 6; j++ {
		var c [6]VecVirtual
		for i := range c {
			c[i] = YMM()
			VMOVUPS(tmp.Offset(32*(6*i+j)), c[i])
		}
		o := wgInVec(c, c4, c5, c2)
		// V row 6i+j: v + j·vs, then + 6·vs per i.
		MOVQ(v, q)
		for k := 0; k < j; k++ {
			ADDQ(vs, q)
		}
		for i := 0; i < 6; i++ {
			VMOVUPS(o[i], Mem{Base: q})
			if i < 5 {
				ADDQ(vs6, q)
			}
		}
	}
	ADDQ(U32(32*step), src)
	ADDQ(U32(32), v)
	DECQ(n)
	JNE(LabelRef(label))
	VZEROUPPER()
	RET()
}

// evenOdd splits the 16 floats of lo and hi into their even and odd
// elements, in order.
func evenOdd(lo, hi VecVirtual) (e, o VecVirtual) {
	e, o = YMM(), YMM()
	// In-lane: [x0 x2 x8 x10 | x4 x6 x12 x14]; VPERMPD puts the 64-bit
	// pairs back in order.
	VSHUFPS(U8(0x88), hi, lo, e)
	VSHUFPS(U8(0xdd), hi, lo, o)
	VPERMPD(U8(0xd8), e, e)
	VPERMPD(U8(0xd8), o, o)
	return
}

// wgOutput8 emits wgOutput8AVX2 (4×4 outputs per tile, F(4×4, 3×3)) or,
// with mt 2, wgOutput8F2AVX2 (2×2, F(2×2, 5×5)).
func wgOutput8(mt int) {
	name, back := "wgOutput8AVX2", "transposed back to pixel order"
	if mt == 2 {
		name, back = "wgOutput8F2AVX2", "interleaved back to pixel order"
	}
	TEXT(name, 0, "func(dst *float32, dstride int, m *float32, mstride, groups int, bias, scale, lo float32)")
	Doc(
		fmt.Sprintf("%s is wgOutputGo(%d, …) with the epilogue y = scale·max(lo, y+bias)", name, mt),
		"(lo = 0 and the gain for a ReLU, lo = -Inf and scale = 1 without one;",
		fmt.Sprintf("NaN stays NaN): per group, the columns of M are transformed into %d", 6*mt),
		"vectors on the stack, then each output row is transformed, put",
		"through the epilogue, "+back+" and stored.",
	)
	dst := Load(Param("dst"), GP64())
	ds := Load(Param("dstride"), GP64())
	m := Load(Param("m"), GP64())
	ms := Load(Param("mstride"), GP64())
	n := Load(Param("groups"), GP64())
	SHLQ(U8(2), ds)
	SHLQ(U8(2), ms)
	ms6 := GP64()
	LEAQ(Mem{Base: ms, Index: ms, Scale: 2}, ms6)
	ADDQ(ms6, ms6)
	tmp := AllocLocal(6 * mt * 32)
	bias, scale, lo := YMM(), YMM(), YMM()
	for _, p := range []struct {
		name string
		r    VecVirtual
	}{{"bias", bias}, {"scale", scale}, {"lo", lo}} {
		x := Load(Param(p.name), XMM())
		VBROADCASTSS(x, p.r)
	}
	c2 := bcast("wgc2", 0x40000000)
	out := func(c [6]VecVirtual) []VecVirtual { o := wgOut2Vec(c, c2); return o[:] }
	if mt == 4 {
		c4 := bcast("wgc4", 0x40800000)
		c8 := bcast("wgc8", 0x41000000)
		out = func(c [6]VecVirtual) []VecVirtual { o := wgOutVec(c, c2, c4, c8); return o[:] }
	}
	q := GP64()

	label := fmt.Sprintf("wgout%d_group", mt)
	Label(label)
	for j := 0; j < 6; j++ {
		MOVQ(m, q)
		for k := 0; k < j; k++ {
			ADDQ(ms, q)
		}
		var c [6]VecVirtual
		for i := range c {
			c[i] = YMM()
			VMOVUPS(Mem{Base: q}, c[i])
			if i < 5 {
				ADDQ(ms6, q)
			}
		}
		for i, o := range out(c) {
			VMOVUPS(o, tmp.Offset(32*(6*i+j)))
		}
	}
	MOVQ(dst, q)
	for i := 0; i < mt; i++ {
		var c [6]VecVirtual
		for j := range c {
			c[j] = YMM()
			VMOVUPS(tmp.Offset(32*(6*i+j)), c[j])
		}
		y := out(c)
		for j := range y {
			VADDPS(bias, y[j], y[j])
			VMAXPS(y[j], lo, y[j]) // Intel order (lo, y): NaN in y stays
			VMULPS(scale, y[j], y[j])
		}
		var rows []VecVirtual
		if mt == 4 {
			r := untranspose4x8([4]VecVirtual(y))
			rows = r[:]
		} else {
			r := interleave2x8([2]VecVirtual(y))
			rows = r[:]
		}
		for k, r := range rows {
			VMOVUPS(r, Mem{Base: q}.Offset(32*k))
		}
		if i < mt-1 {
			ADDQ(ds, q)
		}
	}
	ADDQ(U32(32*mt), dst)
	ADDQ(U32(32), m)
	DECQ(n)
	JNE(LabelRef(label))
	VZEROUPPER()
	RET()
}

// interleave2x8 is untranspose4x8 for tiles of two: y[j] has element j of
// tile q in lane q; the result is the tiles' two values in order, four
// tiles per vector.
func interleave2x8(y [2]VecVirtual) (r [2]VecVirtual) {
	// [t0j0 t0j1 t1j0 t1j1 | t4.. t5..] and [t2.. t3.. | t6.. t7..].
	u0, u1 := YMM(), YMM()
	VUNPCKLPS(y[1], y[0], u0)
	VUNPCKHPS(y[1], y[0], u1)
	r[0], r[1] = YMM(), YMM()
	VPERM2F128(U8(0x20), u1, u0, r[0])
	VPERM2F128(U8(0x31), u1, u0, r[1])
	return
}

// transpose4x8 turns 32 consecutive floats, eight tiles of four (a[k]
// holds tiles 2k and 2k+1), into four vectors p[φ] whose lane q is
// element φ of tile q.
func transpose4x8(a [4]VecVirtual) (p [4]VecVirtual) {
	x0, x1, x2, x3 := YMM(), YMM(), YMM(), YMM()
	VPERM2F128(U8(0x20), a[2], a[0], x0) // tiles 0 | 4
	VPERM2F128(U8(0x31), a[2], a[0], x1) // 1 | 5
	VPERM2F128(U8(0x20), a[3], a[1], x2) // 2 | 6
	VPERM2F128(U8(0x31), a[3], a[1], x3) // 3 | 7
	u0, u1, u2, u3 := YMM(), YMM(), YMM(), YMM()
	VUNPCKLPS(x1, x0, u0)
	VUNPCKHPS(x1, x0, u1)
	VUNPCKLPS(x3, x2, u2)
	VUNPCKHPS(x3, x2, u3)
	for i := range p {
		p[i] = YMM()
	}
	VUNPCKLPD(u2, u0, p[0])
	VUNPCKHPD(u2, u0, p[1])
	VUNPCKLPD(u3, u1, p[2])
	VUNPCKHPD(u3, u1, p[3])
	return
}

// transpose4x8First2 is transpose4x8 returning p[0] and p[1] only.
func transpose4x8First2(a [4]VecVirtual) (p0, p1 VecVirtual) {
	x0, x1, x2, x3 := YMM(), YMM(), YMM(), YMM()
	VPERM2F128(U8(0x20), a[2], a[0], x0)
	VPERM2F128(U8(0x31), a[2], a[0], x1)
	VPERM2F128(U8(0x20), a[3], a[1], x2)
	VPERM2F128(U8(0x31), a[3], a[1], x3)
	u0, u2 := YMM(), YMM()
	VUNPCKLPS(x1, x0, u0)
	VUNPCKLPS(x3, x2, u2)
	p0, p1 = YMM(), YMM()
	VUNPCKLPD(u2, u0, p0)
	VUNPCKHPD(u2, u0, p1)
	return
}

// untranspose4x8 is the inverse of transpose4x8: y[j] has element j of
// tile q in lane q; the result is the tiles' four values in order, two
// tiles per vector.
func untranspose4x8(y [4]VecVirtual) (r [4]VecVirtual) {
	u0, u1, u2, u3 := YMM(), YMM(), YMM(), YMM()
	VUNPCKLPS(y[1], y[0], u0)
	VUNPCKHPS(y[1], y[0], u1)
	VUNPCKLPS(y[3], y[2], u2)
	VUNPCKHPS(y[3], y[2], u3)
	x0, x1, x2, x3 := YMM(), YMM(), YMM(), YMM()
	VUNPCKLPD(u2, u0, x0) // tiles 0 | 4
	VUNPCKHPD(u2, u0, x1) // 1 | 5
	VUNPCKLPD(u3, u1, x2) // 2 | 6
	VUNPCKHPD(u3, u1, x3) // 3 | 7
	for i := range r {
		r[i] = YMM()
	}
	VPERM2F128(U8(0x20), x1, x0, r[0])
	VPERM2F128(U8(0x20), x3, x2, r[1])
	VPERM2F128(U8(0x31), x1, x0, r[2])
	VPERM2F128(U8(0x31), x3, x2, r[3])
	return
}

// wgOut2Vec is wgOut2 on eight lanes: m0..m5 in, the two rows of Aᵀm of
// F(2×2, 5×5) out.
func wgOut2Vec(m [6]VecVirtual, c2 VecVirtual) (o [2]VecVirtual) {
	s1, d1, s3, d3 := YMM(), YMM(), YMM(), YMM()
	VADDPS(m[2], m[1], s1)
	VSUBPS(m[2], m[1], d1)
	VADDPS(m[4], m[3], s3)
	VSUBPS(m[4], m[3], d3)
	o[0], o[1] = YMM(), YMM()
	u := YMM()
	VADDPS(s1, m[0], o[0])
	VADDPS(s3, o[0], o[0])
	VMULPS(d3, c2, u)
	VADDPS(u, d1, o[1])
	VADDPS(m[5], o[1], o[1])
	return
}
