// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bytes"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

func TestZigzag(t *testing.T) {
	// T.81 Figure A.6, the start and the end of the sequence.
	if want := []uint8{0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5}; !slices.Equal(zigzag[:16], want) {
		t.Errorf("zigzag starts %v, want %v", zigzag[:16], want)
	}
	if want := []uint8{61, 54, 47, 55, 62, 63}; !slices.Equal(zigzag[58:], want) {
		t.Errorf("zigzag ends %v, want %v", zigzag[58:], want)
	}
	seen := make(map[uint8]bool)
	for _, z := range zigzag {
		seen[z] = true
	}
	if len(seen) != blockSize {
		t.Errorf("zigzag is not a permutation")
	}
}

func TestBitReader(t *testing.T) {
	// 0xAB; 0xFF stuffed; fill bytes then a stuffed 0xFF (libjpeg reads
	// them as one data byte 0xFF); 0x12; fill bytes and a marker.
	data := []byte{0xAB, 0xFF, 0x00, 0xFF, 0xFF, 0x00, 0x12, 0xFF, 0xFF, 0xD9, 0x77}
	br := bitReader{data: data}
	if got := br.bits(4); got != 0xA {
		t.Errorf("first nibble %#x", got)
	}
	for i, want := range []uint32{0xBF, 0xFF, 0xF1} {
		if got := br.bits(8); got != want {
			t.Errorf("byte %d: %#x, want %#x", i, got, want)
		}
	}
	if got := br.bits(4); got != 0x2 {
		t.Errorf("last nibble %#x", got)
	}
	if br.end != segMarker || br.pos != 7 {
		t.Errorf("stopped with end %d at %d, want a marker at 7", br.end, br.pos)
	}
	if br.overrun() {
		t.Errorf("overrun before the padding is read")
	}
	if got := br.bits(4); got != 0 || !br.overrun() {
		t.Errorf("padding %#x, overrun %v", got, br.overrun())
	}
	if m, next, ok := nextMarker(data, br.pos); !ok || m != eoi || next != 10 {
		t.Errorf("nextMarker: %#x %d %v", m, next, ok)
	}

	br = bitReader{data: []byte{0x80, 0xFF}}
	if br.bits(1) != 1 || br.bits(7) != 0 || br.end != segEOF {
		t.Errorf("a stream ending in 0xFF: end %d", br.end)
	}
}

func TestReceiveExtend(t *testing.T) {
	// T.81 Table F.1 / F.12: category s codes -(2^s-1)..-2^(s-1) and
	// 2^(s-1)..2^s-1.
	for _, c := range []struct {
		s    uint8
		bits uint32
		want int32
	}{{1, 0, -1}, {1, 1, 1}, {3, 0, -7}, {3, 3, -4}, {3, 4, 4}, {3, 7, 7}, {11, 0, -2047}, {15, 1 << 14, 1 << 14}, {15, 0x7FFF, 0x7FFF}} {
		var w bitWriter
		w.put(c.bits, uint(c.s))
		br := bitReader{data: w.flush()}
		if got := br.receiveExtend(c.s); got != c.want {
			t.Errorf("s=%d bits=%b: %d, want %d", c.s, c.bits, got, c.want)
		}
	}
}

// bitWriter packs codes MSB first and stuffs a zero after each 0xFF.
type bitWriter struct {
	out []byte
	acc uint64
	n   uint
}

func (w *bitWriter) put(code uint32, n uint) {
	w.acc = w.acc<<n | uint64(code)
	w.n += n
	for w.n >= 8 {
		b := byte(w.acc >> (w.n - 8))
		w.out = append(w.out, b)
		if b == 0xFF {
			w.out = append(w.out, 0)
		}
		w.n -= 8
	}
}

// flush pads with ones, as encoders do, and appends EOI.
func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.put(1<<(8-w.n)-1, 8-w.n)
	}
	return append(w.out, 0xFF, eoi)
}

// canonical assigns codes to a table the way T.81 Annex C does, written
// out independently of build: sizes in order, each code one more than the
// last, shifted left when the size grows.
func canonical(counts [16]uint8) (codes []uint32, sizes []uint) {
	code := uint32(0)
	for l := uint(1); l <= 16; l++ {
		for range counts[l-1] {
			codes = append(codes, code)
			sizes = append(sizes, l)
			code++
		}
		code <<= 1
	}
	return codes, sizes
}

func TestHuffmanSmall(t *testing.T) {
	// Three codes of length 2 (00, 01, 10) and one of length 3 (110).
	var h huffTable
	counts := [16]uint8{0, 3, 1}
	h.build(&counts, []byte{5, 7, 9, 11})
	if h.err != nil {
		t.Fatal(h.err)
	}
	// 00 01 10 110 10 00 110, then 17 ones (no code; 0xFF is stuffed),
	// then 00, padded with ones.
	data := []byte{0b00011011, 0b01000110, 0xFF, 0, 0xFF, 0, 0b10011111, 0xFF, eoi}
	br := bitReader{data: data}
	var got []uint8
	for range 9 {
		got = append(got, h.decode(&br))
	}
	if want := []uint8{5, 7, 9, 11, 9, 5, 11, 0, 5}; !slices.Equal(got, want) {
		t.Errorf("decoded %v, want %v", got, want)
	}
	if br.overrun() {
		t.Errorf("read past the data")
	}
}

func TestHuffmanBuildRejects(t *testing.T) {
	for _, c := range []struct {
		counts [16]uint8
		ok     bool
	}{
		{[16]uint8{1}, true},
		{[16]uint8{2}, false},          // 0, 1: the code 1 is all ones
		{[16]uint8{3}, false},          // overfull
		{[16]uint8{0, 3}, true},        // 00 01 10
		{[16]uint8{0, 4}, false},       // 11 is all ones
		{[16]uint8{1, 1, 1, 1}, true},  // 0 10 110 1110
		{[16]uint8{1, 1, 1, 2}, false}, // ... 1110 1111
		{[16]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255}, true},
	} {
		var h huffTable
		n := 0
		for _, k := range c.counts {
			n += int(k)
		}
		h.build(&c.counts, make([]byte, n))
		if (h.err == nil) != c.ok {
			t.Errorf("counts %v: err %v, want ok %v", c.counts, h.err, c.ok)
		}
	}
}

// TestHuffmanRandom decodes random symbol strings coded with random
// tables, with codes of every length up to 16 (so both the look-up table
// and the long-code search are used).
func TestHuffmanRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		// Random code lengths satisfying Kraft with room to spare for
		// the all-ones code.
		var counts [16]uint8
		space := 1 << 16 // in units of 2^-16
		total := 0
		for total < 1+rng.IntN(256) {
			l := 1 + rng.IntN(16)
			if w := 1 << (16 - l); space-w >= 1 && total < 256 {
				space -= w
				counts[l-1]++
				total++
			} else if space <= 1 {
				break
			}
		}
		syms := make([]byte, total)
		for i := range syms {
			syms[i] = byte(rng.IntN(256))
		}
		var h huffTable
		h.build(&counts, syms)
		if h.err != nil {
			t.Fatalf("counts %v: %v", counts, h.err)
		}
		codes, sizes := canonical(counts)
		var w bitWriter
		var want []byte
		for range 500 {
			i := rng.IntN(total)
			w.put(codes[i], sizes[i])
			want = append(want, syms[i])
		}
		br := bitReader{data: w.flush()}
		for j, s := range want {
			if got := h.decode(&br); got != s {
				t.Fatalf("trial %d (counts %v), symbol %d: %d, want %d", trial, counts, j, got, s)
			}
		}
		if br.overrun() {
			t.Fatalf("trial %d: read past the data", trial)
		}
	}
}

// TestStdTables checks the Annex K tables against those PIL wrote into a
// fixture (libjpeg writes the standard tables unless asked to optimise).
func TestStdTables(t *testing.T) {
	data, err := os.ReadFile("../../testdata/rgb444.jpg")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for pos := 2; ; {
		m, next, ok := nextMarker(data, pos)
		if !ok || m == sos {
			break
		}
		n := be16(data[next:])
		seg := data[next+2 : next+n]
		pos = next + n
		for m == dht && len(seg) > 0 {
			class, slot := seg[0]>>4, seg[0]&15
			std := stdTables[class][slot]
			total := 0
			for _, c := range seg[1:17] {
				total += int(c)
			}
			if !bytes.Equal(seg[1:17], std.counts[:]) || !bytes.Equal(seg[17:17+total], std.syms) {
				t.Errorf("table %d/%d differs from the fixture's", class, slot)
			}
			found++
			seg = seg[17+total:]
		}
	}
	if found != 4 {
		t.Errorf("found %d tables", found)
	}
}

func TestRestartResync(t *testing.T) {
	rst := func(n int) []byte { return []byte{0xFF, byte(rst0 + n)} }
	for _, c := range []struct {
		name string
		data []byte
		want int  // restart number wanted
		pos  int  // where reading resumes
		left bool // the marker at pos is left in place
	}{
		{"expected", rst(2), 2, 2, false},
		{"stray bytes first", append([]byte{1, 0xFF, 0, 2}, rst(2)...), 2, 6, false},
		{"next", rst(3), 2, 0, true},
		{"next but one", rst(0), 6, 0, true},
		{"too far", rst(6), 2, 2, false},
		{"earlier, then the one", append(rst(1), rst(2)...), 2, 4, false},
		{"earlier, then the next", append(rst(0), rst(3)...), 2, 2, true},
		{"other marker", []byte{0xFF, 0xFF, eoi}, 2, 1, true},
		{"invalid marker", append([]byte{0xFF, 0x05}, rst(2)...), 2, 4, false},
	} {
		br := bitReader{data: c.data, n: 5, pad: 3}
		left, err := br.restart(c.want)
		if err != nil || left != c.left || br.pos != c.pos || br.n != 0 || br.end != segOpen {
			t.Errorf("%s: left %v pos %d n %d end %d err %v; want left %v pos %d",
				c.name, left, br.pos, br.n, br.end, err, c.left, c.pos)
		}
	}
	br := bitReader{data: []byte{0xFF, 0x00, 0x12}}
	if _, err := br.restart(0); err == nil {
		t.Errorf("no error at the end of the data")
	}
}
