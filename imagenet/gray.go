package imagenet

import (
	"image"
	"image/color"

	"github.com/emosel/emosel/imagenet/internal/luma"
)

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
				dst[x] = luma.RGB(src[4*x], src[4*x+1], src[4*x+2])
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				p := src[4*x : 4*x+4 : 4*x+4]
				if p[3] != 255 {
					c := color.NRGBAModel.Convert(color.RGBA{p[0], p[1], p[2], p[3]}).(color.NRGBA)
					dst[x] = luma.RGB(c.R, c.G, c.B)
					continue
				}
				dst[x] = luma.RGB(p[0], p[1], p[2])
			}
		}
	case *image.NRGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				dst[x] = luma.RGB(src[8*x], src[8*x+2], src[8*x+4])
			}
		}
	case *image.RGBA64:
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x, dst := 0, row(y); x < w; x++ {
				p := src[8*x : 8*x+8 : 8*x+8]
				if p[6] != 0xff || p[7] != 0xff {
					c := color.NRGBA64Model.Convert(m.RGBA64At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
					dst[x] = luma.RGB(uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8))
					continue
				}
				dst[x] = luma.RGB(p[0], p[2], p[4])
			}
		}
	case *image.Paletted:
		var lut [256]uint8
		for i, c := range m.Palette {
			if i < len(lut) {
				n := straight(c)
				lut[i] = luma.RGB(n.R, n.G, n.B)
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
				dst[x] = luma.CMYK(src[4*x], src[4*x+1], src[4*x+2], src[4*x+3])
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x, dst := 0, row(y); x < w; x++ {
				n := straight(img.At(b.Min.X+x, b.Min.Y+y))
				dst[x] = luma.RGB(n.R, n.G, n.B)
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
