// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

// lutBits is how many bits of look-ahead the Huffman decoder resolves with
// one table look-up; longer codes fall back to a canonical-code search.
const lutBits = 11

// A huffTable is a Huffman code as a DHT segment defines it (T.81 B.2.4.2)
// by the number of codes of each length 1..16 and the symbols in code
// order, with the codes assigned canonically (Annex C).
type huffTable struct {
	set bool  // a DHT segment (or Annex K) has defined it
	err error // why the code is unusable, reported when a scan uses it

	maxSym uint8 // the largest symbol, which a DC table holds at 15

	// lut maps the next lutBits bits to length<<8 | symbol for codes of
	// up to lutBits bits, and to 0 where the code is longer (or invalid).
	lut [1 << lutBits]uint16

	// fast maps the next lutBits bits to a whole coefficient where the
	// code and the magnitude bits after it fit in them: fastLen bits to
	// consume, the symbol's run (high nibble) and size (low nibble), and
	// the value EXTEND(RECEIVE(size)) for a nonzero size. Where only the
	// code fits, the entry has fastPartial set, the code's length and the
	// symbol (the magnitude bits are to be read); where the code is longer
	// than lutBits bits (or invalid), fastPartial|fastLong (use decode).
	fast [1 << lutBits]int32

	// For each length l, the codes of that length are first[l] ..
	// first[l]+count[l]-1 and stand for syms[index[l]:][:count[l]].
	first, count, index [17]int32
	syms                [256]uint8
}

// build sets t to the canonical code with counts[l-1] codes of length l
// and the given symbols, len(syms) being the sum of counts (at most 256).
// As libjpeg does, it refuses a code that would run out of bit patterns,
// and one that would give a symbol a code of all ones (which the table
// construction of T.81 Annex K.2 avoids, and libjpeg treats as bad).
func (t *huffTable) build(counts *[16]uint8, syms []byte) {
	*t = huffTable{set: true}
	copy(t.syms[:], syms)
	for _, s := range syms {
		t.maxSym = max(t.maxSym, s)
	}
	code, k := int32(0), int32(0)
	for l := int32(1); l <= 16; l++ {
		n := int32(counts[l-1])
		if code+n >= 1<<l {
			*t = huffTable{set: true, err: FormatError("bad Huffman table")}
			return
		}
		t.first[l], t.count[l], t.index[l] = code, n, k
		if l <= lutBits {
			shift := lutBits - l
			for i := int32(0); i < n; i++ {
				e := uint16(l)<<8 | uint16(syms[k+i])
				lo := (code + i) << shift
				for j := lo; j < lo+1<<shift; j++ {
					t.lut[j] = e
					t.fast[j] = fastEntry(uint(l), syms[k+i], j)
				}
			}
		}
		if l == lutBits {
			// The patterns no code of up to lutBits bits starts.
			for j := code + n; j < 1<<lutBits; j++ {
				t.fast[j] = fastPartial | fastLong
			}
		}
		code = (code + n) << 1
		k += n
	}
}

// The fields of a fast entry.
const (
	fastLen     = 0x1F  // bits to consume: the code and the magnitude
	fastPartial = 0x20  // only the code is in the look-ahead bits
	fastLong    = 0x40  // not even the code is (fastPartial is set too)
	fastRS      = 8     // shift of the symbol (run<<4 | size)
	fastValue   = 16    // shift of the signed value
	fastSize    = 0xF00 // the size nibble, at fastRS
)

// fastEntry is the fast-table entry for look-ahead bits j (lutBits of
// them) that start with the l-bit code of symbol rs.
func fastEntry(l uint, rs uint8, j int32) int32 {
	size := uint(rs & 15)
	if l+size > lutBits {
		return int32(rs)<<fastRS | fastPartial | int32(l)
	}
	v := extend((j>>(lutBits-l-size))&(1<<size-1), size)
	return v<<fastValue | int32(rs)<<fastRS | int32(l+size)
}

// extend is T.81's EXTEND (F.2.2.1): the signed value that the s
// magnitude bits v stand for, 0 for s = 0. It is branch-free, as
// libjpeg's HUFF_EXTEND.
func extend(v int32, s uint) int32 {
	return v + ((v-1<<s>>1)>>31)&(-1<<s+1)
}

// decodeFast reads a symbol and, if its size nibble is not 0, the
// magnitude bits after it, with one look-up where it can (T.81 F.2.2.1,
// DECODE, RECEIVE and EXTEND). It returns the symbol and the value (0 for
// size 0). Sizes above 15 cannot occur (symbols are bytes); the magnitude
// of size 0 is not read.
func (t *huffTable) decodeFast(br *bitReader) (rs uint8, v int32) {
	if br.n < 32 {
		br.fill()
	}
	e := t.fast[br.acc>>(br.n-lutBits)&(1<<lutBits-1)]
	if e&fastPartial == 0 {
		br.n -= uint(e & fastLen)
		return uint8(e >> fastRS), e >> fastValue
	}
	if e&fastLong == 0 {
		br.n -= uint(e & fastLen)
		rs = uint8(e >> fastRS)
	} else {
		rs = t.decode(br)
	}
	return rs, br.receiveExtend(rs & 15)
}

// decode reads one Huffman-coded symbol. Bits that start no code are an
// error in the data, which libjpeg (silently, in its fast path) reads as
// symbol 0 after consuming 17 bits; so does decode.
func (t *huffTable) decode(br *bitReader) uint8 {
	if br.n < 17 {
		br.fill()
	}
	if e := t.lut[br.acc>>(br.n-lutBits)&(1<<lutBits-1)]; e != 0 {
		br.n -= uint(e >> 8)
		return uint8(e)
	}
	for l := uint(lutBits + 1); l <= 16; l++ {
		c := int32(br.acc>>(br.n-l)) & (1<<l - 1)
		if i := c - t.first[l]; i >= 0 && i < t.count[l] {
			br.n -= l
			return t.syms[t.index[l]+i]
		}
	}
	br.n -= 17
	return 0
}

// stdTables are the Huffman tables of T.81 Annex K.3 (tables K.3 to K.6),
// which libjpeg-turbo uses for a sequential frame that defines none in
// slots 0 and 1 (as Motion JPEG frames do not): counts of each code
// length, then the symbols.
var stdTables = [2][2]struct {
	counts [16]uint8
	syms   []byte
}{
	{ // DC
		{ // luminance
			[16]uint8{0, 1, 5, 1, 1, 1, 1, 1, 1},
			[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		},
		{ // chrominance
			[16]uint8{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
			[]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
		},
	},
	{ // AC
		{ // luminance
			[16]uint8{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125},
			stdACLuminance,
		},
		{ // chrominance
			[16]uint8{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119},
			stdACChrominance,
		},
	},
}

// stdACLuminance are the symbols of T.81 table K.5, in code order.
var stdACLuminance = []byte{
	0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12,
	0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
	0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08,
	0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
	0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
	0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
	0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
	0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59,
	0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
	0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79,
	0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
	0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
	0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
	0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
	0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4,
	0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
	0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea,
	0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
	0xf9, 0xfa,
}

// stdACChrominance are the symbols of T.81 table K.6, in code order.
var stdACChrominance = []byte{
	0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21,
	0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
	0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91,
	0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
	0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34,
	0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
	0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38,
	0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
	0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58,
	0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
	0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78,
	0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96,
	0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
	0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
	0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
	0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2,
	0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
	0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9,
	0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
	0xf9, 0xfa,
}
