package manipulate

import (
	"math"
	"testing"

	"github.com/emosel/emosel/tensor"
)

func TestRankP(t *testing.T) {
	random := []float64{0.5, 0.6, 0.4, 0.6, 0.7}
	for _, c := range []struct {
		sel   float64
		tail  Tail
		count int
		p     float64
	}{
		{0.3, Less, 0, 1.0 / 6},    // below every draw
		{0.4, Less, 1, 2.0 / 6},    // a tie counts against
		{0.65, Less, 4, 5.0 / 6},   //
		{0.8, Greater, 0, 1.0 / 6}, //
		{0.6, Greater, 3, 4.0 / 6}, // ties with 0.6, 0.6 and 0.7 above
		{0.3, TwoSided, 0, 2.0 / 6},
		{0.55, TwoSided, 2, 1},
	} {
		n, p := RankP(c.sel, random, c.tail)
		if n != c.count || math.Abs(p-c.p) > 1e-15 {
			t.Errorf("RankP(%v, %v): %d, %v; want %d, %v", c.sel, c.tail, n, p, c.count, c.p)
		}
	}
	if n, p := RankP(0.5, nil, Less); n != 0 || p != 1 {
		t.Errorf("no draws: %d %v", n, p)
	}
}

// bruteWilcoxon enumerates all 2^n sign patterns of the ranks of |d|.
func bruteWilcoxon(d []float64, tail Tail) float64 {
	var nz []float64
	for _, v := range d {
		if v != 0 {
			nz = append(nz, v)
		}
	}
	n := len(nz)
	rank := make([]float64, n)
	for i, v := range nz {
		below, equal := 0, 0
		for _, u := range nz {
			switch {
			case math.Abs(u) < math.Abs(v):
				below++
			case math.Abs(u) == math.Abs(v):
				equal++
			}
		}
		rank[i] = float64(below) + float64(equal+1)/2
	}
	var w float64
	for i, v := range nz {
		if v > 0 {
			w += rank[i]
		}
	}
	lo, hi := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		var s float64
		for i := range n {
			if mask>>i&1 == 1 {
				s += rank[i]
			}
		}
		if s <= w {
			lo++
		}
		if s >= w {
			hi++
		}
	}
	total := float64(int(1) << n)
	return pick(float64(lo)/total, float64(hi)/total, tail)
}

func TestWilcoxonHand(t *testing.T) {
	cases := []struct {
		d    []float64
		tail Tail
		w, p float64
	}{
		// n = 3, all positive: W+ = 6, P(W+ ≥ 6) = 1/8.
		{[]float64{1, 2, 3}, Greater, 6, 1.0 / 8},
		// n = 5, all negative: W+ = 0, P(W+ ≤ 0) = 1/32.
		{[]float64{-1, -2, -3, -4, -5}, Less, 0, 1.0 / 32},
		// n = 4: W+ = 2+3+4 = 9; sums ≥ 9 of subsets of {1,2,3,4}: {2,3,4}, {1,2,3,4}.
		{[]float64{-1, 2, 3, 4}, Greater, 9, 2.0 / 16},
		{[]float64{-1, 2, 3, 4}, TwoSided, 9, 4.0 / 16},
		// Zeros are dropped: as {1, 2, 3}.
		{[]float64{0, 1, 0, 2, 3}, Greater, 6, 1.0 / 8},
		// Ties: |d| = 1, 1, 2 get ranks 1.5, 1.5, 3. W+ = 1.5 + 3 = 4.5;
		// patterns with sum ≥ 4.5: {1.5,3}×2, {1.5,1.5,3}: 3 of 8.
		{[]float64{1, -1, 2}, Greater, 4.5, 3.0 / 8},
	}
	for _, c := range cases {
		r := WilcoxonDiff(c.d, c.tail)
		if r.W != c.w || math.Abs(r.P-c.p) > 1e-15 || !r.Exact {
			t.Errorf("%v %v: W+ %v p %v exact %v; want %v, %v", c.d, c.tail, r.W, r.P, r.Exact, c.w, c.p)
		}
	}
	if r := WilcoxonDiff([]float64{0, 0, math.NaN()}, Less); r.N != 0 || r.Zeros != 2 || r.P != 1 {
		t.Errorf("all zero: %+v", r)
	}
	if r := Wilcoxon([]float64{1, 2}, []float64{1, 3}, Less); r.N != 1 || r.Zeros != 1 || r.P != 0.5 {
		t.Errorf("pairs: %+v", r)
	}
}

// TestWilcoxonExactMatchesEnumeration checks the dynamic programme
// against the enumeration of every sign pattern, with and without ties.
func TestWilcoxonExactMatchesEnumeration(t *testing.T) {
	rng := tensor.NewRNG(8)
	for trial := range 60 {
		n := 1 + trial%13
		d := make([]float64, n)
		for i := range d {
			d[i] = float64(rng.IntN(9) - 4) // many ties and zeros
			if trial%3 == 0 {
				d[i] = rng.Float64() - 0.4
			}
		}
		for _, tail := range []Tail{Less, Greater, TwoSided} {
			got, want := WilcoxonDiff(d, tail).P, bruteWilcoxon(d, tail)
			if math.Abs(got-want) > 1e-14 {
				t.Errorf("%v %v: p %v, enumeration %v", d, tail, got, want)
			}
		}
	}
}

// TestWilcoxonNormal checks the normal approximation against the exact
// distribution where both apply.
func TestWilcoxonNormal(t *testing.T) {
	rng := tensor.NewRNG(9)
	d := make([]float64, 40)
	for i := range d {
		d[i] = rng.Float64() - 0.35
	}
	exact := WilcoxonDiff(d, Less)
	defer func(v int) { exactMax = v }(exactMax)
	exactMax = 10
	approx := WilcoxonDiff(d, Less)
	if approx.Exact || math.IsNaN(approx.Z) || approx.W != exact.W {
		t.Fatalf("approximation not used: %+v", approx)
	}
	if math.Abs(approx.P-exact.P) > 0.01 || math.Abs(approx.P-exact.P) > 0.2*exact.P {
		t.Errorf("normal p %v, exact %v", approx.P, exact.P)
	}
	if Less.String() != "less" || Greater.String() != "greater" || TwoSided.String() != "two-sided" {
		t.Error("Tail.String")
	}
}
