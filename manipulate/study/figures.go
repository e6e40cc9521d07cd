package study

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/stimuli"
)

// panelRow is the height of a row of panels; every figure is
// figure.Width wide.
const panelRow = 3.1 * vg.Inch

// Notes of empty panels.
const (
	noChange = "intact F1 is 0: no relative change"
	noScore  = "no test score"
)

// figures writes Figs 3C, 4–5 and 6.
func (r *results) figures(dir string) error {
	if r.has(Lesion) {
		if err := r.fig6(filepath.Join(dir, "fig6")); err != nil {
			return err
		}
	}
	if r.has(Sweep) {
		for si, set := range r.Manifest.Sets {
			if err := r.fig4(si, filepath.Join(dir, "fig4_"+set.Name)); err != nil {
				return err
			}
		}
	}
	if r.has(Threshold) {
		if err := r.fig3c(filepath.Join(dir, "fig3c")); err != nil {
			return err
		}
	}
	return nil
}

func (r *results) layerNames() []string {
	n := make([]string, len(r.Manifest.Layers))
	for i, l := range r.Manifest.Layers {
		n[i] = l.Name
	}
	return n
}

// colour is the colour of category ei: its emotion's, or under a
// K-category design its class's (figure.Category).
func (r *results) colour(ei int) color.Color {
	if r.Manifest.Design != "" {
		return figure.Category(ei)
	}
	return emotionColour(r.Manifest.Emotions[ei])
}

// emotionColour is the colour of the named emotion (figure.Studied for a
// name stimuli does not know).
func emotionColour(name string) color.Color {
	c, err := stimuli.ParseCategory(name)
	if err != nil {
		return figure.Studied
	}
	return figure.Emotion(int(c))
}

// possible is the range an F1 change (%) from orig can take, F1 being in
// [0, 1]: from -100 to 100(1/orig - 1).
func possible(orig float64) (lo, hi float64) {
	if !(orig > 0) {
		return math.Inf(-1), math.Inf(1)
	}
	return -100, 100 * (1/orig - 1)
}

// comparison is the data of one compare panel: per layer, the selective
// set's % change of test F1, the random draws' changes, and whether the
// selective set beats every draw.
type comparison struct {
	title, ylabel string
	names         []string
	orig          float64 // intact test F1
	sel           []float64
	rnd           [][]float64
	extreme       []bool
	colour        color.Color // of the selective set
}

// compare plots a comparison: the selective set (in its emotion's
// colour) against the random draws' mean ± SD (gray, the bars clipped to
// the changes F1 allows), a triangle where the selective set beats every
// draw. legend says whether to give the legend (bottom left). A
// comparison without one finite value gives an empty panel (ok false).
func compare(d comparison, legend bool) (p *plot.Plot, ok bool, err error) {
	var s, m plotter.XYs
	var bars []figure.Bar
	var stars plotter.XYs
	for i := range d.sel {
		if !math.IsNaN(d.sel[i]) && !math.IsInf(d.sel[i], 0) {
			s = append(s, plotter.XY{X: float64(i), Y: d.sel[i]})
			if d.extreme[i] {
				stars = append(stars, plotter.XY{X: float64(i), Y: d.sel[i]})
			}
		}
		mu, sd := meanSD(d.rnd[i])
		if !math.IsNaN(mu) && !math.IsInf(mu, 0) {
			m = append(m, plotter.XY{X: float64(i), Y: mu})
			bars = append(bars, figure.Bar{X: float64(i), Low: mu - sd, High: mu + sd})
		}
	}
	if len(s) == 0 && len(m) == 0 {
		why := noScore
		if d.orig == 0 {
			why = noChange
		}
		return figure.Empty(d.title, why), false, nil
	}
	p = figure.New(d.title)
	p.Y.Label.Text = d.ylabel
	figure.Nominal(p, d.names, true)
	figure.Grid(p)
	if len(m) > 0 {
		lo, hi := possible(d.orig)
		p.Add(figure.NewYErrorBars(bars, lo, hi))
		l, pts, err := figure.Line(m, figure.Gray, true, true)
		if err != nil {
			return nil, false, err
		}
		p.Add(l, pts)
		if legend {
			p.Legend.Add("random (mean ± SD)", l, pts)
		}
	}
	if len(s) > 0 {
		l, pts, err := figure.Line(s, d.colour, false, true)
		if err != nil {
			return nil, false, err
		}
		p.Add(l, pts)
		if legend {
			p.Legend.Add("selective", l, pts)
		}
	}
	if len(stars) > 0 {
		sc, err := plotter.NewScatter(stars)
		if err != nil {
			return nil, false, err
		}
		sc.Shape = draw.PyramidGlyph{}
		sc.Color = figure.Ink
		sc.Radius = vg.Points(4)
		p.Add(sc)
		if legend {
			p.Legend.Add("beats every draw", sc)
		}
	}
	if legend {
		// The legend goes at the bottom left, under room made for it.
		n := float64(1 + min(len(s), 1) + min(len(stars), 1))
		if d := p.Y.Max - p.Y.Min; d > 0 {
			p.Y.Min -= 0.12 * n * d
		}
		p.Legend.Top, p.Legend.Left = false, true
		p.Legend.XOffs, p.Legend.YOffs = vg.Points(3), vg.Points(3)
	}
	return p, true, nil
}

// title names a panel, with the intact test F1.
func title(what, set, emotion string, orig float64) string {
	if orig == 0 {
		return fmt.Sprintf("%s: %s, %s", what, set, emotion)
	}
	return fmt.Sprintf("%s: %s, %s (F1 %.2f)", what, set, emotion, orig)
}

func meanSD(x []float64) (float64, float64) {
	var n, s, ss float64
	for _, v := range x {
		if !math.IsNaN(v) {
			n++
			s += v
		}
	}
	if n == 0 {
		return math.NaN(), 0
	}
	mu := s / n
	for _, v := range x {
		if !math.IsNaN(v) {
			ss += (v - mu) * (v - mu)
		}
	}
	return mu, math.Sqrt(ss / n)
}

// fig6 is the lesion figure: rows are sets, columns emotions; under a
// K-category design (up to eight classes and more) rows are the classes
// and columns the sets, so that panels keep their width.
func (r *results) fig6(base string) error {
	man := r.Manifest
	k := man.Design != ""
	rows := len(man.Sets)
	if k {
		rows = len(man.Emotions)
	}
	plots := make([][]*plot.Plot, rows)
	legend := true
	for si, set := range man.Sets {
		for ei, e := range man.Emotions {
			orig := r.Readouts[si][ei].Test.F1()
			les := r.Lesion[si][ei]
			d := comparison{title: title("lesion", set.Name, e, orig), ylabel: "F1 change (%)", names: r.layerNames(),
				orig: orig, sel: make([]float64, len(les)), rnd: make([][]float64, len(les)), extreme: make([]bool, len(les)),
				colour: r.colour(ei)}
			for li, l := range les {
				f := scores(l.Test)
				d.sel[li] = change(f[0], orig)
				for _, v := range f[1:] {
					d.rnd[li] = append(d.rnd[li], change(v, orig))
				}
				d.extreme[li] = l.Count == 0 && len(f) > 1
			}
			p, ok, err := compare(d, legend)
			if err != nil {
				return err
			}
			legend = legend && !ok
			if k {
				plots[ei] = append(plots[ei], p)
			} else {
				plots[si] = append(plots[si], p)
			}
		}
	}
	return figure.SaveTiles(plots, vg.Length(rows)*panelRow, base)
}

// fig4 is the attention figure of one set (the paper's Fig 4 for IAPS,
// Fig 5 for NAPS): per emotion, the change of test F1 at each layer's best
// α (left) and the selective set's test F1 against α per layer (right).
func (r *results) fig4(si int, base string) error {
	man := r.Manifest
	set := man.Sets[si]
	var plots [][]*plot.Plot
	legendL, legendR := true, true
	for ei, e := range man.Emotions {
		orig := r.Readouts[si][ei].Test.F1()
		swp := r.Sweep[si][ei]
		d := comparison{title: title("attention", set.Name, e, orig), ylabel: "F1 change at best α (%)", names: r.layerNames(),
			orig: orig, sel: make([]float64, len(swp)), rnd: make([][]float64, len(swp)), extreme: make([]bool, len(swp)),
			colour: r.colour(ei)}
		for li, s := range swp {
			d.sel[li] = change(s.Curves[0].BestTest().F1(), orig)
			for _, cv := range s.Curves[1:] {
				d.rnd[li] = append(d.rnd[li], change(cv.BestTest().F1(), orig))
			}
			d.extreme[li] = s.Count == 0 && len(s.Curves) > 1
		}
		left, ok, err := compare(d, legendL)
		if err != nil {
			return err
		}
		legendL = legendL && !ok
		right, ok, err := alphaPanel(fmt.Sprintf("selective neurons, %s", e), swp, legendR)
		if err != nil {
			return err
		}
		legendR = legendR && !ok
		plots = append(plots, []*plot.Plot{left, right})
	}
	return figure.SaveTiles(plots, vg.Length(len(plots))*panelRow, base)
}

// alphaPanel plots the selective set's test F1 against α, one line per
// layer coloured by depth; the legend (when asked) names every layer, or
// the first and last of more than five. Without a test score it is
// empty (ok false).
func alphaPanel(title string, swp []*manipulate.SweepResult, legend bool) (p *plot.Plot, ok bool, err error) {
	type line struct {
		xy    plotter.XYs
		layer string
	}
	var lines []line
	for _, s := range swp {
		cv := s.Curves[0]
		var xy plotter.XYs
		for j, a := range cv.Alphas {
			if cv.Test[j].N() > 0 {
				xy = append(xy, plotter.XY{X: a, Y: cv.Test[j].F1()})
			}
		}
		lines = append(lines, line{xy, s.Layer})
	}
	if !slices.ContainsFunc(lines, func(l line) bool { return len(l.xy) > 0 }) {
		return figure.Empty(title, noScore), false, nil
	}
	p = figure.New(title)
	p.X.Label.Text = "α"
	p.Y.Label.Text = "test F1"
	figure.Grid(p)
	many := len(lines) > 5
	for li, l := range lines {
		if len(l.xy) == 0 {
			continue
		}
		pl, _, err := figure.Line(l.xy, figure.Depth(li, len(lines)), false, false)
		if err != nil {
			return nil, false, err
		}
		if many {
			pl.Width = figure.ThinWidth
		}
		p.Add(pl)
		if legend && (!many || li == 0 || li == len(lines)-1) {
			p.Legend.Add(l.layer, pl)
		}
	}
	p.Y.Min, p.Y.Max = 0, 1
	if legend {
		p.Legend.Top = false
		p.Legend.YOffs = vg.Points(3)
	}
	return p, true, nil
}

// fig3c is the threshold search: per set and emotion searched, the
// change of test F1 when enhancing the channels left after removing the
// lowest x% by SI, per layer (coloured by depth) and averaged over layers
// (ink). Rows are the sets searched, columns the emotions searched in
// any set; a cell searched in no set of its column is left blank.
func (r *results) fig3c(base string) error {
	man := r.Manifest
	searched := func(si, ei int) bool {
		return slices.ContainsFunc(r.Threshold[si][ei], func(t *manipulate.ThresholdResult) bool { return t != nil })
	}
	var rows, cols []int
	for si := range man.Sets {
		for ei := range man.Emotions {
			if searched(si, ei) {
				if !slices.Contains(rows, si) {
					rows = append(rows, si)
				}
				if !slices.Contains(cols, ei) {
					cols = append(cols, ei)
				}
			}
		}
	}
	if len(rows) == 0 {
		return nil
	}
	slices.Sort(cols)
	legend := true
	plots := make([][]*plot.Plot, len(rows))
	for i, si := range rows {
		plots[i] = make([]*plot.Plot, len(cols))
		for j, ei := range cols {
			if !searched(si, ei) {
				continue // outside the threshold search's scope
			}
			p, ok, err := r.thresholdPanel(si, ei, legend)
			if err != nil {
				return err
			}
			legend = legend && !ok
			plots[i][j] = p
		}
	}
	return figure.SaveTiles(plots, vg.Length(len(rows))*panelRow, base)
}

// thresholdPanel is one panel of fig3c; ok is false for an empty one.
func (r *results) thresholdPanel(si, ei int, legend bool) (p *plot.Plot, ok bool, err error) {
	set, e := r.Manifest.Sets[si].Name, r.Manifest.Emotions[ei]
	orig := r.Readouts[si][ei].Test.F1()
	name := title("threshold", set, e, orig)
	thr := r.Threshold[si][ei]
	var removed []float64
	for _, t := range thr {
		if t != nil {
			removed = t.Removed
			break
		}
	}
	sum, cnt := make([]float64, len(removed)), make([]int, len(removed))
	type line struct {
		xy    plotter.XYs
		li    int
		layer string
	}
	var lines []line
	for li, t := range thr {
		if t == nil {
			continue // outside the threshold search's scope
		}
		var xy plotter.XYs
		for i, x := range t.Removed {
			c := change(t.Curves[i].BestTest().F1(), orig)
			if math.IsNaN(c) || math.IsInf(c, 0) {
				continue
			}
			xy = append(xy, plotter.XY{X: 100 * x, Y: c})
			if i < len(sum) {
				sum[i] += c
				cnt[i]++
			}
		}
		if len(xy) > 0 {
			lines = append(lines, line{xy, li, t.Layer})
		}
	}
	if len(lines) == 0 {
		why := noScore
		if orig == 0 {
			why = noChange
		}
		return figure.Empty(name, why), false, nil
	}
	p = figure.New(name)
	p.X.Label.Text = "lowest SI removed (%)"
	p.Y.Label.Text = "F1 change at best α (%)"
	figure.Grid(p)
	for k, l := range lines {
		pl, _, err := figure.Line(l.xy, figure.Depth(l.li, len(thr)), false, false)
		if err != nil {
			return nil, false, err
		}
		pl.Width = figure.ThinWidth
		p.Add(pl)
		if legend && (k == 0 || k == len(lines)-1) {
			p.Legend.Add(l.layer, pl)
		}
	}
	var avg plotter.XYs
	for i, x := range removed {
		if cnt[i] > 0 {
			avg = append(avg, plotter.XY{X: 100 * x, Y: sum[i] / float64(cnt[i])})
		}
	}
	if len(avg) > 0 {
		l, pts, err := figure.Line(avg, figure.Ink, false, true)
		if err != nil {
			return nil, false, err
		}
		p.Add(l, pts)
		if legend {
			p.Legend.Add("mean over layers", l, pts)
		}
	}
	if legend {
		figure.Headroom(p, 0.1+0.12*float64(min(len(lines), 2)+min(len(avg), 1)))
	}
	return p, true, nil
}
