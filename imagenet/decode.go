package imagenet

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"

	"github.com/emosel/emosel/imagenet/internal/jpeg"
)

var (
	// ErrFormat reports an input that is not a PNG or JPEG image, is
	// corrupt or truncated, or uses a feature the decoders lack.
	ErrFormat = errors.New("imagenet: unsupported or corrupt image")
	// ErrTooLarge reports an image whose header claims more than
	// MaxPixels pixels (or an input over 1 GiB).
	ErrTooLarge = errors.New("imagenet: image too large")
)

// MaxPixels is the largest width*height Decode accepts. The decoders
// allocate the whole picture up front (up to 8 bytes a pixel for 16-bit
// RGBA PNGs), so the header is checked before anything is decoded.
const MaxPixels = 100_000_000

// maxFileBytes bounds how much of an io.Reader Decode reads.
const maxFileBytes = 1 << 30

var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
	jpegMagic = []byte{0xff, 0xd8}
)

// Decode reads a PNG or JPEG image and returns the pixels PIL holds after
// Image.open(f).load(), as the nearest Go image type: PNG as Go's
// image/png decodes it, except that 16-bit grey with a tRNS chunk is an
// *image.Gray16 (PIL's mode "I") rather than an *image.NRGBA64; JPEG as an
// *image.Gray, an opaque *image.RGBA or an *image.CMYK decoded bit-exactly
// as libjpeg-turbo does (islow IDCT, fancy upsampling), which is what PIL
// calls. Use Gray for the grey image PIL's convert("L") makes from it.
func Decode(r io.Reader) (image.Image, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	return decode(data, "", MaxPixels)
}

// DecodeFile is Decode on the named file; its errors name the file.
func DecodeFile(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	return decode(data, path, MaxPixels)
}

// ReadGray decodes a PNG or JPEG image and converts it to grey as PIL's
// Image.open(f).convert("L") does. It gives the pixels of
// Gray(Decode(r)); a JPEG is converted while it is decoded, without the
// RGB image (jpeg.DecodeGray).
func ReadGray(r io.Reader) (*image.Gray, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	return decodeGray(data, "", MaxPixels)
}

// LoadGray is ReadGray on the named file; its errors name the file.
func LoadGray(path string) (*image.Gray, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	return decodeGray(data, path, MaxPixels)
}

// decodeGray is Gray(decode(data, name, limit)), with a JPEG decoded
// straight to grey.
func decodeGray(data []byte, name string, limit int) (*image.Gray, error) {
	if !bytes.HasPrefix(data, jpegMagic) {
		img, err := decode(data, name, limit)
		if err != nil {
			return nil, err
		}
		return Gray(img), nil
	}
	if err := checkHeader(data, name, limit); err != nil {
		return nil, err
	}
	g, err := jpeg.DecodeGrayBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %sdecoding JPEG: %v", ErrFormat, prefix(name), err)
	}
	return g, nil
}

// prefix is "name: ", or "" for no name.
func prefix(name string) string {
	if name == "" {
		return ""
	}
	return name + ": "
}

// readAll reads r to the end, refusing more than maxFileBytes.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%w: input is over %d bytes", ErrTooLarge, maxFileBytes)
	}
	return data, nil
}

// decode decodes data, refusing images of more than limit pixels. name is
// the file name for error messages, or "".
func decode(data []byte, name string, limit int) (image.Image, error) {
	if err := checkHeader(data, name, limit); err != nil {
		return nil, err
	}
	kind, dec := "JPEG", jpeg.DecodeBytes
	if bytes.HasPrefix(data, pngMagic) {
		kind, dec = "PNG", func(data []byte) (image.Image, error) { return png.Decode(bytes.NewReader(data)) }
	}
	img, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %sdecoding %s: %v", ErrFormat, prefix(name), kind, err)
	}
	if kind == "PNG" {
		img = pilPNG(img, data)
	}
	return img, nil
}

// checkHeader checks that data is a PNG or JPEG file whose header is
// readable and claims at most limit pixels, and no more than its size can
// hold.
func checkHeader(data []byte, name string, limit int) error {
	at := prefix(name)
	var (
		kind   string
		config func(io.Reader) (image.Config, error)
		// perByte is the most pixels one byte of the file can hold:
		// deflate expands at most 1032:1, and a Huffman-coded JPEG needs
		// at least one bit for every 8x8 block of its (possibly
		// 2x2-subsampled) first scanned component, so at most 2048
		// pixels a byte. An arithmetic-coded block needs at least two
		// decisions, and the QM-coder can spend as little as one bit on
		// 2^15 of them (its smallest Qe is 2^-16 of an interval of at
		// least 2^15), so at most 8 * 2^14 * 64 * 4 = 2^25 pixels a byte.
		perByte float64
	)
	switch {
	case bytes.HasPrefix(data, pngMagic):
		kind, config = "PNG", png.DecodeConfig
		perByte = 1032 * 8 / float64(pngBitsPerPixel(data))
	case bytes.HasPrefix(data, jpegMagic):
		kind = "JPEG"
		config = func(r io.Reader) (image.Config, error) {
			h, err := jpeg.DecodeHeader(r)
			perByte = 2048
			if h.Arithmetic {
				perByte = 1 << 25
			}
			return h.Config, err
		}
	case len(data) == 0:
		return fmt.Errorf("%w: %sempty file", ErrFormat, at)
	default:
		return fmt.Errorf("%w: %snot a PNG or JPEG file", ErrFormat, at)
	}
	cfg, err := config(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %sreading %s header: %v", ErrFormat, at, kind, err)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: %s%s is %dx%d pixels", ErrFormat, at, kind, w, h)
	}
	if w*h > int64(limit) {
		return fmt.Errorf("%w: %s%dx%d is %d pixels, more than the limit of %d",
			ErrTooLarge, at, w, h, w*h, limit)
	}
	if float64(w*h) > perByte*float64(len(data))+4096 {
		return fmt.Errorf("%w: %s%s header claims %dx%d pixels, more than its %d bytes can hold",
			ErrFormat, at, kind, w, h, len(data))
	}
	return nil
}

// pngHeader returns the bit depth and colour type from a PNG's IHDR, or
// zeros if it is too short to have one.
func pngHeader(data []byte) (depth, colorType byte) {
	// Signature (8), IHDR length and type (8), width and height (8).
	if len(data) < 26 || string(data[12:16]) != "IHDR" {
		return 0, 0
	}
	return data[24], data[25]
}

// pngBitsPerPixel is the number of bits each pixel takes before
// compression, at least 1.
func pngBitsPerPixel(data []byte) int {
	depth, ct := pngHeader(data)
	channels := map[byte]int{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct]
	return max(int(depth)*channels, 1)
}

// pilPNG adjusts a decoded PNG to what PIL holds where Go differs: Go
// decodes 16-bit grey with a tRNS chunk to NRGBA64, PIL to mode "I" with
// the transparency set aside.
func pilPNG(img image.Image, data []byte) image.Image {
	depth, ct := pngHeader(data)
	m, ok := img.(*image.NRGBA64)
	if !ok || depth != 16 || ct != 0 {
		return img
	}
	g := image.NewGray16(m.Rect)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		for x := m.Rect.Min.X; x < m.Rect.Max.X; x++ {
			i := m.PixOffset(x, y)
			j := g.PixOffset(x, y)
			g.Pix[j], g.Pix[j+1] = m.Pix[i], m.Pix[i+1] // big-endian grey
		}
	}
	return g
}
