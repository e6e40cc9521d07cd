package figure

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Font sizes. Shown at DisplayWidth, a point of a Width-wide figure is
// 992/720 ≈ 1.38 CSS px, so ticks and legends read at about 12.4 px,
// axis labels and notes at 13.8 px and titles at 15.2 px (the report's
// text is 16 px).
var (
	TitleSize  = vg.Points(11)
	LabelSize  = vg.Points(10)
	TickSize   = vg.Points(9)
	LegendSize = vg.Points(9)
	NoteSize   = vg.Points(10)
)

// Face is the typeface of all text.
var Face = font.Font{Typeface: "Liberation", Variant: "Sans"}

// Line widths and the radius of point marks.
var (
	LineWidth = vg.Points(1.5) // data lines
	ThinWidth = vg.Points(0.8) // frames, axes, ticks, error bars, many-layer lines
	GridWidth = vg.Points(0.4) // grid lines
	TickLen   = vg.Points(3.5) // tick marks, outside the frame
	Radius    = vg.Points(2.5) // point marks
	Dashes    = []vg.Length{vg.Points(4), vg.Points(2.5)}
)

// Colours: Ink for text and frames; Studied for the network under study
// or the selective neurons where no emotion colour applies; Gray for
// controls (random draws, chance, the random network); GridColor for
// grid lines.
var (
	Ink       = color.NRGBA{0x22, 0x22, 0x22, 0xff}
	Studied   = color.NRGBA{0x00, 0x5a, 0x9c, 0xff}
	Gray      = color.NRGBA{0x80, 0x80, 0x80, 0xff}
	GridColor = color.NRGBA{0xe4, 0xe4, 0xe4, 0xff}
)

// Emotions colours the three emotions in stimuli's order (pleasant,
// neutral, unpleasant) with Okabe–Ito colours (readable with
// colour-blindness): bluish green, blue, vermillion.
var Emotions = [3]color.NRGBA{
	{0x00, 0x9e, 0x73, 0xff},
	{0x00, 0x72, 0xb2, 0xff},
	{0xd5, 0x5e, 0x00, 0xff},
}

// Emotion returns the colour of emotion e (0, 1, 2), Ink for any other.
func Emotion(e int) color.NRGBA {
	if e < 0 || e >= len(Emotions) {
		return Ink
	}
	return Emotions[e]
}

// Palette colours stimulus sets in order (orange, sky blue, reddish
// purple, then the rest of Okabe–Ito), apart from the emotion colours.
var Palette = []color.NRGBA{
	{0xe6, 0x9f, 0x00, 0xff},
	{0x56, 0xb4, 0xe9, 0xff},
	{0xcc, 0x79, 0xa7, 0xff},
	{0x00, 0x00, 0x00, 0xff},
	{0x99, 0x66, 0x00, 0xff},
}

// Categories colours the classes of a K-category design (up to eight,
// then again from the first): Okabe–Ito's colours, readable with
// colour-blindness, ordered so that neighbours contrast, with its yellow
// darkened to read on white. Gray stays for controls.
var Categories = []color.NRGBA{
	{0x00, 0x72, 0xb2, 0xff}, // blue
	{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	{0x00, 0x9e, 0x73, 0xff}, // bluish green
	{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
	{0xe6, 0x9f, 0x00, 0xff}, // orange
	{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	{0x99, 0x66, 0x00, 0xff}, // brown (darkened yellow)
	{0x00, 0x00, 0x00, 0xff}, // black
}

// Category returns the colour of class i of a K-category design.
func Category(i int) color.NRGBA {
	return Categories[((i%len(Categories))+len(Categories))%len(Categories)]
}

// Set returns the colour of the i-th set.
func Set(i int) color.NRGBA { return Palette[((i%len(Palette))+len(Palette))%len(Palette)] }

// Faded returns c at a quarter opacity, for bands.
func Faded(c color.NRGBA) color.NRGBA { c.A = 0x40; return c }

// depthRamp is viridis from 0 to 0.75: dark purple, blue, teal, green.
var depthRamp = [][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}}

// Depth returns the colour of layer i of n, from dark purple (first) to
// green (last).
func Depth(i, n int) color.NRGBA {
	t := 0.0
	if n > 1 {
		t = math.Min(1, math.Max(0, float64(i)/float64(n-1)))
	}
	f := t * float64(len(depthRamp)-1)
	k := min(int(f), len(depthRamp)-2)
	f -= float64(k)
	var c [3]uint8
	for j := range c {
		c[j] = uint8(math.Round(depthRamp[k][j] + f*(depthRamp[k+1][j]-depthRamp[k][j])))
	}
	return color.NRGBA{c[0], c[1], c[2], 0xff}
}

func textStyle(size vg.Length, x draw.XAlignment, y draw.YAlignment) text.Style {
	return text.Style{Color: Ink, Font: font.From(Face, size), XAlign: x, YAlign: y, Handler: plot.DefaultTextHandler}
}

// New returns a framed panel in the style: its title, numeric axes with
// Ticks, axis lines on the frame, ticks outside it, and a legend at the
// top right inside it.
func New(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(TitleSize, draw.XCenter, draw.YTop)
	p.Title.Padding = vg.Points(3)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = textStyle(LabelSize, draw.XCenter, draw.YBottom)
		a.Label.Padding = vg.Points(2)
		a.Tick.Marker = Ticks{}
		a.Tick.LineStyle = draw.LineStyle{Color: Ink, Width: ThinWidth}
		a.Tick.Length = TickLen
		a.LineStyle = draw.LineStyle{Color: Ink, Width: ThinWidth}
		a.Padding = 0
	}
	p.X.Tick.Label = textStyle(TickSize, draw.XCenter, draw.YTop)
	p.Y.Tick.Label = textStyle(TickSize, draw.XRight, draw.YCenter)
	p.Legend.TextStyle = textStyle(LegendSize, draw.XLeft, draw.YBottom)
	p.Legend.Top = true
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(3), -vg.Points(3)
	p.Legend.ThumbnailWidth = vg.Points(16)
	p.Add(frame{})
	return p
}

// frame strokes the edges of the data area, on the axis lines.
type frame struct{}

func (frame) Plot(c draw.Canvas, p *plot.Plot) {
	d := ThinWidth / 2
	r := vg.Rectangle{Min: vg.Point{X: c.Min.X - d, Y: c.Min.Y - d}, Max: vg.Point{X: c.Max.X + d, Y: c.Max.Y + d}}
	c.SetLineStyle(draw.LineStyle{Color: Ink, Width: ThinWidth})
	c.Stroke(r.Path())
}

// Empty returns a panel without axes or frame that shows its title and,
// in its middle, why it has no data (e.g. "no selective neuron").
func Empty(title, why string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(TitleSize, draw.XCenter, draw.YTop)
	p.Title.Padding = vg.Points(3)
	p.HideAxes()
	p.Add(note(why))
	return p
}

// note writes its text in the middle of the data area.
type note string

func (n note) Plot(c draw.Canvas, p *plot.Plot) {
	s := textStyle(NoteSize, draw.XCenter, draw.YCenter)
	s.Color = Gray
	c.FillText(s, c.Center(), string(n))
}

// Nominal labels the x axis of p with names at 0, 1, …, len(names)-1,
// spanning half a step beyond the ends; slanted labels are turned by 45°
// (for layer names).
func Nominal(p *plot.Plot, names []string, slanted bool) {
	ticks := make([]plot.Tick, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: n}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	if slanted {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}
}

// Counts makes the y axis of p a count axis: integer ticks, from 0 to
// at least 1. Call it after adding the data.
func Counts(p *plot.Plot) {
	p.Y.Tick.Marker = Ticks{Integer: true}
	p.Y.Min = 0
	if !(p.Y.Max >= 1) {
		p.Y.Max = 1
	}
}

// Headroom raises the top of the y axis by frac of its range, so that a
// legend at the top does not cover the data.
func Headroom(p *plot.Plot, frac float64) {
	if d := p.Y.Max - p.Y.Min; d > 0 && !isInf(d) {
		p.Y.Max += frac * d
	}
}

// Grid adds light horizontal grid lines at the y ticks.
func Grid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Width = 0
	g.Horizontal = draw.LineStyle{Color: GridColor, Width: GridWidth}
	p.Add(g)
}

// Line returns a line through xys in colour c, dashed if asked, with
// point marks (circles, or squares when dashed) unless marks is false.
// Add both to the plot and to its legend; s is nil without marks.
func Line(xys plotter.XYs, c color.Color, dashed, marks bool) (*plotter.Line, *plotter.Scatter, error) {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return nil, nil, err
	}
	l.Color = c
	l.Width = LineWidth
	if dashed {
		l.Dashes = Dashes
	}
	if !marks {
		return l, nil, nil
	}
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, nil, err
	}
	s.Color = c
	s.Radius = Radius
	s.Shape = draw.CircleGlyph{}
	if dashed {
		s.Shape = draw.BoxGlyph{}
	}
	return l, s, nil
}

func isInf(x float64) bool { return math.IsInf(x, 0) || math.IsNaN(x) }
