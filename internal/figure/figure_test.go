package figure

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

func TestSave(t *testing.T) {
	p := plot.New()
	p.Title.Text = "probe title"
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 2}})
	if err != nil {
		t.Fatal(err)
	}
	p.Add(l)
	base := filepath.Join(t.TempDir(), "fig")
	if err := Save(p, 0, 0, base); err != nil {
		t.Fatal(err)
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
	if b := img.Bounds(); b.Dx() != 6*DPI || b.Dy() != 4*DPI {
		t.Errorf("png is %v, want %dx%d", b, 6*DPI, 4*DPI)
	}
	if err := SaveTiles([][]*plot.Plot{{p, nil}, {p, p}}, 0, 0, base+"-tiles"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(base + "-tiles.png"); err != nil {
		t.Fatal(err)
	}
}
