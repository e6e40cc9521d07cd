package simd

import "fmt"

// Max pooling helpers for conv.MaxPool2d. Both take the maximum with NaN
// winning, as PyTorch's pooling does; between +0 and −0 either may be
// returned.

// MaxRows sets dst[x] = max(dst[x], src[x]) for every x in dst.
func MaxRows(dst, src []float32) {
	n := len(dst)
	if len(src) < n {
		panic(fmt.Sprintf("simd: MaxRows: len(src)=%d < len(dst)=%d", len(src), n))
	}
	if vecAsm() && n >= 8 {
		v := n &^ 7
		maxRowsAVX2(&dst[0], &src[0], v)
		if v < n {
			// The last eight again: taking a maximum twice changes
			// nothing, and it saves a scalar tail.
			maxRowsAVX2(&dst[n-8], &src[n-8], 8)
		}
		return
	}
	maxRowsGo(dst, src[:n])
}

// MaxWindows sets dst[j] = max(col[j·s : j·s+k]) for every j in dst: the
// horizontal step of a pooling window of width k at stride s. col must
// hold (len(dst)−1)·s + k values.
func MaxWindows(dst, col []float32, k, s int) {
	n := len(dst)
	if n == 0 {
		return
	}
	if k < 1 || s < 1 || len(col) < (n-1)*s+k {
		panic(fmt.Sprintf("simd: MaxWindows: len(col)=%d for %d windows of %d at stride %d", len(col), n, k, s))
	}
	v := 0
	if vecAsm() && s == 2 && (k == 2 || k == 3) {
		// The assembly reads whole vectors: 16·⌈·⌉ values per 8 windows,
		// plus 2 for k = 3; keep to groups whose reads stay in col.
		v = n &^ 7
		for v > 0 && 2*v+2 > len(col) {
			v -= 8
		}
		if v > 0 {
			maxWindows2AVX2(&dst[0], &col[0], v, k)
		}
		if j := n - 8; v < n && j >= 0 && 2*n+2 <= len(col) {
			// The last eight windows, overlapping those done: each is a
			// function of col alone, so recomputing one changes nothing.
			maxWindows2AVX2(&dst[j], &col[2*j], 8, k)
			return
		}
	}
	maxWindowsGo(dst[v:], col[v*s:], k, s)
}

// MaxPool2Rows sets dst[j] to the maximum of src[r·ld + 2j + c] over
// r, c < k, for every j in dst: one output row of a k×k pooling window at
// stride 2 (k = 2 or 3), whose first window starts at src[0], reading the
// k input rows ld apart in place. src must hold (k−1)·ld + 2·len(dst) +
// k − 2 values; a longer src lets more of the row run in vector code.
func MaxPool2Rows(dst, src []float32, ld, k int) {
	n := len(dst)
	if n == 0 {
		return
	}
	if (k != 2 && k != 3) || ld < 2*n+k-2 || len(src) < (k-1)*ld+2*n+k-2 {
		panic(fmt.Sprintf("simd: MaxPool2Rows: len(src)=%d, ld=%d for %d windows of %d×%d", len(src), ld, n, k, k))
	}
	v := 0
	if vecAsm() {
		// The assembly reads 16 values per group of 8 windows from each
		// row, and 2 more for k = 3; keep to groups whose reads stay in
		// src.
		ext := 16
		if k == 3 {
			ext = 18
		}
		reads := func(j, groups int) bool { return (k-1)*ld+2*j+16*(groups-1)+ext <= len(src) }
		v = n &^ 7
		for v > 0 && !reads(0, v/8) {
			v -= 8
		}
		if v > 0 {
			maxPool2RowsAVX2(&dst[0], &src[0], ld, v, k)
		}
		if j := n - 8; v < n && j >= 0 && reads(j, 1) {
			// The last eight windows, overlapping those done: recomputing
			// a window changes nothing.
			maxPool2RowsAVX2(&dst[j], &src[2*j], ld, 8, k)
			return
		}
	}
	maxPool2RowsGo(dst[v:], src[2*v:], ld, k)
}

// maxPool2RowsGo is MaxPool2Rows in Go (the reference).
func maxPool2RowsGo(dst, src []float32, ld, k int) {
	for j := range dst {
		m := src[2*j]
		for r := 0; r < k; r++ {
			for _, x := range src[r*ld+2*j : r*ld+2*j+k] {
				m = max(m, x)
			}
		}
		dst[j] = m
	}
}

// maxRowsGo is MaxRows in Go (the reference).
func maxRowsGo(dst, src []float32) {
	for x, v := range src[:len(dst)] {
		dst[x] = max(dst[x], v)
	}
}

// maxWindowsGo is MaxWindows in Go (the reference).
func maxWindowsGo(dst, col []float32, k, s int) {
	for j := range dst {
		w := col[j*s : j*s+k]
		m := w[0]
		for _, v := range w[1:] {
			m = max(m, v)
		}
		dst[j] = m
	}
}
