package figure

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func TestSave(t *testing.T) {
	p := New("probe title")
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	base := filepath.Join(t.TempDir(), "fig")
	if err := Save(p, 0, base); err != nil {
		t.Fatal(err)
	}
	if p.X.Min != 0 || p.X.Max != 1 {
		t.Errorf("Save left the x range at [%g, %g], want [0, 1]", p.X.Min, p.X.Max)
	}
	svg, err := os.ReadFile(base + ".svg")
	if err != nil || !strings.Contains(string(svg), "probe title") {
		t.Fatalf("svg lacks the title: %v", err)
	}
	raw, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 10*DPI || b.Dy() != 4*DPI {
		t.Errorf("png is %v, want %dx%d", b, 10*DPI, 4*DPI)
	}
	if err := SaveTiles([][]*plot.Plot{{p, nil}, {p, Empty("none", "no data")}}, 0, base+"-tiles"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(base + "-tiles.png"); err != nil {
		t.Fatal(err)
	}
	if err := Save(p, 0, filepath.Join(t.TempDir(), "missing", "x")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unwritable: %v", err)
	}
}

func TestDisplayPx(t *testing.T) {
	// A Width-wide figure is shrunk from 1500 to 992 px.
	if got, want := DisplayPx(TickSize, Width), 9.0*992/720; math.Abs(got-want) > 1e-9 {
		t.Errorf("tick size shows at %g px, want %g", got, want)
	}
	// A 4-inch figure (600 px at DPI) is shown at its own size.
	if got, want := DisplayPx(TickSize, 4*72), 9.0*600/288; math.Abs(got-want) > 1e-9 {
		t.Errorf("narrow figure: %g px, want %g", got, want)
	}
	for name, s := range map[string]float64{"title": TitleSize.Points(), "label": LabelSize.Points(),
		"tick": TickSize.Points(), "legend": LegendSize.Points(), "note": NoteSize.Points()} {
		if px := DisplayPx(vg.Points(s), Width); px < MinDisplayPx {
			t.Errorf("%s text shows at %.1f px, below %d", name, px, MinDisplayPx)
		}
	}
}

func TestDepth(t *testing.T) {
	if Depth(0, 5) != (Depth(0, 1)) || Depth(4, 5) == Depth(0, 5) {
		t.Errorf("depth ramp: %v %v %v", Depth(0, 1), Depth(0, 5), Depth(4, 5))
	}
	if c := Depth(9, 5); c != Depth(4, 5) {
		t.Errorf("beyond the last layer: %v, want %v", c, Depth(4, 5))
	}
}
