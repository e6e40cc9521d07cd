// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// The bit-exact check against libjpeg-turbo is imagenet's golden test
// (PIL's pixels for every JPEG fixture). This one checks idctIslow against
// the textbook float IDCT: islow is accurate to ±1 (IEEE 1180).
func TestIDCTAgainstFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cos [8][8]float64
	for x := range cos {
		for u := range cos[x] {
			c := 1.0
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			cos[x][u] = c * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) / 2
		}
	}
	off, n := 0, 0
	dst := make([]byte, 8*8)
	for trial := 0; trial < 2000; trial++ {
		var b block
		for i := range b {
			// Low frequencies large, high ones small, as in real data.
			scale := 300 / float64(1+i/8+i%8)
			b[i] = int32(rng.NormFloat64() * scale)
		}
		in := b
		idctIslow(&b, dst, 8)
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				s := 0.0
				for v := 0; v < 8; v++ {
					for u := 0; u < 8; u++ {
						s += cos[x][u] * cos[y][v] * float64(in[8*v+u])
					}
				}
				want := math.Min(math.Max(math.Round(s)+128, 0), 255)
				d := math.Abs(float64(dst[8*y+x]) - want)
				if d > 1 {
					t.Fatalf("trial %d (%d, %d): got %d, float IDCT %v", trial, x, y, dst[8*y+x], want)
				}
				if d != 0 {
					off++
				}
				n++
			}
		}
	}
	if frac := float64(off) / float64(n); frac > 0.02 {
		t.Errorf("%.2f%% of samples off by one", 100*frac)
	}
}

func TestRangeLimit(t *testing.T) {
	for _, c := range []struct {
		in   int32
		want byte
	}{{-129, 0}, {-128, 0}, {-1, 127}, {0, 128}, {127, 255}, {128, 255}, {511, 255}, {512, 0}, {-512, 0}, {-513, 255}} {
		if got := rangeLimit(c.in); got != c.want {
			t.Errorf("rangeLimit(%d) = %d, want %d", c.in, got, c.want)
		}
	}
}

// idctIslowRef is idctIslow in its plain form, through idct1D, as the
// decoder had it before the passes were written out.
func idctIslowRef(b *block, dst []byte, stride int) {
	var ws [blockSize]int32

	// Pass 1: columns from b into ws, keeping pass1Bits extra bits.
	for c := 0; c < 8; c++ {
		if b[8+c]|b[16+c]|b[24+c]|b[32+c]|b[40+c]|b[48+c]|b[56+c] == 0 {
			// AC terms all zero (the general code gives the same result).
			dc := b[c] << pass1Bits
			for r := 0; r < 8; r++ {
				ws[8*r+c] = dc
			}
			continue
		}
		e0, e1, e2, e3, o0, o1, o2, o3 := idct1D(b[c], b[8+c], b[16+c], b[24+c], b[32+c], b[40+c], b[48+c], b[56+c])
		const n = constBits - pass1Bits
		ws[0*8+c] = descale(e0+o0, n)
		ws[7*8+c] = descale(e0-o0, n)
		ws[1*8+c] = descale(e1+o1, n)
		ws[6*8+c] = descale(e1-o1, n)
		ws[2*8+c] = descale(e2+o2, n)
		ws[5*8+c] = descale(e2-o2, n)
		ws[3*8+c] = descale(e3+o3, n)
		ws[4*8+c] = descale(e3-o3, n)
	}

	// Pass 2: rows from ws into dst, removing all the scaling.
	_ = dst[7*stride+7]
	for r := 0; r < 8; r++ {
		w := ws[8*r : 8*r+8 : 8*r+8]
		out := dst[r*stride : r*stride+8 : r*stride+8]
		const n = constBits + pass1Bits + 3
		if w[1]|w[2]|w[3]|w[4]|w[5]|w[6]|w[7] == 0 {
			v := rangeLimit(descale(w[0], pass1Bits+3))
			for x := range out {
				out[x] = v
			}
			continue
		}
		e0, e1, e2, e3, o0, o1, o2, o3 := idct1D(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7])
		out[0] = rangeLimit(descale(e0+o0, n))
		out[7] = rangeLimit(descale(e0-o0, n))
		out[1] = rangeLimit(descale(e1+o1, n))
		out[6] = rangeLimit(descale(e1-o1, n))
		out[2] = rangeLimit(descale(e2+o2, n))
		out[5] = rangeLimit(descale(e2-o2, n))
		out[3] = rangeLimit(descale(e3+o3, n))
		out[4] = rangeLimit(descale(e3-o3, n))
	}
}

// TestIDCTMatchesRef: the written-out IDCT gives exactly the plain one's
// bytes, on realistic blocks, sparse ones (the shortcuts) and absurd ones
// (corrupt data, where the range limit wraps).
func TestIDCTMatchesRef(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	got, want := make([]byte, 8*9), make([]byte, 8*9)
	for trial := 0; trial < 20000; trial++ {
		var b block
		for i := range b {
			switch trial % 4 {
			case 0:
				b[i] = int32(rng.NormFloat64() * 300 / float64(1+i/8+i%8))
			case 1:
				if rng.IntN(8) == 0 {
					b[i] = int32(rng.IntN(2001) - 1000)
				}
			case 2:
				b[i] = int32(int16(rng.Uint32())) * int32(rng.IntN(256))
			default:
				if i == 0 || rng.IntN(20) == 0 {
					b[i] = int32(rng.IntN(4001) - 2000)
				}
			}
		}
		in := b
		idctIslow(&b, got, 9)
		idctIslowRef(&in, want, 9)
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d: %v, want %v", trial, got, want)
		}
	}
}
