package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/emosel/emosel/internal/figure"
)

// K is a K-category selectivity analysis of one network (selectivity.IndexK
// per set and layer, selectivity.OverlapsK across sets), as the K figures
// read it.
type K struct {
	Classes []string // the categories, K ≥ 2
	Sets    []string
	Layers  []string
	// SI and Preferred are indexed [set][layer][channel]; Preferred is the
	// class index, −1 for a channel without one (its SI is ignored).
	SI        [][][]float64
	Preferred [][][]int
	// Observed and Expected are indexed [layer][class]: the channels
	// selective for the class in every set, and the chance model's
	// expectation.
	Observed [][]int
	Expected [][]float64
	// Exemplars holds per class its exemplar neuron (Layer −1: none).
	Exemplars []KExemplar
}

// KExemplar is a class's exemplar neuron and its d′ of each class against
// the rest (Eq 5's generalisation), per set: DPrime[set][class].
type KExemplar struct {
	Layer, Channel int
	DPrime         [][]float64
}

// drawK lays out one panel per class with kGrid and saves the grid as
// base.
func drawK(base string, k int, panel func(c int) (*plot.Plot, error)) error {
	grid, err := kGrid(k, panel)
	if err != nil {
		return fmt.Errorf("plots: %s: %w", base, err)
	}
	return save(grid, base, vg.Length(len(grid))*kRow)
}

// kGrid lays one panel per class out in rows of at most kColumns, so that
// panels keep their width for any K up to 8 (and beyond); cells after
// the last class are left blank.
func kGrid(k int, panel func(c int) (*plot.Plot, error)) ([][]*plot.Plot, error) {
	cols := min(k, kColumns)
	if k == 4 {
		cols = 2
	}
	var grid [][]*plot.Plot
	for c := range k {
		if c%cols == 0 {
			grid = append(grid, make([]*plot.Plot, cols))
		}
		p, err := panel(c)
		if err != nil {
			return nil, err
		}
		grid[len(grid)-1][c%cols] = p
	}
	return grid, nil
}

// kColumns is the most panels per row of a K figure.
const kColumns = 3

// kRow is the height of a row of K panels.
const kRow = 2.6 * vg.Inch

// TuningK draws each class's exemplar neuron (the cross-set selective
// channel of highest SI) as its d′ of every class against the rest, one
// line per set: the K-category Fig 2, top. A class without an exemplar
// gets an empty panel that says so.
func TuningK(d K, base string) error {
	return drawK(base, len(d.Classes), func(c int) (*plot.Plot, error) {
		ex := d.Exemplars[c]
		if ex.Layer < 0 {
			return figure.Empty(d.Classes[c], noNeuron), nil
		}
		p := figure.New(fmt.Sprintf("%s: %s #%d", d.Classes[c], d.Layers[ex.Layer], ex.Channel))
		p.Y.Label.Text = "d′ against the rest"
		figure.Nominal(p, d.Classes, len(d.Classes) > 3)
		figure.Grid(p)
		x := layerX(len(d.Classes))
		for s, name := range d.Sets {
			if err := addLine(p, points(x, ex.DPrime[s]), figure.Set(s), false, name, c == 0); err != nil {
				return nil, err
			}
		}
		if c == 0 {
			figure.Headroom(p, 0.1+0.15*float64(len(d.Sets)))
		}
		return p, nil
	})
}

// SIK draws, per class, the mean SI of the channels preferring it, layer
// by layer, one line per set: the K-category Fig 3A. A class no channel
// of any layer prefers gets an empty panel.
func SIK(d K, base string) error {
	x := layerX(len(d.Layers))
	return drawK(base, len(d.Classes), func(c int) (*plot.Plot, error) {
		p := figure.New(fmt.Sprintf("%s: mean SI of its channels", d.Classes[c]))
		p.Y.Label.Text = "SI"
		figure.Nominal(p, d.Layers, true)
		figure.Grid(p)
		seen := false
		for s, name := range d.Sets {
			y := make([]float64, len(d.Layers))
			for l := range d.Layers {
				var sum, n float64
				for ch, v := range d.SI[s][l] {
					if d.Preferred[s][l][ch] == c && !math.IsNaN(v) && !math.IsInf(v, 0) {
						sum, n = sum+v, n+1
					}
				}
				y[l] = math.NaN()
				if n > 0 {
					y[l], seen = sum/n, true
				}
			}
			if err := addLine(p, points(x, y), figure.Set(s), false, name, c == 0); err != nil {
				return nil, err
			}
		}
		if !seen {
			return figure.Empty(d.Classes[c], "no channel prefers it"), nil
		}
		if c == 0 {
			figure.Headroom(p, 0.1+0.15*float64(len(d.Sets)))
		}
		return p, nil
	})
}

// CountsK draws, per class, the channels selective for it in every set,
// layer by layer, in the class's colour against the chance model's
// expectation (gray, dashed), on integer ticks: the K-category Fig 3B.
func CountsK(d K, base string) error {
	x := layerX(len(d.Layers))
	return drawK(base, len(d.Classes), func(c int) (*plot.Plot, error) {
		p := figure.New(fmt.Sprintf("%s: selective in every set", d.Classes[c]))
		p.Y.Label.Text = "channels"
		figure.Nominal(p, d.Layers, true)
		obs, exp := make([]float64, len(d.Layers)), make([]float64, len(d.Layers))
		for l := range d.Layers {
			obs[l], exp[l] = float64(d.Observed[l][c]), d.Expected[l][c]
		}
		if err := addLine(p, points(x, obs), figure.Category(c), false, "observed", c == 0); err != nil {
			return nil, err
		}
		if err := addLine(p, points(x, exp), figure.Gray, true, "chance", c == 0); err != nil {
			return nil, err
		}
		figure.Counts(p)
		if c == 0 {
			figure.Headroom(p, 0.3)
		}
		return p, nil
	})
}
