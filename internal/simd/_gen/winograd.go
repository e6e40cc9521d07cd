package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd F(4×4, 3×3) input transforms of ../winograd.go, eight
// tiles per vector lane set (the output transform is wgOutputN in
// winograd8.go). Each 1-D transform uses the operations of the Go
// reference (wgIn) in the same order and without FMA, so the results are
// the same bits.

// wgConsts holds the input transform's constants 2, 4 and 5, declared once.
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

// wgInput8 emits wgInput8AVX2 (F(4×4, 3×3), tiles 4 apart) or, with
// pair, wgInput8PairAVX2: one group whose tiles 0–3 come from one tile
// row (a) and 4–7 from another (b), for maps four tiles wide.
func wgInput8(pair bool) {
	name := "wgInput8AVX2"
	sig := "func(v *float32, vstride int, src *float32, sstride, groups int)"
	doc := []string{
		name + " is wgInput8Go with tiles 4 apart: for each group of",
		"eight tiles, each of the six patch rows is loaded as 32+4 floats and",
		"transposed to six vectors (one per column j, a tile per lane),",
		"transformed along j and kept on the stack; then each column is",
		"transformed along i and stored to V.",
	}
	if pair {
		name = "wgInput8PairAVX2"
		sig = "func(v *float32, vstride int, a, b *float32, sstride int)"
		doc = []string{
			name + " is wgInput8AVX2 on one group whose tiles 0–3 are the",
			"first four tiles of rows at a and tiles 4–7 those of rows at b",
			"(each read as 16+4 floats): wgInput8PairGo.",
		}
	}
	TEXT(name, 0, sig)
	Doc(doc...)
	v := Load(Param("v"), GP64())
	vs := Load(Param("vstride"), GP64())
	var srcA, srcB, n Register
	if pair {
		srcA = Load(Param("a"), GP64())
		srcB = Load(Param("b"), GP64())
	} else {
		srcA = Load(Param("src"), GP64())
		n = Load(Param("groups"), GP64())
	}
	ss := Load(Param("sstride"), GP64())
	SHLQ(U8(2), vs)
	SHLQ(U8(2), ss)
	vs6 := GP64()
	LEAQ(Mem{Base: vs, Index: vs, Scale: 2}, vs6) // 3·vs
	ADDQ(vs6, vs6)                                // 6·vs
	tmp := AllocLocal(36 * 32)
	c4 := bcast("wgc4", 0x40800000)
	c5 := bcast("wgc5", 0x40a00000)
	c2 := bcast("wgc2", 0x40000000)
	rp, rq, q := GP64(), GP64(), GP64()

	label := "wgin4_group"
	if pair {
		label = "wgin4pair"
	}
	Label(label)
	MOVQ(srcA, rp)
	if pair {
		MOVQ(srcB, rq)
	}
	// load k (0..3) of a patch row, at byte offset extra: the vector of
	// floats 8k+extra/4 .. of the group, from b for k ≥ 2 of a pair.
	load := func(k, extra int) VecVirtual {
		r := YMM()
		if pair && k >= 2 {
			VMOVUPS(Mem{Base: rq}.Offset(32*(k-2)+extra), r)
		} else {
			VMOVUPS(Mem{Base: rp}.Offset(32*k+extra), r)
		}
		return r
	}
	for i := 0; i < 6; i++ {
		var d [6]VecVirtual
		var a [4]VecVirtual
		for k := range a {
			a[k] = load(k, 0)
		}
		p := transpose4x8(a)
		copy(d[:4], p[:])
		for k := range a {
			a[k] = load(k, 16)
		}
		d[4], d[5] = transpose4x8First2(a)
		r := wgInVec(d, c4, c5, c2)
		for j := 0; j < 6; j++ {
			VMOVUPS(r[j], tmp.Offset(32*(6*i+j)))
		}
		if i < 5 {
			ADDQ(ss, rp)
			if pair {
				ADDQ(ss, rq)
			}
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
	if !pair {
		ADDQ(U32(128), srcA)
		ADDQ(U32(32), v)
		DECQ(n)
		JNE(LabelRef(label))
	}
	VZEROUPPER()
	RET()
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
