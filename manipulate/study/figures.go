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
)

var (
	red  = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	gray = color.RGBA{R: 110, G: 110, B: 110, A: 255}
)

// depth returns a colour from blue (first layer) to red (last).
func depth(i, n int) color.Color {
	t := 0.0
	if n > 1 {
		t = float64(i) / float64(n-1)
	}
	return color.RGBA{R: uint8(30 + 200*t), G: 60, B: uint8(230 - 200*t), A: 255}
}

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

// compare plots, per layer, the selective set's % change of test F1 (red)
// against the random draws' mean ± SD (gray); layers where the selective
// set beats every draw get a star.
// Only the plot with legend set shows a legend, at its bottom left.
func compare(title, ylabel string, names []string, sel []float64, rnd [][]float64, extreme []bool, legend bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	var s, m plotter.XYs
	var errs plotter.YErrors
	var stars plotter.XYs
	for i := range sel {
		if !math.IsNaN(sel[i]) {
			s = append(s, plotter.XY{X: float64(i), Y: sel[i]})
		}
		mu, sd := meanSD(rnd[i])
		if !math.IsNaN(mu) {
			m = append(m, plotter.XY{X: float64(i), Y: mu})
			errs = append(errs, struct{ Low, High float64 }{sd, sd})
		}
		if extreme[i] && !math.IsNaN(sel[i]) {
			stars = append(stars, plotter.XY{X: float64(i), Y: sel[i]})
		}
	}
	if len(m) > 0 {
		l, pts, err := plotter.NewLinePoints(m)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = gray, gray
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{m, errs})
		if err != nil {
			return nil, err
		}
		eb.Color = gray
		p.Add(l, pts, eb)
		p.Legend.Add("random (mean ± SD)", l, pts)
	}
	if len(s) > 0 {
		l, pts, err := plotter.NewLinePoints(s)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = red, red
		l.Width = vg.Points(1.5)
		p.Add(l, pts)
		p.Legend.Add("selective", l, pts)
	}
	if len(stars) > 0 {
		sc, err := plotter.NewScatter(stars)
		if err != nil {
			return nil, err
		}
		sc.Shape = draw.PyramidGlyph{}
		sc.Color = color.Black
		sc.Radius = vg.Points(4)
		p.Add(sc)
		p.Legend.Add("beats every draw", sc)
	}
	p.Add(plotter.NewGrid())
	if !legend {
		p.Legend = plot.NewLegend()
	}
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(7)
	return p, nil
}

// title names a panel, with the intact test F1 (relative changes are
// undefined when it is 0).
func title(what, set, emotion string, orig float64) string {
	if orig == 0 {
		return fmt.Sprintf("%s: %s, %s (F1 0: no relative change)", what, set, emotion)
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

// fig6 is the lesion figure: rows are sets, columns emotions.
func (r *results) fig6(base string) error {
	man := r.Manifest
	plots := make([][]*plot.Plot, len(man.Sets))
	for si, set := range man.Sets {
		for ei, e := range man.Emotions {
			orig := r.Readouts[si][ei].Test.F1()
			les := r.Lesion[si][ei]
			sel := make([]float64, len(les))
			rnd := make([][]float64, len(les))
			ext := make([]bool, len(les))
			for li, l := range les {
				f := scores(l.Test)
				sel[li] = change(f[0], orig)
				for _, v := range f[1:] {
					rnd[li] = append(rnd[li], change(v, orig))
				}
				ext[li] = l.Count == 0 && len(f) > 1
			}
			p, err := compare(title("lesion", set.Name, e, orig), "F1 change (%)", r.layerNames(), sel, rnd, ext, si == 0 && ei == 0)
			if err != nil {
				return err
			}
			plots[si] = append(plots[si], p)
		}
	}
	return figure.SaveTiles(plots, 15*vg.Inch, vg.Length(len(man.Sets))*4*vg.Inch, base)
}

// fig4 is the attention figure of one set (the paper's Fig 4 for IAPS,
// Fig 5 for NAPS): per emotion, the change of test F1 at each layer's best
// α (left) and the selective set's test F1 against α per layer (right).
func (r *results) fig4(si int, base string) error {
	man := r.Manifest
	set := man.Sets[si]
	var plots [][]*plot.Plot
	for ei, e := range man.Emotions {
		orig := r.Readouts[si][ei].Test.F1()
		swp := r.Sweep[si][ei]
		sel := make([]float64, len(swp))
		rnd := make([][]float64, len(swp))
		ext := make([]bool, len(swp))
		for li, s := range swp {
			sel[li] = change(s.Curves[0].BestTest().F1(), orig)
			for _, cv := range s.Curves[1:] {
				rnd[li] = append(rnd[li], change(cv.BestTest().F1(), orig))
			}
			ext[li] = s.Count == 0 && len(s.Curves) > 1
		}
		left, err := compare(title("attention", set.Name, e, orig), "F1 change at best α (%)",
			r.layerNames(), sel, rnd, ext, ei == 0)
		if err != nil {
			return err
		}
		right := plot.New()
		right.Title.Text = fmt.Sprintf("selective neurons, %s", e)
		right.X.Label.Text = "α"
		right.Y.Label.Text = "test F1"
		right.Y.Min, right.Y.Max = 0, 1
		for li, s := range swp {
			cv := s.Curves[0]
			var xy plotter.XYs
			for j, a := range cv.Alphas {
				if cv.Test[j].N() > 0 {
					xy = append(xy, plotter.XY{X: a, Y: cv.Test[j].F1()})
				}
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return err
			}
			l.Color = depth(li, len(swp))
			right.Add(l)
			if li == 0 || li == len(swp)-1 || len(swp) <= 5 {
				right.Legend.Add(s.Layer, l)
			}
		}
		right.Add(plotter.NewGrid())
		right.Legend.TextStyle.Font.Size = vg.Points(7)
		plots = append(plots, []*plot.Plot{left, right})
	}
	return figure.SaveTiles(plots, 12*vg.Inch, 12*vg.Inch, base)
}

// fig3c is the threshold search: per set and emotion, the change of test
// F1 when enhancing the channels left after removing the lowest x% by SI,
// per layer (coloured by depth) and averaged over layers (black).
func (r *results) fig3c(base string) error {
	man := r.Manifest
	plots := make([][]*plot.Plot, len(man.Sets))
	for si, set := range man.Sets {
		for ei, e := range man.Emotions {
			if !slices.ContainsFunc(r.Threshold[si][ei], func(t *manipulate.ThresholdResult) bool { return t != nil }) {
				continue // outside the threshold search's scope
			}
			orig := r.Readouts[si][ei].Test.F1()
			p := plot.New()
			p.Title.Text = title("threshold", set.Name, e, orig)
			p.X.Label.Text = "lowest SI removed (%)"
			p.Y.Label.Text = "F1 change at best α (%)"
			thr := r.Threshold[si][ei]
			var sum []float64
			var cnt []int
			for li, t := range thr {
				if t == nil {
					continue // outside the threshold search's scope
				}
				var xy plotter.XYs
				if sum == nil {
					sum, cnt = make([]float64, len(t.Removed)), make([]int, len(t.Removed))
				}
				for i, x := range t.Removed {
					c := change(t.Curves[i].BestTest().F1(), orig)
					if math.IsNaN(c) {
						continue
					}
					xy = append(xy, plotter.XY{X: 100 * x, Y: c})
					sum[i] += c
					cnt[i]++
				}
				if len(xy) == 0 {
					continue
				}
				l, err := plotter.NewLine(xy)
				if err != nil {
					return err
				}
				l.Color = depth(li, len(thr))
				l.Width = vg.Points(0.5)
				p.Add(l)
				if si == 0 && ei == 0 && (li == 0 || li == len(thr)-1) {
					p.Legend.Add(t.Layer, l)
				}
			}
			var avg plotter.XYs
			if sum != nil {
				var removed []float64
				for _, t := range thr {
					if t != nil && removed == nil {
						removed = t.Removed
					}
				}
				for i, x := range removed {
					if cnt[i] > 0 {
						avg = append(avg, plotter.XY{X: 100 * x, Y: sum[i] / float64(cnt[i])})
					}
				}
			}
			if len(avg) > 0 {
				l, pts, err := plotter.NewLinePoints(avg)
				if err != nil {
					return err
				}
				l.Width = vg.Points(2)
				p.Add(l, pts)
				if si == 0 && ei == 0 {
					p.Legend.Add("mean over layers", l, pts)
				}
			}
			p.Add(plotter.NewGrid())
			p.Legend.TextStyle.Font.Size = vg.Points(7)
			plots[si] = append(plots[si], p)
		}
	}
	plots = slices.DeleteFunc(plots, func(row []*plot.Plot) bool { return len(row) == 0 })
	if len(plots) == 0 {
		return nil
	}
	w := vg.Length(len(plots[0])) * 5 * vg.Inch
	return figure.SaveTiles(plots, w, vg.Length(len(plots))*4*vg.Inch, base)
}
