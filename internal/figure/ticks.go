package figure

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// Ticks is the tick marker (a plot.Ticker) of every numeric axis: about
// N+1 (N 0 means 4) labelled ticks, a step of 1, 2, 5 (or, when clearly
// closer to N+1 labels, 2.5) times a power of ten apart, all labelled in
// one format ("-100", "-50", "0"; or
// "0.25", "0.50"; exponents beyond 1e7 or below 1e-4); with Integer, the
// step is a whole number of at least 1 (count axes).
//
// It never loops on its input: a range that is NaN, infinite, empty
// (lo == hi) or too fine for float64 to step through gets at most its
// end points, and the loop runs at most maxTicks times.
type Ticks struct {
	N       int
	Integer bool
}

const maxTicks = 50

// Ticks implements plot.Ticker.
func (t Ticks) Ticks(lo, hi float64) []plot.Tick {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo == hi {
		if t.Integer && lo != math.Trunc(lo) {
			return nil
		}
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', -1, 64)}}
	}
	n := t.N
	if n <= 0 {
		n = 4
	}
	span := hi - lo
	if math.IsInf(span, 0) {
		return ends(lo, hi)
	}
	exp0 := math.Floor(math.Log10(span / float64(n)))
	if math.IsInf(exp0, 0) || math.IsNaN(exp0) {
		return ends(lo, hi)
	}
	// Of the steps m·10^e near span/n, take the one giving closest to
	// n+1 labels, 2.5 only when clearly better (it needs a decimal more).
	var step, mant, exp, first, count float64
	best := math.Inf(1)
	for e := exp0 - 1; e <= exp0+1; e++ {
		for _, m := range []float64{1, 2, 2.5, 5} {
			st := m * math.Pow(10, e)
			if t.Integer && (st < 1 || st != math.Trunc(st)) {
				continue
			}
			f := math.Ceil(lo/st - 1e-9)
			c := math.Floor(hi/st+1e-9) - f + 1
			score := math.Abs(c - float64(n+1))
			if m == 2.5 {
				score += 1.1
			}
			if c < 2 {
				score += 10
			}
			if score < best {
				best, step, mant, exp, first, count = score, st, m, e, f, c
			}
		}
	}
	if step == 0 { // Integer, and every candidate below 1
		step, mant, exp = 1, 1, 0
		first = math.Ceil(lo - 1e-9)
		count = math.Floor(hi+1e-9) - first + 1
	}
	if !(count >= 1 && count <= maxTicks) || first+1 == first {
		if t.Integer {
			return nil
		}
		return ends(lo, hi)
	}
	decimals := 0
	if mant == 2.5 {
		decimals = 1
	}
	decimals -= int(exp)
	fc, prec := byte('f'), max(0, decimals)
	if top := math.Max(math.Abs(lo), math.Abs(hi)); top >= 1e7 || (step < 1e-4) {
		fc = 'e'
		prec = max(0, int(math.Floor(math.Log10(top)))+decimals)
		prec = min(prec, 15)
	}
	ticks := make([]plot.Tick, 0, int(count))
	for i := range int(count) {
		v := (first + float64(i)) * step
		if math.Abs(v) < step*1e-9 {
			v = 0 // no "-0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, fc, prec, 64)})
	}
	return ticks
}

// ends labels lo and hi alone, in one format.
func ends(lo, hi float64) []plot.Tick {
	return []plot.Tick{
		{Value: lo, Label: strconv.FormatFloat(lo, 'e', 2, 64)},
		{Value: hi, Label: strconv.FormatFloat(hi, 'e', 2, 64)},
	}
}
