package imagenet

import (
	"image"
	"image/color"
)

// luma is PIL's grey level of an 8-bit RGB pixel: ITU-R 601-2 luma,
// L = R*299/1000 + G*587/1000 + B*114/1000, computed as Pillow's Convert.c
// does, with 16-bit fixed-point weights (19595 + 38470 + 7471 = 65536) and
// rounding.
func luma(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// mulDiv255 is a*b/255 rounded, in Pillow's integer form.
func mulDiv255(a, b uint32) uint32 {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

// cmykLuma is PIL's convert("L") of a CMYK pixel, which goes through RGB
// with Pillow's naive conversion R = (255-K) - C*(255-K)/255 (the same for G
// from M and B from Y).
func cmykLuma(c, m, y, k uint8) uint8 {
	nk := 255 - uint32(k)
	r := nk - mulDiv255(uint32(c), nk)
	g := nk - mulDiv255(uint32(m), nk)
	b := nk - mulDiv255(uint32(y), nk)
	return luma(uint8(r), uint8(g), uint8(b))
}

// Gray converts img to 8-bit grey exactly as PIL's convert("L") converts
// the image PIL opens from the same file (Decode returns such images):
//
//   - *image.Gray (PIL "L" and "1"): copied.
//   - *image.Gray16 (PIL "I", 16-bit grey PNG): each value clipped to
//     [0, 255]. PIL does not rescale, so 16-bit grey pictures come out
//     mostly white; that is what torchvision feeds a network too.
//   - *image.RGBA, *image.NRGBA (PIL "RGB", "RGBA", "LA"): luma of R, G, B;
//     alpha is ignored.
//   - *image.RGBA64, *image.NRGBA64 (16-bit PNGs, which PIL reads as 8-bit
//     "RGB"/"RGBA" keeping the high byte): luma of the high bytes.
//   - *image.Paletted (PIL "P"): luma of each palette entry.
//   - *image.CMYK (PIL "CMYK"): Pillow's CMYK -> RGB, then luma.
//
// Premultiplied types (RGBA, RGBA64) are un-premultiplied first where not
// opaque (Go's decoders only produce opaque ones). Any other type goes
// through color.NRGBAModel. The result's bounds start at (0, 0).
func Gray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	row := func(y int) []uint8 { return out.Pix[y*out.Stride : y*out.Stride+w] }
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(row(y), m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				v := uint16(src[2*x])<<8 | uint16(src[2*x+1])
				dst[x] = uint8(min(v, 255))
			}
		}
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				dst[x] = luma(src[4*x], src[4*x+1], src[4*x+2])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				p := src[4*x : 4*x+4 : 4*x+4]
				if p[3] != 255 {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					dst[x] = luma(c.R, c.G, c.B)
					continue
				}
				dst[x] = luma(p[0], p[1], p[2])
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				dst[x] = luma(src[8*x], src[8*x+2], src[8*x+4])
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				p := src[8*x : 8*x+8 : 8*x+8]
				if p[6] != 0xff || p[7] != 0xff {
					c := color.NRGBA64Model.Convert(m.RGBA64At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
					dst[x] = luma(uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
					continue
				}
				dst[x] = luma(p[0], p[2], p[4])
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			if i < len(lut) {
				n := straight(c)
				lut[i] = luma(n.R, n.G, n.B)
			}
		}
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				dst[x] = lut[src[x]]
			}
		}
	case *image.CMYK:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				dst[x] = cmykLuma(src[4*x], src[4*x+1], src[4*x+2], src[4*x+3])
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x, dst := 0, row(y); x < w; x++ {
				n := straight(img.At(b.Min.X+x, b.Min.Y+y))
				dst[x] = luma(n.R, n.G, n.B)
			}
		}
	}
	return out
}

// straight returns c's non-premultiplied 8-bit colour. NRGBA (how Go's PNG
// decoder stores palette entries with transparency) is taken as is.
func straight(c color.Color) color.NRGBA {
	if n, ok := c.(color.NRGBA); ok {
		return n
	}
	return color.NRGBAModel.Convert(c).(color.NRGBA)
}
