package figure_test

import (
	"math"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"

	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
)

// Bars past their possible range [-100, 0], or past a fixed y axis, are
// cut there and end in a caret; the others keep flat caps; none leaves
// its panel's frame. An empty panel has a note and no frame.
func TestYErrorBars(t *testing.T) {
	bars := []figure.Bar{{X: 0, Low: -130, High: 10}, {X: 1, Low: -50, High: -10}, {X: 2, Low: -20, High: 15}, {X: 3, Low: math.NaN(), High: 1}}
	free := figure.New("possible range")
	free.Add(figure.NewYErrorBars(bars, -100, 0))
	if free.Y.Min != -100 || free.Y.Max != 0 {
		t.Errorf("y range [%g, %g], want the clipped [-100, 0]", free.Y.Min, free.Y.Max)
	}
	fixed := figure.New("axis")
	fixed.Add(figure.NewYErrorBars(bars, math.Inf(-1), math.Inf(1)))
	fixed.Y.Min, fixed.Y.Max = -60, 0 // the axis cuts bar 0 at both ends and bar 2 at the top
	base := filepath.Join(t.TempDir(), "bars")
	if err := figure.SaveTiles([][]*plot.Plot{{free, fixed, figure.Empty("empty", "no data")}}, 0, base); err != nil {
		t.Fatal(err)
	}
	f, err := figuretest.Read(base + ".svg")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Frames) != 2 {
		t.Fatalf("%d frames, want 2", len(f.Frames))
	}
	if n := f.Notes(); len(n) != 1 || n[0].S != "no data" {
		t.Errorf("notes %v, want one \"no data\"", n)
	}
	gray := figuretest.Hex(figure.Gray)
	carets := map[int]int{}
	for _, p := range f.Paths {
		if p.Stroke != gray && p.Fill != gray {
			continue
		}
		in := -1
		for i, r := range f.Frames {
			if p.Points[0][0] >= r.X0 && p.Points[0][0] <= r.X1 {
				in = i
			}
		}
		if in < 0 {
			t.Errorf("bar path %v in no panel", p.Points)
			continue
		}
		r := f.Frames[in]
		for _, pt := range p.Points {
			if pt[1] < r.Y0-0.01 || pt[1] > r.Y1+0.01 {
				t.Errorf("panel %d: bar point %v outside the frame's y [%g, %g]", in, pt, r.Y0, r.Y1)
			}
		}
		if p.Fill == gray && p.Closed && len(p.Points) == 3 {
			carets[in]++
		}
	}
	// Both panels: bar 0 cut at both ends, bar 2 at the top.
	if carets[0] != 3 || carets[1] != 3 {
		t.Errorf("carets per panel %v, want 3 and 3", carets)
	}
	if bad := f.Check(false); len(bad) > 0 {
		t.Errorf("style: %v", bad)
	}
}
