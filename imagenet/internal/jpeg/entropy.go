// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// zigzag maps a coefficient's position in zig-zag order (T.81 Figure A.6)
// to its index in a row-major block.
var zigzag = func() (zigzag [blockSize]uint8) {
	// Walk the anti-diagonals row+col = s, downwards on odd ones and
	// upwards on even ones.
	k := 0
	for s := 0; s < 15; s++ {
		lo, hi := max(0, s-7), min(s, 7)
		for i := lo; i <= hi; i++ {
			row := i
			if s%2 == 0 {
				row = lo + hi - i
			}
			zigzag[k] = uint8(8*row + s - row)
			k++
		}
	}
	return zigzag
}()

// allocate sizes the planes (and, for a progressive image, the coefficient
// buffers) at the first scan: whole MCUs of whole blocks, per T.81 A.2.
func (d *decoder) allocate() error {
	hmax, vmax := d.maxSampling()
	d.mcusX = (d.width + 8*hmax - 1) / (8 * hmax)
	d.mcusY = (d.height + 8*vmax - 1) / (8 * vmax)
	d.bufs = bufferPool.Get().(*buffers)
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		c.bw, c.bh = d.mcusX*c.h, d.mcusY*c.v
		blocks := uint64(c.bw) * uint64(c.bh)
		if blocks > math.MaxInt/(blockSize*4) {
			return UnsupportedError("image too large for this platform")
		}
		b := d.bufs
		var pix []byte
		if d.progressive {
			pix = zeroed(b.pix[i], int(blocks)*blockSize)
		} else {
			// Every sample that is read later is written first: each
			// block of a scan's component by the scan (128 where its
			// data is missing), a component no scan carries by finish.
			pix = resized(b.pix[i], int(blocks)*blockSize)
		}
		d.planes[i] = plane{pix: pix, stride: 8 * c.bw}
		b.pix[i] = nil
		if d.progressive {
			c.coef, b.coef[i] = zeroed(b.coef[i], int(blocks)*blockSize), nil
			if !d.arithmetic {
				c.nz, b.nz[i] = zeroed(b.nz[i], int(blocks)), nil
			}
		}
	}
	return nil
}

// table returns Huffman table slot of class 0 (DC) or 1 (AC) for a scan
// that needs it.
func (d *decoder) table(class, slot int) (*huffTable, error) {
	if slot > 3 {
		return nil, FormatError("bad Huffman table selector")
	}
	t := &d.huff[class][slot]
	switch {
	case !t.set:
		return nil, FormatError(fmt.Sprintf("missing Huffman table %d/%d", class, slot))
	case t.err != nil:
		return nil, t.err
	case class == 0 && t.maxSym > 15:
		return nil, FormatError("bad DC Huffman table")
	}
	return t, nil
}

// scanKind is the coding of a scan: sequential, or one of the four kinds
// of progressive scan (T.81 G.1.2).
type scanKind int

const (
	sequential scanKind = iota
	dcFirst
	dcRefine
	acFirst
	acRefine
)

// A scanDecoder decodes one scan.
type scanDecoder struct {
	d      *decoder
	s      *scanHeader
	kind   scanKind
	br     bitReader
	dc, ac [maxComponents]*huffTable // by position in the scan
	pred   [maxComponents]int32      // DC predictions, by position in the scan
	eobrun int                       // blocks left in an end-of-band run
	blk    block

	// Arithmetic coding: the decoder, the DC contexts (F.1.4.4.1.1: the
	// S0 bin of each context of the previous difference) by position in
	// the scan, and the bin of the fixed 0.5 estimate.
	ad    arithDecoder
	dcCtx [maxComponents]int
	fixed bin
}

// scan reads the SOS segment hdr and decodes the entropy-coded data that
// follows it, from data[pos:]. It returns the position from which to look
// for the next marker.
func (d *decoder) scan(data []byte, pos int, hdr []byte) (int, error) {
	s, err := d.parseScanHeader(hdr)
	if err != nil {
		return 0, err
	}
	d.scans++
	if d.scans > maxScans {
		return 0, UnsupportedError(fmt.Sprintf("more than %d scans", maxScans))
	}
	if d.scans == 1 {
		if err := d.allocate(); err != nil {
			return 0, err
		}
		if !d.progressive && !d.arithmetic {
			// As libjpeg-turbo's Huffman decoder does when it starts.
			for class := range stdTables {
				for slot, t := range stdTables[class] {
					if h := &d.huff[class][slot]; !h.set {
						h.build(&t.counts, t.syms)
					}
				}
			}
		}
	}

	sd := &scanDecoder{d: d, s: s, br: bitReader{data: data, pos: pos}}
	switch {
	case !d.progressive:
		sd.kind = sequential
	case s.ss == 0 && s.ah == 0:
		sd.kind = dcFirst
	case s.ss == 0:
		sd.kind = dcRefine
	case s.ah == 0:
		sd.kind = acFirst
	default:
		sd.kind = acRefine
	}
	for i := 0; i < s.n; i++ {
		sc := &s.comp[i]
		c := &d.comp[sc.ci]
		if !c.latched {
			// The quantisation table is fixed when the component's first
			// scan starts, as libjpeg fixes it.
			if !d.quantSet[c.tq] {
				return 0, FormatError(fmt.Sprintf("missing quantisation table %d", c.tq))
			}
			for k, q := range d.quant[c.tq] {
				c.q[k] = int32(q)
			}
			c.latched = true
		}
		c.coded = true
		if d.arithmetic {
			continue // every 4-bit table selector is valid
		}
		if sd.kind == sequential || sd.kind == dcFirst {
			if sd.dc[i], err = d.table(0, sc.td); err != nil {
				return 0, err
			}
		}
		if sd.kind == sequential || sd.kind == acFirst || sd.kind == acRefine {
			if sd.ac[i], err = d.table(1, sc.ta); err != nil {
				return 0, err
			}
		}
	}
	if d.arithmetic {
		if d.stats == nil {
			d.stats = new(arithStats)
		}
		sd.fixed = fixedBin
		sd.ad.start(data, pos)
		sd.arithResetStats()
	}
	if err := sd.run(); err != nil {
		return 0, err
	}
	if d.arithmetic {
		return sd.ad.src.pos, nil
	}
	return sd.br.pos, nil
}

// run decodes the scan's MCUs (T.81 A.2, B.2.5, F.2.2, G.1.2).
func (sd *scanDecoder) run() error {
	d, s := sd.d, sd.s
	mcusX, mcusY := d.mcusX, d.mcusY
	if s.n == 1 {
		// A non-interleaved scan: one block per MCU, covering just the
		// component's samples (A.2.2).
		ci := s.comp[0].ci
		mcusX = (d.compWidth(ci) + 7) / 8
		mcusY = (d.compHeight(ci) + 7) / 8
	}
	var (
		ri    = d.restartInterval
		rst   = 0
		empty = false // the data of this restart interval has run out
	)
	for m := 0; m < mcusX*mcusY; m++ {
		if ri > 0 && m > 0 && m%ri == 0 && d.arithmetic {
			// F.1.4.5, G.1.3.2: each interval is coded afresh. Data that
			// is missing (a marker left in place) is decoded as zeros.
			if _, err := sd.ad.src.restart(rst); err != nil {
				return err
			}
			rst = (rst + 1) & 7
			sd.ad.start(sd.ad.src.data, sd.ad.src.pos)
			sd.arithResetStats()
		} else if ri > 0 && m > 0 && m%ri == 0 {
			left, err := sd.br.restart(rst)
			if err != nil {
				return err
			}
			rst = (rst + 1) & 7
			sd.pred = [maxComponents]int32{}
			sd.eobrun = 0
			// As in libjpeg, an interval that starts at a marker is
			// empty if the last one was.
			empty = empty && left
		}
		mx, my := m%mcusX, m/mcusX
		for i := 0; i < s.n; i++ {
			c := &d.comp[s.comp[i].ci]
			if s.n == 1 {
				sd.block(i, mx, my, empty)
				continue
			}
			for y := 0; y < c.v; y++ {
				for x := 0; x < c.h; x++ {
					sd.block(i, mx*c.h+x, my*c.v+y, empty)
				}
			}
		}
		if d.arithmetic {
			// Running into a marker is allowed: the decoder reads zeros.
			if sd.ad.src.end == segEOF {
				return errTruncated
			}
			continue
		}
		if sd.br.end == segEOF {
			return errTruncated
		}
		if sd.br.overrun() {
			// The segment ended (at a marker) inside this MCU, which was
			// decoded on zero bits. Like libjpeg, leave the rest of the
			// restart interval at zero coefficients (or, progressive, as
			// they are: then without restarts the scan is done).
			empty = true
			if ri == 0 && d.progressive {
				break
			}
		}
	}
	return nil
}

// block decodes block (bx, by) of the scan's i-th component. If empty,
// there is no data for it: a sequential block is left at zero
// coefficients, a progressive one as it was.
func (sd *scanDecoder) block(i, bx, by int, empty bool) {
	ci := sd.s.comp[i].ci
	c := &sd.d.comp[ci]
	empty = empty || sd.ad.bad
	if sd.kind == sequential {
		p := &sd.d.planes[ci]
		dst := p.pix[8*(by*p.stride+bx):]
		if empty {
			for y := 0; y < 8; y++ {
				row := dst[y*p.stride:][:8]
				for x := range row {
					row[x] = 128 // the IDCT of a zero block
				}
			}
			return
		}
		if sd.d.arithmetic {
			sd.arithSequentialBlock(i)
		} else {
			sd.sequentialBlock(i)
		}
		idctIslow(&sd.blk, &c.q, dst, p.stride)
		return
	}
	if empty {
		return
	}
	off := (by*c.bw + bx) * blockSize
	coef := (*[blockSize]int16)(c.coef[off : off+blockSize])
	if sd.d.arithmetic {
		sd.arithProgressiveBlock(i, coef)
		return
	}
	switch sd.kind {
	case dcFirst:
		// G.1.2.1: the DC difference, scaled by 2^Al.
		_, diff := sd.dc[i].decodeFast(&sd.br)
		sd.pred[i] += diff
		coef[0] = int16(sd.pred[i] << sd.s.al)
	case dcRefine:
		// G.1.2.1: one more bit of the DC coefficient.
		if sd.br.bits(1) != 0 {
			coef[0] |= 1 << sd.s.al
		}
	case acFirst:
		sd.acFirstBlock(coef, &c.nz[off/blockSize])
	case acRefine:
		sd.acRefineBlock(coef, &c.nz[off/blockSize])
	}
}

// coefIndex is the natural-order index of the k-th coefficient in zig-zag
// order. Corrupt data can run k past 63; libjpeg then stores at index 63
// (its zig-zag table has 16 spare entries for it), and so does this.
func coefIndex(k int) uint8 { return zigzag[min(k, blockSize-1)] }

// zigzagRun is coefIndex as a table for k < 128: zigzag, then 63s.
var zigzagRun = func() (t [128]uint8) {
	for k := range t {
		t[k] = coefIndex(k)
	}
	return t
}()

// sequentialBlock decodes a block of a sequential scan into sd.blk
// (T.81 F.2.2.1, F.2.2.2). Like libjpeg, it keeps each quantised
// coefficient to 16 bits.
func (sd *scanDecoder) sequentialBlock(i int) {
	b, br := &sd.blk, &sd.br
	*b = block{}
	_, diff := sd.dc[i].decodeFast(br)
	sd.pred[i] += diff
	b[0] = int16(sd.pred[i])
	// decodeFast written out, with the bit buffer in locals and fill's
	// fast path inline: the loop runs once per nonzero coefficient. The
	// shift counts are masked to 6 bits (they are below 64 anyway) so
	// that they compile to bare shifts.
	ac := &sd.ac[i].fast
	acc, n := br.acc, br.n
	for k := 1; k < blockSize; k++ {
		if n < 32 {
			if p := br.pos; br.end == segOpen && p+8 <= len(br.data) {
				v := binary.BigEndian.Uint64(br.data[p:])
				if x := ^v; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
					// No 0xFF among the next 8 bytes: take 4 to 7 of them.
					m := (63 - n) >> 3
					acc = acc<<(8*m&63) | v>>((64-8*m)&63)
					n += 8 * m
					br.pos = p + int(m)
					goto filled
				}
			}
			br.acc, br.n = acc, n
			br.fill()
			acc, n = br.acc, br.n
		}
	filled:
		e := ac[acc>>((n-lutBits)&63)&(1<<lutBits-1)]
		rs, v := uint8(e>>fastRS), e>>fastValue
		n -= uint(e & fastLen)
		if e&fastPartial != 0 {
			if e&fastLong != 0 {
				br.acc, br.n = acc, n
				rs = sd.ac[i].decode(br)
				v = br.receiveExtend(rs & 15)
				acc, n = br.acc, br.n
			} else {
				// The code was in the look-ahead bits, its magnitude
				// (1..15 bits) is in the 21 or more left.
				s := uint(rs & 15)
				n -= s
				v = extend(int32(acc>>(n&63))&(1<<s-1), s)
			}
		}
		if rs&15 == 0 {
			if rs>>4 != 15 {
				break // EOB
			}
			k += 15 // ZRL: sixteen zeros
			continue
		}
		k += int(rs >> 4)
		b[zigzagRun[k&127]&63] = int16(v)
	}
	br.acc, br.n = acc, n
}

// arithSequentialBlock is sequentialBlock for arithmetic coding (F.2.4).
// After a bad code the block keeps what was decoded of it, as in libjpeg.
func (sd *scanDecoder) arithSequentialBlock(i int) {
	b := &sd.blk
	*b = block{}
	diff, ok := sd.arithDCDiff(i)
	if !ok {
		return
	}
	sd.pred[i] += diff
	b[0] = int16(sd.pred[i])
	sd.arithAC((*[blockSize]int16)(b), 1, blockSize-1, 0, sd.s.comp[i].ta)
}

// arithProgressiveBlock decodes a block of a progressive scan with
// arithmetic coding (G.1.3).
func (sd *scanDecoder) arithProgressiveBlock(i int, coef *[blockSize]int16) {
	s := sd.s
	switch sd.kind {
	case dcFirst:
		if diff, ok := sd.arithDCDiff(i); ok {
			sd.pred[i] += diff
			coef[0] = int16(sd.pred[i] << s.al)
		}
	case dcRefine:
		if sd.ad.decode(&sd.fixed) != 0 {
			coef[0] |= 1 << s.al
		}
	case acFirst:
		sd.arithAC(coef, s.ss, s.se, s.al, s.comp[0].ta)
	case acRefine:
		sd.arithACRefine(coef)
	}
}

// acFirstBlock decodes the first approximation of coefficients Ss..Se of
// a block, with end-of-band runs (G.1.2.2).
func (sd *scanDecoder) acFirstBlock(coef *[blockSize]int16, nz *uint64) {
	if sd.eobrun > 0 {
		sd.eobrun--
		return
	}
	s, br := sd.s, &sd.br
	ac := sd.ac[0]
	for k := s.ss; k <= s.se; k++ {
		rs, v := ac.decodeFast(br)
		r := int(rs >> 4)
		if rs&15 == 0 {
			if r == 15 {
				k += 15 // ZRL
				continue
			}
			// EOBr: this block and 2^r-1+RECEIVE(r) more end here.
			sd.eobrun = 1<<r - 1 + int(br.bits(uint(r)))
			break
		}
		k += r
		c := int16(v << s.al)
		coef[coefIndex(k)] = c
		setNonzero(nz, k, c)
	}
}

// acRefineBlock decodes a successive-approximation refinement of
// coefficients Ss..Se of a block (G.1.2.3): one more bit of each
// coefficient already nonzero, and new coefficients of magnitude 1<<Al
// placed among the zero ones. The bit buffer is kept in locals (as in
// sequentialBlock), and the correction bits of each run of nonzero
// coefficients, consecutive in the stream, are read up to 32 at a time
// and applied without a branch on their (unpredictable) values.
func (sd *scanDecoder) acRefineBlock(coef *[blockSize]int16, nz *uint64) {
	s, br, ac := sd.s, &sd.br, sd.ac[0]
	p1 := int16(1) << s.al
	m1 := int16(-1) << s.al
	k, se := s.ss, s.se
	band := bitRange(k, se+1)
	acc, n := br.acc, br.n
	for {
		// The symbol: a new coefficient v (0 for ZRL) after r zero ones,
		// or the end of the band in this block (and an EOB run after it).
		end := se + 1
		var v int16
		eob := sd.eobrun > 0
		if !eob {
			if k > se {
				break
			}
			if n < 32 {
				br.acc, br.n = acc, n
				br.fill()
				acc, n = br.acc, br.n
			}
			var r int
			if e := ac.fast[acc>>((n-lutBits)&63)&(1<<lutBits-1)]; e&(fastPartial|fastSize) == 1<<fastRS {
				// A new coefficient, ±1<<Al, sign bit included.
				n -= uint(e & fastLen)
				r, v = int(e>>(fastRS+4)&15), p1
				if e < 0 {
					v = m1
				}
			} else {
				br.acc, br.n = acc, n
				rs := ac.decode(br)
				r = int(rs >> 4)
				if rs&15 != 0 {
					// A new coefficient, ±1<<Al (size should be 1).
					v = p1
					if br.bits(1) == 0 {
						v = m1
					}
				} else if r != 15 {
					// EOBr: no new coefficients in this block and 2^r-1 +
					// RECEIVE(r) more; the rest of this one is refined
					// below.
					sd.eobrun = 1<<r + int(br.bits(uint(r)))
					eob = true
				}
				acc, n = br.acc, br.n
			}
			if !eob {
				// The r+1-th zero coefficient from k (ZRL: the 16th) is
				// where v goes; past the last one, the end of the band.
				if z := selectBit(^*nz&band&^bitRange(0, k), r); z < blockSize {
					end = z
				}
			}
		}
		// Refine the nonzero coefficients from k up to end: each takes one
		// correction bit, and a 1 moves it away from zero by p1 unless that
		// bit of it is already set.
		for m := *nz & bitRange(k, end); m != 0; {
			if n < 32 {
				br.acc, br.n = acc, n
				br.fill()
				acc, n = br.acc, br.n
			}
			take := min(uint(bits.OnesCount64(m)), 32)
			n -= take
			// The take bits, the first of them at bit 31.
			chunk := uint32(acc>>(n&63)) << ((32 - take) & 31)
			for ; take > 0; take-- {
				z := zigzag[bits.TrailingZeros64(m)&63]
				c := coef[z]
				// apply is -1 for a 1 bit where c&p1 is 0, else 0 (Al <=
				// 13, so c&p1 is 0 or p1 > 0); away is p1 for c > 0, -p1
				// for c < 0.
				apply := int16(int32(chunk)>>31) & int16((int32(c&p1)-1)>>31)
				sign := c >> 15
				away := (p1 ^ sign) - sign
				coef[z] = c + away&apply
				chunk <<= 1
				m &= m - 1
			}
		}
		if eob {
			sd.eobrun--
			break
		}
		k = end
		if v != 0 {
			coef[coefIndex(k)] = v
			setNonzero(nz, k, v)
		}
		k++
	}
	br.acc, br.n = acc, n
}

// selectBit returns the position of the r-th lowest set bit of x (r = 0
// for the lowest, r < 128), or 64 if x has no more than r bits set. It
// does not branch on x or r (broadword select: the set bits are counted
// per byte, the byte found by comparing the running counts with r, the
// bit in it by a table).
func selectBit(x uint64, r int) int {
	const ones = 0x0101010101010101
	s := x - (x>>1)&0x5555555555555555
	s = s&0x3333333333333333 + (s>>2)&0x3333333333333333
	s = (s + s>>4) & 0x0f0f0f0f0f0f0f0f
	cum := s * ones // byte i: the bits set in bytes 0..i (at most 64)
	// The bytes whose running count is at most r, a prefix of them: the
	// bit sought is in the byte after it.
	b := uint(bits.OnesCount64((uint64(r)*ones | 0x8080808080808080 - cum) & 0x8080808080808080))
	before := uint(cum<<8>>(8*b&63)) & 0xff
	i := uint(x>>(8*b&63))&0xff<<3 | (uint(r)-before)&7
	return min(int(8*b)+int(selectByte[i&2047]), 64)
}

// selectByte[v<<3|r] is the position of the r-th lowest set bit of the
// byte v (0 where v has no more than r set).
var selectByte = func() (t [256 * 8]uint8) {
	for v := range 256 {
		r := 0
		for p := range 8 {
			if v>>p&1 != 0 {
				t[v<<3|r] = uint8(p)
				r++
			}
		}
	}
	return t
}()

// bitRange has bits lo..hi-1 set, 0 <= lo <= hi <= 64.
func bitRange(lo, hi int) uint64 { return (1<<uint(hi) - 1) &^ (1<<uint(lo) - 1) }

// setNonzero records in nz whether c, just stored at zig-zag position k
// (coefIndex's: past 63 is 63), is nonzero.
func setNonzero(nz *uint64, k int, c int16) {
	bit := uint64(1) << uint(min(k, blockSize-1))
	if c != 0 {
		*nz |= bit
	} else {
		*nz &^= bit
	}
}

// finish completes the planes once all scans are read: a progressive
// image's coefficients are dequantised and transformed, and a component
// that no scan carried is grey (zero coefficients), as in libjpeg.
func (d *decoder) finish() {
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		p := &d.planes[i]
		if !d.progressive {
			if !c.coded {
				for j := range p.pix {
					p.pix[j] = 128
				}
			}
			continue
		}
		nbx, nby := (d.compWidth(i)+7)/8, (d.compHeight(i)+7)/8
		for by := 0; by < nby; by++ {
			for bx := 0; bx < nbx; bx++ {
				off := (by*c.bw + bx) * blockSize
				idctIslow((*block)(c.coef[off:off+blockSize]), &c.q, p.pix[8*(by*p.stride+bx):], p.stride)
			}
		}
	}
}
