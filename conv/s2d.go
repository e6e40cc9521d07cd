package conv

import "github.com/emosel/emosel/tensor"

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
// gives OH×OW. It is never stored: the Winograd input gathers each deep
// row from the real input as its tile rows need it (s2dSource).
func (f *Filter) forwardS2D(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	g := f.s2d()
	geo := g.winoGeom(oh+2, ow+2, oh, ow)
	geo.s2d = &s2dSource{c: f.c, s: f.p.Stride[0], h: h, w: w, ph: f.p.Pad[0], pw: f.p.Pad[1]}
	g.forwardWinogradGeom(out, src, n, geo, ep)
}

// s2dSource is the real input of a strided convolution (c channels of
// h×w, stride s, padding ph, pw) seen as its space-to-depth image: deep
// channel (cc·s + dy)·s + dx has at (Y, X) the input pixel
// (s·Y + dy − ph, s·X + dx − pw) of channel cc, zero outside the input.
type s2dSource struct {
	c, s, h, w, ph, pw int
}

// rows writes deep rows y0..y1-1 (of ws pixels) of deep channel cd of
// image img into pb, row y at pb[y·sw:]: zero where the input pixel is
// outside the input. The columns from ws to sw are left as they are.
func (d *s2dSource) rows(pb []float32, sw, ws int, src []float32, img, cd, y0, y1 int) {
	s := d.s
	cc, dy, dx := cd/(s*s), cd/s%s, cd%s
	x := src[(img*d.c+cc)*d.h*d.w : (img*d.c+cc+1)*d.h*d.w]
	// Deep column xx is input column s·xx+dx−pw: x0..x1-1 are inside.
	x0 := min(ws, max(0, (d.pw-dx+s-1)/s))
	x1 := max(x0, min(ws, (d.w+d.pw-dx+s-1)/s))
	off := s*x0 + dx - d.pw
	for y := y0; y < y1; y++ {
		row := pb[y*sw : y*sw+ws]
		iy := s*y + dy - d.ph
		if iy < 0 || iy >= d.h || x1 == x0 {
			clear(row)
			continue
		}
		clear(row[:x0])
		clear(row[x1:])
		in := x[iy*d.w+off : iy*d.w+off+s*(x1-x0-1)+1]
		seg := row[x0:x1]
		for k := range seg {
			seg[k] = in[s*k]
		}
	}
}
