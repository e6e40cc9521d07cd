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
// All four use internal/figure's style: its fonts, frames, ticks (integer
// ones on count axes), colours (sets in its Palette, emotions in their
// colours, the random network in gray, dashed) and one legend per row of
// panels. A neuron that does not exist (no channel prefers the emotion in
// every set) gets an empty panel that says so.
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

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// emotionNames are the x tick labels of tuning curves.
var emotionNames = []string{"pleasant", "neutral", "unpleasant"}

// Row heights of the figures, all figure.Width wide.
const (
	exemplarRow = 2.6 * vg.Inch
	layerRow    = 3.3 * vg.Inch
)

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
		return fmt.Sprintf("%s, %v", l, ex.Emotion)
	}
	t := fmt.Sprintf("%s #%d %v", l, ex.Channel, ex.Emotion)
	if !ex.Shared {
		t += " (not shared)"
	}
	return t
}

// noNeuron is the note of an exemplar panel without a neuron.
const noNeuron = "no neuron prefers it in every set"

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

// addLine adds a line with point marks, and a legend entry when legend
// is set; nothing if no point is finite.
func addLine(p *plot.Plot, xys plotter.XYs, c color.Color, dashed bool, name string, legend bool) error {
	if len(xys) == 0 {
		return nil
	}
	l, s, err := figure.Line(xys, c, dashed, true)
	if err != nil {
		return err
	}
	p.Add(l, s)
	if legend && name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

func layerNames(s *selectivity.Study) []string {
	names := make([]string, len(s.Layers))
	for i, l := range s.Layers {
		names[i] = l.Name
	}
	return names
}

func layerX(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// network returns the colour and dash of network i in a panel about
// emotion e (−1: none): the first network in e's colour (figure.Studied
// without one), the second in gray and dashed, further ones in the set
// palette.
func network(i, e int) (color.Color, bool) {
	switch {
	case i == 0 && e >= 0:
		return figure.Emotion(e), false
	case i == 0:
		return figure.Studied, false
	case i == 1:
		return figure.Gray, true
	}
	return figure.Set(i), true
}

// Tuning draws, for each exemplar (a grid of layers × emotions), its
// tuning curve S_e (Eq 4) in every set of s: Fig 2, top.
func Tuning(s *selectivity.Study, exemplars []selectivity.Exemplar, base string) error {
	rows, _ := byLayer(exemplars)
	if len(rows) == 0 {
		return fmt.Errorf("plots: %s: no exemplars", base)
	}
	legend := true
	grid := make([][]*plot.Plot, len(rows))
	for r, row := range rows {
		grid[r] = make([]*plot.Plot, len(row))
		for c, ex := range row {
			if ex == nil {
				continue
			}
			if ex.Channel < 0 {
				grid[r][c] = figure.Empty(title(s, ex), noNeuron)
				continue
			}
			p := figure.New(title(s, ex))
			p.Y.Label.Text = "tuning value"
			figure.Nominal(p, emotionNames, false)
			for k, name := range s.Names() {
				t := s.Layers[ex.Layer].Results[k].Neurons[ex.Channel].Tuning
				if err := addLine(p, points([]float64{0, 1, 2}, t[:]), figure.Set(k), false, name, legend); err != nil {
					return fmt.Errorf("plots: %s: %w", base, err)
				}
			}
			if legend {
				figure.Headroom(p, 0.1+0.15*float64(len(s.Sets)))
				legend = false
			}
			grid[r][c] = p
		}
	}
	return save(grid, base, vg.Length(len(rows))*exemplarRow)
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
	if !(hi > lo) || hi-lo > 100 {
		hi = lo + 1
	}
	edges := selectivity.Edges(lo, hi, int(hi-lo))
	names := make([]string, len(edges)-1)
	for i := range names {
		names[i] = fmt.Sprintf("%.1f", (edges[i]+edges[i+1])/2)
	}
	sets := len(s.Sets)
	width := vg.Points(18 / float64(sets))
	legend := true
	grid := make([][]*plot.Plot, len(rows))
	for r, row := range rows {
		grid[r] = make([]*plot.Plot, len(row))
		for c, ex := range row {
			if ex == nil {
				continue
			}
			if ex.Channel < 0 {
				grid[r][c] = figure.Empty(title(s, ex), noNeuron)
				continue
			}
			p := figure.New(title(s, ex))
			p.X.Label.Text = "valence"
			p.Y.Label.Text = "images"
			figure.Nominal(p, names, false)
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
				b.Color = figure.Set(k)
				b.LineStyle.Width = 0
				b.Offset = width * vg.Length(float64(k)-float64(sets-1)/2)
				p.Add(b)
				if legend {
					p.Legend.Add(r.Set.Name, b)
				}
			}
			figure.Counts(p)
			if legend {
				figure.Headroom(p, 0.1+0.15*float64(sets))
				legend = false
			}
			grid[r][c] = p
		}
	}
	return save(grid, base, vg.Length(len(rows))*exemplarRow)
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
		p := figure.New("SI by layer, " + set)
		p.Y.Label.Text = "SI (max d′)"
		figure.Nominal(p, layerNames(ref), true)
		x := layerX(len(ref.Layers))
		for i, s := range studies {
			if s == nil {
				continue
			}
			c, dashed := network(i, -1)
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
				poly.Color = figure.Faded(color.NRGBAModel.Convert(c).(color.NRGBA))
				poly.LineStyle.Width = 0
				p.Add(poly)
			}
			if err := addLine(p, points(x, mean), c, dashed, names[i]+" (mean, IQR)", k == 0); err != nil {
				return fmt.Errorf("plots: %s: %w", base, err)
			}
		}
		if k == 0 {
			figure.Headroom(p, 0.1+0.12*float64(len(studies)))
		}
		row = append(row, p)
	}
	return save([][]*plot.Plot{row}, base, layerRow+0.3*vg.Inch)
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
	panel := func(title string) *plot.Plot {
		p := figure.New(title)
		p.Y.Label.Text = "selective in every set"
		figure.Nominal(p, layerNames(ref), true)
		return p
	}
	var grid [][]*plot.Plot
	var top []*plot.Plot
	for e := range stimuli.NumEmotions {
		p := panel(fmt.Sprintf("%v: %s vs chance", e, names[0]))
		obs, exp := count(studies[0], e)
		if err := addLine(p, points(x, obs), figure.Emotion(int(e)), false, "observed", e == 0); err != nil {
			return fmt.Errorf("plots: %s: %w", base, err)
		}
		if err := addLine(p, points(x, exp), figure.Gray, true, "chance", e == 0); err != nil {
			return fmt.Errorf("plots: %s: %w", base, err)
		}
		figure.Counts(p)
		if e == 0 {
			figure.Headroom(p, 0.3)
		}
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
			p := panel(fmt.Sprintf("%v: networks", e))
			for i, s := range studies {
				if s == nil {
					continue
				}
				obs, _ := count(s, e)
				c, dashed := network(i, int(e))
				if err := addLine(p, points(x, obs), c, dashed, names[i], e == 0); err != nil {
					return fmt.Errorf("plots: %s: %w", base, err)
				}
			}
			figure.Counts(p)
			if e == 0 {
				figure.Headroom(p, 0.1+0.15*float64(len(studies)))
			}
			bottom = append(bottom, p)
		}
		grid = append(grid, bottom)
	}
	return save(grid, base, vg.Length(len(grid))*layerRow)
}

func first(studies []*selectivity.Study) *selectivity.Study {
	for _, s := range studies {
		if s != nil {
			return s
		}
	}
	return nil
}

func save(grid [][]*plot.Plot, base string, h vg.Length) error {
	if err := figure.SaveTiles(grid, h, base); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
