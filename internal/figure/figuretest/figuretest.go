// Package figuretest reads back the SVGs that package figure writes, for
// tests: the texts with their sizes and places, the panels' frames, the
// tick labels of each frame and the notes of empty panels, and checks
// them against the style (readable text, one tick format per axis,
// integer ticks on count axes, no tick labels outside a panel).
//
// It understands the subset of SVG that gonum's vgsvg writes: one
// flipping root group, paths with M/L/Z data and texts with a style.
// Errors name the file or the text.
package figuretest

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"github.com/emosel/emosel/internal/figure"
)

// Text is one text element. X and Y are its start and baseline in
// points, y up as gonum draws; Turned texts are inside a rotation (slanted
// tick labels, y-axis labels) and their X, Y are not page positions.
type Text struct {
	S      string
	Size   float64 // font size, points
	Fill   string  // fill colour, "#RRGGBB"
	X, Y   float64
	Turned bool
}

// Rect is an axis-aligned rectangle in points, y up.
type Rect struct{ X0, Y0, X1, Y1 float64 }

// Figure is what a test needs of one SVG.
type Figure struct {
	Name          string
	Width, Height float64 // points
	Texts         []Text
	// Frames are the panels: stroked, unfilled rectangles in figure.Ink,
	// at least 20 pt a side, as figure.New draws around a data area.
	Frames []Rect
	// Paths are the paths outside any rotated group (frames included).
	Paths []Path
}

// Path is one path element: its vertices (points, y up; arcs and curves
// left out), whether it is closed, and its fill and stroke colours
// ("none" or "#RRGGBB").
type Path struct {
	Points       [][2]float64
	Closed       bool
	Fill, Stroke string
}

// Read parses the SVG file at path.
func Read(path string) (*Figure, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fig, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fig.Name = path
	return fig, nil
}

// Parse reads an SVG written by vgsvg.
func Parse(r io.Reader) (*Figure, error) {
	d := xml.NewDecoder(r)
	fig := &Figure{}
	depth := 0 // open <g> elements
	var cur *Text
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range t.Attr {
				attr[a.Name.Local] = a.Value
			}
			switch t.Name.Local {
			case "svg":
				if fig.Width, err = points(attr["width"]); err != nil {
					return nil, err
				}
				if fig.Height, err = points(attr["height"]); err != nil {
					return nil, err
				}
			case "g":
				depth++
			case "path":
				st := styles(attr["style"])
				if depth == 1 {
					fig.Paths = append(fig.Paths, path(attr["d"], st))
				}
				if r, ok := frame(attr["d"], st); ok && depth == 1 {
					fig.Frames = append(fig.Frames, r)
				}
			case "text":
				st := styles(attr["style"])
				size, err := points(st["font-size"])
				if err != nil {
					return nil, fmt.Errorf("text font-size: %w", err)
				}
				x, _ := strconv.ParseFloat(attr["x"], 64)
				y, _ := strconv.ParseFloat(attr["y"], 64)
				fill := st["fill"]
				if fill == "" {
					fill = "#000000"
				}
				cur = &Text{Size: size, Fill: strings.ToUpper(fill), X: x, Y: -y, Turned: depth > 1}
			}
		case xml.CharData:
			if cur != nil {
				cur.S += string(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "g":
				depth--
			case "text":
				if cur != nil {
					fig.Texts = append(fig.Texts, *cur)
					cur = nil
				}
			}
		}
	}
	if fig.Width <= 0 {
		return nil, fmt.Errorf("no svg width")
	}
	return fig, nil
}

// points parses "12px", "12pt" or "12" (vgsvg writes points in both).
func points(s string) (float64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "px"), "pt")
	return strconv.ParseFloat(s, 64)
}

func styles(s string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

func hex(c interface{ RGBA() (r, g, b, a uint32) }) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

// path parses M and L commands of vgsvg's path data ("M1,2L3,4Z").
func path(d string, st map[string]string) Path {
	p := Path{Fill: strings.ToUpper(st["fill"]), Stroke: strings.ToUpper(st["stroke"])}
	if p.Fill == "" {
		p.Fill = "#000000"
	}
	if p.Stroke == "" {
		p.Stroke = "none"
	}
	p.Closed = strings.HasSuffix(strings.TrimSpace(d), "Z")
	for _, seg := range strings.FieldsFunc(d, func(r rune) bool { return r == 'M' || r == 'L' || r == 'Z' }) {
		a, b, ok := strings.Cut(seg, ",")
		if !ok {
			continue // an arc or curve
		}
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 == nil && err2 == nil {
			p.Points = append(p.Points, [2]float64{x, y})
		}
	}
	return p
}

// Hex is the colour's "#RRGGBB" as the paths and texts spell it.
func Hex(c interface{ RGBA() (r, g, b, a uint32) }) string { return hex(c) }

// frame reports whether a path is a panel's frame and returns it.
func frame(d string, st map[string]string) (Rect, bool) {
	if st["fill"] != "none" || !strings.EqualFold(st["stroke"], hex(figure.Ink)) {
		return Rect{}, false
	}
	d = strings.TrimSpace(d)
	if !strings.HasPrefix(d, "M") || !strings.HasSuffix(d, "Z") {
		return Rect{}, false
	}
	var xs, ys []float64
	for _, seg := range strings.FieldsFunc(strings.TrimSuffix(d[1:], "Z"), func(r rune) bool { return r == 'L' }) {
		a, b, ok := strings.Cut(seg, ",")
		if !ok {
			return Rect{}, false
		}
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil {
			return Rect{}, false
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	if len(xs) != 4 {
		return Rect{}, false
	}
	r := Rect{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for i := range xs {
		r.X0, r.X1 = math.Min(r.X0, xs[i]), math.Max(r.X1, xs[i])
		r.Y0, r.Y1 = math.Min(r.Y0, ys[i]), math.Max(r.Y1, ys[i])
	}
	for i := range xs { // every corner on the box: axis-aligned
		if (xs[i] != r.X0 && xs[i] != r.X1) || (ys[i] != r.Y0 && ys[i] != r.Y1) {
			return Rect{}, false
		}
	}
	if r.X1-r.X0 < 20 || r.Y1-r.Y0 < 20 {
		return Rect{}, false
	}
	return r, true
}

// DisplayPx is the size in CSS px at which report.html shows a text of
// size points in this figure.
func (f *Figure) DisplayPx(size float64) float64 {
	return figure.DisplayPx(vg.Points(size), vg.Points(f.Width))
}

// numeric reports whether a text is a number (a numeric tick label).
func numeric(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// YTicks returns the numeric, unturned texts left of r and within its
// height: its y tick labels.
func (f *Figure) YTicks(r Rect) []Text {
	var out []Text
	for _, t := range f.Texts {
		if !t.Turned && numeric(t.S) && t.X < r.X0 && t.X > r.X0-6*t.Size-20 &&
			t.Y >= r.Y0-0.8*t.Size && t.Y <= r.Y1+t.Size {
			out = append(out, t)
		}
	}
	return out
}

// XTicks returns the numeric, unturned texts just below r and within its
// width: its x tick labels.
func (f *Figure) XTicks(r Rect) []Text {
	var out []Text
	for _, t := range f.Texts {
		if !t.Turned && numeric(t.S) && t.Y < r.Y0-0.8*t.Size && t.Y > r.Y0-3*t.Size-10 &&
			t.X >= r.X0-3*t.Size && t.X <= r.X1+t.Size {
			out = append(out, t)
		}
	}
	return out
}

// Notes returns the texts of empty panels (figure.Empty), by their
// colour.
func (f *Figure) Notes() []Text {
	var out []Text
	for _, t := range f.Texts {
		if t.Fill == hex(figure.Gray) {
			out = append(out, t)
		}
	}
	return out
}

// Format returns the format of a numeric label: 'f' or 'e' and its
// number of decimals ("-100" is f0, "2.50" f2, "1.5e+08" e1).
func Format(s string) (kind byte, decimals int) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	kind = 'f'
	if m, _, ok := strings.Cut(s, "e"); ok {
		kind, s = 'e', m
	}
	if _, frac, ok := strings.Cut(s, "."); ok {
		decimals = len(frac)
	}
	return kind, decimals
}

// Check returns the figure's faults against the style: a text shown
// below figure.MinDisplayPx; tick labels of one axis in more than one
// format; with counts, y tick labels that are not whole numbers; titles
// of a row of panels at different heights; and numeric labels that
// belong to no panel (the axes of an empty panel).
func (f *Figure) Check(counts bool) []string {
	var bad []string
	for _, t := range f.Texts {
		if px := f.DisplayPx(t.Size); px < figure.MinDisplayPx {
			bad = append(bad, fmt.Sprintf("%q is %.1f px in the report, below %d", t.S, px, figure.MinDisplayPx))
		}
	}
	owned := map[Text]bool{}
	for i, r := range f.Frames {
		for axis, ticks := range map[string][]Text{"x": f.XTicks(r), "y": f.YTicks(r)} {
			var formats []string
			seen := map[string]bool{}
			for _, t := range ticks {
				owned[t] = true
				k, d := Format(t.S)
				if key := fmt.Sprintf("%c%d", k, d); !seen[key] {
					seen[key] = true
					formats = append(formats, t.S)
				}
				if counts && axis == "y" {
					if v, _ := strconv.ParseFloat(t.S, 64); v != math.Trunc(v) || d != 0 {
						bad = append(bad, fmt.Sprintf("panel %d: count tick %q is not a whole number", i, t.S))
					}
				}
			}
			if len(formats) > 1 {
				bad = append(bad, fmt.Sprintf("panel %d: %s ticks in %d formats: %s", i, axis, len(formats), strings.Join(formats, ", ")))
			}
		}
	}
	// Titles above the frames of one row share a baseline.
	rowY := map[float64][]float64{} // frame top → title baselines
	title := figure.TitleSize.Points()
	for _, r := range f.Frames {
		for _, t := range f.Texts {
			if !t.Turned && t.Size == title && t.Y > r.Y1 && t.Y < r.Y1+3*title && t.X >= r.X0-title && t.X <= r.X1 {
				top := math.Round(r.Y1)
				rowY[top] = append(rowY[top], t.Y)
			}
		}
	}
	for top, ys := range rowY {
		if lo, hi := slices.Min(ys), slices.Max(ys); hi-lo > 0.5 {
			bad = append(bad, fmt.Sprintf("titles of the row of panels topped at %.0f pt sit %.1f pt apart", top, hi-lo))
		}
	}
	for _, t := range f.Texts {
		if !t.Turned && numeric(t.S) && !owned[t] {
			bad = append(bad, fmt.Sprintf("label %q at (%.0f, %.0f) is in no panel", t.S, t.X, t.Y))
		}
	}
	return bad
}
