// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

// A block is 64 quantised DCT coefficients in natural row-major order.
type block [blockSize]int16

const blockSize = 8 * 8

// The islow inverse DCT (Loeffler, Ligtenberg and Moschytz, ICASSP 1989, in
// the 12-multiply form) with the fixed-point scaling of libjpeg's
// jidctint.c: the constants carry 13 fractional bits, the column pass keeps
// 2 extra bits, and the row pass removes them together with the factor 8 of
// the 2-D transform. This is the IDCT libjpeg-turbo runs by default (its
// SIMD versions are bit-exact with it), so PIL's pixels come out of it.
const (
	constBits = 13
	pass1Bits = 2

	// round(x * 2^13) for the rotation constants of the transform.
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

// descale divides x by 2^n, rounding halves up.
func descale(x int32, n uint) int32 { return (x + 1<<(n-1)) >> n }

// rangeLimit level-shifts an IDCT output by +128 and limits it to a byte the
// way libjpeg's post-IDCT table does: it looks x up modulo 1024, so values a
// little out of range saturate and absurd ones (corrupt data) wrap.
func rangeLimit(x int32) byte { return rangeTable[x&1023] }

// rangeTable is libjpeg's post-IDCT range limit, indexed by x mod 1024:
// x+128 for x in -128..127, 255 above (to 511), 0 below (from -512).
// Equivalently, ((x+512)&1023)-384 saturated to a byte, which is how the
// AVX2 kernel computes it.
var rangeTable = func() (t [1024]byte) {
	for v := range t {
		t[v] = byte(min(max((v+512)&1023-384, 0), 255))
	}
	return t
}()

// idct1D is one 1-D islow IDCT of i0..i7. It returns the even and odd
// halves, still scaled by 2^constBits: output k is ek+ok and output 7-k is
// ek-ok, for k = 0..3.
func idct1D(i0, i1, i2, i3, i4, i5, i6, i7 int32) (e0, e1, e2, e3, o0, o1, o2, o3 int32) {
	// Even part: the rotator is sqrt(2)*c(-6).
	z1 := (i2 + i6) * fix0_541196100
	t2 := z1 - i6*fix1_847759065
	t3 := z1 + i2*fix0_765366865
	t0 := (i0 + i4) << constBits
	t1 := (i0 - i4) << constBits
	e0, e3 = t0+t3, t0-t3
	e1, e2 = t1+t2, t1-t2

	// Odd part: inputs y7, y5, y3, y1.
	a0, a1, a2, a3 := i7, i5, i3, i1
	z1 = a0 + a3
	z2 := a1 + a2
	z3 := a0 + a2
	z4 := a1 + a3
	z5 := (z3 + z4) * fix1_175875602
	a0 *= fix0_298631336
	a1 *= fix2_053119869
	a2 *= fix3_072711026
	a3 *= fix1_501321110
	z1 *= -fix0_899976223
	z2 *= -fix2_562915447
	z3 = z3*-fix1_961570560 + z5
	z4 = z4*-fix0_390180644 + z5
	// o0 pairs with e0 (outputs 0 and 7), o1 with e1, and so on.
	o0 = a3 + z1 + z4
	o1 = a2 + z2 + z3
	o2 = a1 + z2 + z4
	o3 = a0 + z1 + z3
	return
}

// idctIslow dequantises the coefficients coef (natural order) by the
// table q, computes their inverse DCT and writes the 8x8 samples to dst,
// whose rows are stride >= 8 bytes apart. It runs idctIslowAVX2 where it
// can, and idctIslowGo, the reference, elsewhere.
func idctIslow(coef *block, q *[blockSize]int32, dst []byte, stride int) {
	if useAVX2 {
		_ = dst[7*stride+7]
		idctIslowAVX2(&coef[0], &q[0], &dst[0], stride)
		return
	}
	idctIslowGo(coef, q, dst, stride)
}

// idctIslowGo is idctIslow in Go. As a plain loop (up to rounding, which
// this follows exactly), with b[k] = coef[k]*q[k]:
//
//	dst[y*stride+x] = clamp(128 + Σ_u Σ_v C(u)C(v)/4 b[v*8+u]
//	                        cos((2x+1)uπ/16) cos((2y+1)vπ/16))
//
// It computes in int32, wrapping on overflow (which only corrupt data
// reaches), as libjpeg's C code does on its usual platforms.
func idctIslowGo(coef *block, q *[blockSize]int32, dst []byte, stride int) {
	var b, ws [blockSize]int32
	for k := range b {
		b[k] = int32(coef[k]) * q[k]
	}
	// Pass 1: columns from b into ws, keeping pass1Bits extra bits.
	for c := 0; c < 8; c++ {
		if b[8+c]|b[16+c]|b[24+c]|b[32+c]|b[40+c]|b[48+c]|b[56+c] == 0 {
			// AC terms all zero (the general code gives the same result).
			dc := b[c] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+c] = dc
			}
			continue
		}
		e0, e1, e2, e3, o0, o1, o2, o3 := idct1D(b[c], b[8+c], b[16+c], b[24+c], b[32+c], b[40+c], b[48+c], b[56+c])
		const n = constBits - pass1Bits
		ws[0*8+c] = descale(e0+o0, n)
		ws[7*8+c] = descale(e0-o0, n)
		ws[1*8+c] = descale(e1+o1, n)
		ws[6*8+c] = descale(e1-o1, n)
		ws[2*8+c] = descale(e2+o2, n)
		ws[5*8+c] = descale(e2-o2, n)
		ws[3*8+c] = descale(e3+o3, n)
		ws[4*8+c] = descale(e3-o3, n)
	}

	// Pass 2: rows from ws into dst, removing all the scaling.
	_ = dst[7*stride+7]
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		const n = constBits + pass1Bits + 3
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			v := rangeLimit(descale(w[0], pass1Bits+3))
			for x := range out {
				out[x] = v
			}
			continue
		}
		e0, e1, e2, e3, o0, o1, o2, o3 := idct1D(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
		out[0] = rangeLimit(descale(e0+o0, n))
		out[7] = rangeLimit(descale(e0-o0, n))
		out[1] = rangeLimit(descale(e1+o1, n))
		out[6] = rangeLimit(descale(e1-o1, n))
		out[2] = rangeLimit(descale(e2+o2, n))
		out[5] = rangeLimit(descale(e2-o2, n))
		out[3] = rangeLimit(descale(e3+o3, n))
		out[4] = rangeLimit(descale(e3-o3, n))
	}
}
