package simd

import (
	"fmt"
	"math"
)

// Winograd F(4×4, 3×3) tile transforms, eight tiles at a time.
//
// A row of tiles is eight 6×6 input patches that overlap by two columns:
// patch q of group g reads src[i·sstride + 32g + 4q + j] for i, j in 0..5.
// WgInput8 writes the 36 transformed values of each patch, Bᵀ d B, to 36
// rows of V: value ξ = 6i+j of tile q of group g goes to
// v[ξ·vstride + 8g + q]. WgOutput8 is the inverse step: it reads 36 rows
// of M the same way, computes Aᵀ m A (4×4), applies the epilogue, and
// writes the 4×4 outputs of the group's eight tiles side by side, so that
// output row i of the tile row is dst[i·dstride : i·dstride+32·groups].
//
// The transforms are those of Lavin & Gray (2016) with interpolation
// points 0, ±1, ±2, ∞; conv's winograd.go has the weight transform G.
// On amd64 with AVX2 they run in assembly (no FMA, the same operation
// order as the Go code, so the results are the same bits); elsewhere, or
// when the active GEMM implementation is "Go", in Go.

// WgInput8 computes V for groups groups of eight tiles. src must hold
// 5·sstride + 32·groups + 4 floats and v 35·vstride + 8·groups.
func WgInput8(v []float32, vstride int, src []float32, sstride, groups int) {
	if !checkWgInput("WgInput8", 6, v, vstride, src, sstride, groups) {
		return
	}
	if !wgAsm() {
		wgInput8Go(v, vstride, src, sstride, groups)
		return
	}
	wgInput8AVX2(&v[0], vstride, &src[0], sstride, groups)
}

// WgInput8Pair is WgInput8 on one group whose tiles 0–3 are the first
// four tiles of the rows at a and tiles 4–7 those at b: two tile rows of
// a map four tiles wide (13×13 to 16×16 outputs) in one group. a and b
// must each hold 5·sstride + 20 floats, and v 35·vstride + 8.
func WgInput8Pair(v []float32, vstride int, a, b []float32, sstride int) {
	if sstride < 20 || len(a) < 5*sstride+20 || len(b) < 5*sstride+20 {
		panic(fmt.Sprintf("simd: WgInput8Pair: len(a)=%d, len(b)=%d, sstride=%d, want at least %d and 20", len(a), len(b), sstride, 5*sstride+20))
	}
	if len(v) < 35*vstride+8 || vstride < 8 {
		panic(fmt.Sprintf("simd: WgInput8Pair: len(v)=%d, vstride=%d, want at least %d and 8", len(v), vstride, 35*vstride+8))
	}
	if !wgAsm() {
		wgInput8PairGo(v, vstride, a, b, sstride)
		return
	}
	wgInput8PairAVX2(&v[0], vstride, &a[0], &b[0], sstride)
}

// WgOutput8 computes the outputs of groups groups of eight tiles from M,
// with y += bias and then, if relu, y = scale·max(0, y) (NaN stays NaN).
// m must hold 35·mstride + 8·groups floats and dst 3·dstride + 32·groups.
func WgOutput8(dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool) {
	if !checkWgOutput("WgOutput8", 6, dst, dstride, m, mstride, groups) {
		return
	}
	if !wgAsm() {
		wgOutputGo(dst, dstride, m, mstride, groups, bias, scale, relu)
		return
	}
	scale, lo := wgAsmEpilogue(scale, relu)
	wgOutput8AVX2(&dst[0], dstride, &m[0], mstride, groups, bias, scale, lo)
}

// checkWgInput checks the arguments of an input transform with n×n
// patches 4 apart, and reports whether there is any work.
func checkWgInput(name string, n int, v []float32, vstride int, src []float32, sstride, groups int) bool {
	if groups <= 0 {
		return false
	}
	row := 32*groups + 4
	if need := (n-1)*sstride + row; len(src) < need || sstride < row {
		panic(fmt.Sprintf("simd: %s: len(src)=%d, sstride=%d for %d groups, want at least %d and %d", name, len(src), sstride, groups, need, row))
	}
	if need := (n*n-1)*vstride + 8*groups; len(v) < need || vstride < 8*groups {
		panic(fmt.Sprintf("simd: %s: len(v)=%d, vstride=%d for %d groups, want at least %d and %d", name, len(v), vstride, groups, need, 8*groups))
	}
	return true
}

// checkWgOutput checks the arguments of an output transform from n×n
// tiles to 4×4 outputs, and reports whether there is any work.
func checkWgOutput(name string, n int, dst []float32, dstride int, m []float32, mstride, groups int) bool {
	if groups <= 0 {
		return false
	}
	row := 32 * groups
	if need := 3*dstride + row; len(dst) < need || dstride < row {
		panic(fmt.Sprintf("simd: %s: len(dst)=%d, dstride=%d for %d groups, want at least %d and %d", name, len(dst), dstride, groups, need, row))
	}
	if need := (n*n-1)*mstride + 8*groups; len(m) < need || mstride < 8*groups {
		panic(fmt.Sprintf("simd: %s: len(m)=%d, mstride=%d for %d groups, want at least %d and %d", name, len(m), mstride, groups, need, 8*groups))
	}
	return true
}

// wgAsmEpilogue returns the assembly output transforms' epilogue
// arguments: y = scale·max(lo, y+bias), with lo = 0 for a ReLU and
// lo = -Inf, scale = 1 without one.
func wgAsmEpilogue(scale float32, relu bool) (float32, float32) {
	if relu {
		return scale, 0
	}
	return 1, float32(math.Inf(-1))
}

// wgIn computes Bᵀ·d for six values.
func wgIn(d *[6]float32) {
	d0, d1, d2, d3, d4, d5 := d[0], d[1], d[2], d[3], d[4], d[5]
	t1 := d4 - 4*d2
	t2 := d3 - 4*d1
	t3 := d4 - d2
	t4 := 2 * (d3 - d1)
	d[0] = 4*d0 - 5*d2 + d4
	d[1] = t1 + t2
	d[2] = t1 - t2
	d[3] = t3 + t4
	d[4] = t3 - t4
	d[5] = 4*d1 - 5*d3 + d5
}

// wgOut computes Aᵀ·m for six values into o.
func wgOut(m *[6]float32, o *[4]float32) {
	s1 := m[1] + m[2]
	d1 := m[1] - m[2]
	s3 := m[3] + m[4]
	d3 := m[3] - m[4]
	o[0] = m[0] + s1 + s3
	o[1] = d1 + 2*d3
	o[2] = s1 + 4*s3
	o[3] = d1 + 8*d3 + m[5]
}

// wgInput8Go is the reference: per tile, rows (along j) first, then
// columns (along i), as the assembly does.
func wgInput8Go(v []float32, vstride int, src []float32, sstride, groups int) {
	for t := 0; t < 8*groups; t++ {
		wgInputTile(v[t:], vstride, src[4*t:], sstride)
	}
}

// wgInput8PairGo is the reference of WgInput8Pair.
func wgInput8PairGo(v []float32, vstride int, a, b []float32, sstride int) {
	for t := 0; t < 4; t++ {
		wgInputTile(v[t:], vstride, a[4*t:], sstride)
		wgInputTile(v[4+t:], vstride, b[4*t:], sstride)
	}
}

// wgInputTile transforms the 6×6 patch at src (row stride sstride) into
// v[ξ·vstride] for ξ = 0..35: rows (along j) first, then columns.
func wgInputTile(v []float32, vstride int, src []float32, sstride int) {
	var r [6][6]float32
	for i := 0; i < 6; i++ {
		r[i] = *(*[6]float32)(src[i*sstride : i*sstride+6])
		wgIn(&r[i])
	}
	for j := 0; j < 6; j++ {
		c := [6]float32{r[0][j], r[1][j], r[2][j], r[3][j], r[4][j], r[5][j]}
		wgIn(&c)
		for i := 0; i < 6; i++ {
			v[(6*i+j)*vstride] = c[i]
		}
	}
}

// wgOutputGo is the reference output transform from 6×6 tiles.
func wgOutputGo(dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool) {
	at := func(x []float32, o *[4]float32) { wgOut((*[6]float32)(x), o) }
	wgOutputRef(6, at, dst, dstride, m, mstride, groups, bias, scale, relu)
}

// wgOutputRef is the reference output transform from n×n tiles (n ≤ 8)
// with the 1-D transform at (Aᵀ·x for n values): per tile, columns (along
// i) first, then rows, then the epilogue, as the assembly does.
func wgOutputRef(n int, at func(x []float32, o *[4]float32), dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool) {
	var s [4][8]float32
	var c [8]float32
	for t := 0; t < 8*groups; t++ {
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				c[i] = m[(n*i+j)*mstride+t]
			}
			var o [4]float32
			at(c[:n], &o)
			for i := 0; i < 4; i++ {
				s[i][j] = o[i]
			}
		}
		for i := 0; i < 4; i++ {
			var o [4]float32
			at(s[i][:n], &o)
			for j, z := range o {
				z += bias
				if relu {
					if z < 0 {
						z = 0
					}
					z *= scale
				}
				dst[i*dstride+4*t+j] = z
			}
		}
	}
}
