package manipulate

import (
	"fmt"
	"math"
	"slices"
)

// Tail is the alternative hypothesis of a one-sided test: which direction
// of the selective neurons' effect, against the random neurons', counts
// as extreme.
type Tail int8

const (
	// Less: the selective value is smaller (a lesion hurts F1 more).
	Less Tail = -1
	// TwoSided: either direction.
	TwoSided Tail = 0
	// Greater: the selective value is larger (attention helps F1 more).
	Greater Tail = 1
)

func (t Tail) String() string {
	switch t {
	case Less:
		return "less"
	case Greater:
		return "greater"
	case TwoSided:
		return "two-sided"
	}
	return fmt.Sprintf("Tail(%d)", int8(t))
}

// RankP is the empirical test of one selective value against R values
// from random draws: count is the number of draws at least as extreme as
// the selective value (random ≤ selective for Less, ≥ for Greater, ties
// counting against the selective set) and p = (1 + count)/(R + 1), the
// rank-based p-value of a Monte Carlo test (Davison & Hinkley 1997,
// eq. 4.11). With R = 10 the smallest possible p is 1/11 ≈ 0.091. For
// TwoSided, p is twice the smaller one-sided p, capped at 1, and count is
// that side's. NaN random values count as extreme.
func RankP(selective float64, random []float64, tail Tail) (count int, p float64) {
	side := func(t Tail) int {
		c := 0
		for _, r := range random {
			if !(t == Less && r > selective || t == Greater && r < selective) {
				c++
			}
		}
		return c
	}
	r := float64(len(random) + 1)
	switch tail {
	case Less, Greater:
		c := side(tail)
		return c, float64(1+c) / r
	}
	lo, hi := side(Less), side(Greater)
	c := min(lo, hi)
	return c, min(1, 2*float64(1+c)/r)
}

// SignedRank is the result of Wilcoxon's signed-rank test.
type SignedRank struct {
	N     int     // pairs with a non-zero difference (the test's n)
	Zeros int     // pairs with a zero difference, discarded (Wilcoxon's method)
	W     float64 // W+, the sum of the ranks of the positive differences
	P     float64 // p-value for the Tail asked for
	Exact bool    // P is from the exact null distribution
	Z     float64 // the normal approximation's z, NaN when Exact
}

// exactMax is the largest n for which Wilcoxon computes the exact null
// distribution; its probabilities are multiples of 2^−n, exact in float64
// up to n = 53. Tests lower it to check the approximation.
var exactMax = 50

// Wilcoxon tests whether x − y is centred on 0, pair by pair, with
// Wilcoxon's signed-rank test: WilcoxonDiff of the differences.
// It panics if the lengths differ.
func Wilcoxon(x, y []float64, tail Tail) SignedRank {
	if len(x) != len(y) {
		panic(fmt.Sprintf("manipulate: Wilcoxon of %d and %d values", len(x), len(y)))
	}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	return WilcoxonDiff(d, tail)
}

// WilcoxonDiff is Wilcoxon's signed-rank test of whether the differences
// d are centred on 0. Zero differences are discarded (Wilcoxon's method)
// and NaNs left out; the absolute differences are ranked with ties
// sharing their mean rank. For n ≤ 50 the p-value is exact: the
// distribution of W+ under independent random signs, conditional on the
// tie pattern (a dynamic programme over the doubled ranks, which are
// integers). Above that it uses the normal approximation with the
// tie-corrected variance n(n+1)(2n+1)/24 − Σ(t³−t)/48 and a continuity
// correction of 1/2. Less means the differences tend to be negative.
func WilcoxonDiff(diff []float64, tail Tail) SignedRank {
	var d []float64
	res := SignedRank{Z: math.NaN()}
	for _, v := range diff {
		switch {
		case math.IsNaN(v):
		case v == 0:
			res.Zeros++
		default:
			d = append(d, v)
		}
	}
	n := len(d)
	res.N = n
	if n == 0 {
		res.P, res.Exact = 1, true
		return res
	}
	// Doubled mean ranks of |d|.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmpFloat(math.Abs(d[a]), math.Abs(d[b]))
	})
	rank2 := make([]int, n)
	var ties float64 // Σ(t³−t)
	for i := 0; i < n; {
		j := i
		for j+1 < n && math.Abs(d[order[j+1]]) == math.Abs(d[order[i]]) {
			j++
		}
		r2 := i + j + 2 // 2 × mean of ranks i+1..j+1
		for k := i; k <= j; k++ {
			rank2[order[k]] = r2
		}
		t := float64(j - i + 1)
		ties += t*t*t - t
		i = j + 1
	}
	w2 := 0
	for i, v := range d {
		if v > 0 {
			w2 += rank2[i]
		}
	}
	res.W = float64(w2) / 2
	if n <= exactMax {
		res.Exact = true
		dist := signedRankNull(rank2)
		var lo, hi float64 // P(W ≤ w), P(W ≥ w)
		for s, p := range dist {
			if s <= w2 {
				lo += p
			}
			if s >= w2 {
				hi += p
			}
		}
		res.P = pick(lo, hi, tail)
		return res
	}
	fn := float64(n)
	mean := fn * (fn + 1) / 4
	sd := math.Sqrt(fn*(fn+1)*(2*fn+1)/24 - ties/48)
	zlo := (res.W - mean + 0.5) / sd // for P(W ≤ w)
	zhi := (res.W - mean - 0.5) / sd // for P(W ≥ w)
	res.Z = (res.W - mean) / sd
	res.P = pick(normCDF(zlo), 1-normCDF(zhi), tail)
	return res
}

// signedRankNull returns P(Σ signs·rank2 over positive signs = s) for
// s = 0..Σrank2, each sign positive with probability 1/2 independently.
func signedRankNull(rank2 []int) []float64 {
	total := 0
	for _, r := range rank2 {
		total += r
	}
	dist := make([]float64, total+1)
	dist[0] = 1
	top := 0
	for _, r := range rank2 {
		top += r
		for s := top; s >= 0; s-- {
			v := dist[s] / 2
			if s >= r {
				v += dist[s-r] / 2
			}
			dist[s] = v
		}
	}
	return dist
}

func pick(lo, hi float64, tail Tail) float64 {
	switch tail {
	case Less:
		return min(1, lo)
	case Greater:
		return min(1, hi)
	}
	return min(1, 2*min(lo, hi))
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
