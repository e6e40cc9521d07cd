package simd

// Winograd F(4×4, 5×5) tile transforms, eight tiles at a time.
//
// The interpolation points are 0, ±1, ±2, ±1/2 and ∞, so the input tile
// is 8×8. A row of tiles is eight 8×8 input patches that overlap by four
// columns: patch q of group g reads src[i·sstride + 32g + 4q + j] for i, j
// in 0..7. WgInput8x8 writes the 64 transformed values of each patch,
// Bᵀ d B, to 64 rows of V: value ξ = 8i+j of tile q of group g goes to
// v[ξ·vstride + 8g + q]. WgOutput8x8 reads 64 rows of M the same way,
// computes Aᵀ m A (4×4), applies the epilogue and writes the outputs as
// WgOutput8 does. conv's winograd.go has the weight transform G.
//
// Bᵀ (rows are outputs; the last row has the sign that makes G's last
// row (0, 0, 0, 0, 1)):
//
//	1   0  -21/4    0   21/4    0    -1  0
//	0   1    1   -17/4 -17/4    1     1  0
//	0   1   -1   -17/4  17/4    1    -1  0
//	0   1   1/2    -5   -5/2    4     2  0
//	0   1  -1/2    -5    5/2    4    -2  0
//	0   1    2   -5/4   -5/2   1/4   1/2 0
//	0   1   -2   -5/4    5/2   1/4  -1/2 0
//	0  -1    0   21/4     0  -21/4    0  1
//
// Aᵀ is the first four powers of the points, with 1 for ∞ in the last row.
// All the coefficients are exact in float32. On amd64 with AVX2 the
// transforms run in assembly with the Go code's operations in its order
// and no FMA, so the results are the same bits.

// WgInput8x8 computes V for groups groups of eight 8×8 tiles. src must
// hold 7·sstride + 32·groups + 4 floats and v 63·vstride + 8·groups.
func WgInput8x8(v []float32, vstride int, src []float32, sstride, groups int) {
	if !checkWgInput("WgInput8x8", 8, v, vstride, src, sstride, groups) {
		return
	}
	if !wgAsm() {
		wgInput8x8Go(v, vstride, src, sstride, groups)
		return
	}
	wgInput8x8AVX2(&v[0], vstride, &src[0], sstride, groups)
}

// WgOutput8x8 computes the 4×4 outputs of groups groups of eight tiles
// from 64 rows of M, with y += bias and then, if relu, y = scale·max(0, y)
// (NaN stays NaN); output row i of the tile row is dst[i·dstride :
// i·dstride+32·groups]. m must hold 63·mstride + 8·groups floats and dst
// 3·dstride + 32·groups.
func WgOutput8x8(dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool) {
	if !checkWgOutput("WgOutput8x8", 8, dst, dstride, m, mstride, groups) {
		return
	}
	if !wgAsm() {
		wgOutput8x8Go(dst, dstride, m, mstride, groups, bias, scale, relu)
		return
	}
	scale, lo := wgAsmEpilogue(scale, relu)
	wgOutput8x8AVX2(&dst[0], dstride, &m[0], mstride, groups, bias, scale, lo)
}

// wgIn8 computes Bᵀ·d for eight values. Every product is converted to
// float32 on its own, so that no compiler fuses it into an FMA: the
// assembly rounds each product too.
func wgIn8(d *[8]float32) {
	d0, d1, d2, d3, d4, d5, d6, d7 := d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
	d[0] = (d0 - d6) + float32(5.25*(d4-d2))
	d[7] = (d7 - d1) + float32(5.25*(d3-d5))
	t1 := (d2 + d6) - float32(4.25*d4)
	t2 := (d1 + d5) - float32(4.25*d3)
	d[1] = t2 + t1
	d[2] = t2 - t1
	u1 := (float32(0.5*d2) - float32(2.5*d4)) + float32(2*d6)
	u2 := (d1 - float32(5*d3)) + float32(4*d5)
	d[3] = u2 + u1
	d[4] = u2 - u1
	w1 := (float32(2*d2) - float32(2.5*d4)) + float32(0.5*d6)
	w2 := (d1 - float32(1.25*d3)) + float32(0.25*d5)
	d[5] = w2 + w1
	d[6] = w2 - w1
}

// wgOut8 computes Aᵀ·m of F(4×4, 5×5) for eight values into o.
func wgOut8(m *[8]float32, o *[4]float32) {
	s1, d1 := m[1]+m[2], m[1]-m[2]
	s3, d3 := m[3]+m[4], m[3]-m[4]
	s5, d5 := m[5]+m[6], m[5]-m[6]
	o[0] = ((m[0] + s1) + s3) + s5
	o[1] = (d1 + float32(2*d3)) + float32(0.5*d5)
	o[2] = (s1 + float32(4*s3)) + float32(0.25*s5)
	o[3] = ((d1 + float32(8*d3)) + float32(0.125*d5)) + m[7]
}

// wgInput8x8Go is the reference: per tile, rows (along j) first, then
// columns (along i), as the assembly does.
func wgInput8x8Go(v []float32, vstride int, src []float32, sstride, groups int) {
	var r [8][8]float32
	for t := 0; t < 8*groups; t++ {
		x0 := 4 * t
		for i := 0; i < 8; i++ {
			r[i] = *(*[8]float32)(src[i*sstride+x0 : i*sstride+x0+8])
			wgIn8(&r[i])
		}
		for j := 0; j < 8; j++ {
			c := [8]float32{r[0][j], r[1][j], r[2][j], r[3][j], r[4][j], r[5][j], r[6][j], r[7][j]}
			wgIn8(&c)
			for i := 0; i < 8; i++ {
				v[(8*i+j)*vstride+t] = c[i]
			}
		}
	}
}

// wgOutput8x8Go is the reference output transform from 8×8 tiles.
func wgOutput8x8Go(dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool) {
	at := func(x []float32, o *[4]float32) { wgOut8((*[8]float32)(x), o) }
	wgOutputRef(8, at, dst, dstride, m, mstride, groups, bias, scale, relu)
}
