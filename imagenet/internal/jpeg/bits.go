// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import "encoding/binary"

// A bitReader reads the entropy-coded data of a scan (T.81 F.2.2.4) most
// significant bit first. It drops the zero byte stuffed after every 0xFF
// data byte (B.1.1.5) and any 0xFF fill bytes, and stops loading in front
// of a marker. Past the point where it stopped it supplies zero bits, so
// that a decoder may always look 16 bits ahead; overrun tells whether any
// of those made-up bits have been consumed.
type bitReader struct {
	data []byte
	pos  int // the next byte of data to load; once stopped, where it stopped

	// acc holds n buffered bits in its low bits, the oldest highest. The
	// last pad of them were made up rather than loaded.
	acc uint64
	n   uint
	pad uint

	end segmentEnd
}

// segmentEnd is why a bitReader has stopped loading bytes, if it has.
type segmentEnd uint8

const (
	segOpen   segmentEnd = iota // still loading
	segMarker                   // a marker follows the data, at pos
	segEOF                      // the input ended without a marker
)

// fill tops the buffer up to at least 57 bits.
func (br *bitReader) fill() {
	if br.end == segOpen && br.pos+8 <= len(br.data) {
		// The fast path: the next eight bytes hold no 0xFF, so the
		// bytes that fit are data bytes as they stand.
		v := binary.BigEndian.Uint64(br.data[br.pos:])
		if x := ^v; (x-0x0101010101010101)&^x&0x8080808080808080 == 0 {
			k := (64 - br.n) / 8
			br.acc = br.acc<<(8*k) | v>>(64-8*k)
			br.n += 8 * k
			br.pos += int(k)
			return
		}
	}
	for br.n <= 56 {
		var c byte
		if br.end == segOpen {
			if br.pos < len(br.data) && br.data[br.pos] != 0xFF {
				c = br.data[br.pos]
				br.pos++
			} else {
				c = br.special()
			}
		}
		if br.end != segOpen {
			br.pad += 8
		}
		br.acc = br.acc<<8 | uint64(c)
		br.n += 8
	}
}

// special handles the end of the input and the byte 0xFF at pos: 0xFF 0x00
// is a data byte 0xFF (so is 0xFF 0xFF ... 0x00, as libjpeg reads it);
// 0xFF followed by anything else starts a marker, and ends the segment.
func (br *bitReader) special() byte {
	i := br.pos + 1
	for i < len(br.data) && br.data[i] == 0xFF {
		i++
	}
	switch {
	case i >= len(br.data):
		br.end = segEOF
	case br.data[i] == 0:
		br.pos = i + 1
		return 0xFF
	default:
		br.end = segMarker
	}
	return 0
}

// peek returns the next k bits, 0 <= k <= 16, without consuming them.
func (br *bitReader) peek(k uint) uint32 {
	if br.n < k {
		br.fill()
	}
	return uint32(br.acc>>(br.n-k)) & (1<<k - 1)
}

// bits consumes and returns the next k bits, 0 <= k <= 16.
func (br *bitReader) bits(k uint) uint32 {
	v := br.peek(k)
	br.n -= k
	return v
}

// receiveExtend reads an s-bit magnitude category value and returns the
// signed number it codes (T.81 F.2.2.1, RECEIVE and EXTEND), s <= 15.
func (br *bitReader) receiveExtend(s uint8) int32 {
	if s == 0 {
		return 0
	}
	return extend(int32(br.bits(uint(s))), uint(s))
}

// overrun reports whether bits past the end of the data have been consumed.
func (br *bitReader) overrun() bool { return br.n < br.pad }

// restart ends a restart interval: it drops the buffered bits, finds the
// RSTn marker that should follow (n = want) and sets up to read the next
// interval. A missing or unexpected marker is handled as libjpeg's
// jpeg_resync_to_restart handles it: a marker that is not a restart, or
// is one of the next two restarts, is left in place (the decoder then
// reads the interval as zero bits, i.e. finds it empty); an earlier restart
// or an invalid marker is skipped; any other restart is taken as the one
// wanted. Stray bytes before a marker are skipped. left reports that a
// marker was left in place. It fails only if the input ends first.
func (br *bitReader) restart(want int) (left bool, err error) {
	pos := br.pos
	for {
		m, next, ok := nextMarker(br.data, pos)
		if !ok {
			return false, errTruncated
		}
		rel := (int(m) - rst0 - want) & 7
		switch {
		case m < sof0:
			pos = next // invalid: look further
			continue
		case m < rst0 || m > rst7 || rel == 1 || rel == 2:
			pos, left = next-2, true // leave it for the decoder to stop at
		case rel == 6 || rel == 7:
			pos = next // an earlier restart: look further
			continue
		default:
			pos = next // the one wanted, or too far off to tell
		}
		*br = bitReader{data: br.data, pos: pos}
		return left, nil
	}
}

// nextMarker finds the first marker at or after data[pos], skipping fill
// bytes and anything else that is not a marker, as libjpeg does. It
// returns the marker code and the index just past it, or ok false if the
// data ends first.
func nextMarker(data []byte, pos int) (m byte, next int, ok bool) {
	for pos+1 < len(data) {
		if data[pos] != 0xFF {
			pos++
			continue
		}
		switch c := data[pos+1]; c {
		case 0xFF: // a fill byte, or the marker's own 0xFF
			pos++
		case 0: // a stuffed data byte
			pos += 2
		default:
			return c, pos + 2, true
		}
	}
	return 0, len(data), false
}
