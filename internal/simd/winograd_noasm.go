//go:build !amd64 || purego

package simd

func wgAsm() bool { return false }

func wgInput8AVX2(v *float32, vstride int, src *float32, sstride, groups int) {
	panic("simd: no AVX2 transforms in this build")
}

func wgOutput8AVX2(dst *float32, dstride int, m *float32, mstride, groups int, bias, scale, lo float32) {
	panic("simd: no AVX2 transforms in this build")
}

func vecAsm() bool { return false }

func maxRowsAVX2(dst, src *float32, n int) { panic("simd: no AVX2 pooling in this build") }

func maxWindows2AVX2(dst, col *float32, n, k int) { panic("simd: no AVX2 pooling in this build") }

func maxPool2RowsAVX2(dst, src *float32, ld, n, k int) { panic("simd: no AVX2 pooling in this build") }

func wgInput8x8AVX2(v *float32, vstride int, src *float32, sstride, groups int) {
	panic("simd: no AVX2 transforms in this build")
}

func wgOutput8x8AVX2(dst *float32, dstride int, m *float32, mstride, groups int, bias, scale, lo float32) {
	panic("simd: no AVX2 transforms in this build")
}

func wgInput8PairAVX2(v *float32, vstride int, a, b *float32, sstride int) {
	panic("simd: no AVX2 transforms in this build")
}

func scaleReLUAVX2(dst, src *float32, n int, scale float32) {
	panic("simd: no AVX2 ReLU in this build")
}

func copyRowsAVX2(dst *float32, dstride int, src *float32, sstride, rows, width int) {
	panic("simd: no AVX2 copies in this build")
}
