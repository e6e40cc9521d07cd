// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/emosel/emosel/imagenet/internal/luma"
)

func TestMain(m *testing.M) {
	path := "Go"
	if useAVX2 {
		path = "AVX2"
	}
	fmt.Fprintf(os.Stderr, "jpeg: default kernels %s (AVX2 available: %v)\n", path, hasAVX2)
	// Sample planes start as 0x5A rather than zero (or an earlier
	// image's samples), so that comparisons with libjpeg catch any sample
	// read before it is written.
	p := byte(0x5A)
	poison = &p
	os.Exit(m.Run())
}

// forEachImpl runs f once with the Go kernels and once with the AVX2 ones
// if the machine and build have them.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	for _, avx2 := range []bool{false, true} {
		name := "Go"
		if avx2 {
			name = "AVX2"
			if !hasAVX2 {
				t.Run(name, func(t *testing.T) { t.Skip("no AVX2 on this machine or in this build") })
				continue
			}
		}
		useAVX2 = avx2
		t.Run(name, f)
	}
}

// randomBlock fills b and q with one of several kinds of test data: real-
// looking coefficients, flat columns and rows (the shortcuts), full-range
// coefficients with tables up to 65535 (which overflow int32 and must wrap
// identically), and the extremes.
func randomBlock(rng *rand.Rand, b *block, q *[blockSize]int32) {
	kind := rng.IntN(6)
	for i := range b {
		b[i] = 0
		q[i] = int32(1 + rng.IntN(255))
		switch kind {
		case 0: // photo-like
			b[i] = int16(rng.NormFloat64() * 60 / float64(1+i/8+i%8))
		case 1: // sparse: flat columns and rows
			if rng.IntN(8) == 0 {
				b[i] = int16(rng.IntN(2001) - 1000)
			}
		case 2: // full range, 8-bit tables
			b[i] = int16(rng.Uint32())
		case 3: // full range, 16-bit tables
			b[i] = int16(rng.Uint32())
			q[i] = int32(rng.IntN(65536))
		case 4: // extremes
			b[i] = []int16{-32768, 32767, 0, 1, -1}[rng.IntN(5)]
			q[i] = []int32{65535, 1, 255, 0}[rng.IntN(4)]
		case 5: // DC only, any size
			if i == 0 {
				b[i] = int16(rng.Uint32())
				q[i] = int32(rng.IntN(65536))
			}
		}
	}
}

// TestIDCTKernels runs idctIslowAVX2 and idctIslowGo on random blocks and
// requires the same bytes, and nothing written outside the 8x8 samples.
func TestIDCTKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this machine or in this build")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const stride, guard = 13, 7
	var b block
	var q [blockSize]int32
	got := make([]byte, guard+8*stride+guard)
	want := make([]byte, len(got))
	for trial := 0; trial < 200000; trial++ {
		randomBlock(rng, &b, &q)
		for i := range got {
			got[i], want[i] = 0xA5, 0xA5
		}
		in := b
		idctIslowGo(&b, &q, want[guard:], stride)
		idctIslowAVX2(&b[0], &q[0], &got[guard], stride)
		if b != in {
			t.Fatal("the kernel changed its input")
		}
		if !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("trial %d: byte %d (row %d, column %d): AVX2 %d, Go %d\ncoef %v\nq %v",
						trial, i, (i-guard)/stride, (i-guard)%stride, got[i], want[i], b, q)
				}
			}
		}
	}
}

// TestYCCKernels runs yccRGBAAVX2 and yccRGBAGo on every (Y, Cb, Cr)
// triple and on rows of every length up to 70, at odd offsets, requiring
// the same bytes and nothing written past the row.
func TestYCCKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this machine or in this build")
	}
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	run := func(y, cb, cr []byte) (avx2, gold []byte) {
		n := len(y)
		avx2 = bytes.Repeat([]byte{0xA5}, 4*n+9)
		gold = bytes.Clone(avx2)
		useAVX2 = true
		yccRGBA(avx2[1:], y, cb, cr)
		yccRGBAGo(gold[1:4*n+1], y, cb, cr)
		return avx2, gold
	}
	// Every triple: Y fixed per row, (Cb, Cr) all 65536 pairs.
	cb, cr, y := make([]byte, 1<<16), make([]byte, 1<<16), make([]byte, 1<<16)
	for i := range cb {
		cb[i], cr[i] = byte(i), byte(i>>8)
	}
	for v := 0; v < 256; v++ {
		for i := range y {
			y[i] = byte(v)
		}
		if a, g := run(y, cb, cr); !bytes.Equal(a, g) {
			t.Fatalf("Y=%d: AVX2 and Go differ", v)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 3*80)
	for n := 0; n <= 70; n++ {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		o := 1 + n%5
		if a, g := run(buf[o:][:n], buf[80+o:][:n], buf[160+o:][:n]); !bytes.Equal(a, g) {
			t.Fatalf("n=%d: AVX2 and Go differ:\n%v\n%v", n, a, g)
		}
	}
}

// TestYCCGrayKernels runs yccGray with and without its AVX2 loop on
// every (Y, Cb, Cr) triple and on rows of every length up to 70, at odd
// offsets, and requires the grey level of the RGB pixel yccRGBAGo makes
// (luma.RGB), and nothing written past the row.
func TestYCCGrayKernels(t *testing.T) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	check := func(what string, y, cb, cr []byte) {
		t.Helper()
		n := len(y)
		rgba := make([]byte, 4*n)
		yccRGBAGo(rgba, y, cb, cr)
		want := bytes.Repeat([]byte{0xA5}, n+9)
		for x := 0; x < n; x++ {
			want[1+x] = luma.RGB(rgba[4*x], rgba[4*x+1], rgba[4*x+2])
		}
		for _, avx2 := range []bool{false, true} {
			if avx2 && !hasAVX2 {
				continue
			}
			useAVX2 = avx2
			got := bytes.Repeat([]byte{0xA5}, n+9)
			yccGray(got[1:], y, cb, cr)
			if !bytes.Equal(got, want) {
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s (AVX2 %v): byte %d is %d, want %d", what, avx2, i-1, got[i], want[i])
					}
				}
			}
		}
	}
	cb, cr, y := make([]byte, 1<<16), make([]byte, 1<<16), make([]byte, 1<<16)
	for i := range cb {
		cb[i], cr[i] = byte(i), byte(i>>8)
	}
	for v := 0; v < 256; v++ {
		for i := range y {
			y[i] = byte(v)
		}
		check(fmt.Sprintf("Y=%d", v), y, cb, cr)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	buf := make([]byte, 3*80)
	for n := 0; n <= 70; n++ {
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		o := 1 + n%5
		check(fmt.Sprintf("n=%d", n), buf[o:][:n], buf[80+o:][:n], buf[160+o:][:n])
	}
}

// TestUpsampleKernels runs h2v1Fancy and h2v2Fancy with and without the
// AVX2 interior loops on random rows of every length up to 100, requiring
// the same bytes and nothing written past the output.
func TestUpsampleKernels(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this machine or in this build")
	}
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	rng := rand.New(rand.NewPCG(11, 12))
	near, far := make([]byte, 100), make([]byte, 100)
	for trial := 0; trial < 20; trial++ {
		for cw := 3; cw <= 100; cw++ {
			for i := range near {
				near[i], far[i] = byte(rng.Uint32()), byte(rng.Uint32())
				if trial == 0 {
					near[i], far[i] = 255, 255
				}
			}
			var got, want [2][]byte
			for i, avx2 := range []bool{true, false} {
				useAVX2 = avx2
				got[i] = bytes.Repeat([]byte{0xA5}, 2*cw+9)
				want[i] = bytes.Repeat([]byte{0xA5}, 2*cw+9)
				h2v1Fancy(got[i], near[:cw])
				h2v2Fancy(want[i], near[:cw], far[:cw])
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Fatalf("h2v1, %d samples: AVX2 %v, Go %v", cw, got[0], got[1])
			}
			if !bytes.Equal(want[0], want[1]) {
				t.Fatalf("h2v2, %d samples: AVX2 %v, Go %v", cw, want[0], want[1])
			}
		}
	}
}
