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
// gives OH×OW. Its planes are written as the input transform reads them
// (rows of the transform's width, with the tile rows' last rows), zero
// past the image, so that the transform needs no copy.
func (f *Filter) forwardS2D(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	g := f.s2d()
	s, ph, pw := f.p.Stride[0], f.p.Pad[0], f.p.Pad[1]
	hs, ws := oh+2, ow+2
	geo := g.winoGeom(hs, ws, oh, ow)
	geo.pre = true
	sw, hp := geo.sw, geo.inputRows() // deep plane: hp rows of sw
	xb := bigPool.Get().(*[]float32)
	defer bigPool.Put(xb)
	xs := growF32(xb, n*f.c*s*s*hp*sw)
	parallel(n*f.c, s*s*hp*sw, func(pl int) { // one input plane's s² channels
		x := src[pl*h*w : (pl+1)*h*w]
		deep := xs[pl*s*s*hp*sw : (pl+1)*s*s*hp*sw]
		if s == 4 {
			s2dPlane4(deep, x, h, w, ph, pw, hs, ws, hp, sw)
			return
		}
		for dy := 0; dy < s; dy++ {
			for dx := 0; dx < s; dx++ {
				dst := deep[(dy*s+dx)*hp*sw:][:hp*sw]
				// Deep pixel xx of this channel is input column s·xx+dx−pw:
				// columns x0..x1-1 are inside the image (and the deep
				// image's hs×ws, past which everything is zero).
				x0 := max(0, (pw-dx+s-1)/s)
				x1 := min(ws, (w+pw-dx+s-1)/s)
				for y := 0; y < hp; y++ {
					row := dst[y*sw : (y+1)*sw]
					iy := s*y + dy - ph
					if y >= hs || iy < 0 || iy >= h || x1 <= x0 {
						clear(row)
						continue
					}
					clear(row[:x0])
					clear(row[x1:])
					in := x[iy*w : (iy+1)*w]
					off := dx - pw
					seg := row[x0:x1]
					for k := range seg {
						seg[k] = in[s*(x0+k)+off]
					}
				}
			}
		}
	})
	g.forwardWinogradGeom(out, xs, n, geo, ep)
}

// s2dPlane4 is forwardS2D's scatter for stride 4 (AlexNet's conv1): the
// 16 deep channels of one input plane x (h×w), each hp rows of sw (hs×ws
// of them the deep image, zero elsewhere). Each input row is read once,
// four pixels at a time, into the four channels that share its dy.
func s2dPlane4(deep, x []float32, h, w, ph, pw, hs, ws, hp, sw int) {
	ch := func(dy, dx int) []float32 { return deep[(dy*4+dx)*hp*sw : (dy*4+dx+1)*hp*sw] }
	// Deep columns whose four input columns 4·xx−pw … 4·xx−pw+3 are all
	// inside the image: xa..xb-1; the others are done one by one.
	xa := min(ws, max(0, (pw+3)/4))
	xb := max(xa, min(ws, (w+pw-3+3)/4))
	for y := 0; y < hp; y++ {
		for dy := 0; dy < 4; dy++ {
			iy := 4*y + dy - ph
			r0 := ch(dy, 0)[y*sw : (y+1)*sw]
			r1 := ch(dy, 1)[y*sw : (y+1)*sw]
			r2 := ch(dy, 2)[y*sw : (y+1)*sw]
			r3 := ch(dy, 3)[y*sw : (y+1)*sw]
			if y >= hs || iy < 0 || iy >= h {
				clear(r0)
				clear(r1)
				clear(r2)
				clear(r3)
				continue
			}
			in := x[iy*w : (iy+1)*w]
			rows := [4][]float32{r0, r1, r2, r3}
			for dx, r := range rows {
				for xx := 0; xx < sw; xx++ {
					if xx >= xa && xx < xb {
						xx = xb - 1 // the interior is done below
						continue
					}
					var v float32
					if ix := 4*xx + dx - pw; xx < ws && ix >= 0 && ix < w {
						v = in[ix]
					}
					r[xx] = v
				}
			}
			if xb == xa {
				continue
			}
			a0, a1, a2, a3 := r0[xa:xb], r1[xa:xb], r2[xa:xb], r3[xa:xb]
			a1, a2, a3 = a1[:len(a0)], a2[:len(a0)], a3[:len(a0)]
			src := in[4*xa-pw:]
			for k := range a0 {
				q := src[4*k : 4*k+4 : 4*k+4]
				a0[k], a1[k], a2[k], a3[k] = q[0], q[1], q[2], q[3]
			}
		}
	}
}

// bigPool recycles the deep images of space-to-depth convolutions (10 MB
// for AlexNet's conv1 at batch 16): fresh ones each call cost more in
// page faults than their transform.
var bigPool = sync.Pool{New: func() any { return new([]float32) }}
