// Command _gen writes the amd64 kernels of package jpeg with avo.
//
// Run it from this directory (go generate in the parent does the same):
//
//	go run . -out ../jpeg_amd64.s -stubs ../jpeg_amd64.go -pkg jpeg
//
// Every kernel works in 32-bit integer lanes and does the same wrapping
// int32 arithmetic as its Go reference, in an order that differs only by
// the associativity and commutativity of addition and multiplication
// modulo 2^32, so the bytes out are the same for any input, corrupt
// coefficients included.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The islow constants, round(x * 2^13), as in ../idct.go.
const (
	fix0_298631336 = 2446
	fix0_390180644 = 3196
	fix0_541196100 = 4433
	fix0_765366865 = 6270
	fix0_899976223 = 7373
	fix1_175875602 = 9633
	fix1_501321110 = 12299
	fix1_847759065 = 15137
	fix1_961570560 = 16069
	fix2_053119869 = 16819
	fix2_562915447 = 20995
	fix3_072711026 = 25172
)

// vconst returns a 32-byte read-only vector of eight copies of the int32 v.
func vconst(name string, v int32) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(uint32(v)))
	}
	return m
}

// vbytes returns a 32-byte read-only vector holding b.
func vbytes(name string, b [32]byte) Mem {
	m := GLOBL(name, RODATA|NOPTR)
	for i, x := range b {
		DATA(i, U8(x))
	}
	return m
}

var k = map[string]Mem{}

func consts() {
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"c0_298631336", fix0_298631336},
		{"c0_541196100", fix0_541196100},
		{"c0_765366865", fix0_765366865},
		{"cm0_390180644", -fix0_390180644},
		{"cm0_899976223", -fix0_899976223},
		{"c1_175875602", fix1_175875602},
		{"c1_501321110", fix1_501321110},
		{"cm1_847759065", -fix1_847759065},
		{"cm1_961570560", -fix1_961570560},
		{"c2_053119869", fix2_053119869},
		{"cm2_562915447", -fix2_562915447},
		{"c3_072711026", fix3_072711026},
		// Pass 1 rounds at bit 10 (descale by 13-2 bits); pass 2 rounds
		// at bit 17 and adds 512 after its descale by 18 bits (see
		// rangeLimit), then masks to 10 bits and subtracts 384.
		{"round1", 1 << 10},
		{"round2", 1<<17 + 512<<18},
		{"mask1023", 1023},
		{"c384", 384},
		{"c128", 128},
		{"cff", 255},
		{"alpha", -1 << 24},
		{"half16", 1 << 15},
		{"w7", 7 | 7<<16},
		{"w8", 8 | 8<<16},
		{"w1", 1 | 1<<16},
		{"w2", 2 | 2<<16},
		{"cCrR", 91881},
		{"cCbB", 116130},
		{"cmCrG", -46802},
		{"cmCbG", -22554},
		{"wR", 19595},
		{"wG", 38470},
		{"wB", 7471},
	} {
		k[c.name] = vconst("jpeg_"+c.name, c.v)
	}
	// Within each 128-bit lane, the 4x4 byte transpose: byte 4r+c comes
	// from byte 4c+r.
	var t [32]byte
	for p := 0; p < 16; p++ {
		r, c := p/4, p%4
		t[p], t[16+p] = byte(4*c+r), byte(4*c+r)
	}
	k["tr4x4"] = vbytes("jpeg_tr4x4", t)
}

func main() {
	ConstraintExpr("!purego")
	consts()
	idct()
	ycc()
	yccGray()
	h2v2()
	h2v1()
	Generate()
}

// idct1D emits one islow 1-D IDCT on eight vectors of int32 lanes, in
// every lane; the inputs are consumed. The
// rounding constant rnd is added to the even part before the outputs are
// formed, and the outputs, returned, are shifted right arithmetically by
// shift.
// If dc is not nil, it gets in[0]<<2 (pass 1's flat column) before in[0]
// is consumed.
func idct1D(in [8]VecVirtual, rnd Mem, shift uint8, dc VecVirtual) [8]VecVirtual {
	i0, i1, i2, i3, i4, i5, i6, i7 := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]

	// Odd part: inputs y7, y5, y3, y1.
	z1, z2, z3, z4, z5 := YMM(), YMM(), YMM(), YMM(), YMM()
	VPADDD(i1, i7, z1)
	VPADDD(i3, i5, z2)
	VPADDD(i3, i7, z3)
	VPADDD(i1, i5, z4)
	VPADDD(z4, z3, z5)
	VPMULLD(k["c1_175875602"], z5, z5)
	VPMULLD(k["c0_298631336"], i7, i7) // a0
	VPMULLD(k["c2_053119869"], i5, i5) // a1
	VPMULLD(k["c3_072711026"], i3, i3) // a2
	VPMULLD(k["c1_501321110"], i1, i1) // a3
	VPMULLD(k["cm0_899976223"], z1, z1)
	VPMULLD(k["cm2_562915447"], z2, z2)
	VPMULLD(k["cm1_961570560"], z3, z3)
	VPADDD(z5, z3, z3)
	VPMULLD(k["cm0_390180644"], z4, z4)
	VPADDD(z5, z4, z4)
	// o0 = a3+z1+z4, o1 = a2+z2+z3, o2 = a1+z2+z4, o3 = a0+z1+z3.
	o0, o1, o2, o3 := i1, i3, i5, i7
	VPADDD(z1, o0, o0)
	VPADDD(z4, o0, o0)
	VPADDD(z2, o1, o1)
	VPADDD(z3, o1, o1)
	VPADDD(z2, o2, o2)
	VPADDD(z4, o2, o2)
	VPADDD(z1, o3, o3)
	VPADDD(z3, o3, o3)

	// Even part.
	if dc != nil {
		VPSLLD(U8(2), i0, dc)
	}
	e := YMM()
	VPADDD(i6, i2, e)
	VPMULLD(k["c0_541196100"], e, e)    // z1
	VPMULLD(k["cm1_847759065"], i6, i6) // -i6*c
	VPADDD(e, i6, i6)                   // t2
	VPMULLD(k["c0_765366865"], i2, i2)  // i2*c
	VPADDD(e, i2, i2)                   // t3
	t0, t1 := YMM(), i4
	VPADDD(i4, i0, t0)
	VPSUBD(i4, i0, t1)
	VPSLLD(U8(13), t0, t0)
	VPSLLD(U8(13), t1, t1)
	VPADDD(rnd, t0, t0)
	VPADDD(rnd, t1, t1)
	e0, e3, e1, e2 := i0, YMM(), i6, YMM()
	t2, t3 := i6, i2
	VPSUBD(t3, t0, e3)
	VPADDD(t3, t0, e0)
	VPSUBD(t2, t1, e2)
	VPADDD(t2, t1, e1)

	// Outputs: k = ek+ok, 7-k = ek-ok.
	var out [8]VecVirtual
	for j, eo := range [4][2]VecVirtual{{e0, o0}, {e1, o1}, {e2, o2}, {e3, o3}} {
		ek, ok := eo[0], eo[1]
		out[j] = YMM()
		VPADDD(ok, ek, out[j])
		VPSUBD(ok, ek, ek)
		out[7-j] = ek
		VPSRAD(U8(shift), out[j], out[j])
		VPSRAD(U8(shift), ek, ek)
	}
	return out
}

// transpose8 returns the transpose of the 8x8 int32 matrix whose rows
// are r.
func transpose8(r [8]VecVirtual) [8]VecVirtual {
	var t, u [8]VecVirtual
	for i := 0; i < 8; i += 2 {
		t[i], t[i+1] = YMM(), YMM()
		VPUNPCKLDQ(r[i+1], r[i], t[i])
		VPUNPCKHDQ(r[i+1], r[i], t[i+1])
	}
	for _, g := range []int{0, 4} {
		u[g+0], u[g+1], u[g+2], u[g+3] = YMM(), YMM(), YMM(), YMM()
		VPUNPCKLQDQ(t[g+2], t[g+0], u[g+0])
		VPUNPCKHQDQ(t[g+2], t[g+0], u[g+1])
		VPUNPCKLQDQ(t[g+3], t[g+1], u[g+2])
		VPUNPCKHQDQ(t[g+3], t[g+1], u[g+3])
	}
	for c := 0; c < 4; c++ {
		VPERM2I128(U8(0x20), u[c+4], u[c], r[c])
		VPERM2I128(U8(0x31), u[c+4], u[c], r[c+4])
	}
	return r
}

func idct() {
	TEXT("idctIslowAVX2", NOSPLIT, "func(coef *int16, q *int32, dst *byte, stride int)")
	Doc(
		"idctIslowAVX2 is idctIslowGo in AVX2: it dequantises the 64",
		"coefficients at coef (natural order) by the table q, inverse-transforms",
		"them and writes the 8x8 samples to dst, rows stride bytes apart:",
		"",
		"\tvar b block",
		"\tfor k := range b { b[k] = int32(coef[k]) * q[k] }",
		"\t// ... idctIslowGo's two passes over b, into dst",
		"",
		"with the same wrapping int32 arithmetic, byte for byte.",
	)
	coef := Load(Param("coef"), GP64())
	q := Load(Param("q"), GP64())
	dst := Load(Param("dst"), GP64())
	stride := Load(Param("stride"), GP64())

	var in [8]VecVirtual
	for r := range in {
		in[r] = YMM()
		VPMOVSXWD(Mem{Base: coef, Disp: 16 * r}, in[r])
		VPMULLD(Mem{Base: q, Disp: 32 * r}, in[r], in[r])
	}
	// Pass 1, columns (lanes) down the rows. A column whose AC terms are
	// all zero takes dc<<2, as idctIslowGo's shortcut does (the general
	// code differs from it when dc<<13 overflows).
	flat := YMM()
	VPOR(in[2], in[1], flat)
	for r := 3; r < 8; r++ {
		VPOR(in[r], flat, flat)
	}
	zero := YMM()
	VPXOR(zero, zero, zero)
	VPCMPEQD(zero, flat, flat)
	dc := YMM()
	in = idct1D(in, k["round1"], 11, dc)
	for r := range in {
		VPBLENDVB(flat, dc, in[r], in[r])
	}

	// Pass 2, rows: transpose so that lanes are rows again.
	in = transpose8(in)
	in = idct1D(in, k["round2"], 18, nil)
	// Range limit: ((x + 512) & 1023) - 384, saturated to a byte.
	for r := range in {
		VPAND(k["mask1023"], in[r], in[r])
		VPSUBD(k["c384"], in[r], in[r])
	}
	// in[c] holds column c, lane r = row r. Pack to bytes: q0 lane 0
	// holds byte 4c+r for rows 0-3 of columns 0-3, lane 1 rows 4-7; q1
	// the same for columns 4-7.
	p := [4]VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for i := range p {
		VPACKSSDW(in[2*i+1], in[2*i], p[i])
	}
	q0, q1 := YMM(), YMM()
	VPACKUSWB(p[1], p[0], q0)
	VPACKUSWB(p[3], p[2], q1)
	VPSHUFB(k["tr4x4"], q0, q0)
	VPSHUFB(k["tr4x4"], q1, q1)
	// Now dword r of each lane is 4 bytes of one row: rows 0-3 (lane 0),
	// 4-7 (lane 1); q0 columns 0-3, q1 columns 4-7.
	lo, hi := YMM(), YMM()
	VPUNPCKLDQ(q1, q0, lo) // rows 0, 1 | 4, 5
	VPUNPCKHDQ(q1, q0, hi) // rows 2, 3 | 6, 7
	s3 := GP64()
	LEAQ(Mem{Base: stride, Index: stride, Scale: 2}, s3)
	row := func(r int) Mem {
		switch r % 4 {
		case 0:
			return Mem{Base: dst}
		case 1:
			return Mem{Base: dst, Index: stride, Scale: 1}
		case 2:
			return Mem{Base: dst, Index: stride, Scale: 2}
		}
		return Mem{Base: dst, Index: s3, Scale: 1}
	}
	x := XMM()
	VMOVQ(lo.AsX(), row(0))
	VPEXTRQ(U8(1), lo.AsX(), row(1))
	VMOVQ(hi.AsX(), row(2))
	VPEXTRQ(U8(1), hi.AsX(), row(3))
	LEAQ(Mem{Base: dst, Index: stride, Scale: 4}, dst)
	VEXTRACTI128(U8(1), lo, x)
	VMOVQ(x, row(4))
	VPEXTRQ(U8(1), x, row(5))
	VEXTRACTI128(U8(1), hi, x)
	VMOVQ(x, row(6))
	VPEXTRQ(U8(1), x, row(7))
	VZEROUPPER()
	RET()
}

func ycc() {
	TEXT("yccRGBAAVX2", NOSPLIT, "func(dst *byte, y *byte, cb *byte, cr *byte, n int)")
	Doc(
		"yccRGBAAVX2 is yccRGBAGo in AVX2 for n a multiple of 8: it converts",
		"n YCbCr samples to opaque RGBA pixels with the tables of jdcolor.c,",
		"",
		"\tfor x := 0; x < n; x++ {",
		"\t\tyy := int32(y[x])",
		"\t\tdst[4*x+0] = clamp8(yy + crR[cr[x]])",
		"\t\tdst[4*x+1] = clamp8(yy + (cbG[cb[x]]+crG[cr[x]])>>16)",
		"\t\tdst[4*x+2] = clamp8(yy + cbB[cb[x]])",
		"\t\tdst[4*x+3] = 255",
		"\t}",
		"",
		"computing the table entries instead of looking them up.",
	)
	dst := Load(Param("dst"), GP64())
	py := Load(Param("y"), GP64())
	pcb := Load(Param("cb"), GP64())
	pcr := Load(Param("cr"), GP64())
	n := Load(Param("n"), GP64())
	zero := YMM()
	VPXOR(zero, zero, zero)
	Label("loop")
	CMPQ(n, U8(8))
	JL(LabelRef("done"))
	red, green, blue := yccRGB8(py, pcb, pcr, 0, zero)
	VPSLLD(U8(8), green, green)
	VPSLLD(U8(16), blue, blue)
	VPOR(green, red, red)
	VPOR(k["alpha"], blue, blue)
	VPOR(blue, red, red)
	VMOVDQU(red, Mem{Base: dst})
	ADDQ(U8(8), py)
	ADDQ(U8(8), pcb)
	ADDQ(U8(8), pcr)
	ADDQ(U8(32), dst)
	SUBQ(U8(8), n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// yccRGB8 emits the YCbCr -> RGB conversion of ycc for the 8 samples at
// py, pcb and pcr, returning R, G and B in int32 lanes, clamped to 0..255.
func yccRGB8(py, pcb, pcr Register, disp int, zero VecVirtual) (red, green, blue VecVirtual) {
	yy, b, r := YMM(), YMM(), YMM()
	VPMOVZXBD(Mem{Base: py, Disp: disp}, yy)
	VPMOVZXBD(Mem{Base: pcb, Disp: disp}, b)
	VPMOVZXBD(Mem{Base: pcr, Disp: disp}, r)
	VPSUBD(k["c128"], b, b)
	VPSUBD(k["c128"], r, r)
	red, blue, green = YMM(), YMM(), YMM()
	t := YMM()
	VPMULLD(k["cCrR"], r, red)
	VPMULLD(k["cCbB"], b, blue)
	VPMULLD(k["cmCbG"], b, green)
	VPMULLD(k["cmCrG"], r, t)
	VPADDD(t, green, green)
	for _, v := range []VecVirtual{red, green, blue} {
		VPADDD(k["half16"], v, v)
		VPSRAD(U8(16), v, v)
		VPADDD(yy, v, v)
		VPMAXSD(zero, v, v)
		VPMINSD(k["cff"], v, v)
	}
	return red, green, blue
}

func yccGray() {
	TEXT("yccGrayAVX2", NOSPLIT, "func(dst *byte, y *byte, cb *byte, cr *byte, n int)")
	Doc(
		"yccGrayAVX2 is yccGrayGo in AVX2 for n a multiple of 16: it converts",
		"n YCbCr samples to RGB as yccRGBAAVX2 does and each pixel to PIL's",
		"grey level,",
		"",
		"	for x := 0; x < n; x++ {",
		"		yy := int32(y[x])",
		"		r := clamp8(yy + crR[cr[x]])",
		"		g := clamp8(yy + (cbG[cb[x]]+crG[cr[x]])>>16)",
		"		b := clamp8(yy + cbB[cb[x]])",
		"		dst[x] = byte((19595*int32(r) + 38470*int32(g) + 7471*int32(b) + 1<<15) >> 16)",
		"	}",
	)
	dst := Load(Param("dst"), GP64())
	py := Load(Param("y"), GP64())
	pcb := Load(Param("cb"), GP64())
	pcr := Load(Param("cr"), GP64())
	n := Load(Param("n"), GP64())
	zero := YMM()
	VPXOR(zero, zero, zero)
	Label("grayloop")
	CMPQ(n, U8(16))
	JL(LabelRef("graydone"))
	var l [2]VecVirtual
	for h := range l {
		red, green, blue := yccRGB8(py, pcb, pcr, 8*h, zero)
		VPMULLD(k["wR"], red, red)
		VPMULLD(k["wG"], green, green)
		VPMULLD(k["wB"], blue, blue)
		VPADDD(green, red, red)
		VPADDD(blue, red, red)
		VPADDD(k["half16"], red, red)
		VPSRLD(U8(16), red, red)
		l[h] = red
	}
	// Words: lane 0 pixels 0-3, 8-11; lane 1 4-7, 12-15. Reorder the
	// quadwords to 0-3, 4-7 | 8-11, 12-15 and pack the two lanes to bytes.
	w, x := YMM(), XMM()
	VPACKUSDW(l[1], l[0], w)
	VPERMQ(U8(0xD8), w, w)
	VEXTRACTI128(U8(1), w, x)
	VPACKUSWB(x, w.AsX(), x)
	VMOVDQU(x, Mem{Base: dst})
	ADDQ(U8(16), py)
	ADDQ(U8(16), pcb)
	ADDQ(U8(16), pcr)
	ADDQ(U8(16), dst)
	SUBQ(U8(16), n)
	JMP(LabelRef("grayloop"))
	Label("graydone")
	VZEROUPPER()
	RET()
}

// times3 sets v to 3*v in 16-bit lanes, using t.
func times3(v, t VecVirtual) {
	VPADDW(v, v, t)
	VPADDW(t, v, v)
}

// interleave stores the 16-bit lanes even and odd (each < 256) as the
// bytes even[0], odd[0], even[1], ... at m.
func interleave(even, odd VecVirtual, m Mem) {
	VPSLLW(U8(8), odd, odd)
	VPOR(odd, even, even)
	VMOVDQU(even, m)
}

func h2v2() {
	TEXT("h2v2FancyAVX2", NOSPLIT, "func(out *byte, near *byte, far *byte, n int)")
	Doc(
		"h2v2FancyAVX2 is the interior loop of h2v2FancyGo in AVX2, for n a",
		"multiple of 16, with out and the rows based at output 2 and input 1:",
		"",
		"\tcol := func(x int) int { return int(near[x])*3 + int(far[x]) }",
		"\tfor x := 0; x < n; x++ {",
		"\t\tout[2*x] = byte((col(x)*3 + col(x-1) + 8) >> 4)",
		"\t\tout[2*x+1] = byte((col(x)*3 + col(x+1) + 7) >> 4)",
		"\t}",
		"",
		"It reads near and far from index -1 to n.",
	)
	out := Load(Param("out"), GP64())
	near := Load(Param("near"), GP64())
	far := Load(Param("far"), GP64())
	n := Load(Param("n"), GP64())
	Label("h2v2loop")
	CMPQ(n, U8(16))
	JL(LabelRef("h2v2done"))
	col := func(off int) VecVirtual {
		a, b, t := YMM(), YMM(), YMM()
		VPMOVZXBW(Mem{Base: near, Disp: off}, a)
		VPMOVZXBW(Mem{Base: far, Disp: off}, b)
		times3(a, t)
		VPADDW(b, a, a)
		return a
	}
	c, cl, cr := col(0), col(-1), col(1)
	t := YMM()
	times3(c, t)
	VPADDW(c, cl, cl)
	VPADDW(k["w8"], cl, cl)
	VPSRLW(U8(4), cl, cl)
	VPADDW(c, cr, cr)
	VPADDW(k["w7"], cr, cr)
	VPSRLW(U8(4), cr, cr)
	// Lane order: VPMOVZXBW keeps the 16 inputs in order across the two
	// 128-bit halves, so the 32 output bytes come out in order.
	interleave(cl, cr, Mem{Base: out})
	ADDQ(U8(16), near)
	ADDQ(U8(16), far)
	ADDQ(U8(32), out)
	SUBQ(U8(16), n)
	JMP(LabelRef("h2v2loop"))
	Label("h2v2done")
	VZEROUPPER()
	RET()
}

func h2v1() {
	TEXT("h2v1FancyAVX2", NOSPLIT, "func(out *byte, in *byte, n int)")
	Doc(
		"h2v1FancyAVX2 is the interior loop of h2v1FancyGo in AVX2, for n a",
		"multiple of 16, with out and in based at output 2 and input 1:",
		"",
		"\tfor x := 0; x < n; x++ {",
		"\t\tv := int(in[x]) * 3",
		"\t\tout[2*x] = byte((v + int(in[x-1]) + 1) >> 2)",
		"\t\tout[2*x+1] = byte((v + int(in[x+1]) + 2) >> 2)",
		"\t}",
		"",
		"It reads in from index -1 to n.",
	)
	out := Load(Param("out"), GP64())
	in := Load(Param("in"), GP64())
	n := Load(Param("n"), GP64())
	Label("h2v1loop")
	CMPQ(n, U8(16))
	JL(LabelRef("h2v1done"))
	c, l, r, t := YMM(), YMM(), YMM(), YMM()
	VPMOVZXBW(Mem{Base: in}, c)
	VPMOVZXBW(Mem{Base: in, Disp: -1}, l)
	VPMOVZXBW(Mem{Base: in, Disp: 1}, r)
	times3(c, t)
	VPADDW(c, l, l)
	VPADDW(k["w1"], l, l)
	VPSRLW(U8(2), l, l)
	VPADDW(c, r, r)
	VPADDW(k["w2"], r, r)
	VPSRLW(U8(2), r, r)
	interleave(l, r, Mem{Base: out})
	ADDQ(U8(16), in)
	ADDQ(U8(32), out)
	SUBQ(U8(16), n)
	JMP(LabelRef("h2v1loop"))
	Label("h2v1done")
	VZEROUPPER()
	RET()
}
