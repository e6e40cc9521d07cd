// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet/internal/luma"
)

// The bit-exact checks of the common layouts against PIL are imagenet's
// golden tests. These add what those fixtures lack, checked against
// libjpeg-turbo's djpeg (see testdata/gen.sh): restart intervals, damaged
// restart markers, data cut short, successive approximation scripts and
// unusual sampling factors.

// readPNM reads a binary PGM or PPM with maxval 255.
func readPNM(t *testing.T, name string) (w, h, ch int, pix []byte) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data[:min(len(data), 20)]))
	if len(f) < 4 || (f[0] != "P5" && f[0] != "P6") || f[3] != "255" {
		t.Fatalf("%s: not a binary PNM", name)
	}
	w, _ = strconv.Atoi(f[1])
	h, _ = strconv.Atoi(f[2])
	ch = 1
	if f[0] == "P6" {
		ch = 3
	}
	return w, h, ch, data[len(data)-w*h*ch:]
}

// samples returns the image's samples as a PNM holds them.
func samples(img image.Image) (ch int, pix []byte) {
	switch m := img.(type) {
	case *image.Gray:
		return 1, m.Pix
	case *image.RGBA:
		for i := 0; i < len(m.Pix); i += 4 {
			pix = append(pix, m.Pix[i:i+3]...)
		}
		return 3, pix
	}
	return 0, nil
}

func TestAgainstDjpeg(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jpg")
	if len(files) < 7 {
		t.Fatalf("%d fixtures", len(files))
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			forEachImpl(t, func(t *testing.T) {
				img, err := Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				matchPNM(t, img, strings.TrimSuffix(name, ".jpg")+".pnm")
			})
		})
	}
}

// TestDecodeGray decodes every fixture (these, imagenet's and the
// arithmetic-coded ones) with DecodeGray, with each kernel set, and
// requires the grey level luma.RGB or luma.CMYK gives of each pixel
// Decode returns (or Decode's grey image itself).
func TestDecodeGray(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/*.jpg")
	more, _ := filepath.Glob("testdata/*.jpg")
	arith, _ := filepath.Glob("testdata/arith/*.jpg")
	names = slices.Concat(names, more, arith)
	if len(names) < 35 {
		t.Fatalf("%d fixtures", len(names))
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(t *testing.T) {
			forEachImpl(t, func(t *testing.T) {
				img, err := Decode(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				want := image.NewGray(img.Bounds())
				switch m := img.(type) {
				case *image.Gray:
					copy(want.Pix, m.Pix)
				case *image.RGBA:
					for i := range want.Pix {
						want.Pix[i] = luma.RGB(m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2])
					}
				case *image.CMYK:
					for i := range want.Pix {
						want.Pix[i] = luma.CMYK(m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3])
					}
				default:
					t.Fatalf("Decode gave a %T", img)
				}
				got, err := DecodeGray(bytes.NewReader(data))
				if err != nil {
					t.Fatal(err)
				}
				if got.Rect != want.Rect {
					t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
				}
				if n := diffCount(got.Pix, want.Pix); n > 0 {
					t.Errorf("%T: %d of %d grey levels differ", img, n, len(want.Pix))
				}
			})
		})
	}
}

// matchPNM checks img's size, channels and every sample against the
// reference decoding in the PNM file pnm, naming the first sample that
// differs.
func matchPNM(t *testing.T, img image.Image, pnm string) {
	t.Helper()
	w, h, ch, want := readPNM(t, pnm)
	if img.Bounds() != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v, want %dx%d", img.Bounds(), w, h)
	}
	gch, got := samples(img)
	if gch != ch {
		t.Fatalf("%d channels, want %d", gch, ch)
	}
	if n := diffCount(got, want); n > 0 {
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%d of %d samples differ; the first, at x=%d y=%d channel %d: %d, want %d",
					n, len(want), i/ch%w, i/ch/w, i%ch, got[i], want[i])
				return
			}
		}
	}
}

func diffCount(a, b []byte) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// TestDefaultHuffmanTables: a sequential image without DHT segments is
// read with the tables of Annex K, as libjpeg-turbo reads Motion JPEG.
func TestDefaultHuffmanTables(t *testing.T) {
	data, err := os.ReadFile("../../testdata/rgb420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var stripped []byte
	pos := 2
	stripped = append(stripped, data[:2]...)
	for {
		m, next, ok := nextMarker(data, pos)
		if !ok {
			t.Fatal("no SOS")
		}
		if m == sos {
			stripped = append(stripped, data[pos:]...)
			break
		}
		end := next + be16(data[next:])
		if m != dht {
			stripped = append(stripped, data[pos:end]...)
		}
		pos = end
	}
	got, err := Decode(bytes.NewReader(stripped))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.(*image.RGBA).Pix, want.(*image.RGBA).Pix) {
		t.Error("decoded differently without its (standard) DHT segments")
	}
}

// editSOF returns a copy of data with the bytes at the SOF segment's
// offset off (0 is the marker's 0xFF) replaced by b.
func editSOF(t *testing.T, data []byte, off int, b ...byte) []byte {
	t.Helper()
	i := -1
	for _, m := range []byte{sof0, sof2, sof9, sof10} {
		if i < 0 {
			i = bytes.Index(data, []byte{0xFF, m})
		}
	}
	if i < 0 {
		t.Fatal("no SOF")
	}
	out := bytes.Clone(data)
	copy(out[i+off:], b)
	return out
}

// TestRefused: features the decoder refuses, and broken headers.
func TestRefused(t *testing.T) {
	base, err := os.ReadFile("../../testdata/rgb420.jpg")
	if err != nil {
		t.Fatal(err)
	}
	var unsupported UnsupportedError
	var format FormatError
	for _, c := range []struct {
		name string
		data []byte
		want any
	}{
		{"lossless", editSOF(t, base, 1, 0xC3), &unsupported},
		{"hierarchical", editSOF(t, base, 1, 0xC5), &unsupported},
		{"12-bit", editSOF(t, base, 4, 12), &unsupported},
		{"DNL height", editSOF(t, base, 5, 0, 0), &unsupported},
		{"zero width", editSOF(t, base, 7, 0, 0), &format},
		{"two components", editSOF(t, editSOF(t, base, 9, 2), 2, 0, 14), &unsupported},
		{"zero components", editSOF(t, base, 9, 0), &unsupported},
		{"five components", editSOF(t, base, 9, 5), &unsupported},
		{"sampling 5", editSOF(t, base, 11, 0x51), &format},
		{"sampling 0", editSOF(t, base, 11, 0x02), &format},
		{"fractional sampling", editSOF(t, base, 11, 0x32, 0, 0, 0x21), &unsupported},
		{"too many blocks", editSOF(t, base, 11, 0x44, 0, 0, 0x11, 0, 0, 0x11), &format},
		{"quant selector", editSOF(t, base, 12, 4), &format},
		{"repeated id", editSOF(t, base, 13, 1), &format},
		{"no SOI", base[2:], &format},
		{"SOS first", append([]byte{0xFF, soi, 0xFF, sos, 0, 8, 1, 1, 0, 0, 63, 0}, base[2:]...), &format},
		{"EOI first", []byte{0xFF, soi, 0xFF, eoi}, &format},
		{"reserved marker", []byte{0xFF, soi, 0xFF, 0x50, 0, 2, 0xFF, eoi}, &format},
		{"extension marker", []byte{0xFF, soi, 0xFF, 0xF3, 0, 2, 0xFF, eoi}, &unsupported},
		{"empty", nil, &format},
	} {
		_, err := Decode(bytes.NewReader(c.data))
		if err == nil || !errors.As(err, c.want) {
			t.Errorf("%s: Decode: %v, want a %T", c.name, err, c.want)
		}
		if c.name == "too many blocks" {
			continue // only a scan checks that
		}
		_, err = DecodeConfig(bytes.NewReader(c.data))
		if err == nil || !errors.As(err, c.want) {
			t.Errorf("%s: DecodeConfig: %v, want a %T", c.name, err, c.want)
		}
	}
}

// checkDecode decodes data with Decode and DecodeGray, which must both
// give an error or both an image of the size DecodeConfig reports.
func checkDecode(t *testing.T, what string, data []byte) (ok bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: panic: %v", what, p)
		}
	}()
	img, err := Decode(bytes.NewReader(data))
	cfg, cerr := DecodeConfig(bytes.NewReader(data))
	g, gerr := DecodeGray(bytes.NewReader(data))
	if (err == nil) != (gerr == nil) {
		t.Fatalf("%s: Decode: %v; DecodeGray: %v", what, err, gerr)
	}
	if err != nil {
		return false
	}
	if g.Rect != img.Bounds() {
		t.Fatalf("%s: DecodeGray bounds %v, Decode %v", what, g.Rect, img.Bounds())
	}
	if cerr != nil {
		t.Fatalf("%s: Decode succeeded, DecodeConfig: %v", what, cerr)
	}
	if img.Bounds() != image.Rect(0, 0, cfg.Width, cfg.Height) {
		t.Fatalf("%s: bounds %v, config %dx%d", what, img.Bounds(), cfg.Width, cfg.Height)
	}
	return true
}

// TestTruncated cuts fixtures at every byte: a stream without its EOI is
// an error (as in PIL); with an EOI put after the cut, the data read so
// far makes an image.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"../../testdata/progressive.jpg", "../../testdata/odd420.jpg", "testdata/progrst.jpg", "testdata/rst420.jpg",
		"testdata/arith/rst420.jpg", "testdata/arith/progrst.jpg", "testdata/arith/dacprog.jpg"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// inData[n] tells whether data[n-1] is entropy-coded data.
		inData := make([]bool, len(data)+1)
		for pos, scan := 2, false; ; {
			m, next, ok := nextMarker(data, pos)
			if !ok {
				break
			}
			for i := pos + 1; i <= next-2 && scan; i++ {
				inData[i] = true
			}
			pos, scan = next, false
			if m != eoi && !parameterless(m) {
				pos, scan = next+be16(data[next:]), m == sos
			} else {
				scan = rst0 <= m && m <= rst7
			}
		}
		images := 0
		for n := 0; n < len(data)-1; n++ {
			if checkDecode(t, fmt.Sprintf("%s[:%d]", name, n), data[:n]) {
				t.Errorf("%s cut at %d: no error", name, n)
			}
			cut := append(bytes.Clone(data[:n]), 0xFF, eoi)
			if checkDecode(t, fmt.Sprintf("%s[:%d]+EOI", name, n), cut) {
				images++
			} else if inData[n] && data[n-1] != 0xFF {
				t.Errorf("%s cut at %d, with EOI: no image", name, n)
			}
		}
		if images == 0 {
			t.Errorf("%s: no image from any cut", name)
		}
	}
}

// TestCorrupt decodes fixtures with random bytes changed or inserted; it
// must not panic, and the AVX2 and Go kernels must agree on the pixels
// (corrupt data gives the extreme coefficients that overflow).
func TestCorrupt(t *testing.T) {
	names, _ := filepath.Glob("../../testdata/*.jpg")
	more, _ := filepath.Glob("testdata/*.jpg")
	arith, _ := filepath.Glob("testdata/arith/*.jpg")
	// Not flat2000.jpg: each trial would decode 4 megapixels.
	arith = slices.DeleteFunc(arith, func(s string) bool { return strings.Contains(s, "flat") })
	names = append(append(names, more...), arith...)
	rng := rand.New(rand.NewPCG(5, 6))
	trials := 200
	if testing.Short() {
		trials = 20
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for trial := 0; trial < trials; trial++ {
			bad := bytes.Clone(data)
			for range 1 + rng.IntN(4) {
				i := rng.IntN(len(bad))
				switch rng.IntN(4) {
				case 0, 1:
					bad[i] = byte(rng.IntN(256))
				case 2:
					bad[i] ^= 1 << rng.IntN(8)
				case 3:
					bad = append(bad[:i:i], append([]byte{0xFF, byte(rng.IntN(256))}, bad[i:]...)...)
				}
			}
			what := fmt.Sprintf("%s trial %d", name, trial)
			if checkDecode(t, what, bad) {
				sameWithoutAsm(t, what, bad)
			}
		}
	}
}

// sameWithoutAsm decodes data with the AVX2 kernels and with the Go ones
// and requires the same image, if the machine has AVX2.
func sameWithoutAsm(t *testing.T, what string, data []byte) {
	t.Helper()
	if !hasAVX2 {
		return
	}
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	var pix [2][]byte
	for i, avx2 := range []bool{true, false} {
		useAVX2 = avx2
		img, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: AVX2 %v: %v", what, avx2, err)
		}
		switch m := img.(type) {
		case *image.Gray:
			pix[i] = m.Pix
		case *image.RGBA:
			pix[i] = m.Pix
		case *image.CMYK:
			pix[i] = m.Pix
		}
	}
	if !bytes.Equal(pix[0], pix[1]) {
		t.Fatalf("%s: the AVX2 and Go kernels decode differently", what)
	}
}
