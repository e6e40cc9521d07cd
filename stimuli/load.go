package stimuli

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrRatings is wrapped by every error about the content of a ratings file:
// each BadRow, and the BadRows error Load returns.
var ErrRatings = errors.New("stimuli: bad ratings")

// Ratings file names recognised by Load, in order of preference.
const (
	RatingsFile = "ratings.csv"
	OASISFile   = "OASIS.csv"
)

// maxRatings bounds the size of a ratings file Load will read.
const maxRatings = 64 << 20

// Image is one stimulus of a set.
type Image struct {
	File     string   // name as given in the ratings file (OASIS: "<Theme>.jpg")
	Path     string   // path on disk; "" for an in-memory set
	Valence  float64  // rating on the set's own scale
	Category Category // from the category column, else from the thresholds
	Line     int      // line of the ratings file that described it
	// Class is the image's category under the set's Design, an index into
	// Set.Classes, or Unclassified. Under the default design it is the
	// Category (Unknown is Unclassified).
	Class int
	// Rating is the design's rating (the valence under the default and
	// label designs; NaN where the set has no such column).
	Rating float64
}

// Set is a loaded stimulus set.
type Set struct {
	Name       string
	Dir        string     // "" for an in-memory set (Synthetic)
	Ratings    string     // path of the ratings file read
	Thresholds Thresholds // thresholds that classified the images
	Images     []Image    // kept rows, in file order
	Skipped    []BadRow   // rows left out because Config.SkipBad was set
	Design     Design     // as in Config, with the names filled in
	Classes    []string   // the design's K category names, Image.Class indexes it

	ratings []byte            // raw ratings file, hashed by Hash
	mem     map[string][]byte // image bytes of an in-memory set, by File
}

// Config adjusts Load. The zero value loads with the layout's default
// thresholds and fails on any bad row.
type Config struct {
	// Name is the set's name; "" means the base name of the directory.
	Name string
	// Thresholds classify valence. The zero value means DefaultThresholds
	// for ratings.csv and OASIS for OASIS.csv.
	Thresholds Thresholds
	// SkipBad skips bad rows, listing them in Set.Skipped, instead of
	// failing.
	SkipBad bool
	// Design gives the categories another way than valence thresholds; the
	// zero value is the paper's valence design.
	Design Design
}

// BadRow is a ratings row that could not be used. It is an error whose
// message is "file:line: reason" and which wraps ErrRatings.
type BadRow struct {
	File   string // ratings file path
	Line   int    // 1-based line number
	Reason string
}

func (b BadRow) Error() string { return fmt.Sprintf("%s:%d: %s", b.File, b.Line, b.Reason) }

// Unwrap returns ErrRatings.
func (b BadRow) Unwrap() error { return ErrRatings }

// BadRows is the error Load returns when rows are bad and Config.SkipBad is
// not set. It lists every bad row; its message shows the first 20, one per
// line.
type BadRows []BadRow

const maxShownRows = 20

func (b BadRows) Error() string {
	var s strings.Builder
	for i, r := range b {
		if i == maxShownRows {
			fmt.Fprintf(&s, "\n(and %d more bad rows; Config.SkipBad skips them)", len(b)-i)
			break
		}
		if i > 0 {
			s.WriteByte('\n')
		}
		s.WriteString(r.Error())
	}
	return s.String()
}

// Unwrap returns the rows, so errors.Is(err, ErrRatings) holds and
// errors.As finds the first BadRow.
func (b BadRows) Unwrap() []error {
	errs := make([]error, len(b))
	for i, r := range b {
		errs[i] = r
	}
	return errs
}

// Load reads the stimulus set in dir. The ratings come from dir/ratings.csv
// if it exists, else from dir/OASIS.csv (see the package documentation for
// both layouts). Every bad row is reported: by default Load fails with a
// BadRows error listing all of them; with cfg.SkipBad it skips them and
// lists them in Set.Skipped. A CSV syntax error (such as an unclosed quote)
// or a bad header fails Load even with SkipBad, since later rows cannot be
// trusted. A set with no usable rows is an error.
func Load(dir string, cfg Config) (*Set, error) {
	oasis := false
	path := filepath.Join(dir, RatingsFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, OASISFile)); err == nil {
			oasis, path = true, filepath.Join(dir, OASISFile)
		} else if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("stimuli: %s has neither %s nor %s: %w", dir, RatingsFile, OASISFile, fs.ErrNotExist)
		}
	}
	th := cfg.Thresholds
	if th == (Thresholds{}) {
		th = DefaultThresholds
		if oasis {
			th = OASIS
		}
	}
	if err := th.check(); err != nil {
		return nil, err
	}
	raw, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	name := cfg.Name
	if name == "" {
		name = filepath.Base(dir)
	}
	set := &Set{Name: name, Dir: dir, Ratings: path, Thresholds: th, ratings: raw}
	if !cfg.Design.IsDefault() {
		if err := cfg.Design.check(); err != nil {
			return nil, err
		}
		set.Design = cfg.Design.withNames()
		if err := set.parseDesign(raw, oasis, cfg.SkipBad); err != nil {
			return nil, err
		}
		return set, nil
	}
	if err := set.parse(raw, oasis, cfg.SkipBad); err != nil {
		return nil, err
	}
	set.defaultClasses()
	return set, nil
}

func readBounded(path string) (b []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stimuli: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			b, err = nil, fmt.Errorf("stimuli: close %s: %w", path, cerr)
		}
	}()
	b, err = io.ReadAll(io.LimitReader(f, maxRatings+1))
	if err != nil {
		return nil, fmt.Errorf("stimuli: %w", err)
	}
	if len(b) > maxRatings {
		return nil, fmt.Errorf("%w: %s is larger than %d MiB", ErrRatings, path, maxRatings>>20)
	}
	return b, nil
}

// normalize strips a UTF-8 byte-order mark and turns \r\n and bare \r line
// ends into \n, keeping the number of lines (so csv line numbers match the
// file as the user sees it).
func normalize(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
}

// parse fills s.Images (and s.Skipped) from the raw ratings file.
func (s *Set) parse(raw []byte, oasis, skipBad bool) error {
	path := s.Ratings
	r := csv.NewReader(bytes.NewReader(normalize(raw)))
	r.FieldsPerRecord = -1
	fail := func(line int, format string, args ...any) error {
		return BadRow{File: path, Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	syntax := func(err error) error {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fail(pe.Line, "bad CSV: %v", pe.Err)
		}
		return fmt.Errorf("stimuli: %s: %w", path, err)
	}

	head, err := r.Read()
	if err == io.EOF {
		return fail(1, "file is empty")
	} else if err != nil {
		return syntax(err)
	}
	headLine, _ := r.FieldPos(0)
	want := []string{"file", "valence", "category"}
	if oasis {
		want = []string{"theme", "valence_mean"}
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		for _, w := range want {
			if h != w {
				continue
			}
			if _, dup := col[w]; dup {
				return fail(headLine, "header has two %q columns", w)
			}
			col[w] = i
		}
	}
	for _, w := range want[:2] {
		if _, ok := col[w]; !ok {
			return fail(headLine, "header has no %q column (found %q)", w, head)
		}
	}
	catCol, hasCat := col["category"]
	fileCol, valCol := col[want[0]], col[want[1]]
	need := max(fileCol, valCol) + 1

	seen := map[string]int{} // cleaned file name → line first seen
	var bad []BadRow
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return syntax(err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) < need {
			bad = append(bad, BadRow{path, line, fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(head))})
			continue
		}
		var why []string
		img := Image{Line: line}

		// The image file.
		why = s.imageFile(&img, rec[fileCol], oasis, seen, why)

		// The valence.
		cell := strings.TrimSpace(rec[valCol])
		v, err := strconv.ParseFloat(cell, 64)
		switch {
		case err != nil || math.IsNaN(v):
			why = append(why, fmt.Sprintf("valence %q is not a number", cell))
		case math.IsInf(v, 0):
			why = append(why, fmt.Sprintf("valence %q is not finite", cell))
		}
		img.Valence = v
		img.Category = s.Thresholds.Classify(v)

		// An explicit category overrides the thresholds.
		if hasCat && catCol < len(rec) {
			if word := strings.TrimSpace(rec[catCol]); word != "" {
				c, err := ParseCategory(word)
				if err != nil {
					why = append(why, fmt.Sprintf("category %q is not pleasant, neutral, unpleasant or unknown", word))
				}
				img.Category = c
			}
		}

		if len(why) > 0 {
			bad = append(bad, BadRow{path, line, strings.Join(why, "; ")})
			continue
		}
		s.Images = append(s.Images, img)
	}
	if len(bad) > 0 && !skipBad {
		return BadRows(bad)
	}
	s.Skipped = bad
	if len(s.Images) == 0 {
		return fmt.Errorf("%w: %s has no usable image rows (%d bad)", ErrRatings, path, len(bad))
	}
	return nil
}

// imageFile sets img.File and img.Path from the file (or OASIS theme) cell
// and appends to why the reasons it is unusable. seen maps cleaned names
// to the line they were first seen on.
func (s *Set) imageFile(img *Image, cell string, oasis bool, seen map[string]int, why []string) []string {
	name := strings.TrimSpace(cell)
	if oasis {
		if name == "" {
			why = append(why, "theme is empty")
		} else {
			img.File = name + ".jpg"
		}
	} else {
		img.File = name
		if name == "" {
			why = append(why, "file name is empty")
		}
	}
	if img.File != "" {
		local := filepath.FromSlash(img.File)
		key := filepath.Clean(local)
		switch first, dup := seen[key]; {
		case !filepath.IsLocal(local):
			why = append(why, fmt.Sprintf("file %q is not a path inside %s", img.File, s.Dir))
		case dup:
			why = append(why, fmt.Sprintf("file %q is listed again (first on line %d)", img.File, first))
		default:
			seen[key] = img.Line
			p, reason := s.find(local, oasis)
			if reason != "" {
				why = append(why, reason)
			}
			img.Path = p
		}
	}
	return why
}

// find returns the path of image file name (already localised) and "" or
// the reason it is unusable. OASIS images may also sit in Images/ or
// images/, as in the OASIS distribution.
func (s *Set) find(name string, oasis bool) (string, string) {
	dirs := []string{""}
	if oasis {
		dirs = append(dirs, "Images", "images")
	}
	for _, d := range dirs {
		p := filepath.Join(s.Dir, d, name)
		st, err := os.Stat(p)
		switch {
		case err == nil && st.Mode().IsRegular():
			return p, ""
		case err == nil:
			return "", fmt.Sprintf("image %q is not a regular file", filepath.ToSlash(filepath.Join(d, name)))
		case !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Sprintf("image %q: %v", name, err)
		}
	}
	if oasis {
		return "", fmt.Sprintf("image %q does not exist (looked in %s and its Images folder)", filepath.ToSlash(name), s.Dir)
	}
	return "", fmt.Sprintf("image %q does not exist in %s", filepath.ToSlash(name), s.Dir)
}

// Counts returns the number of images per category.
func (s *Set) Counts() Counts {
	var c Counts
	for _, im := range s.Images {
		c[min(im.Category, Unknown)]++
	}
	return c
}

// Labels returns the images' categories in order: the labels for a
// [len(s.Images), C] response matrix.
func (s *Set) Labels() []Category {
	out := make([]Category, len(s.Images))
	for i, im := range s.Images {
		out[i] = im.Category
	}
	return out
}

// Valences returns the images' valence ratings in order.
func (s *Set) Valences() []float64 {
	out := make([]float64, len(s.Images))
	for i, im := range s.Images {
		out[i] = im.Valence
	}
	return out
}

// Open opens the bytes of image i, from disk or from memory.
func (s *Set) Open(i int) (io.ReadCloser, error) {
	im := s.Images[i]
	if s.mem != nil {
		b, ok := s.mem[im.File]
		if !ok {
			return nil, fmt.Errorf("stimuli: %s: no image %q in memory", s.Name, im.File)
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	f, err := os.Open(im.Path)
	if err != nil {
		return nil, fmt.Errorf("stimuli: %w", err)
	}
	return f, nil
}

// Report describes the set for a run log: name, category counts, the
// thresholds and every skipped row.
func (s *Set) Report() string {
	var b strings.Builder
	if s.Design.IsDefault() {
		fmt.Fprintf(&b, "%s: %d images (%v); thresholds low %g high %g band %g",
			s.Name, len(s.Images), s.Counts(), s.Thresholds.Low, s.Thresholds.High, s.Thresholds.Band)
	} else {
		counts := s.ClassCounts()
		parts := make([]string, len(counts))
		for i, n := range counts {
			name := "unknown"
			if i < len(s.Classes) {
				name = s.Classes[i]
			}
			parts[i] = fmt.Sprintf("%s %d", name, n)
		}
		fmt.Fprintf(&b, "%s: %d images (%s); design %v", s.Name, len(s.Images), strings.Join(parts, ", "), s.Design)
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(&b, "; %d rows skipped:", len(s.Skipped))
		for _, r := range s.Skipped {
			b.WriteString("\n  ")
			b.WriteString(r.Error())
		}
	}
	return b.String()
}
