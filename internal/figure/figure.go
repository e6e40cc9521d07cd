// Package figure saves gonum/plot figures as SVG and PNG, atomically, for
// the example commands' reports.
package figure

import (
	"fmt"
	"io"

	"github.com/emosel/emosel/internal/atomicfile"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Width and Height are the default figure size; DPI is the PNG resolution.
const (
	Width  = 6 * vg.Inch
	Height = 4 * vg.Inch
	DPI    = 150
)

// Save writes p to base+".svg" and base+".png", each through a temporary
// file renamed into place, so a reader never sees a partial figure. w and
// h of 0 mean Width and Height.
func Save(p *plot.Plot, w, h vg.Length, base string) error {
	return render(w, h, base, func(c vg.CanvasSizer) { p.Draw(draw.New(c)) })
}

// render draws into an SVG and a PNG canvas of w×h (0 means the default)
// and writes both.
func render(w, h vg.Length, base string, draw func(vg.CanvasSizer)) error {
	if w == 0 {
		w = Width
	}
	if h == 0 {
		h = Height
	}
	svg := vgsvg.New(w, h)
	draw(svg)
	if err := atomicfile.Write(base+".svg", func(w io.Writer) error { _, err := svg.WriteTo(w); return err }); err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	draw(img)
	return atomicfile.Write(base+".png", func(w io.Writer) error { _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); return err })
}

// SaveTiles draws the plots in a grid of rows×cols tiles (row-major, nil
// entries left blank) into one figure, as Save does.
func SaveTiles(plots [][]*plot.Plot, w, h vg.Length, base string) error {
	rows := len(plots)
	if rows == 0 {
		return fmt.Errorf("figure %s: no plots", base)
	}
	cols := len(plots[0])
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	return render(w, h, base, func(c vg.CanvasSizer) {
		canvases := plot.Align(plots, t, draw.New(c))
		for i := range plots {
			for j := range plots[i] {
				if plots[i][j] != nil {
					plots[i][j].Draw(canvases[i][j])
				}
			}
		}
	})
}
