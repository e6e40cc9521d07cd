// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bytes"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// arithFixtures are the arithmetic-coded files of testdata/arith (see its
// gen.py) and the frame type each must have: each X.jpg is compared with
// X.pnm, the samples PIL decodes it to.
var arithFixtures = []struct {
	name string
	sof  byte
	flat byte // if nonzero, there is no X.pnm: every sample is this
}{
	{"grey.jpg", sof9, 0},      // 40x33 grey
	{"rst420.jpg", sof9, 0},    // 4:2:0, restart every 2 MCUs
	{"c444.jpg", sof9, 0},      // 4:4:4
	{"dac.jpg", sof9, 0},       // DAC: L, U and Kx other than the defaults; restarts
	{"dacsmooth.jpg", sof9, 0}, // DAC; small DC differences, in every class of L and U
	{"prog420.jpg", sof10, 0},  // libjpeg's progressive script (successive approximation)
	{"progrst.jpg", sof10, 0},  // refinement scans, non-interleaved DC, restart every MCU
	{"greyprog.jpg", sof10, 0},
	{"dacprog.jpg", sof10, 0}, // DAC with U = 0, Kx = 1 and 12
	{"flat2000.jpg", sof9, 77},
	// Damaged copies (libjpeg's resynchronisation at restart markers, and
	// zeros read past the end of the data).
	{"dmg-rst420-rst.jpg", sof9, 0},
	{"dmg-progrst-rst.jpg", sof10, 0},
	{"dmg-greyprog-rst.jpg", sof10, 0},
	{"dmg-rst420-cut.jpg", sof9, 0},
	{"dmg-dac-cut.jpg", sof9, 0},
}

// frameType returns the first SOF marker of data.
func frameType(t *testing.T, data []byte) byte {
	t.Helper()
	for pos := 2; ; {
		m, next, ok := nextMarker(data, pos)
		if !ok || m == sos {
			t.Fatal("no frame header")
		}
		if m != dht && m != dac && m != jpg && sof0 <= m && m <= sof15 {
			return m
		}
		pos = next + be16(data[next:])
	}
}

func TestArithmetic(t *testing.T) {
	files, _ := filepath.Glob("testdata/arith/*.jpg")
	if len(files) != len(arithFixtures) {
		t.Errorf("%d files in testdata/arith, %d listed", len(files), len(arithFixtures))
	}
	for _, f := range arithFixtures {
		t.Run(f.name, func(t *testing.T) {
			name := filepath.Join("testdata/arith", f.name)
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if m := frameType(t, data); m != f.sof {
				t.Fatalf("frame marker 0x%02X, want 0x%02X", m, f.sof)
			}
			forEachImpl(t, func(t *testing.T) {
				img, err := Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if f.flat != 0 {
					g := img.(*image.Gray)
					if g.Rect != image.Rect(0, 0, 2000, 2000) || bytes.Count(g.Pix, []byte{f.flat}) != len(g.Pix) {
						t.Errorf("%v, not all %d", g.Rect, f.flat)
					}
					return
				}
				matchPNM(t, img, strings.TrimSuffix(name, ".jpg")+".pnm")
			})
		})
	}
}

// TestArithDecoder decodes a hand-made stream: with the initial estimate
// (Qe = 0x5A1D, MPS 0), a code register below A-Qe decodes the MPS without
// renormalisation, and one above it the LPS, after which the bin moves to
// state 1 with the MPS exchanged (state 0 has Switch_MPS set).
func TestArithDecoder(t *testing.T) {
	var ad arithDecoder
	ad.start([]byte{0x10, 0x00, 0xFF, 0xD9}, 0)
	var st bin
	if d := ad.decode(&st); d != 0 || st != 0 || ad.a != 0x10000-0x5A1D {
		t.Errorf("low code: decision %d, bin %#x, A %#x", d, st, ad.a)
	}
	ad.start([]byte{0xF0, 0x00, 0xFF, 0xD9}, 0)
	st = 0
	if d := ad.decode(&st); d != 1 || st != 0x80|1 {
		t.Errorf("high code: decision %d, bin %#x", d, st)
	}
	if ad.src.end != segMarker || ad.src.pos != 2 {
		t.Errorf("renormalisation read to %d (end %d), want the marker at 2", ad.src.pos, ad.src.end)
	}
	// The fixed bin never changes state.
	st = fixedBin
	for range 100 {
		ad.decode(&st)
		if st != fixedBin {
			t.Fatalf("fixed bin moved to %#x", st)
		}
	}
}

// TestArithRefused: a bad DAC segment is refused, and arithmetic lossless
// and hierarchical frames still are.
func TestArithRefused(t *testing.T) {
	base, err := os.ReadFile("testdata/arith/rst420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// Insert DAC segments just before the scan, after the file's own.
	i := bytes.Index(base, []byte{0xFF, sos})
	if i < 0 || bytes.Index(base, []byte{0xFF, dac}) > i {
		t.Fatal("no DAC before SOS")
	}
	withDAC := func(b ...byte) []byte {
		out := bytes.Clone(base[:i])
		out = append(out, 0xFF, dac, 0, byte(2+len(b)))
		out = append(out, b...)
		return append(out, base[i:]...)
	}
	var unsupported UnsupportedError
	var format FormatError
	for _, c := range []struct {
		name string
		data []byte
		want any
	}{
		{"DAC L > U", withDAC(0x01, 0x23), &format},
		{"DAC class 2", withDAC(0x20, 0x05), &format},
		{"DAC odd length", withDAC(0x10, 0x05, 0x00), &format},
		{"lossless", editSOF(t, base, 1, 0xCB), &unsupported},
		{"hierarchical", editSOF(t, base, 1, 0xCD), &unsupported},
		{"hierarchical progressive", editSOF(t, base, 1, 0xCE), &unsupported},
	} {
		_, err := Decode(bytes.NewReader(c.data))
		if err == nil || !errors.As(err, c.want) {
			t.Errorf("%s: Decode: %v, want a %T", c.name, err, c.want)
		}
	}
	// The DAC values a file gives are used: decoding with other ones
	// gives other pixels (or an error), never the same ones.
	want, err := Decode(bytes.NewReader(base))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(bytes.NewReader(withDAC(0x10, 0x3F)))
	if err == nil && bytes.Equal(got.(*image.RGBA).Pix, want.(*image.RGBA).Pix) {
		t.Error("a DAC segment giving Kx = 63 changed nothing")
	}
}
