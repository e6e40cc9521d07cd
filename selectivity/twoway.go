package selectivity

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mathext"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// TwoWayEffect is one term of a two-way ANOVA: its Type II sum of squares,
// degrees of freedom, F statistic against the residual mean square, p-value
// (upper tail of F(DF, DFE)) and partial η² = SS/(SS+SSE). A term the
// design cannot estimate (DF 0) or a channel without a residual (SSE 0,
// non-finite responses) has F, P and Eta2 NaN.
type TwoWayEffect struct {
	SS   float64
	DF   int
	F, P float64
	Eta2 float64
}

// TwoWay is the two-way ANOVA of one channel: the main effect of the
// category (emotion), the main effect of the second factor, their
// interaction, and the residual.
type TwoWay struct {
	Category, Factor, Interaction TwoWayEffect
	SSE                           float64
	DFE                           int
}

// TwoWayTable is the two-way ANOVA of every channel of one layer.
type TwoWayTable struct {
	Categories []stimuli.Category // levels of the category present, ascending
	Levels     []string           // levels of the second factor present, sorted
	Cells      [][]int            // images per cell, [category][level]
	N          int                // images used (category known, level given)
	Channels   []TwoWay           // one per column of the responses
}

// TwoWayANOVA runs, for each channel (column) of resp [N, C], a two-way
// ANOVA of its responses with the image's category (labels) and a second
// factor (factor, one level name per image, e.g. "object", "scene",
// "people") as fixed effects, with their interaction. Images labelled
// stimuli.Unknown or with an empty level are left out. The levels of both
// factors are those present in the data, so any number of categories
// works.
//
// The sums of squares are Type II (the main effects of an unbalanced
// design each adjusted for the other, not for the interaction), from
// nested least-squares fits: with RSS(M) the residual sum of squares of
// model M,
//
//	SS(category)    = RSS(factor) − RSS(category + factor)
//	SS(factor)      = RSS(category) − RSS(category + factor)
//	SS(interaction) = RSS(category + factor) − RSS(category × factor)
//	SSE             = RSS(category × factor)  (the within-cell SS)
//
// with degrees of freedom the differences of the models' ranks: for a
// connected design with a categories, b levels and g non-empty cells,
// a−1, b−1, g−a−b+1 and N−g. Empty cells are allowed (the ranks then
// count only what the design can estimate). This is what R's car::Anova
// (type 2) and statsmodels' anova_lm(typ=2) compute.
//
// It returns an error wrapping ErrLabels when fewer than two categories
// or two levels remain, or no degree of freedom is left for the residual.
// A channel with a NaN or infinite response, or whose responses are
// constant within every cell, gets NaN statistics. It panics if resp is
// not [N, C] or a label slice's length differs from N.
func TwoWayANOVA(resp *tensor.Tensor, labels []stimuli.Category, factor []string) (*TwoWayTable, error) {
	n, c := checkInput(resp, labels)
	if len(factor) != n {
		panic(fmt.Sprintf("selectivity: %d factor levels for %d response rows", len(factor), n))
	}
	var rows []int
	catSet, levSet := map[stimuli.Category]bool{}, map[string]bool{}
	for i := range n {
		if labels[i] == stimuli.Unknown || factor[i] == "" {
			continue
		}
		rows = append(rows, i)
		catSet[labels[i]] = true
		levSet[factor[i]] = true
	}
	t := &TwoWayTable{N: len(rows)}
	for k := range catSet {
		t.Categories = append(t.Categories, k)
	}
	for l := range levSet {
		t.Levels = append(t.Levels, l)
	}
	slices.Sort(t.Categories)
	slices.Sort(t.Levels)
	na, nb := len(t.Categories), len(t.Levels)
	if na < 2 || nb < 2 {
		return nil, fmt.Errorf("%w: a two-way ANOVA needs two categories and two levels of the second factor, have %d and %d among %d images", ErrLabels, na, nb, len(rows))
	}
	ai, bi := make([]int, len(rows)), make([]int, len(rows))
	t.Cells = make([][]int, na)
	for k := range t.Cells {
		t.Cells[k] = make([]int, nb)
	}
	cell := make([]int, len(rows))
	for j, i := range rows {
		ai[j], _ = slices.BinarySearch(t.Categories, labels[i])
		bi[j], _ = slices.BinarySearch(t.Levels, factor[i])
		t.Cells[ai[j]][bi[j]]++
		cell[j] = ai[j]*nb + bi[j]
	}
	g := 0
	for _, row := range t.Cells {
		for _, m := range row {
			if m > 0 {
				g++
			}
		}
	}
	dfe := len(rows) - g
	if dfe < 1 {
		return nil, fmt.Errorf("%w: a two-way ANOVA of %d images in %d non-empty cells leaves no residual degree of freedom", ErrLabels, len(rows), g)
	}
	q := additiveBasis(ai, bi, na, nb)
	r := len(q)
	// Ranks of the four models: category alone a, factor alone b, the
	// additive model r, the cell-means model g.
	dfA, dfB, dfAB := r-nb, r-na, g-r

	data := resp.Data()
	y := make([]float64, len(rows))
	t.Channels = make([]TwoWay, c)
	for ch := range c {
		finite := true
		mean := 0.0
		for j, i := range rows {
			v := float64(data[i*c+ch])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				finite = false
			}
			y[j] = v
			mean += v
		}
		tw := &t.Channels[ch]
		tw.DFE = dfe
		if !finite {
			nan := math.NaN()
			tw.SSE = nan
			tw.Category = TwoWayEffect{SS: nan, DF: dfA, F: nan, P: nan, Eta2: nan}
			tw.Factor = TwoWayEffect{SS: nan, DF: dfB, F: nan, P: nan, Eta2: nan}
			tw.Interaction = TwoWayEffect{SS: nan, DF: dfAB, F: nan, P: nan, Eta2: nan}
			continue
		}
		mean /= float64(len(y))
		for j := range y {
			y[j] -= mean
		}
		rssA := groupRSS(y, ai, na)
		rssB := groupRSS(y, bi, nb)
		rssCell := groupRSS(y, cell, na*nb)
		rssAdd := projectedRSS(y, q)
		tw.SSE = rssCell
		tw.Category = twoWayEffect(rssB-rssAdd, dfA, rssCell, dfe)
		tw.Factor = twoWayEffect(rssA-rssAdd, dfB, rssCell, dfe)
		tw.Interaction = twoWayEffect(rssAdd-rssCell, dfAB, rssCell, dfe)
	}
	return t, nil
}

// twoWayEffect fills an TwoWayEffect from its sum of squares (rounding below 0 is
// clamped) and the residual.
func twoWayEffect(ss float64, df int, sse float64, dfe int) TwoWayEffect {
	ss = max(ss, 0)
	e := TwoWayEffect{SS: ss, DF: df, F: math.NaN(), P: math.NaN(), Eta2: math.NaN()}
	if df == 0 || !(sse > 0) {
		return e
	}
	e.F = (ss / float64(df)) / (sse / float64(dfe))
	e.P = twoWayTail(e.F, float64(df), float64(dfe))
	e.Eta2 = ss / (ss + sse)
	return e
}

// twoWayTail returns the upper tail P(X > f) of the F distribution with d1 and
// d2 degrees of freedom (scipy.stats.f.sf): I_x(d2/2, d1/2) with
// x = d2/(d2 + d1·f), the regularised incomplete beta function. It is 1
// for f ≤ 0 and NaN for a NaN f or non-positive degrees of freedom.
func twoWayTail(f, d1, d2 float64) float64 {
	switch {
	case math.IsNaN(f) || !(d1 > 0) || !(d2 > 0):
		return math.NaN()
	case f <= 0:
		return 1
	case math.IsInf(f, 1):
		return 0
	}
	// For large f, x is near 0 and this form keeps its relative accuracy.
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}

// groupRSS is the sum of squares of y about its group means (group[j] in
// [0, k)), summed in two passes.
func groupRSS(y []float64, group []int, k int) float64 {
	sum := make([]float64, k)
	cnt := make([]int, k)
	for j, v := range y {
		sum[group[j]] += v
		cnt[group[j]]++
	}
	for i := range sum {
		if cnt[i] > 0 {
			sum[i] /= float64(cnt[i])
		}
	}
	rss := 0.0
	for j, v := range y {
		d := v - sum[group[j]]
		rss += d * d
	}
	return rss
}

// projectedRSS is ||y − Q Qᵀ y||² for orthonormal columns q, computed from
// the residual itself.
func projectedRSS(y []float64, q [][]float64) float64 {
	res := slices.Clone(y)
	for pass := 0; pass < 2; pass++ { // a second pass removes what rounding left
		for _, col := range q {
			d := twDot(col, res)
			for j := range res {
				res[j] -= d * col[j]
			}
		}
	}
	return twDot(res, res)
}

func twDot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// additiveBasis returns an orthonormal basis of the column space of the
// additive model's design (intercept, a−1 category and b−1 level
// indicators), by Gram–Schmidt with re-orthogonalisation; a column left
// with less than 1e-10 of its norm is dependent and dropped, so len is the
// model's rank.
func additiveBasis(ai, bi []int, na, nb int) [][]float64 {
	n := len(ai)
	var cols [][]float64
	one := make([]float64, n)
	for j := range one {
		one[j] = 1
	}
	cols = append(cols, one)
	for k := 1; k < na; k++ {
		v := make([]float64, n)
		for j, a := range ai {
			if a == k {
				v[j] = 1
			}
		}
		cols = append(cols, v)
	}
	for k := 1; k < nb; k++ {
		v := make([]float64, n)
		for j, b := range bi {
			if b == k {
				v[j] = 1
			}
		}
		cols = append(cols, v)
	}
	var q [][]float64
	for _, v := range cols {
		norm0 := math.Sqrt(twDot(v, v))
		for pass := 0; pass < 2; pass++ {
			for _, u := range q {
				d := twDot(u, v)
				for j := range v {
					v[j] -= d * u[j]
				}
			}
		}
		norm := math.Sqrt(twDot(v, v))
		if norm <= 1e-10*norm0 {
			continue
		}
		for j := range v {
			v[j] /= norm
		}
		q = append(q, v)
	}
	return q
}

// Q returns the Benjamini–Hochberg q-values (BH) of the category's, the
// factor's and the interaction's p-values across the table's channels.
func (t *TwoWayTable) Q() (category, factor, interaction []float64) {
	pa := make([]float64, len(t.Channels))
	pb := make([]float64, len(t.Channels))
	pab := make([]float64, len(t.Channels))
	for i, c := range t.Channels {
		pa[i], pb[i], pab[i] = c.Category.P, c.Factor.P, c.Interaction.P
	}
	return BH(pa), BH(pb), BH(pab)
}

// TwoWayCount summarises a layer's two-way ANOVAs at one false discovery
// rate: the channels whose q-value is at most the level for each term.
type TwoWayCount struct {
	Channels    int // channels of the layer
	Valid       int // channels with finite statistics
	Category    int // main effect of the category: it survives the factor
	Factor      int // main effect of the second factor
	Interaction int // category × factor
	// CategoryOnly counts channels with a category effect and neither a
	// factor effect nor an interaction; Stronger, channels with a category
	// effect whose partial η² exceeds the factor's (or the factor's is
	// undefined).
	CategoryOnly, Stronger int
}

// Count returns the table's TwoWayCount at FDR level (e.g. 0.05), q-values
// from Q over the layer's channels.
func (t *TwoWayTable) Count(level float64) TwoWayCount {
	qa, qb, qab := t.Q()
	out := TwoWayCount{Channels: len(t.Channels)}
	for i, c := range t.Channels {
		if !math.IsNaN(c.SSE) && c.SSE > 0 {
			out.Valid++
		}
		a, b, ab := qa[i] <= level, qb[i] <= level, qab[i] <= level
		if a {
			out.Category++
			if !b && !ab {
				out.CategoryOnly++
			}
			if !(c.Factor.Eta2 >= c.Category.Eta2) {
				out.Stronger++
			}
		}
		if b {
			out.Factor++
		}
		if ab {
			out.Interaction++
		}
	}
	return out
}
