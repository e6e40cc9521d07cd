package conv

import (
	"sync"

	"github.com/emosel/emosel/tensor"
)

// Space-to-depth turns a strided convolution into a stride-1 one that
// Winograd can compute. With stride s, input channel c's pixel
// (s·Y + dy, s·X + dx) becomes pixel (Y, X) of channel (c·s + dy)·s + dx
// of an image s² times deeper and s times smaller, and kernel tap
// (s·a + dy, s·b + dx) becomes tap (a, b) of that channel. A KH×KW kernel
// thus becomes ⌈KH/s⌉×⌈KW/s⌉, padded with zero taps; when that is 3×3
// (AlexNet's conv1: 11×11 at stride 4 over 3 channels becomes 3×3 over
// 48), F(4×4, 3×3) applies.

// s2dFits reports whether the filter becomes 3×3 by space-to-depth.
func (f *Filter) s2dFits() bool {
	p := f.p
	s := p.Stride[0]
	return s >= 2 && p.Stride[1] == s && p.Dilation == [2]int{1, 1} &&
		(f.kh+s-1)/s == 3 && (f.kw+s-1)/s == 3
}

// useS2D decides space-to-depth Winograd for an output of oh×ow.
func (f *Filter) useS2D(oh, ow int) bool {
	if !f.s2dFits() {
		return false
	}
	s := f.p.Stride[0]
	switch CurrentAlgorithm() {
	case Winograd:
		return true
	case Auto:
		return f.c*s*s >= 16 && f.o >= 16 && oh >= 4 && ow >= 4
	}
	return false
}

// s2d returns the equivalent 3×3 stride-1 unpadded filter over the deep
// image, built on first use and kept (it is small: O·C·s²·9 values).
func (f *Filter) s2d() *Filter {
	f.s2dOnce.Do(func() {
		s := f.p.Stride[0]
		k := f.c * f.kh * f.kw
		w := f.w
		cs := f.c * s * s
		w2 := tensor.New(f.o, cs, 3, 3)
		d := w2.Data()
		for o := 0; o < f.o; o++ {
			for c := 0; c < f.c; c++ {
				for u := 0; u < f.kh; u++ {
					for v := 0; v < f.kw; v++ {
						ch := (c*s+u%s)*s + v%s
						d[((o*cs+ch)*3+u/s)*3+v/s] = w[o*k+(c*f.kh+u)*f.kw+v]
					}
				}
			}
		}
		f.s2dF = NewFilter(w2, Params{})
	})
	return f.s2dF
}

// forwardS2D computes the convolution by space-to-depth and Winograd: the
// deep image has OH+2 × OW+2 pixels, so that the 3×3 valid convolution
// gives OH×OW.
func (f *Filter) forwardS2D(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	g := f.s2d()
	s, ph, pw := f.p.Stride[0], f.p.Pad[0], f.p.Pad[1]
	hs, ws := oh+2, ow+2
	xb := bigPool.Get().(*[]float32)
	defer bigPool.Put(xb)
	xs := growF32(xb, n*f.c*s*s*hs*ws)
	parallel(n*f.c, s*s*hs*ws, func(pl int) { // one input plane's s² channels
		x := src[pl*h*w : (pl+1)*h*w]
		for dy := 0; dy < s; dy++ {
			for dx := 0; dx < s; dx++ {
				dst := xs[((pl*s+dy)*s+dx)*hs*ws:][:hs*ws]
				for y := 0; y < hs; y++ {
					row := dst[y*ws : (y+1)*ws]
					iy := s*y + dy - ph
					if iy < 0 || iy >= h {
						clear(row)
						continue
					}
					in := x[iy*w : (iy+1)*w]
					for xx := range row {
						if ix := s*xx + dx - pw; ix >= 0 && ix < w {
							row[xx] = in[ix]
						} else {
							row[xx] = 0
						}
					}
				}
			}
		}
	})
	g.forwardWinograd(out, xs, n, hs, ws, oh, ow, ep)
}

// bigPool recycles the deep images of space-to-depth convolutions (10 MB
// for AlexNet's conv1 at batch 16): fresh ones each call cost more in
// page faults than their transform.
var bigPool = sync.Pool{New: func() any { return new([]float32) }}
