package plots

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
)

// kData is a K = 8 analysis made by hand: 2 sets, 4 layers of 16
// channels; channel ch prefers class ch mod 7, so no channel prefers the
// last class, which has neither an exemplar nor an SI.
func kData() K {
	classes := []string{"face", "body", "hand", "scene", "object", "word", "number", "tool"}
	layers := []string{"conv1", "conv2", "conv3", "conv4"}
	d := K{Classes: classes, Sets: []string{"setA", "setB"}, Layers: layers}
	for s := range d.Sets {
		var si [][]float64
		var pref [][]int
		for l := range layers {
			x, p := make([]float64, 16), make([]int, 16)
			for ch := range x {
				x[ch], p[ch] = 0.1*float64(1+l+s)+0.01*float64(ch), ch%7
			}
			si, pref = append(si, x), append(pref, p)
		}
		d.SI, d.Preferred = append(d.SI, si), append(d.Preferred, pref)
	}
	for l := range layers {
		obs, exp := make([]int, len(classes)), make([]float64, len(classes))
		for c := range classes[:7] {
			obs[c], exp[c] = (l+c)%4, 0.5+0.1*float64(c)
		}
		d.Observed, d.Expected = append(d.Observed, obs), append(d.Expected, exp)
	}
	for c := range classes {
		ex := KExemplar{Layer: c % 4, Channel: c}
		if c == 7 {
			ex.Layer = -1
		}
		for s := range d.Sets {
			dp := make([]float64, len(classes))
			for j := range dp {
				dp[j] = -0.5 + float64(s)*0.1
			}
			dp[c] = 2
			ex.DPrime = append(ex.DPrime, dp)
		}
		d.Exemplars = append(d.Exemplars, ex)
	}
	return d
}

// TestKFigures draws the K figures of eight classes: a panel per class in
// rows of at most three (each at least a third of the figure wide less
// margins), the class without channels an empty panel that says so, the
// style's checks (readable text, one tick format per axis, integer ticks
// on the count axes), and each class's observed counts in its
// colour.
func TestKFigures(t *testing.T) {
	d := kData()
	dir := t.TempDir()
	if e := os.Getenv("EMOSEL_PLOTS_DIR"); e != "" {
		dir = e
	}
	for name, c := range map[string]struct {
		draw   func(K, string) error
		counts bool
	}{"tuning_k": {TuningK, false}, "si_k": {SIK, false}, "overlap_k": {CountsK, true}} {
		base := filepath.Join(dir, name)
		if err := c.draw(d, base); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fig, err := figuretest.Read(base + ".svg")
		if err != nil {
			t.Fatal(err)
		}
		panels, notes := 7, 1
		if name == "overlap_k" {
			panels, notes = 8, 0
		}
		if len(fig.Frames) != panels || len(fig.Notes()) != notes {
			t.Errorf("%s: %d panels and %d empty ones, want %d and %d", name, len(fig.Frames), len(fig.Notes()), panels, notes)
		}
		for _, bad := range fig.Check(c.counts) {
			t.Errorf("%s: %s", name, bad)
		}
		rows := map[float64]bool{}
		for _, f := range fig.Frames {
			rows[f.Y0] = true
			if w := f.X1 - f.X0; w < figure.Width.Points()/3-80 {
				t.Errorf("%s: a panel %.0f pt wide in a %.0f pt figure", name, w, figure.Width.Points())
			}
		}
		if len(rows) != 3 {
			t.Errorf("%s: %d rows of panels, want 3 (eight classes, three a row)", name, len(rows))
		}
		if name != "overlap_k" {
			continue
		}
		strokes := map[string]bool{}
		for _, p := range fig.Paths {
			strokes[p.Stroke] = true
		}
		for k, cl := range d.Classes {
			if h := figuretest.Hex(figure.Category(k)); !strokes[h] {
				t.Errorf("overlap_k: no line in %s's colour %s", cl, h)
			}
		}
	}
}
