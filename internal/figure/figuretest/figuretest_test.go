package figuretest

import (
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/emosel/emosel/internal/figure"
)

// Check finds each fault it names in a figure made to have them.
func TestCheck(t *testing.T) {
	mixed := figure.New("mixed")
	l, _, err := figure.Line(plotter.XYs{{X: 0, Y: -100}, {X: 1, Y: 2.5}}, figure.Ink, false, false)
	if err != nil {
		t.Fatal(err)
	}
	mixed.Add(l)
	mixed.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: -100, Label: "-100.00"}, {Value: -50, Label: "-50"}, {Value: 2.5, Label: "2.50"}})
	small := figure.New("small")
	small.Add(l)
	small.Title.TextStyle.Font.Size = vg.Points(5)
	stray := plot.New() // gonum's own axes, no frame: an empty panel that kept them
	stray.Title.TextStyle.Font.Size = figure.TitleSize
	stray.X.Tick.Label.Font.Size, stray.Y.Tick.Label.Font.Size = figure.TickSize, figure.TickSize
	stray.X.Label.TextStyle.Font.Size, stray.Y.Label.TextStyle.Font.Size = figure.LabelSize, figure.LabelSize
	base := filepath.Join(t.TempDir(), "faults")
	if err := figure.SaveTiles([][]*plot.Plot{{mixed, small, stray}}, 0, base); err != nil {
		t.Fatal(err)
	}
	f, err := Read(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Frames) != 2 {
		t.Errorf("%d frames, want 2", len(f.Frames))
	}
	got := strings.Join(f.Check(true), "\n")
	for _, want := range []string{
		"y ticks in 2 formats: -100.00, -50",
		`count tick "2.50" is not a whole number`,
		`"small" is 6.9 px in the report, below 9`,
		"is in no panel",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Check lacks %q; it says:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"mixed"`) {
		t.Errorf("Check faults the readable title:\n%s", got)
	}
}

func TestFormat(t *testing.T) {
	for s, want := range map[string]string{"-100": "f0", "2.50": "f2", "0.5": "f1", "1.5e+08": "e1", "-2e-05": "e0"} {
		k, d := Format(s)
		if got := string(k) + string(rune('0'+d)); got != want {
			t.Errorf("Format(%q) = %s, want %s", s, got, want)
		}
	}
}
