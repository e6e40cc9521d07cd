// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// acRefineRef is the plain successive-approximation refinement of T.81
// G.1.2.3, position by position, as the decoder had it before it kept
// nonzero masks: the reference for acRefineBlock.
func acRefineRef(sd *scanDecoder, coef *[blockSize]int16) {
	s, br := sd.s, &sd.br
	p1 := int16(1) << s.al
	refine := func(z uint8) {
		if br.bits(1) != 0 && coef[z]&p1 == 0 {
			if coef[z] >= 0 {
				coef[z] += p1
			} else {
				coef[z] -= p1
			}
		}
	}
	k := s.ss
	if sd.eobrun == 0 {
		for ; k <= s.se; k++ {
			rs := sd.ac[0].decode(br)
			r, size := int(rs>>4), rs&15
			var v int16
			if size != 0 {
				v = p1
				if br.bits(1) == 0 {
					v = -p1
				}
			} else if r != 15 {
				sd.eobrun = 1<<r + int(br.bits(uint(r)))
				break
			}
			for ; k <= s.se; k++ {
				z := zigzag[k]
				if coef[z] != 0 {
					refine(z)
				} else {
					if r == 0 {
						break
					}
					r--
				}
			}
			if v != 0 {
				coef[coefIndex(k)] = v
			}
		}
	}
	if sd.eobrun > 0 {
		for ; k <= s.se; k++ {
			if z := zigzag[k]; coef[z] != 0 {
				refine(z)
			}
		}
		sd.eobrun--
	}
}

// TestACRefine runs acRefineBlock and acRefineRef on random blocks and
// random (mostly invalid) bit streams, over random bands, bit positions
// and end-of-band runs, and requires the same coefficients, run and bits
// consumed. Sizes other than 1 and runs past the band, which only
// corrupt data has, are included: the AC luminance table codes them all.
func TestACRefine(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var ac huffTable
	std := stdTables[1][0]
	ac.build(&std.counts, std.syms)
	data := make([]byte, 512)
	for trial := 0; trial < 100000; trial++ {
		for i := range data {
			data[i] = byte(rng.Uint32())
			if data[i] == 0xFF {
				data[i] = 0xFE
			}
		}
		ss := 1 + rng.IntN(63)
		se := ss + rng.IntN(64-ss)
		hdr := &scanHeader{ss: ss, se: se, ah: 1, al: rng.IntN(14)}
		var coef [blockSize]int16
		var nz uint64
		density := rng.IntN(4)
		for k := 1; k < blockSize; k++ {
			if rng.IntN(4) < density {
				c := int16(rng.IntN(31)-15) << hdr.al
				if rng.IntN(8) == 0 {
					// Corrupt data: bits at or below Al already set.
					c = int16(rng.Uint32())
				}
				coef[zigzag[k]] = c
				setNonzero(&nz, k, c)
			}
		}
		eobrun := 0
		if rng.IntN(4) == 0 {
			eobrun = 1 + rng.IntN(3)
		}
		a := &scanDecoder{s: hdr, br: bitReader{data: data}, eobrun: eobrun}
		a.ac[0] = &ac
		b := *a
		want := coef
		acRefineRef(&b, &want)
		a.acRefineBlock(&coef, &nz)
		if coef != want || a.eobrun != b.eobrun || used(&a.br) != used(&b.br) {
			t.Fatalf("trial %d (ss %d se %d al %d eobrun %d): got %v run %d after %d bits, want %v run %d after %d bits",
				trial, ss, se, hdr.al, eobrun, coef, a.eobrun, used(&a.br), want, b.eobrun, used(&b.br))
		}
		for k := 1; k < blockSize; k++ {
			if (nz>>k&1 != 0) != (coef[zigzag[k]] != 0) {
				t.Fatalf("trial %d: nonzero mask %064b wrong at %d", trial, nz, k)
			}
		}
	}
}

// used is how many bits br has consumed (the data has no 0xFF bytes).
func used(br *bitReader) int { return 8*br.pos - int(br.n) }

// TestSelectBit checks selectBit against clearing the lowest set bit r
// times, on random words of every density and on the edge cases.
func TestSelectBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	words := []uint64{0, 1, 1 << 63, ^uint64(0), 0x8000000000000001, 0x00FF00FF00FF00FF}
	for i := 0; i < 20000; i++ {
		x := rng.Uint64()
		for j := rng.IntN(4); j > 0; j-- {
			x &= rng.Uint64() // sparser words too
		}
		words = append(words, x)
	}
	for _, x := range words {
		for r := 0; r < 128; r++ {
			z := x
			for i := 0; i < r; i++ {
				z &= z - 1
			}
			want := 64
			if z != 0 {
				want = bits.TrailingZeros64(z)
			}
			if got := selectBit(x, r); got != want {
				t.Fatalf("selectBit(%#x, %d) = %d, want %d", x, r, got, want)
			}
		}
	}
}
