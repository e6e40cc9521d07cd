package study

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
	"github.com/emosel/emosel/manipulate"
)

// figureWant is what a figure must show: panels with data (frames) and
// empty panels (notes), and how many error bars end clipped (-1: any).
type figureWant struct {
	panels, empty, carets int
}

// checkFigure parses one written SVG and holds it to the style: text
// readable in the report, one tick format per axis, no tick labels
// outside a panel, the expected panels, and error bars inside their
// panel with a caret at each clipped end.
func checkFigure(t *testing.T, name string, svg []byte, want figureWant) {
	t.Helper()
	f, err := figuretest.Parse(bytes.NewReader(svg))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if f.Width != figure.Width.Points() {
		t.Errorf("%s is %g pt wide, want figure.Width (%g)", name, f.Width, figure.Width.Points())
	}
	if len(f.Frames) != want.panels || len(f.Notes()) != want.empty {
		t.Errorf("%s: %d panels and %d empty ones, want %d and %d", name, len(f.Frames), len(f.Notes()), want.panels, want.empty)
	}
	for _, bad := range f.Check(false) {
		t.Errorf("%s: %s", name, bad)
	}
	gray := figuretest.Hex(figure.Gray)
	carets := 0
	for _, p := range f.Paths {
		if (p.Stroke != gray && p.Fill != gray) || len(p.Points) == 0 {
			continue
		}
		in := false
		for _, r := range f.Frames {
			inside := true
			for _, pt := range p.Points {
				inside = inside && pt[0] >= r.X0-0.01 && pt[0] <= r.X1+0.01 && pt[1] >= r.Y0-0.01 && pt[1] <= r.Y1+0.01
			}
			in = in || inside
		}
		if !in {
			t.Errorf("%s: gray mark %v leaves its panel", name, p.Points)
		}
		if p.Fill == gray && p.Closed && len(p.Points) == 3 {
			carets++
		}
	}
	if want.carets >= 0 && carets != want.carets {
		t.Errorf("%s: %d clipped bar ends marked, want %d", name, carets, want.carets)
	}
}

// TestFigureStyle checks the figures of the test study (testConfig,
// shared with TestOutputs): their panels are those with an intact test
// F1 above 0 (the others are empty panels), and they follow the style.
func TestFigureStyle(t *testing.T) {
	out := unsharded(t)
	rows, err := csv.NewReader(bytes.NewReader(out[ReadoutFile])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	scored := map[string]int{} // set → emotions with test F1 > 0
	cells := map[string]int{}
	firstScored := false // alpha, pleasant: the threshold search's one cell
	for _, r := range rows[1:] {
		if r[2] != "test" {
			continue
		}
		f1, err := strconv.ParseFloat(r[5], 64)
		if err != nil {
			t.Fatal(err)
		}
		cells[r[0]]++
		if f1 > 0 {
			scored[r[0]]++
			if r[0] == "alpha" && r[1] == "pleasant" {
				firstScored = true
			}
		}
	}
	if cells["alpha"] != 3 || cells["beta"] != 3 {
		t.Fatalf("readout.csv: test rows per set %v, want 3 each", cells)
	}
	lesion := scored["alpha"] + scored["beta"]
	checkFigure(t, "fig6", out["fig6.svg"], figureWant{lesion, 6 - lesion, -1})
	for _, set := range []string{"alpha", "beta"} {
		checkFigure(t, "fig4_"+set, out["fig4_"+set+".svg"], figureWant{scored[set] + 3, 3 - scored[set], -1})
	}
	thr := figureWant{0, 1, 0}
	if firstScored {
		thr = figureWant{1, 0, 0}
	}
	checkFigure(t, "fig3c", out["fig3c.svg"], thr)
}

// f1Score returns a score whose F1 is f, for f in {0, 0.5, 2/3, 0.8, 1}.
func f1Score(t *testing.T, f float64) manipulate.Score {
	for _, s := range []manipulate.Score{{FN: 1}, {TP: 1, FP: 2}, {TP: 1, FP: 1}, {TP: 2, FP: 1}, {TP: 1}} {
		if s.F1() == f {
			return s
		}
	}
	t.Fatalf("no score with F1 %g", f)
	return manipulate.Score{}
}

// edgeResults are results made by hand, 2 sets × 3 emotions × 3 layers
// with 3 random draws: set one's neutral readout scores 0 (no relative
// change: empty panels); its pleasant draws at conv1 lose -100, -100 and
// 0%, so mean - SD is below -100%; its unpleasant draws (intact F1 0.5)
// gain 100, 100 and -100%, so mean + SD is above the +100% F1 allows;
// everything of set two equals its intact F1 (every change 0: an empty
// y range).
func edgeResults(t *testing.T) *results {
	layers := []Layer{{Name: "conv1", Channels: 4}, {Name: "conv2", Channels: 4}, {Name: "conv3", Channels: 4}}
	man := Manifest{Sets: []ManifestSet{{Name: "one"}, {Name: "two"}}, Layers: layers, Stages: Stages,
		Emotions: []string{"pleasant", "neutral", "unpleasant"}, ThresholdScope: ScopeAll, Draws: 3}
	orig := [][]float64{{1, 0, 0.5}, {0.8, 1, 0.5}}
	r := &results{Manifest: man}
	for si := range orig {
		r.Readouts = append(r.Readouts, nil)
		r.Lesion = append(r.Lesion, nil)
		r.Sweep = append(r.Sweep, nil)
		r.Threshold = append(r.Threshold, nil)
		for ei, o := range orig[si] {
			r.Readouts[si] = append(r.Readouts[si], readoutFile{Test: f1Score(t, o)})
			var les []*manipulate.LesionResult
			var swp []*manipulate.SweepResult
			var thr []*manipulate.ThresholdResult
			for li, l := range layers {
				draws := []float64{o, o, o, o} // selective, then 3 random draws
				switch {
				case si == 0 && ei == 0 && li == 0:
					draws = []float64{0.5, 0, 0, 1}
				case si == 0 && ei == 2 && li == 0:
					draws = []float64{0.5, 1, 1, 0}
				}
				var test []manipulate.Score
				var curves []manipulate.Curve
				for _, d := range draws {
					test = append(test, f1Score(t, d))
					curves = append(curves, manipulate.Curve{Alphas: []float64{0, 1},
						Val: []manipulate.Score{f1Score(t, d), f1Score(t, d)}, Test: []manipulate.Score{f1Score(t, o), f1Score(t, d)}, Best: 1})
				}
				les = append(les, &manipulate.LesionResult{Layer: l.Name, Channels: 4, Test: test, Count: 1, P: 1})
				swp = append(swp, &manipulate.SweepResult{Layer: l.Name, Channels: 4, Curves: curves, Count: 1, P: 1})
				thr = append(thr, &manipulate.ThresholdResult{Layer: l.Name, Channels: 4, Removed: []float64{0, 0.5},
					Curves: curves[:2]})
			}
			r.Lesion[si] = append(r.Lesion[si], les)
			r.Sweep[si] = append(r.Sweep[si], swp)
			r.Threshold[si] = append(r.Threshold[si], thr)
		}
	}
	return r
}

// TestFigureEdges draws the figures of edgeResults: empty panels say
// why, the error bars past what F1 allows end at -100% and +100% with a
// caret, and an empty y range (every change 0) is drawn, not looped on.
func TestFigureEdges(t *testing.T) {
	r := edgeResults(t)
	dir := t.TempDir()
	if d := os.Getenv("EMOSEL_FIGURES_DIR"); d != "" {
		dir = d // to look at them
	}
	done := make(chan error, 1)
	go func() { done <- r.figures(dir) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(100 * time.Second):
		t.Fatal("figures did not return within 100 s")
	}
	for name, want := range map[string]figureWant{
		"fig6":     {5, 1, 2},
		"fig4_one": {5, 1, 2},
		"fig4_two": {6, 0, 0},
		"fig3c":    {5, 1, 0},
	} {
		svg, err := os.ReadFile(filepath.Join(dir, name+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		checkFigure(t, name, svg, want)
		f, _ := figuretest.Parse(bytes.NewReader(svg))
		var notes []string
		for _, n := range f.Notes() {
			notes = append(notes, n.S)
		}
		if want.empty > 0 && (len(notes) == 0 || notes[0] != noChange) {
			t.Errorf("%s: empty panels say %q, want %q", name, notes, noChange)
		}
	}
}
