package stimuli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// MaxClasses bounds the number of categories of a Design.
const MaxClasses = 64

// Design says how a set's images get their categories beyond the paper's
// valence design. Exactly one of Rating and Label is set; the zero Design
// is the paper's: valence cut by Config.Thresholds into pleasant, neutral
// and unpleasant (Image.Category), with Class equal to the Category.
//
// With Rating, the numeric column of that name is cut at Cuts, strictly
// ascending, into K = len(Cuts)+1 categories, the lowest ratings first. A
// rating below the first cut is in category 0, one above the last in
// category K-1; the inner categories hold the ratings from their lower cut
// (inclusive) to their upper one (exclusive), except that the last inner
// category also holds a rating equal to the last cut. So a rating on a cut
// is never in an extreme category, which for two cuts is the paper's
// neutral band [Low, High]; with a single cut, a rating on it is high.
// Names defaults to low, high (K = 2), low,
// middle, high (K = 3) or <rating>1 … <rating>K.
//
// With Label, the categorical column of that name names each image's
// category; an empty cell or "unknown" leaves the image Unknown (excluded
// from every analysis). Names, if given, lists the categories in order and
// any other value is a bad row; otherwise the categories are the distinct
// values found, sorted, so two sets with the same categories number them
// alike.
type Design struct {
	Rating string    `json:"rating,omitempty"`
	Cuts   []float64 `json:"cuts,omitempty"`
	Label  string    `json:"label,omitempty"`
	Names  []string  `json:"names,omitempty"`
}

// IsDefault reports whether d is the paper's valence design.
func (d Design) IsDefault() bool { return d.Rating == "" && d.Label == "" }

// K returns the number of categories the design defines before a set is
// read: len(Cuts)+1 for Rating, len(Names) for Label (0 when the names come
// from the set) and 3 for the default design.
func (d Design) K() int {
	switch {
	case d.Rating != "":
		return len(d.Cuts) + 1
	case d.Label != "":
		return len(d.Names)
	}
	return int(NumEmotions)
}

// String describes the design for run reports: "valence (pleasant,
// neutral, unpleasant)", "arousal cut at 3.5, 6 (low, middle, high)",
// "label category (face, object)".
func (d Design) String() string {
	names := strings.Join(d.Names, ", ")
	switch {
	case d.Rating != "":
		cuts := make([]string, len(d.Cuts))
		for i, c := range d.Cuts {
			cuts[i] = strconv.FormatFloat(c, 'g', -1, 64)
		}
		return fmt.Sprintf("%s cut at %s (%s)", d.Rating, strings.Join(cuts, ", "), names)
	case d.Label != "":
		if names == "" {
			names = "the values found"
		}
		return fmt.Sprintf("label %s (%s)", d.Label, names)
	}
	return "valence (pleasant, neutral, unpleasant)"
}

// ParseDesign builds a Design from the command-line forms: rating and a
// comma-separated list of cuts ("arousal", "3.5,6"), or label ("category"),
// and optionally comma-separated names. All empty is the default design.
func ParseDesign(rating, cuts, label, names string) (Design, error) {
	var d Design
	rating, label = strings.TrimSpace(rating), strings.TrimSpace(label)
	switch {
	case rating != "" && label != "":
		return d, fmt.Errorf("stimuli: a design is either a rating (%q) or a label (%q), not both", rating, label)
	case rating == "" && label == "" && strings.TrimSpace(cuts) != "":
		return d, fmt.Errorf("stimuli: thresholds %q need a rating column to cut", cuts)
	case rating == "" && label == "" && strings.TrimSpace(names) != "":
		return d, fmt.Errorf("stimuli: category names %q need a rating or a label column", names)
	case rating == "" && label == "":
		return d, nil
	}
	d.Rating, d.Label = rating, label
	if label != "" && strings.TrimSpace(cuts) != "" {
		return d, fmt.Errorf("stimuli: label %q takes no thresholds (got %q)", label, cuts)
	}
	if rating != "" {
		if strings.TrimSpace(cuts) == "" {
			return d, fmt.Errorf("stimuli: rating %q needs thresholds, e.g. 3.5,6", rating)
		}
		for _, f := range strings.Split(cuts, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return d, fmt.Errorf("stimuli: threshold %q of %q is not a number", strings.TrimSpace(f), cuts)
			}
			d.Cuts = append(d.Cuts, v)
		}
	}
	if strings.TrimSpace(names) != "" {
		for _, f := range strings.Split(names, ",") {
			d.Names = append(d.Names, strings.TrimSpace(f))
		}
	}
	if err := d.check(); err != nil {
		return d, err
	}
	return d.withNames(), nil
}

// withNames fills the default names of a rating design.
func (d Design) withNames() Design {
	if d.Rating == "" || len(d.Names) > 0 {
		return d
	}
	switch k := len(d.Cuts) + 1; k {
	case 2:
		d.Names = []string{"low", "high"}
	case 3:
		d.Names = []string{"low", "middle", "high"}
	default:
		for i := range k {
			d.Names = append(d.Names, fmt.Sprintf("%s%d", d.Rating, i+1))
		}
	}
	return d
}

// check reports a design that cannot classify anything sensibly.
func (d Design) check() error {
	if d.IsDefault() {
		return nil
	}
	if d.Rating != "" && d.Label != "" {
		return fmt.Errorf("stimuli: design has both a rating (%q) and a label (%q) column", d.Rating, d.Label)
	}
	if d.Rating != "" {
		if len(d.Cuts) == 0 {
			return fmt.Errorf("stimuli: rating %q needs at least one threshold", d.Rating)
		}
		for i, c := range d.Cuts {
			if math.IsNaN(c) || math.IsInf(c, 0) {
				return fmt.Errorf("stimuli: threshold %v of rating %q is not finite", c, d.Rating)
			}
			if i > 0 && !(c > d.Cuts[i-1]) {
				return fmt.Errorf("stimuli: thresholds %v of rating %q are not strictly ascending", d.Cuts, d.Rating)
			}
		}
		if len(d.Names) > 0 && len(d.Names) != len(d.Cuts)+1 {
			return fmt.Errorf("stimuli: %d thresholds make %d categories, but %d names are given (%q)", len(d.Cuts), len(d.Cuts)+1, len(d.Names), d.Names)
		}
	}
	if d.Label != "" && len(d.Names) == 1 {
		return fmt.Errorf("stimuli: label %q: one category name (%q); a design needs at least 2", d.Label, d.Names[0])
	}
	if k := d.K(); k > MaxClasses {
		return fmt.Errorf("stimuli: design has %d categories, at most %d are supported", k, MaxClasses)
	}
	seen := map[string]bool{}
	for _, n := range d.Names {
		switch {
		case n == "":
			return fmt.Errorf("stimuli: design names %q: a name is empty", d.Names)
		case strings.EqualFold(n, "unknown"):
			return fmt.Errorf("stimuli: design names %q: \"unknown\" is reserved for excluded images", d.Names)
		case strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "":
			return fmt.Errorf("stimuli: category name %q must be letters, digits, '.', '_' or '-' (it names output files)", n)
		case seen[strings.ToLower(n)]:
			return fmt.Errorf("stimuli: design names %q: %q is given twice", d.Names, n)
		}
		seen[strings.ToLower(n)] = true
	}
	return nil
}

// Classify returns the category of rating v under a rating design: its
// index in 0..K-1, or -1 for NaN. It panics on a label or default design.
func (d Design) Classify(v float64) int {
	if d.Rating == "" {
		panic("stimuli: Design.Classify needs a rating design")
	}
	if math.IsNaN(v) {
		return -1
	}
	k := len(d.Cuts) + 1
	switch {
	case v < d.Cuts[0]:
		return 0
	case v > d.Cuts[k-2]:
		return k - 1
	}
	// An inner category: the number of cuts at or below v, the last cut
	// belonging to the last inner category.
	c := 0
	for _, t := range d.Cuts[:k-2] {
		if v >= t {
			c++
		}
	}
	return max(c, 1)
}

// Unclassified is the Class of an Unknown image.
const Unclassified = -1

// ClassLabels returns the images' classes in order (Unclassified for
// Unknown images): the labels for a [len(s.Images), C] response matrix
// under the set's design, with len(s.Classes) categories.
func (s *Set) ClassLabels() []int {
	out := make([]int, len(s.Images))
	for i, im := range s.Images {
		out[i] = im.Class
	}
	return out
}

// ClassCounts returns the number of images per class, Unknown ones last.
func (s *Set) ClassCounts() []int {
	out := make([]int, len(s.Classes)+1)
	for _, im := range s.Images {
		if im.Class < 0 {
			out[len(s.Classes)]++
		} else {
			out[im.Class]++
		}
	}
	return out
}

// RatingValues returns the images' ratings under the design (valence for the
// default and label designs when the set has a valence column, else NaN).
func (s *Set) RatingValues() []float64 {
	out := make([]float64, len(s.Images))
	for i, im := range s.Images {
		out[i] = im.Rating
	}
	return out
}

// defaultClasses fills Classes, Class and Rating of a set loaded under the
// default design from the emotion categories and valences.
func (s *Set) defaultClasses() {
	s.Classes = []string{Pleasant.String(), Neutral.String(), Unpleasant.String()}
	for i := range s.Images {
		im := &s.Images[i]
		im.Class, im.Rating = int(im.Category), im.Valence
		if im.Category >= NumEmotions {
			im.Class = Unclassified
		}
	}
}

// SameClasses returns an error unless every set has the same categories in
// the same order, as comparing selective neurons across sets requires.
func SameClasses(sets []*Set) error {
	for _, s := range sets[min(1, len(sets)):] {
		if !slices.Equal(s.Classes, sets[0].Classes) {
			return fmt.Errorf("stimuli: set %s has the categories %q, set %s %q; a study compares the same categories in every set (name them with the design's names)",
				s.Name, s.Classes, sets[0].Name, sets[0].Classes)
		}
	}
	return nil
}

// parseDesign fills s.Images, s.Skipped and s.Classes from the raw ratings
// file under s.Design (not the default design). The valence column is
// optional; the design's column is required.
func (s *Set) parseDesign(raw []byte, oasis, skipBad bool) error {
	path, d := s.Ratings, s.Design
	r := csv.NewReader(bytes.NewReader(normalize(raw)))
	r.FieldsPerRecord = -1
	fail := func(line int, format string, args ...any) error {
		return BadRow{File: path, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	head, err := r.Read()
	if err == io.EOF {
		return fail(1, "file is empty")
	} else if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fail(pe.Line, "bad CSV: %v", pe.Err)
		}
		return fmt.Errorf("stimuli: %s: %w", path, err)
	}
	headLine, _ := r.FieldPos(0)
	fileName, valName := "file", "valence"
	if oasis {
		fileName, valName = "theme", "valence_mean"
	}
	column := d.Rating
	if d.Label != "" {
		column = d.Label
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		for _, w := range []string{fileName, valName, strings.ToLower(column)} {
			if h != w {
				continue
			}
			if _, dup := col[w]; dup {
				return fail(headLine, "header has two %q columns", w)
			}
			col[w] = i
		}
	}
	for _, w := range []string{fileName, strings.ToLower(column)} {
		if _, ok := col[w]; !ok {
			return fail(headLine, "header has no %q column (found %q)", w, head)
		}
	}
	fileCol, desCol := col[fileName], col[strings.ToLower(column)]
	valCol, hasVal := col[valName]
	need := max(fileCol, desCol) + 1

	names := map[string]int{} // lower-case name → class, when Names are given
	for i, n := range d.Names {
		names[strings.ToLower(n)] = i
	}
	var words []string // the label cell of each kept image, before classes are known
	seen := map[string]int{}
	var bad []BadRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fail(pe.Line, "bad CSV: %v", pe.Err)
			}
			return fmt.Errorf("stimuli: %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) < need {
			bad = append(bad, BadRow{path, line, fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(head))})
			continue
		}
		img := Image{Line: line, Valence: math.NaN(), Category: Unknown, Class: Unclassified, Rating: math.NaN()}
		why := s.imageFile(&img, rec[fileCol], oasis, seen, nil)

		if hasVal && valCol < len(rec) {
			if cell := strings.TrimSpace(rec[valCol]); cell != "" {
				v, err := strconv.ParseFloat(cell, 64)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
					why = append(why, fmt.Sprintf("column %q: %q is not a finite number", head[valCol], cell))
				}
				img.Valence, img.Rating = v, v
			}
		}
		cell := strings.TrimSpace(rec[desCol])
		word := ""
		if d.Rating != "" {
			v, err := strconv.ParseFloat(cell, 64)
			switch {
			case err != nil || math.IsNaN(v):
				why = append(why, fmt.Sprintf("column %q: %q is not a number", head[desCol], cell))
			case math.IsInf(v, 0):
				why = append(why, fmt.Sprintf("column %q: %q is not finite", head[desCol], cell))
			default:
				img.Rating, img.Class = v, d.Classify(v)
			}
		} else if cell != "" && !strings.EqualFold(cell, "unknown") {
			word = cell
			if len(d.Names) > 0 {
				c, ok := names[strings.ToLower(cell)]
				if !ok {
					why = append(why, fmt.Sprintf("column %q: %q is not one of the categories %q", head[desCol], cell, d.Names))
				}
				img.Class = c
			}
		}
		if len(why) > 0 {
			bad = append(bad, BadRow{path, line, strings.Join(why, "; ")})
			continue
		}
		s.Images = append(s.Images, img)
		words = append(words, word)
	}
	if len(bad) > 0 && !skipBad {
		return BadRows(bad)
	}
	s.Skipped = bad
	if len(s.Images) == 0 {
		return fmt.Errorf("%w: %s has no usable image rows (%d bad)", ErrRatings, path, len(bad))
	}
	s.Classes = slices.Clone(d.Names)
	if d.Label != "" && len(d.Names) == 0 {
		// The categories are the distinct values, sorted; names differing
		// only in case are one category, spelt as first met.
		first := map[string]string{}
		for _, w := range words {
			if _, ok := first[strings.ToLower(w)]; w != "" && !ok {
				first[strings.ToLower(w)] = w
			}
		}
		for _, w := range first {
			s.Classes = append(s.Classes, w)
		}
		slices.SortFunc(s.Classes, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for i, n := range s.Classes {
			names[strings.ToLower(n)] = i
		}
		for i, w := range words {
			if w != "" {
				s.Images[i].Class = names[strings.ToLower(w)]
			}
		}
		s.Design.Names = slices.Clone(s.Classes)
		if err := s.Design.check(); err != nil {
			return fmt.Errorf("%w: %s: column %q: %v", ErrRatings, path, head[desCol], err)
		}
	}
	if len(s.Classes) < 2 {
		return fmt.Errorf("%w: %s: column %q has %d categories (%q); a design needs at least 2", ErrRatings, path, head[desCol], len(s.Classes), s.Classes)
	}
	return nil
}
