// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

// Arithmetic decoding (T.81 Annex D, F.1.4, F.2.4 and G.1.3): the QM-coder
// decodes binary decisions, each with an adaptive probability estimate
// kept in a statistics bin; the coefficient coding of Annex F chooses the
// bin for each decision from the decisions already made.

// A qeState is one row of T.81 Table D.3: the LPS probability estimate Qe
// (out of 0x10000), the states to move to after an MPS and after an LPS
// renormalisation, and whether an LPS here exchanges the sense of the MPS.
type qeState struct {
	qe         uint16
	nmps, nlps uint8
	switchMPS  bool
}

// qeTable is T.81 Table D.3, plus state 113: a fixed estimate of 0.5 that
// never adapts, which the sign of an AC coefficient and the bits of a
// successive-approximation refinement are decoded with (F.1.4.3.1,
// G.1.3.1, G.1.3.3).
var qeTable = [114]qeState{
	{0x5A1D, 1, 1, true}, {0x2586, 2, 14, false}, {0x1114, 3, 16, false}, {0x080B, 4, 18, false},
	{0x03D8, 5, 20, false}, {0x01DA, 6, 23, false}, {0x00E5, 7, 25, false}, {0x006F, 8, 28, false},
	{0x0036, 9, 30, false}, {0x001A, 10, 33, false}, {0x000D, 11, 35, false}, {0x0006, 12, 9, false},
	{0x0003, 13, 10, false}, {0x0001, 13, 12, false}, {0x5A7F, 15, 15, true}, {0x3F25, 16, 36, false},
	{0x2CF2, 17, 38, false}, {0x207C, 18, 39, false}, {0x17B9, 19, 40, false}, {0x1182, 20, 42, false},
	{0x0CEF, 21, 43, false}, {0x09A1, 22, 45, false}, {0x072F, 23, 46, false}, {0x055C, 24, 48, false},
	{0x0406, 25, 49, false}, {0x0303, 26, 51, false}, {0x0240, 27, 52, false}, {0x01B1, 28, 54, false},
	{0x0144, 29, 56, false}, {0x00F5, 30, 57, false}, {0x00B7, 31, 59, false}, {0x008A, 32, 60, false},
	{0x0068, 33, 62, false}, {0x004E, 34, 63, false}, {0x003B, 35, 32, false}, {0x002C, 9, 33, false},
	{0x5AE1, 37, 37, true}, {0x484C, 38, 64, false}, {0x3A0D, 39, 65, false}, {0x2EF1, 40, 67, false},
	{0x261F, 41, 68, false}, {0x1F33, 42, 69, false}, {0x19A8, 43, 70, false}, {0x1518, 44, 72, false},
	{0x1177, 45, 73, false}, {0x0E74, 46, 74, false}, {0x0BFB, 47, 75, false}, {0x09F8, 48, 77, false},
	{0x0861, 49, 78, false}, {0x0706, 50, 79, false}, {0x05CD, 51, 48, false}, {0x04DE, 52, 50, false},
	{0x040F, 53, 50, false}, {0x0363, 54, 51, false}, {0x02D4, 55, 52, false}, {0x025C, 56, 53, false},
	{0x01F8, 57, 54, false}, {0x01A4, 58, 55, false}, {0x0160, 59, 56, false}, {0x0125, 60, 57, false},
	{0x00F6, 61, 58, false}, {0x00CB, 62, 59, false}, {0x00AB, 63, 61, false}, {0x008F, 32, 61, false},
	{0x5B12, 65, 65, true}, {0x4D04, 66, 80, false}, {0x412C, 67, 81, false}, {0x37D8, 68, 82, false},
	{0x2FE8, 69, 83, false}, {0x293C, 70, 84, false}, {0x2379, 71, 86, false}, {0x1EDF, 72, 87, false},
	{0x1AA9, 73, 87, false}, {0x174E, 74, 72, false}, {0x1424, 75, 72, false}, {0x119C, 76, 74, false},
	{0x0F6B, 77, 74, false}, {0x0D51, 78, 75, false}, {0x0BB6, 79, 77, false}, {0x0A40, 48, 77, false},
	{0x5832, 81, 80, true}, {0x4D1C, 82, 88, false}, {0x438E, 83, 89, false}, {0x3BDD, 84, 90, false},
	{0x34EE, 85, 91, false}, {0x2EAE, 86, 92, false}, {0x299A, 87, 93, false}, {0x2516, 71, 86, false},
	{0x5570, 89, 88, true}, {0x4CA9, 90, 95, false}, {0x44D9, 91, 96, false}, {0x3E22, 92, 97, false},
	{0x3824, 93, 99, false}, {0x32B4, 94, 99, false}, {0x2E17, 86, 93, false}, {0x56A8, 96, 95, true},
	{0x4F46, 97, 101, false}, {0x47E5, 98, 102, false}, {0x41CF, 99, 103, false}, {0x3C3D, 100, 104, false},
	{0x375E, 93, 99, false}, {0x5231, 102, 105, false}, {0x4C0F, 103, 106, false}, {0x4639, 104, 107, false},
	{0x415E, 99, 103, false}, {0x5627, 106, 105, true}, {0x50E7, 107, 108, false}, {0x4B85, 103, 109, false},
	{0x5597, 109, 110, false}, {0x504F, 107, 111, false}, {0x5A10, 111, 110, true}, {0x5522, 109, 112, false},
	{0x59EB, 111, 112, true},
	{0x5A1D, 113, 113, false}, // the fixed estimate
}

// fixedBin is the statistics bin of the fixed 0.5 estimate.
const fixedBin = 113

// A bin is a statistics bin: the index of its state in qeTable in the low
// 7 bits, and the value of the more probable symbol in the top bit. Its
// zero value is state 0 with MPS 0, where every bin starts (D.1.6).
type bin = uint8

// The statistics areas of T.81 F.1.4.4: a DC table's 49 bins (S0, SS, SP
// and SN for each of the 5 contexts of the previous difference, then X1
// .. X15 and M2 .. M15) and an AC table's 245 (SE, S0 and SN/SP for each
// of the 63 coefficients, then X2 .. X15 and M2 .. M15 for the low and
// the high coefficients), rounded up.
const (
	dcBins = 64
	acBins = 256

	dcX1     = 20  // first of the DC magnitude-category bins
	acXLow   = 189 // first of the AC magnitude-category bins for k <= Kx
	acXHigh  = 217 // ... and for k > Kx
	binsToMs = 14  // from a category bin Xn to its magnitude-bits bin Mn
)

// An arithDecoder is the QM-coder's decoder (T.81 D.2). Its code register
// c holds Cx, the code value's offset into the current interval on the
// scale of a, shifted left by ct, with ct bits of data not yet shifted
// into Cx below it: Cx < a always, so c < a<<ct. a is the interval,
// normalised to at least 0x8000.
//
// It reads from src, a bitReader used for its byte source only: bytes
// are unstuffed as for Huffman data, and once a marker (or the end of the
// input) is reached it reads zero bytes, as D.2.6 has a decoder do.
type arithDecoder struct {
	src bitReader
	c   uint32
	a   uint32
	ct  int

	// bad reports a decision sequence that no encoder writes (a run of
	// zeros past the last coefficient, a magnitude of 2^15 or more). As
	// libjpeg does, the decoder then leaves the rest of the restart
	// interval undecoded.
	bad bool
}

// start (re)starts decoding at data[pos] (INITDEC, D.2.7): the code
// register takes the first two bytes, and the interval is the whole range.
func (ad *arithDecoder) start(data []byte, pos int) {
	*ad = arithDecoder{src: bitReader{data: data, pos: pos}, a: 0x10000}
	ad.c = ad.byteIn() << 8
	ad.c |= ad.byteIn()
}

// byteIn returns the next data byte (BYTEIN, D.2.7), or 0 past the end of
// the segment.
func (ad *arithDecoder) byteIn() uint32 {
	br := &ad.src
	if br.end != segOpen {
		return 0
	}
	if br.pos < len(br.data) && br.data[br.pos] != 0xFF {
		br.pos++
		return uint32(br.data[br.pos-1])
	}
	return uint32(br.special())
}

// decode decodes one binary decision with the estimate in bin *st and
// updates the estimate (DECODE, RENORMD and the estimation of D.2.4 and
// D.2.5).
func (ad *arithDecoder) decode(st *bin) int {
	s := *st
	e := &qeTable[s&0x7F]
	qe := uint32(e.qe)
	mps := int(s >> 7)
	// The MPS takes the lower part of the interval, a-qe, and the LPS the
	// upper part, qe, unless the lower part is the smaller: then they are
	// exchanged (the conditional exchange of D.2.4).
	ad.a -= qe
	var d int
	if ad.c < ad.a<<ad.ct {
		if ad.a >= 0x8000 {
			return mps // no renormalisation, no change to the estimate
		}
		if ad.a < qe {
			d = 1 - mps
		} else {
			d = mps
		}
	} else {
		ad.c -= ad.a << ad.ct
		if ad.a < qe {
			d = mps
		} else {
			d = 1 - mps
		}
		ad.a = qe
	}
	// Renormalisation follows: estimate the next state.
	if d == mps {
		*st = s&0x80 | e.nmps
	} else {
		if e.switchMPS {
			mps = 1 - mps
		}
		*st = uint8(mps)<<7 | e.nlps
	}
	for ad.a < 0x8000 {
		ad.a <<= 1
		if ad.ct--; ad.ct < 0 {
			ad.c = ad.c<<8 | ad.byteIn()
			ad.ct += 8
		}
	}
	return d
}

// arithStats are the statistics areas of the 16 DC and 16 AC conditioning
// tables an arithmetic-coded scan can select (libjpeg accepts any of the
// 4-bit selectors; T.81 asks for 0..3).
type arithStats struct {
	dc [16][dcBins]bin
	ac [16][acBins]bin
}

// arithConditioning is what DAC segments define (T.81 B.2.4.3): for each DC
// table the bounds L and U of the previous difference's classification,
// for each AC table Kx, the last "low" coefficient.
type arithConditioning struct {
	dcL, dcU [16]uint8
	acK      [16]uint8
}

// reset sets the default conditioning: L = 0, U = 1, Kx = 5 (F.1.4.4.1.4,
// F.1.4.4.2.1).
func (ac *arithConditioning) reset() {
	for i := range ac.dcL {
		ac.dcL[i], ac.dcU[i], ac.acK[i] = 0, 1, 5
	}
}

// conditioning reads a DAC segment (T.81 B.2.4.3): pairs of Tc<<4|Tb and
// Cs. As in libjpeg, a DC table with L > U is refused, and Kx is taken
// as it is.
func (d *decoder) conditioning(b []byte) error {
	if len(b)%2 != 0 {
		return FormatError("bad DAC length")
	}
	for ; len(b) > 0; b = b[2:] {
		tc, tb, cs := b[0]>>4, b[0]&15, b[1]
		switch {
		case tc > 1:
			return FormatError("bad arithmetic conditioning table class")
		case tc == 1:
			d.cond.acK[tb] = cs
		case cs&15 > cs>>4:
			return FormatError("bad arithmetic DC conditioning (L > U)")
		default:
			d.cond.dcL[tb], d.cond.dcU[tb] = cs&15, cs>>4
		}
	}
	return nil
}

// arithResetStats sets the bins the scan uses to their initial state, at
// the start of the scan and of each restart interval (F.1.4.4, G.1.3.2):
// the DC bins of a scan that codes DC differences, the AC bins of one
// that codes AC coefficients. It also clears the DC predictions and
// contexts.
func (sd *scanDecoder) arithResetStats() {
	st := sd.d.stats
	for i := 0; i < sd.s.n; i++ {
		if sd.kind == sequential || sd.kind == dcFirst {
			st.dc[sd.s.comp[i].td] = [dcBins]bin{}
		}
		if sd.kind == sequential || sd.kind == acFirst || sd.kind == acRefine {
			st.ac[sd.s.comp[i].ta] = [acBins]bin{}
		}
	}
	sd.pred = [maxComponents]int32{}
	sd.dcCtx = [maxComponents]int{}
}

// arithDCDiff decodes the DC difference of a block of the scan's i-th
// component (F.1.4.1, Figures F.19 to F.24), updating its context. It
// returns false if the code is bad.
func (sd *scanDecoder) arithDCDiff(i int) (int32, bool) {
	ad := &sd.ad
	tbl := sd.s.comp[i].td
	st := &sd.d.stats.dc[tbl]
	ctx := sd.dcCtx[i]
	if ad.decode(&st[ctx]) == 0 {
		sd.dcCtx[i] = 0
		return 0, true
	}
	sign := ad.decode(&st[ctx+1])
	x := ctx + 2 + sign // SP or SN
	// The magnitude category: m is the top bit of |diff|-1, or 0.
	m := int32(0)
	if ad.decode(&st[x]) != 0 {
		m = 1
		for x = dcX1; ad.decode(&st[x]) != 0; x++ {
			if m <<= 1; m == 0x8000 {
				ad.bad = true
				return 0, false
			}
		}
	}
	// The context of the next difference (Table F.4): zero, small or
	// large, by the bounds L and U; positive or negative.
	c := &sd.d.cond
	switch {
	case m < 1<<c.dcL[tbl]>>1:
		sd.dcCtx[i] = 0
	case m > 1<<c.dcU[tbl]>>1:
		sd.dcCtx[i] = 12 + 4*sign
	default:
		sd.dcCtx[i] = 4 + 4*sign
	}
	return ad.value(st[:], x, m, sign), true
}

// value decodes the bits of a magnitude below its top bit m from the
// statistics bins st[x+binsToMs] (F.1.4.3.1, Figures F.21 and F.24) and
// returns the signed value: sign != 0 is negative. DC and AC code their
// magnitudes alike.
func (ad *arithDecoder) value(st []bin, x int, m int32, sign int) int32 {
	v := m
	for x += binsToMs; m > 1; {
		m >>= 1
		if ad.decode(&st[x]) != 0 {
			v |= m
		}
	}
	v++
	if sign != 0 {
		v = -v
	}
	return v
}

// arithAC decodes coefficients ss..se of a block, in zig-zag order, into
// coef, shifted left by al (F.1.4.2 and G.1.3.2: the first approximation
// of a progressive scan is coded as a sequential block's coefficients
// are). tbl is the AC conditioning table. It returns false if the code is
// bad; the coefficients decoded until then stay.
func (sd *scanDecoder) arithAC(coef *[blockSize]int16, ss, se, al, tbl int) bool {
	ad := &sd.ad
	st := &sd.d.stats.ac[tbl]
	kx := int(sd.d.cond.acK[tbl])
	for k := ss; k <= se; k++ {
		x := 3 * (k - 1)
		if ad.decode(&st[x]) != 0 {
			break // EOB
		}
		for ad.decode(&st[x+1]) == 0 {
			// A zero coefficient; the next one cannot be EOB.
			x += 3
			if k++; k > se {
				ad.bad = true
				return false
			}
		}
		sign := ad.decode(&sd.fixed)
		x += 2
		m := int32(0)
		if ad.decode(&st[x]) != 0 {
			m = 1
			if ad.decode(&st[x]) != 0 {
				m = 2
				x = acXHigh
				if k <= kx {
					x = acXLow
				}
				for ; ad.decode(&st[x]) != 0; x++ {
					if m <<= 1; m == 0x8000 {
						ad.bad = true
						return false
					}
				}
			}
		}
		coef[zigzag[k]] = int16(ad.value(st[:], x, m, sign) << al)
	}
	return true
}

// arithACRefine decodes a successive-approximation refinement of
// coefficients Ss..Se of a block (G.1.3.3, Figure G.10): for each
// coefficient already nonzero a correction bit, and for zero ones
// whether they become ±1<<Al, up to the end of the block, which is coded
// only past the last coefficient that was nonzero before.
func (sd *scanDecoder) arithACRefine(coef *[blockSize]int16) bool {
	ad := &sd.ad
	s := sd.s
	st := &sd.d.stats.ac[s.comp[0].ta]
	p1 := int16(1) << s.al
	m1 := int16(-1) << s.al
	eobx := s.se
	for eobx > 0 && coef[zigzag[eobx]] == 0 {
		eobx--
	}
	for k := s.ss; k <= s.se; k++ {
		x := 3 * (k - 1)
		if k > eobx && ad.decode(&st[x]) != 0 {
			break // EOB
		}
		for {
			z := zigzag[k]
			if coef[z] != 0 {
				if ad.decode(&st[x+2]) != 0 {
					if coef[z] < 0 {
						coef[z] += m1
					} else {
						coef[z] += p1
					}
				}
				break
			}
			if ad.decode(&st[x+1]) != 0 {
				if ad.decode(&sd.fixed) != 0 {
					coef[z] = m1
				} else {
					coef[z] = p1
				}
				break
			}
			x += 3
			if k++; k > s.se {
				ad.bad = true
				return false
			}
		}
	}
	return true
}
