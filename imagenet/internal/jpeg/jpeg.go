// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

// Package jpeg is emosel's JPEG decoder. Its output is bit-identical to
// libjpeg-turbo's with the default settings (islow IDCT, fancy
// upsampling), which is what PIL uses to open JPEG files: Decode returns an
// *image.Gray, an opaque *image.RGBA or an *image.CMYK holding exactly the
// bytes PIL holds after Image.open(...).load() for an "L", "RGB" or "CMYK"
// JPEG.
//
// It is written from the specification, ITU-T T.81
// (https://www.w3.org/Graphics/JPEG/itu-t81.pdf), and decodes 8-bit DCT
// images, baseline, extended sequential and progressive (spectral
// selection and successive approximation), Huffman-coded or
// arithmetic-coded (SOF9, SOF10, with DAC conditioning; Annexes D, F.1.4
// and G.1.3), with restart intervals, in the JFIF and Adobe colour
// conventions. 12-bit samples, lossless and hierarchical JPEG (with either
// coding) are refused with an UnsupportedError.
//
// Where T.81 leaves a decoder free, or a file breaks it, the decoder does
// what libjpeg does, so that the pixels still match PIL's (which ignores
// libjpeg's warnings): it skips stray bytes before a marker; a segment of
// entropy-coded data that ends early (at a marker) is read on as zero
// bits and the rest of its restart interval left at zero coefficients;
// restart markers that are missing or out of order are resynchronised as
// libjpeg resynchronises them; bits that form no Huffman code read as
// symbol 0, and a coefficient run past the end of a block lands on the
// last coefficient; a sequential frame without Huffman tables in slots 0
// and 1 gets those of T.81 Annex K.3. Arithmetic-coded data that ends
// early is read on as zero bytes (as D.2.6 says), and a code that no
// encoder writes (a zero run past the end of the block, a magnitude of
// 2^15) leaves the rest of its restart interval undecoded. The stream must end with EOI: input
// that stops short of it is an error (for PIL too, the file is
// truncated).
//
// One thing libjpeg does is missing: the block smoothing it applies to a
// progressive image whose scans leave some of the lowest AC coefficients
// short of full precision. Encoders send every coefficient in full, so
// only unusual scan scripts (or scans lost to damage) meet it.
//
// The files: jpeg.go (this API), markers.go (the marker segments),
// bits.go (the entropy-coded bit stream), huff.go (Huffman tables),
// arith.go (the arithmetic decoder and its coefficient models),
// entropy.go (decoding scans into coefficients and samples), idct.go (the
// inverse DCT), convert.go (upsampling and colour conversion) and
// pool.go (working memory reused across decodings). DecodeGray is Decode
// followed by PIL's convert("L") (package luma), done row by row without
// the RGB image. The IDCT, the YCbCr->RGB and YCbCr->grey conversions and
// the fancy upsampling have AVX2 kernels in
// jpeg_amd64.s, generated with avo by _gen and chosen in impl_amd64.go
// (EMOSEL_SIMD=go or the purego build tag selects the Go ones, which are
// the reference and produce the same bytes); other architectures build
// impl_other.go.
package jpeg

import (
	"bufio"
	"bytes"
	"image"
	"image/color"
	"io"
)

// A FormatError reports that the input is not a valid JPEG stream.
type FormatError string

func (e FormatError) Error() string { return "invalid JPEG format: " + string(e) }

// An UnsupportedError reports that the input uses a valid JPEG feature
// that this decoder does not implement.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "unsupported JPEG feature: " + string(e) }

const (
	// maxComponents is the most image components a frame may have; T.81
	// allows 255, but only 1 (grey), 3 (YCbCr, RGB) and 4 (CMYK, YCCK)
	// have a colour interpretation.
	maxComponents = 4
	// maxDimension is libjpeg's JPEG_MAX_DIMENSION: wider or taller
	// images are refused.
	maxDimension = 65500
	// maxScans bounds the scans of one image. Encoders write at most a
	// few dozen; the bound keeps a small crafted file from making the
	// decoder sweep a large image thousands of times.
	maxScans = 1000
)

// A component is one image component of the frame (T.81 B.2.2) and its
// decoding state.
type component struct {
	c    byte // component identifier C_i
	h, v int  // horizontal and vertical sampling factors, 1..4
	tq   int  // quantisation table selector, 0..3

	q       [blockSize]int32 // the quantisation table, natural order
	latched bool             // q is set (at the first scan with the component)
	coded   bool             // some scan has carried its data

	// bw and bh are the plane's size in blocks: a whole number of MCUs.
	bw, bh int
	// coef holds the quantised coefficients of a progressive image, bw*bh
	// blocks of 64 in natural order, until all scans are read.
	coef []int16
	// nz has a bit per block of a Huffman-coded progressive image: bit k
	// is set where the coefficient at zig-zag position k (1..63) is
	// nonzero, so that refinement scans visit only those.
	nz []uint64
}

// A decoder holds the state of one decoding.
type decoder struct {
	width, height int
	nComp         int
	comp          [maxComponents]component
	sof           bool // a frame header has been read
	progressive   bool
	arithmetic    bool // arithmetic coding (SOF9, SOF10), not Huffman

	// The colour markers, as libjpeg records them up to the first scan.
	jfif                bool
	adobeTransformValid bool
	adobeTransform      byte

	quant    [4][blockSize]uint16 // natural order
	quantSet [4]bool
	huff     [2][4]huffTable // [0] DC, [1] AC, by destination slot
	cond     arithConditioning
	stats    *arithStats // allocated at the first arithmetic-coded scan

	restartInterval int
	scans           int
	mcusX, mcusY    int // MCUs across and down in an interleaved scan
	planes          [maxComponents]plane
	bufs            *buffers // the pool's buffers the planes etc. came from
}

// The Adobe APP14 transform flag: 0 means the components are stored as
// they are (RGB or CMYK), 1 YCbCr and 2 YCCK.
const adobeTransformUnknown = 0

// Decode reads a JPEG image from r.
func Decode(r io.Reader) (image.Image, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeBytes(data)
}

// DecodeBytes is Decode on the JPEG stream in data, which it does not
// modify or keep.
func DecodeBytes(data []byte) (image.Image, error) {
	var d decoder
	defer d.release()
	if err := d.decode(data); err != nil {
		return nil, err
	}
	return d.convert(), nil
}

// DecodeGray reads a JPEG image from r and returns the grey image PIL's
// Image.open(f).convert("L") makes of it: the luma (ITU-R 601-2, in
// Pillow's integer arithmetic) of the RGB or CMYK pixels Decode returns,
// or Decode's own image for a grey JPEG. For a YCbCr image it computes
// each grey level from the YCbCr samples directly, without the RGB image.
func DecodeGray(r io.Reader) (*image.Gray, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return DecodeGrayBytes(data)
}

// DecodeGrayBytes is DecodeGray on the JPEG stream in data, which it
// does not modify or keep.
func DecodeGrayBytes(data []byte) (*image.Gray, error) {
	var d decoder
	defer d.release()
	if err := d.decode(data); err != nil {
		return nil, err
	}
	return d.convertGray(), nil
}

// DecodeConfig returns the size and colour model of the JPEG image in r
// (an *image.Gray, *image.RGBA or *image.CMYK is what Decode returns for
// each), reading only up to the frame header.
func DecodeConfig(r io.Reader) (image.Config, error) {
	h, err := DecodeHeader(r)
	return h.Config, err
}

// A Header is what the marker segments up to the frame header say.
type Header struct {
	image.Config
	// Arithmetic reports an arithmetic-coded frame (SOF9 or SOF10). Its
	// data can be far smaller than Huffman-coded data: where a Huffman
	// code spends at least a bit on each block, the QM-coder can code
	// tens of thousands of flat blocks in one bit.
	Arithmetic bool
}

// DecodeHeader is DecodeConfig, also telling the entropy coding.
func DecodeHeader(r io.Reader) (Header, error) {
	var d decoder
	if err := d.readHeader(bufio.NewReader(r)); err != nil {
		return Header{}, err
	}
	var m color.Model
	switch d.nComp {
	case 1:
		m = color.GrayModel
	case 3:
		m = color.RGBAModel
	default:
		m = color.CMYKModel
	}
	cfg := image.Config{ColorModel: m, Width: d.width, Height: d.height}
	return Header{Config: cfg, Arithmetic: d.arithmetic}, nil
}

// readAll reads r to the end, in one allocation when r tells its length.
func readAll(r io.Reader) ([]byte, error) {
	if l, ok := r.(interface{ Len() int }); ok {
		var b bytes.Buffer
		b.Grow(l.Len() + bytes.MinRead)
		_, err := b.ReadFrom(r)
		return b.Bytes(), err
	}
	return io.ReadAll(r)
}
