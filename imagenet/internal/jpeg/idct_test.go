// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
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
	var ones [blockSize]int32
	for i := range ones {
		ones[i] = 1
	}
	off, n := 0, 0
	dst := make([]byte, 8*8)
	for trial := 0; trial < 2000; trial++ {
		var b block
		for i := range b {
			// Low frequencies large, high ones small, as in real data.
			scale := 300 / float64(1+i/8+i%8)
			b[i] = int16(rng.NormFloat64() * scale)
		}
		in := b
		idctIslowGo(&b, &ones, dst, 8)
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
