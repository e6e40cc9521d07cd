// Package figure is the one style of emosel's figures and saves them:
// gonum/plot panels with a frame, fonts sized for the report, one palette
// (three emotion colours, a set palette, gray for controls, a depth
// ramp for layers), a tick marker that labels an axis in one format
// (integers on count axes), empty panels that say why they are empty,
// and error bars clipped to their possible range with a caret at a
// clipped end.
//
// Every figure is Width wide, so report.html, whose column is
// DisplayWidth CSS px, shows all of them at one scale and the font sizes
// below are the sizes a reader sees (DisplayPx converts).
//
// Layout: figure.go (sizes, saving), style.go (fonts, colours, panels),
// ticks.go (Ticks), errorbars.go (YErrorBars); figuretest parses the
// written SVGs for tests.
//
// Errors come from gonum/plot or the file system and name the figure;
// misuse (an empty grid, rows of unequal length) panics.
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

// Width is the width of every figure, DPI the resolution of its PNG,
// and DisplayWidth the width in CSS px of report.html's column (its
// body's max-width, 62em of 16 px), at which the report shows a PNG
// Width wide (1500 px at DPI).
const (
	Width        = 10 * vg.Inch
	DPI          = 150
	DisplayWidth = 992
)

// MinDisplayPx is the smallest text size, in CSS px as the report shows
// it, that the figures use; the tests hold every text to it.
const MinDisplayPx = 9

// DisplayPx returns the size in CSS px at which report.html shows a
// length l of a figure w wide: the PNG is w at DPI, shrunk to fit
// DisplayWidth and never enlarged.
func DisplayPx(l, w vg.Length) float64 {
	shown := min(w.Points()/72*DPI, DisplayWidth)
	return l.Points() * shown / w.Points()
}

// Save writes p, Width wide and h high (0 means Width*0.4), to
// base+".svg" and base+".png", each through a temporary file renamed
// into place, so a reader never sees a partial figure.
func Save(p *plot.Plot, h vg.Length, base string) error {
	return SaveTiles([][]*plot.Plot{{p}}, h, base)
}

// SaveTiles draws the plots in a grid of rows×cols tiles (row-major, nil
// entries left blank), Width wide and h high (0 means 0.4*Width per
// row), into one figure, as Save does. The data areas of the tiles are
// aligned and equally sized.
func SaveTiles(plots [][]*plot.Plot, h vg.Length, base string) error {
	rows := len(plots)
	if rows == 0 || len(plots[0]) == 0 {
		panic(fmt.Sprintf("figure: %s has no plots", base))
	}
	cols := len(plots[0])
	for i, r := range plots {
		if len(r) != cols {
			panic(fmt.Sprintf("figure: %s: row %d has %d plots, row 0 has %d", base, i, len(r), cols))
		}
	}
	if h == 0 {
		h = vg.Length(rows) * 0.4 * Width
	}
	pad := vg.Points(4)
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: 2 * pad, PadY: 2 * pad,
		PadTop: pad, PadBottom: pad, PadLeft: pad, PadRight: 2 * pad}
	restore := margins(plots)
	defer restore()
	err := render(Width, h, base, func(c vg.CanvasSizer) {
		canvases := plot.Align(plots, t, draw.New(c))
		for i := range plots {
			for j := range plots[i] {
				if plots[i][j] != nil {
					plots[i][j].Draw(canvases[i][j])
				}
			}
		}
	})
	if err != nil {
		return fmt.Errorf("figure %s: %w", base, err)
	}
	return nil
}

// Margin is the share of an axis' range added at each end when a figure
// is drawn, so that marks at the data's extremes clear the frame.
const Margin = 0.04

// margins widens every axis of the plots by Margin (an empty range,
// Min == Max, to ±1 around it first, as gonum would), and further where
// inset says, and returns a func that puts the ranges back.
func margins(plots [][]*plot.Plot) func() {
	type saved struct {
		a        *plot.Axis
		min, max float64
	}
	var s []saved
	for _, row := range plots {
		for _, p := range row {
			if p == nil {
				continue
			}
			for _, a := range []*plot.Axis{&p.X, &p.Y} {
				s = append(s, saved{a, a.Min, a.Max})
				if a.Min == a.Max && !isInf(a.Min) {
					a.Min, a.Max = a.Min-1, a.Max+1
				}
				if d := a.Max - a.Min; d > 0 && !isInf(d) {
					a.Min -= Margin * d
					a.Max += Margin * d
					inset(a)
				}
			}
		}
	}
	return func() {
		for _, v := range s {
			v.a.Min, v.a.Max = v.min, v.max
		}
	}
}

// inset widens a numeric axis whose outermost tick lies within 5% of its
// range of an end, so that the tick's label stays beside the frame: a
// label sticking out above or below would shift its panel's title or
// axis label against the other panels of the row.
func inset(a *plot.Axis) {
	t, ok := a.Tick.Marker.(Ticks)
	if !ok {
		return
	}
	ticks := t.Ticks(a.Min, a.Max)
	if len(ticks) == 0 {
		return
	}
	d := 0.05 * (a.Max - a.Min)
	if top := ticks[len(ticks)-1].Value; a.Max-top < d {
		a.Max = top + d
	}
	if bottom := ticks[0].Value; bottom-a.Min < d {
		a.Min = bottom - d
	}
}

// render draws into an SVG and a PNG canvas of w×h and writes both.
func render(w, h vg.Length, base string, draw func(vg.CanvasSizer)) error {
	svg := vgsvg.New(w, h)
	draw(svg)
	if err := atomicfile.Write(base+".svg", func(w io.Writer) error { _, err := svg.WriteTo(w); return err }); err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))
	draw(img)
	return atomicfile.Write(base+".png", func(w io.Writer) error { _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); return err })
}
