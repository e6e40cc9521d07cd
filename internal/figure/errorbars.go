package figure

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Bar is one vertical error bar: at X, from Low to High.
type Bar struct{ X, Low, High float64 }

// YErrorBars draws vertical error bars (a plot.Plotter and
// plot.DataRanger) clipped to [Min, Max], the range their quantity can
// take (e.g. an F1 change of at least -100%), and to the y axis when it
// is narrower. An end that was clipped gets a caret (a filled triangle
// pointing on, past the clip) instead of a flat cap, so that a reader
// sees the bar goes further.
type YErrorBars struct {
	Bars     []Bar
	Min, Max float64
	draw.LineStyle
	CapWidth vg.Length
}

// NewYErrorBars returns bars in Gray, ThinWidth, clipped to [min, max]
// (±Inf for no bound). Bars with a NaN end are left out.
func NewYErrorBars(bars []Bar, min, max float64) *YErrorBars {
	var ok []Bar
	for _, b := range bars {
		if !math.IsNaN(b.X) && !math.IsNaN(b.Low) && !math.IsNaN(b.High) && !math.IsInf(b.X, 0) {
			if b.Low > b.High {
				b.Low, b.High = b.High, b.Low
			}
			ok = append(ok, b)
		}
	}
	return &YErrorBars{Bars: ok, Min: min, Max: max,
		LineStyle: draw.LineStyle{Color: Gray, Width: ThinWidth}, CapWidth: vg.Points(5)}
}

// clip returns b clipped to [lo, hi] and whether each end was cut.
func clip(b Bar, lo, hi float64) (Bar, bool, bool) {
	cutLo, cutHi := b.Low < lo, b.High > hi
	if cutLo {
		b.Low = lo
	}
	if cutHi {
		b.High = hi
	}
	return b, cutLo, cutHi
}

// DataRange implements plot.DataRanger: the bars as clipped to [Min, Max].
func (e *YErrorBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax, ymin, ymax = math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, b := range e.Bars {
		b, _, _ = clip(b, e.Min, e.Max)
		if b.Low > b.High {
			continue // wholly outside
		}
		xmin, xmax = math.Min(xmin, b.X), math.Max(xmax, b.X)
		ymin, ymax = math.Min(ymin, b.Low), math.Max(ymax, b.High)
	}
	return xmin, xmax, ymin, ymax
}

// Plot implements plot.Plotter.
func (e *YErrorBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	lo, hi := math.Max(e.Min, p.Y.Min), math.Min(e.Max, p.Y.Max)
	for _, b := range e.Bars {
		b, cutLo, cutHi := clip(b, lo, hi)
		if b.Low > b.High {
			continue
		}
		x, yl, yh := trX(b.X), trY(b.Low), trY(b.High)
		c.StrokeLine2(e.LineStyle, x, yl, x, yh)
		e.end(&c, x, yl, cutLo, -1)
		e.end(&c, x, yh, cutHi, 1)
	}
}

// end draws a flat cap, or a caret pointing up (dir 1) or down (-1)
// whose tip is at y when the bar was clipped there.
func (e *YErrorBars) end(c *draw.Canvas, x, y vg.Length, cut bool, dir vg.Length) {
	w := e.CapWidth / 2
	if !cut {
		c.StrokeLine2(e.LineStyle, x-w, y, x+w, y)
		return
	}
	w *= 1.3
	h := 2 * w
	var path vg.Path
	path.Move(vg.Point{X: x, Y: y})
	path.Line(vg.Point{X: x - w, Y: y - dir*h})
	path.Line(vg.Point{X: x + w, Y: y - dir*h})
	path.Close()
	c.SetColor(e.Color)
	c.Fill(path)
}
