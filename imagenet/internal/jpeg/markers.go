// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
)

// Marker codes (T.81 Table B.1), the byte after 0xFF.
const (
	tem   = 0x01 // temporary, arithmetic coding; no parameters
	sof0  = 0xC0 // baseline DCT
	sof1  = 0xC1 // extended sequential DCT, Huffman coding
	sof2  = 0xC2 // progressive DCT, Huffman coding
	sof3  = 0xC3 // lossless, Huffman coding
	dht   = 0xC4 // define Huffman tables
	sof9  = 0xC9 // extended sequential DCT, arithmetic coding
	sof10 = 0xCA // progressive DCT, arithmetic coding
	sof15 = 0xCF // last of the SOF markers (C4, C8 and CC excepted)
	jpg   = 0xC8 // reserved for JPEG extensions
	dac   = 0xCC // define arithmetic coding conditioning
	rst0  = 0xD0 // restart 0..7
	rst7  = 0xD7
	soi   = 0xD8 // start of image
	eoi   = 0xD9 // end of image
	sos   = 0xDA // start of scan
	dqt   = 0xDB // define quantisation tables
	dnl   = 0xDC // define number of lines
	dri   = 0xDD // define restart interval
	dhp   = 0xDE // define hierarchical progression
	exp   = 0xDF // expand reference components
	app0  = 0xE0 // application segments 0..15
	app14 = 0xEE
	app15 = 0xEF
	jpg0  = 0xF0 // JPEG extensions 0..13
	jpg13 = 0xFD
	com   = 0xFE // comment
)

// errTruncated reports input that ends before EOI.
var errTruncated = FormatError("unexpected end of data")

// parameterless reports whether marker m stands alone, without a segment.
func parameterless(m byte) bool { return m == tem || rst0 <= m && m <= rst7 }

// checkMarker refuses a marker that is not one this decoder can read past:
// the frame types it does not implement (lossless, SOF3 and SOF11, and
// hierarchical, SOF5-7 and SOF13-15, with Huffman or arithmetic coding)
// and reserved codes.
func checkMarker(m byte) error {
	switch {
	case m == sof3 || m == 0xCB:
		return UnsupportedError("lossless JPEG")
	case 0xC5 <= m && m <= 0xC7 || 0xCD <= m && m <= sof15 || m == dhp || m == exp:
		return UnsupportedError("hierarchical JPEG")
	case m == jpg || jpg0 <= m && m <= jpg13:
		return UnsupportedError(fmt.Sprintf("JPEG extension marker 0x%02X", m))
	case m < sof0:
		return FormatError(fmt.Sprintf("unknown marker 0x%02X", m))
	}
	return nil
}

// be16 reads a big-endian 16-bit number from b[0:2].
func be16(b []byte) int { return int(b[0])<<8 | int(b[1]) }

// decode reads the whole stream in data: the marker segments, decoding
// each scan as it comes, up to EOI; then it finishes the planes.
func (d *decoder) decode(data []byte) error {
	if len(data) < 2 || data[0] != 0xFF || data[1] != soi {
		return FormatError("missing SOI marker")
	}
	d.cond.reset()
	pos := 2
	for {
		m, next, ok := nextMarker(data, pos)
		if !ok {
			return errTruncated
		}
		pos = next
		switch {
		case m == eoi:
			if d.scans == 0 {
				return FormatError("no image data before EOI")
			}
			d.finish()
			return nil
		case m == soi:
			return FormatError("unexpected SOI marker")
		case parameterless(m):
			continue
		}
		if err := checkMarker(m); err != nil {
			return err
		}
		if len(data)-pos < 2 {
			return errTruncated
		}
		n := be16(data[pos:])
		if n < 2 {
			return FormatError("bad segment length")
		}
		if len(data)-pos < n {
			return errTruncated
		}
		body := data[pos+2 : pos+n]
		pos += n
		var err error
		if m == sos {
			pos, err = d.scan(data, pos, body)
		} else {
			err = d.segment(m, body)
		}
		if err != nil {
			return err
		}
	}
}

// readHeader reads the marker segments from r up to and including the
// frame header, for DecodeConfig.
func (d *decoder) readHeader(r *bufio.Reader) error {
	var b [2]byte
	if _, err := io.ReadFull(r, b[:]); err != nil && !isEOF(err) {
		return err
	}
	if b[0] != 0xFF || b[1] != soi {
		return FormatError("missing SOI marker")
	}
	d.cond.reset()
	for !d.sof {
		m, err := readMarker(r)
		if err != nil {
			return readError(err)
		}
		switch {
		case m == sos || m == eoi:
			return FormatError("no frame header before the first scan")
		case m == soi:
			return FormatError("unexpected SOI marker")
		case parameterless(m):
			continue
		}
		if err := checkMarker(m); err != nil {
			return err
		}
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return readError(err)
		}
		n := be16(b[:])
		if n < 2 {
			return FormatError("bad segment length")
		}
		body := make([]byte, n-2)
		if _, err := io.ReadFull(r, body); err != nil {
			return readError(err)
		}
		if err := d.segment(m, body); err != nil {
			return err
		}
	}
	return nil
}

// readMarker is nextMarker for a stream.
func readMarker(r io.ByteReader) (byte, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != 0xFF {
			continue
		}
		for c == 0xFF {
			if c, err = r.ReadByte(); err != nil {
				return 0, err
			}
		}
		if c != 0 {
			return c, nil
		}
	}
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// readError turns the end of the input into errTruncated.
func readError(err error) error {
	if isEOF(err) {
		return errTruncated
	}
	return err
}

// segment interprets the marker segment m with parameters b, other than
// SOS. Segments it has no use for (other APPn, COM, DNL) are skipped.
func (d *decoder) segment(m byte, b []byte) error {
	switch m {
	case sof0, sof1, sof2, sof9, sof10:
		return d.frameHeader(m, b)
	case dht:
		return d.huffmanTables(b)
	case dac:
		return d.conditioning(b)
	case dqt:
		return d.quantTables(b)
	case dri:
		if len(b) != 2 {
			return FormatError("bad DRI length")
		}
		d.restartInterval = be16(b)
	case app0:
		// A JFIF APP0 segment says the components are YCbCr. libjpeg
		// reads colour markers up to the first scan only, and needs the
		// 14 bytes of a JFIF header.
		if d.scans == 0 && len(b) >= 14 && string(b[:5]) == "JFIF\x00" {
			d.jfif = true
		}
	case app14:
		// An Adobe APP14 segment: "Adobe", version (2 bytes), flags0 (2),
		// flags1 (2), colour transform (1).
		if d.scans == 0 && len(b) >= 12 && string(b[:5]) == "Adobe" {
			d.adobeTransformValid = true
			d.adobeTransform = b[11]
		}
	}
	return nil
}

// frameHeader reads an SOF0, SOF1, SOF2, SOF9 or SOF10 segment (T.81
// B.2.2).
func (d *decoder) frameHeader(m byte, b []byte) error {
	if d.sof {
		return FormatError("more than one frame header")
	}
	if len(b) < 6 {
		return FormatError("short frame header")
	}
	if b[0] != 8 {
		return UnsupportedError(fmt.Sprintf("%d-bit sample precision", b[0]))
	}
	height, width, n := be16(b[1:]), be16(b[3:]), int(b[5])
	switch {
	case n != 1 && n != 3 && n != 4:
		return UnsupportedError(fmt.Sprintf("%d image components", n))
	case len(b) != 6+3*n:
		return FormatError("bad frame header length")
	case height == 0:
		return UnsupportedError("image height given by a DNL segment")
	case width == 0:
		return FormatError("zero image width")
	case width > maxDimension || height > maxDimension:
		return UnsupportedError(fmt.Sprintf("image dimension over %d", maxDimension))
	case uint64(width)*uint64(height) > math.MaxInt/16:
		return UnsupportedError("image too large for this platform")
	}
	hmax, vmax := 0, 0
	for i := 0; i < n; i++ {
		c := &d.comp[i]
		p := b[6+3*i:]
		c.c, c.h, c.v, c.tq = p[0], int(p[1]>>4), int(p[1]&15), int(p[2])
		if c.h < 1 || c.h > 4 || c.v < 1 || c.v > 4 {
			return FormatError("bad sampling factors")
		}
		if c.tq > 3 {
			return FormatError("bad quantisation table selector")
		}
		for j := 0; j < i; j++ {
			if d.comp[j].c == c.c {
				return FormatError("repeated component identifier")
			}
		}
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	for i := 0; i < n; i++ {
		// libjpeg upsamples by whole factors only.
		if hmax%d.comp[i].h != 0 || vmax%d.comp[i].v != 0 {
			return UnsupportedError("sampling factors in a fractional ratio")
		}
	}
	d.width, d.height, d.nComp = width, height, n
	d.progressive = m == sof2 || m == sof10
	d.arithmetic = m == sof9 || m == sof10
	d.sof = true
	return nil
}

// quantTables reads a DQT segment (T.81 B.2.4.1).
func (d *decoder) quantTables(b []byte) error {
	for len(b) > 0 {
		pq, tq := b[0]>>4, b[0]&15
		if pq > 1 || tq > 3 {
			return FormatError("bad quantisation table precision or slot")
		}
		size := blockSize << pq
		if len(b) < 1+size {
			return FormatError("short DQT segment")
		}
		q := &d.quant[tq]
		for k := range blockSize {
			if pq == 0 {
				q[zigzag[k]] = uint16(b[1+k])
			} else {
				q[zigzag[k]] = uint16(be16(b[1+2*k:]))
			}
		}
		d.quantSet[tq] = true
		b = b[1+size:]
	}
	return nil
}

// huffmanTables reads a DHT segment (T.81 B.2.4.2).
func (d *decoder) huffmanTables(b []byte) error {
	for len(b) > 0 {
		if len(b) < 17 {
			return FormatError("short DHT segment")
		}
		tc, th := b[0]>>4, b[0]&15
		if tc > 1 || th > 3 {
			return FormatError("bad Huffman table class or slot")
		}
		var counts [16]uint8
		copy(counts[:], b[1:17])
		total := 0
		for _, c := range counts {
			total += int(c)
		}
		if total > 256 {
			return FormatError("bad Huffman table")
		}
		if len(b) < 17+total {
			return FormatError("short DHT segment")
		}
		d.huff[tc][th].build(&counts, b[17:17+total])
		b = b[17+total:]
	}
	return nil
}

// A scanHeader is an SOS segment (T.81 B.2.3).
type scanHeader struct {
	n    int // components in the scan
	comp [maxComponents]struct {
		ci     int // index into decoder.comp
		td, ta int // DC and AC Huffman table selectors
	}
	ss, se int // spectral selection start and end, in zig-zag order
	ah, al int // successive approximation bit positions, high and low
}

// parseScanHeader reads an SOS segment's parameters and checks them against
// the frame: for a progressive frame, the checks of T.81 G.1.1.1.1 that
// libjpeg makes.
func (d *decoder) parseScanHeader(b []byte) (*scanHeader, error) {
	if !d.sof {
		return nil, FormatError("scan before the frame header")
	}
	if len(b) < 1 {
		return nil, FormatError("short scan header")
	}
	s := &scanHeader{n: int(b[0])}
	if s.n < 1 || s.n > d.nComp || len(b) != 4+2*s.n {
		return nil, FormatError("bad scan header length")
	}
	blocks := 0
	for i := 0; i < s.n; i++ {
		id, t := b[1+2*i], b[2+2*i]
		ci := 0
		for ci < d.nComp && d.comp[ci].c != id {
			ci++
		}
		if ci == d.nComp {
			return nil, FormatError("scan component not in the frame")
		}
		for j := 0; j < i; j++ {
			if s.comp[j].ci == ci {
				return nil, FormatError("component repeated in a scan")
			}
		}
		s.comp[i].ci, s.comp[i].td, s.comp[i].ta = ci, int(t>>4), int(t&15)
		blocks += d.comp[ci].h * d.comp[ci].v
	}
	if s.n > 1 && blocks > 10 {
		return nil, FormatError("too many blocks in an MCU")
	}
	p := b[1+2*s.n:]
	s.ss, s.se, s.ah, s.al = int(p[0]), int(p[1]), int(p[2]>>4), int(p[2]&15)
	if !d.progressive {
		// libjpeg decodes all 64 coefficients whatever these say.
		return s, nil
	}
	bad := s.al > 13 || s.ah != 0 && s.al != s.ah-1
	if s.ss == 0 {
		bad = bad || s.se != 0
	} else {
		bad = bad || s.se < s.ss || s.se > 63 || s.n != 1
	}
	if bad {
		return nil, FormatError("bad progressive scan parameters")
	}
	return s, nil
}
