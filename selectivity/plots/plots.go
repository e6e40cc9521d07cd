// Package plots draws the figures of the selectivity analysis (Figs 2 and
// 3 of Liu et al. 2024) from selectivity.Study values with gonum/plot, and
// saves each as an SVG and a PNG (written atomically, base+".svg" and
// base+".png").
//
//   - Tuning: the tuning curves (Eq 4) of chosen neurons in every set
//     (Fig 2, top).
//   - TopValence: the valence histograms of the N images that drive each
//     chosen neuron most, per set (Fig 2, bottom).
//   - SI: the SI distribution per layer, mean with its interquartile band,
//     pretrained against random, one panel per set (Fig 3A).
//   - Counts: the cross-set emotion-selective neurons per layer and
//     emotion against the overlap expected by chance (Fig 3B, top) and
//     against the random network (Fig 3B, bottom).
//
// Non-finite values are left out of lines and bands rather than drawn.
// Errors come from gonum/plot or the file system and name the figure.
package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// Palette colours sets (Tuning, TopValence) and networks (SI, Counts) in
// order; it is the Okabe–Ito palette, readable with colour-blindness.
var Palette = []color.NRGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
}

func colour(i int) color.NRGBA { return Palette[i%len(Palette)] }

func faded(c color.NRGBA) color.NRGBA { c.A = 0x40; return c }

// emotionNames are the x tick labels of tuning curves.
var emotionNames = []string{"pleasant", "neutral", "unpleasant"}

// byLayer arranges exemplars in a grid: one row per layer in first-seen
// order, one column per emotion.
func byLayer(exemplars []selectivity.Exemplar) (rows [][]*selectivity.Exemplar, layers []int) {
	index := map[int]int{}
	for i := range exemplars {
		ex := &exemplars[i]
		r, ok := index[ex.Layer]
		if !ok {
			r = len(rows)
			index[ex.Layer] = r
			rows = append(rows, make([]*selectivity.Exemplar, stimuli.NumEmotions))
			layers = append(layers, ex.Layer)
		}
		if ex.Emotion < stimuli.NumEmotions {
			rows[r][ex.Emotion] = ex
		}
	}
	return rows, layers
}

func title(s *selectivity.Study, ex *selectivity.Exemplar) string {
	l := s.Layers[ex.Layer].Name
	if ex.Channel < 0 {
		return fmt.Sprintf("%s %v: none", l, ex.Emotion)
	}
	t := fmt.Sprintf("%s #%d %v", l, ex.Channel, ex.Emotion)
	if !ex.Shared {
		t += " (not shared)"
	}
	return t
}

// points returns the finite (x, y) pairs.
func points(x, y []float64) plotter.XYs {
	var out plotter.XYs
	for i := range x {
		if !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) {
			out = append(out, plotter.XY{X: x[i], Y: y[i]})
		}
	}
	return out
}

// addLine adds a line with point markers and a legend entry; nothing if
// no point is finite.
func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashed bool, name string) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	l.Color, s.Color = c, c
	l.Width = vg.Points(1.5)
	s.Shape = draw.CircleGlyph{}
	s.Radius = vg.Points(2.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		s.Shape = draw.BoxGlyph{}
	}
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

// layerAxis labels the x axis with layer names, slanted.
func layerAxis(p *plot.Plot, s *selectivity.Study) {
	names := make([]string, len(s.Layers))
	for i, l := range s.Layers {
		names[i] = l.Name
	}
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}

func layerX(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// Tuning draws, for each exemplar (a grid of layers × emotions), its
// tuning curve S_e (Eq 4) in every set of s: Fig 2, top.
func Tuning(s *selectivity.Study, exemplars []selectivity.Exemplar, base string) error {
	rows, _ := byLayer(exemplars)
	if len(rows) == 0 {
		return fmt.Errorf("plots: %s: no exemplars", base)
	}
	grid := make([][]*plot.Plot, len(rows))
	for r, row := range rows {
		grid[r] = make([]*plot.Plot, len(row))
		for c, ex := range row {
			if ex == nil {
				continue
			}
			p := plot.New()
			p.Title.Text = title(s, ex)
			p.Y.Label.Text = "tuning value"
			p.NominalX(emotionNames...)
			p.X.Min, p.X.Max = -0.4, 2.4
			p.Legend.Top = true
			if ex.Channel >= 0 {
				for k, name := range s.Names() {
					t := s.Layers[ex.Layer].Results[k].Neurons[ex.Channel].Tuning
					if err := addLine(p, points([]float64{0, 1, 2}, t[:]), colour(k), false, name); err != nil {
						return fmt.Errorf("plots: %s: %w", base, err)
					}
				}
				headroom(p, 0.1+0.12*float64(len(s.Sets)))
			} else {
				p.HideAxes()
			}
			grid[r][c] = p
		}
	}
	return save(grid, base, 9*vg.Inch, vg.Length(len(rows))*2.6*vg.Inch)
}

// TopValence draws, for each exemplar, the valence histogram (bins one
// rating point wide) of the n images of each set that drive it most
// (Study.Top; n == 0 means selectivity.DefaultTop): Fig 2, bottom.
func TopValence(s *selectivity.Study, exemplars []selectivity.Exemplar, n int, base string) error {
	rows, _ := byLayer(exemplars)
	if len(rows) == 0 {
		return fmt.Errorf("plots: %s: no exemplars", base)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range s.Sets {
		for _, v := range r.Set.Valences() {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)
	if !(hi > lo) {
		hi = lo + 1
	}
	edges := selectivity.Edges(lo, hi, int(hi-lo))
	sets := len(s.Sets)
	width := vg.Points(24 / float64(sets))
	grid := make([][]*plot.Plot, len(rows))
	for r, row := range rows {
		grid[r] = make([]*plot.Plot, len(row))
		for c, ex := range row {
			if ex == nil {
				continue
			}
			p := plot.New()
			p.Title.Text = title(s, ex)
			p.X.Label.Text = "valence"
			p.Y.Label.Text = "images"
			p.Legend.Top = true
			names := make([]string, len(edges)-1)
			for i := range names {
				names[i] = fmt.Sprintf("%g", (edges[i]+edges[i+1])/2)
			}
			p.NominalX(names...)
			if ex.Channel >= 0 {
				for k, r := range s.Sets {
					top := s.Top(ex.Layer, k, ex.Channel, n)
					h := selectivity.Histogram(selectivity.Gather(r.Set.Valences(), top), edges)
					vals := make(plotter.Values, len(h))
					for i, v := range h {
						vals[i] = float64(v)
					}
					b, err := plotter.NewBarChart(vals, width)
					if err != nil {
						return fmt.Errorf("plots: %s: %w", base, err)
					}
					b.Color = colour(k)
					b.LineStyle.Width = 0
					b.Offset = width * vg.Length(float64(k)-float64(sets-1)/2)
					p.Add(b)
					p.Legend.Add(r.Set.Name, b)
				}
				headroom(p, 0.1+0.12*float64(sets))
			} else {
				p.HideAxes()
			}
			grid[r][c] = p
		}
	}
	return save(grid, base, 9*vg.Inch, vg.Length(len(rows))*2.6*vg.Inch)
}

// SI draws, per set, the mean SI of each layer with its interquartile
// band for each network (e.g. pretrained and random; names label them,
// nil studies are skipped): Fig 3A. The studies must share their sets and
// layers.
func SI(studies []*selectivity.Study, names []string, base string) error {
	ref := first(studies)
	if ref == nil {
		return fmt.Errorf("plots: %s: no study", base)
	}
	var row []*plot.Plot
	for k, set := range ref.Names() {
		p := plot.New()
		p.Title.Text = "SI by layer, " + set
		p.Y.Label.Text = "SI (max d′)"
		p.Legend.Top = true
		layerAxis(p, ref)
		x := layerX(len(ref.Layers))
		for i, s := range studies {
			if s == nil {
				continue
			}
			sums := s.Summaries()
			mean, q25, q75 := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
			for j := range sums {
				mean[j], q25[j], q75[j] = sums[j][k].Mean, sums[j][k].Q25, sums[j][k].Q75
			}
			band := points(x, q25)
			upper := points(x, q75)
			for j := len(upper) - 1; j >= 0; j-- {
				band = append(band, upper[j])
			}
			if len(band) >= 3 {
				poly, err := plotter.NewPolygon(band)
				if err != nil {
					return fmt.Errorf("plots: %s: %w", base, err)
				}
				poly.Color = faded(colour(i))
				poly.LineStyle.Width = 0
				p.Add(poly)
			}
			if err := addLine(p, points(x, mean), colour(i), i > 0, names[i]+" (mean, IQR)"); err != nil {
				return fmt.Errorf("plots: %s: %w", base, err)
			}
		}
		headroom(p, 0.1+0.12*float64(len(studies)))
		row = append(row, p)
	}
	return save([][]*plot.Plot{row}, base, vg.Length(len(row))*4.5*vg.Inch, 3.6*vg.Inch)
}

// Counts draws, per emotion, the number of channels selective for it in
// every set, layer by layer: in the top row for the first study against
// the overlap expected by chance (Fig 3B, top), in the bottom row for
// every study (Fig 3B, bottom; omitted when only one study is given).
func Counts(studies []*selectivity.Study, names []string, base string) error {
	ref := first(studies)
	if ref == nil || studies[0] == nil {
		return fmt.Errorf("plots: %s: no study", base)
	}
	x := layerX(len(ref.Layers))
	count := func(s *selectivity.Study, e stimuli.Category) (obs, exp []float64) {
		for _, l := range s.Layers {
			obs = append(obs, float64(len(l.Overlap[e].Channels)))
			exp = append(exp, l.Overlap[e].Expected)
		}
		return obs, exp
	}
	var grid [][]*plot.Plot
	var top []*plot.Plot
	for e := range stimuli.NumEmotions {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("%v: %s vs chance", e, names[0])
		p.Y.Label.Text = "selective in every set"
		p.Legend.Top = true
		layerAxis(p, ref)
		obs, exp := count(studies[0], e)
		if err := addLine(p, points(x, obs), colour(0), false, "observed"); err != nil {
			return fmt.Errorf("plots: %s: %w", base, err)
		}
		if err := addLine(p, points(x, exp), color.NRGBA{0x66, 0x66, 0x66, 0xff}, true, "chance"); err != nil {
			return fmt.Errorf("plots: %s: %w", base, err)
		}
		headroom(p, 0.35)
		top = append(top, p)
	}
	grid = append(grid, top)
	others := 0
	for _, s := range studies[1:] {
		if s != nil {
			others++
		}
	}
	if others > 0 {
		var bottom []*plot.Plot
		for e := range stimuli.NumEmotions {
			p := plot.New()
			p.Title.Text = fmt.Sprintf("%v: networks", e)
			p.Y.Label.Text = "selective in every set"
			p.Legend.Top = true
			layerAxis(p, ref)
			for i, s := range studies {
				if s == nil {
					continue
				}
				obs, _ := count(s, e)
				if err := addLine(p, points(x, obs), colour(i), i > 0, names[i]); err != nil {
					return fmt.Errorf("plots: %s: %w", base, err)
				}
			}
			headroom(p, 0.1+0.12*float64(len(studies)))
			bottom = append(bottom, p)
		}
		grid = append(grid, bottom)
	}
	return save(grid, base, 12*vg.Inch, vg.Length(len(grid))*3.6*vg.Inch)
}

// headroom raises the top of the y axis by frac of its range, so that a
// legend at the top does not cover the data.
func headroom(p *plot.Plot, frac float64) {
	if p.Y.Max > p.Y.Min {
		p.Y.Max += frac * (p.Y.Max - p.Y.Min)
	}
}

func first(studies []*selectivity.Study) *selectivity.Study {
	for _, s := range studies {
		if s != nil {
			return s
		}
	}
	return nil
}

func save(grid [][]*plot.Plot, base string, w, h vg.Length) error {
	if err := figure.SaveTiles(grid, w, h, base); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
