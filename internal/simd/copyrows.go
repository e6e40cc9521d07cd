package simd

import "fmt"

// CopyRows copies rows rows of width floats from src, whose rows are
// sstride apart, to dst, whose rows are dstride apart: conv's row copies
// between its padded or tiled scratch planes and the images, in one call
// per block of rows instead of one copy per row (the per-call cost of a
// copy of 13 to 55 floats was most of its time). dst and src must not
// overlap.
func CopyRows(dst []float32, dstride int, src []float32, sstride, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	if dstride < width || sstride < width {
		panic(fmt.Sprintf("simd: CopyRows: dstride=%d, sstride=%d for rows of %d", dstride, sstride, width))
	}
	if need := (rows-1)*dstride + width; len(dst) < need {
		panic(fmt.Sprintf("simd: CopyRows: len(dst)=%d, want %d for %d rows of %d, stride %d", len(dst), need, rows, width, dstride))
	}
	if need := (rows-1)*sstride + width; len(src) < need {
		panic(fmt.Sprintf("simd: CopyRows: len(src)=%d, want %d for %d rows of %d, stride %d", len(src), need, rows, width, sstride))
	}
	if vecAsm() && width >= 8 {
		copyRowsAVX2(&dst[0], dstride, &src[0], sstride, rows, width)
		return
	}
	copyRowsGo(dst, dstride, src, sstride, rows, width)
}

// copyRowsGo is CopyRows in Go (the reference).
func copyRowsGo(dst []float32, dstride int, src []float32, sstride, rows, width int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*dstride:r*dstride+width], src[r*sstride:r*sstride+width])
	}
}
