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
		w := f.weights()
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
		f.s2dF.dropU = f.dropU
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

// cols returns the deep columns x0..x1-1 (of ws) of offset dx whose
// input pixels are inside the input: deep column xx is input column
// s·xx + dx − pw.
func (d *s2dSource) cols(dx, ws int) (x0, x1 int) {
	x0 = min(ws, max(0, (d.pw-dx+d.s-1)/d.s))
	return x0, max(x0, min(ws, (d.w+d.pw-dx+d.s-1)/d.s))
}

// rows writes deep rows y0..y1-1 (of ws pixels) of the s² deep channels
// c0..c0+s²-1 (c0 a multiple of s²: the deep channels of one input
// channel) of image img into the s² planes of pbs, np floats apart, row y
// of deep channel c0+p at pbs[p·np + y·sw:]: zero where the input pixel
// is outside the input. The columns from ws to sw are left as they are.
// The input is read once, in order: deep row y of the s² channels is
// input rows s·y−ph .. s·y−ph+s−1, and the s pixels of a deep column are
// adjacent in an input row. (Gathering one deep channel at a time read
// every s-th row s² times over and ran at 1.8 ns per pixel: each row
// waited for memory.)
func (d *s2dSource) rows(pbs []float32, np, sw, ws int, src []float32, img, c0, y0, y1 int) {
	s := d.s
	x := src[(img*d.c+c0/(s*s))*d.h*d.w : (img*d.c+c0/(s*s)+1)*d.h*d.w]
	// Deep columns xa..xb-1 are inside the input for every dx.
	xa, xb := 0, ws
	for dx := 0; dx < s; dx++ {
		x0, x1 := d.cols(dx, ws)
		xa, xb = max(xa, x0), min(xb, x1)
	}
	xb = max(xa, xb)
	for y := y0; y < y1; y++ {
		for dy := 0; dy < s; dy++ {
			pl := pbs[dy*s*np:]
			iy := s*y + dy - d.ph
			if iy < 0 || iy >= d.h {
				for dx := 0; dx < s; dx++ {
					clear(pl[dx*np+y*sw : dx*np+y*sw+ws])
				}
				continue
			}
			in := x[iy*d.w : (iy+1)*d.w]
			for dx := 0; dx < s; dx++ {
				row := pl[dx*np+y*sw : dx*np+y*sw+ws]
				x0, x1 := d.cols(dx, ws)
				clear(row[:x0])
				clear(row[x1:])
				for k := x0; k < min(x1, xa); k++ {
					row[k] = in[s*k+dx-d.pw]
				}
				for k := max(x0, xb); k < x1; k++ {
					row[k] = in[s*k+dx-d.pw]
				}
			}
			if xb == xa {
				continue
			}
			seg := in[s*xa-d.pw : s*xb-d.pw]
			if s == 4 {
				n := xb - xa
				r0 := pl[y*sw+xa:][:n]
				r1 := pl[np+y*sw+xa:][:n]
				r2 := pl[2*np+y*sw+xa:][:n]
				r3 := pl[3*np+y*sw+xa:][:n]
				for k := range r0 {
					p := seg[4*k : 4*k+4]
					r0[k], r1[k], r2[k], r3[k] = p[0], p[1], p[2], p[3]
				}
				continue
			}
			for dx := 0; dx < s; dx++ {
				row := pl[dx*np+y*sw+xa:][:xb-xa]
				for k := range row {
					row[k] = seg[s*k+dx]
				}
			}
		}
	}
}
