package simd

import "fmt"

// ScaleReLU sets dst[x] = scale·max(0, src[x]) for every x in dst: the
// gain ReLU of nn.ReLU, (1+α)·max(0, x). NaN stays NaN (max(0, NaN) is
// NaN, as in PyTorch) and −0 stays −0. dst and src may be the same slice.
// The assembly and the Go code give the same bits.
func ScaleReLU(dst, src []float32, scale float32) {
	n := len(dst)
	if len(src) < n {
		panic(fmt.Sprintf("simd: ScaleReLU: len(src)=%d < len(dst)=%d", len(src), n))
	}
	v := 0
	if vecAsm() {
		v = n &^ 31
		if v > 0 {
			scaleReLUAVX2(&dst[0], &src[0], v, scale)
		}
	}
	scaleReLUGo(dst[v:], src[v:n], scale)
}

// scaleReLUGo is ScaleReLU in Go (the reference).
func scaleReLUGo(dst, src []float32, scale float32) {
	for x, v := range src[:len(dst)] {
		if v < 0 { // NaN < 0 is false: NaN passes
			v = 0
		}
		dst[x] = scale * v
	}
}
