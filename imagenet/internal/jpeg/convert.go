// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"image"

	"github.com/emosel/emosel/imagenet/internal/luma"
)

// A plane holds one component's decoded samples, padded to whole MCUs.
type plane struct {
	pix    []byte
	stride int
}

// colorSpace is how the components are to be read, chosen as libjpeg-turbo's
// default_decompress_parms (jdapimin.c) chooses jpeg_color_space.
type colorSpace int

const (
	csGray colorSpace = iota
	csYCbCr
	csRGB
	csCMYK
	csYCCK
)

func (d *decoder) colorSpace() colorSpace {
	switch d.nComp {
	case 1:
		return csGray
	case 3:
		switch {
		case d.jfif:
			return csYCbCr
		case d.adobeTransformValid:
			if d.adobeTransform == adobeTransformUnknown {
				return csRGB
			}
			return csYCbCr
		case d.comp[0].c == 'R' && d.comp[1].c == 'G' && d.comp[2].c == 'B':
			return csRGB
		}
		return csYCbCr
	}
	// Four components: CMYK unless an Adobe marker says otherwise. (Go's
	// image/jpeg refuses a 4-component image without the marker; libjpeg
	// assumes CMYK.)
	if d.adobeTransformValid && d.adobeTransform != adobeTransformUnknown {
		return csYCCK
	}
	return csCMYK
}

// maxSampling returns the largest horizontal and vertical sampling factors.
func (d *decoder) maxSampling() (hmax, vmax int) {
	for i := 0; i < d.nComp; i++ {
		hmax = max(hmax, d.comp[i].h)
		vmax = max(vmax, d.comp[i].v)
	}
	return hmax, vmax
}

// compWidth is libjpeg's downsampled_width: ceil(width * h / hmax).
func (d *decoder) compWidth(i int) int {
	hmax, _ := d.maxSampling()
	return (d.width*d.comp[i].h + hmax - 1) / hmax
}

// compHeight is libjpeg's downsampled_height: ceil(height * v / vmax).
func (d *decoder) compHeight(i int) int {
	_, vmax := d.maxSampling()
	return (d.height*d.comp[i].v + vmax - 1) / vmax
}

// upsampleRow returns output row y of component i, brought to full size
// (d.width samples), choosing the method as libjpeg-turbo's
// jinit_upsampler does with do_fancy_upsampling on (the default, and
// PIL's setting):
//
//   - full size: the plane's row itself;
//   - 2:1 horizontally: triangle filter ("fancy"), or replication when the
//     component is at most 2 samples wide;
//   - 2:1 vertically: triangle filter;
//   - 2:1 both ways: triangle filter in both directions, or replication
//     when at most 2 samples wide;
//   - anything else (4:1): replication.
//
// Context rows above the first and below the last sample row repeat those
// rows, as libjpeg's main buffer controller arranges. Other than a
// full-size row, the result is written to buf, which must hold at least
// d.width+1 bytes.
func (d *decoder) upsampleRow(buf []byte, i, y int) []byte {
	p := &d.planes[i]
	hmax, vmax := d.maxSampling()
	hexp, vexp := hmax/d.comp[i].h, vmax/d.comp[i].v
	cw, ch := d.compWidth(i), d.compHeight(i)
	w := d.width
	dst := buf[:w]

	// near and far are the nearest input row and the next nearest one for
	// a vertically doubled output row.
	near := func() []byte { return p.pix[(y/2)*p.stride:][:cw] }
	far := func() []byte {
		r := y / 2
		if y%2 == 0 {
			r = max(r-1, 0)
		} else {
			r = min(r+1, ch-1)
		}
		return p.pix[r*p.stride:][:cw]
	}

	switch {
	case hexp == 1 && vexp == 1:
		return p.pix[y*p.stride:][:w]

	case hexp == 2 && vexp == 1 && cw > 2:
		h2v1Fancy(buf[:2*cw], p.pix[y*p.stride:][:cw])

	case hexp == 1 && vexp == 2:
		// h1v2_fancy_upsample: bias 1 towards the row above, 2 below.
		in0, in1 := near(), far()
		bias := 1 + y%2
		for x := range dst {
			dst[x] = byte((int(in0[x])*3 + int(in1[x]) + bias) >> 2)
		}

	case hexp == 2 && vexp == 2 && cw > 2:
		h2v2Fancy(buf[:2*cw], near(), far())

	default:
		// int_upsample, h2v1_upsample, h2v2_upsample: replication.
		in := p.pix[(y/vexp)*p.stride:]
		for x := range dst {
			dst[x] = in[x/hexp]
		}
	}
	return dst
}

// h2v1Fancy is libjpeg's h2v1_fancy_upsample: it doubles the row in
// (len(in) > 2) into out (twice as long) with a triangle filter, 3/4 of
// the nearer sample and 1/4 of the further one, the rounding bias
// alternating between 1 and 2. The interior runs in h2v1FancyAVX2 where
// it can.
func h2v1Fancy(out, in []byte) {
	cw := len(in)
	out = out[:2*cw]
	x := 1
	if n := (cw - 2) &^ 15; useAVX2 && n > 0 {
		h2v1FancyAVX2(&out[2], &in[1], n)
		x += n
	}
	h2v1FancyGo(out, in, x)
}

// h2v1FancyGo is h2v1Fancy in Go, for the interior from input x0 on.
func h2v1FancyGo(out, in []byte, x0 int) {
	cw := len(in)
	out = out[:2*cw]
	out[0] = in[0]
	out[1] = byte((int(in[0])*3 + int(in[1]) + 2) >> 2)
	for x := x0; x < cw-1; x++ {
		v := int(in[x]) * 3
		out[2*x] = byte((v + int(in[x-1]) + 1) >> 2)
		out[2*x+1] = byte((v + int(in[x+1]) + 2) >> 2)
	}
	out[2*cw-2] = byte((int(in[cw-1])*3 + int(in[cw-2]) + 1) >> 2)
	out[2*cw-1] = in[cw-1]
}

// h2v2Fancy is libjpeg's h2v2_fancy_upsample for one output row: from
// the nearest input row near and the next nearest far (of the same
// length, > 2) it makes the row out, twice as long, with weights 9/16,
// 3/16, 3/16 and 1/16 and the rounding biases 8 and 7. The interior runs
// in h2v2FancyAVX2 where it can.
func h2v2Fancy(out, near, far []byte) {
	cw := len(near)
	out, far = out[:2*cw], far[:cw]
	x := 1
	if n := (cw - 2) &^ 15; useAVX2 && n > 0 {
		h2v2FancyAVX2(&out[2], &near[1], &far[1], n)
		x += n
	}
	h2v2FancyGo(out, near, far, x)
}

// h2v2FancyGo is h2v2Fancy in Go, for the interior from input x0 on.
func h2v2FancyGo(out, near, far []byte, x0 int) {
	cw := len(near)
	out, far = out[:2*cw], far[:cw]
	col := func(x int) int { return int(near[x])*3 + int(far[x]) }
	first, last := col(0), col(cw-1)
	out[0] = byte((first*4 + 8) >> 4)
	out[1] = byte((first*3 + col(1) + 7) >> 4)
	for x := x0; x < cw-1; x++ {
		this := col(x)
		out[2*x] = byte((this*3 + col(x-1) + 8) >> 4)
		out[2*x+1] = byte((this*3 + col(x+1) + 7) >> 4)
	}
	out[2*cw-2] = byte((last*3 + col(cw-2) + 8) >> 4)
	out[2*cw-1] = byte((last*4 + 7) >> 4)
}

// The YCbCr -> RGB tables of libjpeg's jdcolor.c, with 16 fractional bits:
// R = Y + crR[Cr], G = Y + (cbG[Cb]+crG[Cr])>>16, B = Y + cbB[Cb].
var crR, cbB, crG, cbG [256]int32

func init() {
	const (
		scaleBits = 16
		oneHalf   = 1 << (scaleBits - 1)
		// round(c * 2^16) for 1.40200, 1.77200, 0.71414 and 0.34414.
		fixCrR = 91881
		fixCbB = 116130
		fixCrG = 46802
		fixCbG = 22554
	)
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (fixCrR*x + oneHalf) >> scaleBits
		cbB[i] = (fixCbB*x + oneHalf) >> scaleBits
		crG[i] = -fixCrG * x
		cbG[i] = -fixCbG*x + oneHalf
	}
}

// clamp8 limits v, which must lie in -512..511, to a byte.
func clamp8(v int32) byte { return clampTable[v&1023] }

// clampTable is clamp8 indexed by v mod 1024: v for 0..255, 255 for
// 256..511 and 0 for -512..-1 (indices 512..1023).
var clampTable = func() (t [1024]byte) {
	for v := range t {
		if v < 512 {
			t[v] = byte(min(v, 255))
		}
	}
	return t
}()

// yccRGBA converts the YCbCr samples y, cb, cr (of the same length n) to
// n opaque RGBA pixels in dst, with yccRGBAAVX2 where it can.
func yccRGBA(dst, y, cb, cr []byte) {
	n := len(y)
	cb, cr, dst = cb[:n], cr[:n], dst[:4*n]
	if n8 := n &^ 7; useAVX2 && n8 > 0 {
		yccRGBAAVX2(&dst[0], &y[0], &cb[0], &cr[0], n8)
		dst, y, cb, cr = dst[4*n8:], y[n8:], cb[n8:], cr[n8:]
	}
	yccRGBAGo(dst, y, cb, cr)
}

// yccRGBAGo is yccRGBA in Go: jdcolor.c's ycc_rgb_convert with an alpha
// channel.
func yccRGBAGo(dst, y, cb, cr []byte) {
	n := len(y)
	cb, cr, dst = cb[:n], cr[:n], dst[:4*n]
	for x, yv := range y {
		yy, b, r := int32(yv), cb[x], cr[x]
		o := dst[4*x : 4*x+4 : 4*x+4]
		o[0] = clamp8(yy + crR[r])
		o[1] = clamp8(yy + (cbG[b]+crG[r])>>16)
		o[2] = clamp8(yy + cbB[b])
		o[3] = 255
	}
}

// yccGray converts the YCbCr samples y, cb, cr (of the same length n) to
// n grey levels in dst, those of luma.RGB on the pixels yccRGBA makes,
// with yccGrayAVX2 where it can.
func yccGray(dst, y, cb, cr []byte) {
	n := len(y)
	cb, cr, dst = cb[:n], cr[:n], dst[:n]
	if n16 := n &^ 15; useAVX2 && n16 > 0 {
		yccGrayAVX2(&dst[0], &y[0], &cb[0], &cr[0], n16)
		dst, y, cb, cr = dst[n16:], y[n16:], cb[n16:], cr[n16:]
	}
	yccGrayGo(dst, y, cb, cr)
}

// yccGrayGo is yccGray in Go: jdcolor.c's ycc_rgb_convert, then PIL's
// RGB to L.
func yccGrayGo(dst, y, cb, cr []byte) {
	n := len(y)
	cb, cr, dst = cb[:n], cr[:n], dst[:n]
	for x, yv := range y {
		yy, b, r := int32(yv), cb[x], cr[x]
		dst[x] = luma.RGB(clamp8(yy+crR[r]), clamp8(yy+(cbG[b]+crG[r])>>16), clamp8(yy+cbB[b]))
	}
}

// rowConverter upsamples and converts the planes one output row at a
// time.
type rowConverter struct {
	d    *decoder
	cs   colorSpace
	bufs [maxComponents][]byte // upsampling buffers, d.width+1 bytes
	rows [maxComponents][]byte // the current row of each component
}

func (d *decoder) rowConverter() *rowConverter {
	rc := &rowConverter{d: d, cs: d.colorSpace()}
	for i := 0; i < d.nComp; i++ {
		rc.bufs[i] = make([]byte, d.width+1)
	}
	return rc
}

// upsample sets rc.rows to output row y of every component.
func (rc *rowConverter) upsample(y int) {
	for i := 0; i < rc.d.nComp; i++ {
		rc.rows[i] = rc.d.upsampleRow(rc.bufs[i], i, y)
	}
}

// pixels writes the current rows, converted to 4-byte pixels, to out:
// opaque RGBA for YCbCr and RGB images, CMYK as PIL holds it from rawmode
// "CMYK;I" (every channel inverted from the Adobe convention) for CMYK
// and YCCK ones.
func (rc *rowConverter) pixels(out []byte) {
	w := rc.d.width
	out = out[:4*w]
	c0, c1, c2, c3 := rc.rows[0], rc.rows[1], rc.rows[2], rc.rows[3]
	switch rc.cs {
	case csYCbCr:
		yccRGBA(out, c0, c1, c2)
	case csRGB:
		for x := 0; x < w; x++ {
			out[4*x+0], out[4*x+1], out[4*x+2], out[4*x+3] = c0[x], c1[x], c2[x], 255
		}
	case csCMYK:
		for x := 0; x < w; x++ {
			out[4*x+0], out[4*x+1], out[4*x+2], out[4*x+3] = 255-c0[x], 255-c1[x], 255-c2[x], 255-c3[x]
		}
	case csYCCK:
		// libjpeg gives C = 255-R etc. from the YCC part (K as is), and
		// PIL's "CMYK;I" inverts all four.
		for x := 0; x < w; x++ {
			yy, cb, cr := int32(c0[x]), c1[x], c2[x]
			out[4*x+0] = clamp8(yy + crR[cr])
			out[4*x+1] = clamp8(yy + (cbG[cb]+crG[cr])>>16)
			out[4*x+2] = clamp8(yy + cbB[cb])
			out[4*x+3] = 255 - c3[x]
		}
	}
}

// convert upsamples the planes and converts them to the image PIL would
// hold: "L" (*image.Gray), "RGB" (*image.RGBA, opaque) or "CMYK" from
// rawmode "CMYK;I" (*image.CMYK).
func (d *decoder) convert() image.Image {
	w, h := d.width, d.height
	r := image.Rect(0, 0, w, h)
	if d.colorSpace() == csGray {
		img := newGray(r)
		d.copyPlane(img)
		return img
	}
	var pix []byte
	var stride int
	var img image.Image
	if d.nComp == 3 {
		m := newRGBA(r)
		pix, stride, img = m.Pix, m.Stride, m
	} else {
		m := newCMYK(r)
		pix, stride, img = m.Pix, m.Stride, m
	}
	rc := d.rowConverter()
	for y := 0; y < h; y++ {
		rc.upsample(y)
		rc.pixels(pix[y*stride:])
	}
	return img
}

// copyPlane copies a grey image's plane into img.
func (d *decoder) copyPlane(img *image.Gray) {
	p := &d.planes[0]
	for y := 0; y < d.height; y++ {
		copy(img.Pix[y*img.Stride:][:d.width], p.pix[y*p.stride:])
	}
}

// convertGray upsamples the planes and converts them to the grey image
// PIL's convert("L") makes of the image convert returns: the luma of
// each RGB pixel (luma.RGB), for a YCbCr image computed from the YCbCr
// samples in one step (yccGray); the luma of Pillow's RGB of each CMYK
// pixel (luma.CMYK); a grey image as it is.
func (d *decoder) convertGray() *image.Gray {
	w, h := d.width, d.height
	img := newGray(image.Rect(0, 0, w, h))
	rc := d.rowConverter()
	var px []byte
	switch rc.cs {
	case csGray:
		d.copyPlane(img)
		return img
	case csRGB, csCMYK, csYCCK:
		px = make([]byte, 4*w)
	}
	for y := 0; y < h; y++ {
		out := img.Pix[y*img.Stride:][:w]
		rc.upsample(y)
		switch rc.cs {
		case csYCbCr:
			yccGray(out, rc.rows[0], rc.rows[1], rc.rows[2])
		case csRGB:
			rc.pixels(px)
			for x := range out {
				out[x] = luma.RGB(px[4*x], px[4*x+1], px[4*x+2])
			}
		default:
			rc.pixels(px)
			for x := range out {
				out[x] = luma.CMYK(px[4*x], px[4*x+1], px[4*x+2], px[4*x+3])
			}
		}
	}
	return img
}
