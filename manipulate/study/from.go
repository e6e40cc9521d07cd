package study

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/nn"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// ErrFrom is wrapped by every error about the selectivity stage's output
// directory: a missing or malformed file, or contents that do not match
// the model or the stimulus sets.
var ErrFrom = errors.New("selectivity output")

// Selectivity is what the manipulation stage reads from the selectivity
// stage's output directory: every channel's SI and preferred emotion per
// set and layer (selectivity.csv) and the cross-set emotion-selective
// neurons (selective.csv).
type Selectivity struct {
	Dir    string
	Sets   []string // in file order
	Layers []Layer  // in file order
	// SI and Preferred are indexed [set][layer] like Sets and Layers, then
	// by channel. Channels without an SI have NaN and stimuli.Unknown.
	SI        [][][]float64
	Preferred [][][]stimuli.Category
	// Selective holds, per layer (indexed like Layers) and emotion (or
	// class of Classes), the cross-set selective channels, ascending.
	Selective [][][]int
	// Classes names the categories of a K-category design
	// (ReadSelectivityK), in the order of Selective's classes; nil for
	// the paper's three emotions. A K design's Preferred is nil: the
	// threshold search, its only reader, is the paper's design only.
	Classes []string
	// Hash is the SHA-256 of the two files' bytes, for fingerprints.
	Hash string
}

// Layer is a layer of the selectivity output.
type Layer struct {
	Name     string `json:"name"`
	Channels int    `json:"channels"`
}

// Files read from a selectivity output directory.
const (
	SelectivityFile = "selectivity.csv"
	SelectiveFile   = "selective.csv"
)

// maxCSV bounds the size of a file ReadSelectivity reads.
const maxCSV = 1 << 30

// ReadSelectivity reads dir/selectivity.csv (header set, layer, channel,
// …, si, preferred, in any order, other columns ignored) and
// dir/selective.csv (header layer, channel, emotion). SI may be NaN or
// Inf; preferred is pleasant, neutral, unpleasant, or unknown, none or
// empty for a channel without an SI. Every (set, layer) must list the
// channels 0..C−1 once each, with the same C for a layer in every set,
// and every set must have every layer. Errors name the file and line and
// wrap ErrFrom.
func ReadSelectivity(dir string) (*Selectivity, error) {
	return read(dir, emotionDesign)
}

// ReadSelectivityK reads the output of a K-category selectivity stage
// (selectivity/study.RunK): dir/selectivity_k.csv (header network, set,
// layer, channel, mean_<class>…, si, preferred, …) and dir/selective_k.csv
// (header network, layer, channel, class), keeping the rows of the
// network under study (the first network of selectivity_k.csv). The
// classes are the mean_<class> columns, in order. Errors name the file
// and line and wrap ErrFrom.
func ReadSelectivityK(dir string) (*Selectivity, error) {
	return read(dir, kDesign)
}

// Files of a K-category selectivity output (selectivity/study.RunK).
const (
	KSelectivityFile = selstudy.KSelectivityFile
	KSelectiveFile   = selstudy.KSelectiveFile
)

// design says how a selectivity output's files name the categories.
type design struct {
	selectivity, selective string // the files
	classCol               string // the selective file's category column
	network                bool   // the files have a network column
	// classes returns the category names from the selectivity file's
	// header (nil: the emotions).
	classes func(head []string) ([]string, error)
}

var (
	emotionDesign = design{selectivity: SelectivityFile, selective: SelectiveFile, classCol: "emotion", classes: func([]string) ([]string, error) { return nil, nil }}
	kDesign       = design{selectivity: KSelectivityFile, selective: KSelectiveFile, classCol: "class", network: true, classes: func(head []string) ([]string, error) {
		var out []string
		for _, h := range head {
			if c, ok := strings.CutPrefix(strings.TrimSpace(h), "mean_"); ok && c != "" {
				out = append(out, c)
			}
		}
		if len(out) < 2 {
			return nil, fmt.Errorf("header names %d categories (mean_<class> columns), want 2 or more", len(out))
		}
		return out, nil
	}}
)

// read reads a selectivity output's two files.
func read(dir string, d design) (*Selectivity, error) {
	s := &Selectivity{Dir: dir}
	h := sha256.New()
	path := filepath.Join(dir, d.selectivity)
	raw, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	h.Write(raw)
	network, err := s.parseSelectivity(path, raw, d)
	if err != nil {
		return nil, err
	}
	path2 := filepath.Join(dir, d.selective)
	raw2, err := readBounded(path2)
	if err != nil {
		return nil, err
	}
	h.Write([]byte{0})
	h.Write(raw2)
	if err := s.parseSelective(path2, raw2, d, network); err != nil {
		return nil, err
	}
	s.Hash = hex.EncodeToString(h.Sum(nil))
	return s, nil
}

// class returns the index of a category name: an emotion, or one of
// s.Classes.
func (s *Selectivity) class(name string) (int, bool) {
	if s.Classes == nil {
		e, err := stimuli.ParseCategory(name)
		return int(e), err == nil && e < stimuli.NumEmotions
	}
	i := slices.Index(s.Classes, name)
	return i, i >= 0
}

// classList names the categories for an error message.
func (s *Selectivity) classList() string {
	if s.Classes == nil {
		return "pleasant, neutral or unpleasant"
	}
	return strings.Join(s.Classes, ", ")
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFrom, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCSV+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFrom, path, err)
	}
	if len(b) > maxCSV {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrFrom, path, maxCSV)
	}
	return b, nil
}

// table is a CSV file with a header, read row by row.
type table struct {
	head []string
	path string
	r    *csv.Reader
	col  map[string]int
	line int
}

func newTable(path string, raw []byte, need ...string) (*table, error) {
	raw = []byte(strings.TrimPrefix(string(raw), "\ufeff"))
	r := csv.NewReader(strings.NewReader(string(raw)))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: %s is empty (no header)", ErrFrom, path)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrFrom, path, err)
	}
	t := &table{head: slices.Clone(head), path: path, r: r, col: map[string]int{}}
	for i, name := range head {
		t.col[strings.ToLower(strings.TrimSpace(name))] = i
	}
	for _, n := range need {
		if _, ok := t.col[n]; !ok {
			return nil, fmt.Errorf("%w: %s:1: header has no %q column", ErrFrom, path, n)
		}
	}
	return t, nil
}

// next returns the next row, nil at the end.
func (t *table) next() ([]string, error) {
	rec, err := t.r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFrom, t.path, err)
	}
	t.line, _ = t.r.FieldPos(0)
	return rec, nil
}

func (t *table) get(rec []string, name string) string { return strings.TrimSpace(rec[t.col[name]]) }

func (t *table) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", ErrFrom, t.path, t.line, fmt.Sprintf(format, args...))
}

// parseSelectivity reads the selectivity file. Under a K design it
// keeps the rows of the first network and returns its name.
func (s *Selectivity) parseSelectivity(path string, raw []byte, d design) (string, error) {
	need := []string{"set", "layer", "channel", "si", "preferred"}
	if d.network {
		need = append(need, "network")
	}
	t, err := newTable(path, raw, need...)
	if err != nil {
		return "", err
	}
	if s.Classes, err = d.classes(t.head); err != nil {
		return "", fmt.Errorf("%w: %s:1: %w", ErrFrom, path, err)
	}
	network := ""
	setIdx, layerIdx := map[string]int{}, map[string]int{}
	type cell struct {
		si   float64
		pref int // −1: none
		line int
	}
	cells := map[[2]int]map[int]cell{}
	for {
		rec, err := t.next()
		if err != nil {
			return "", err
		}
		if rec == nil {
			break
		}
		if d.network {
			n := t.get(rec, "network")
			if network == "" {
				network = n
			}
			if n != network {
				continue // a control network
			}
		}
		set, layer := t.get(rec, "set"), t.get(rec, "layer")
		if set == "" || layer == "" {
			return "", t.errorf("empty set or layer")
		}
		ch, err := strconv.Atoi(t.get(rec, "channel"))
		if err != nil || ch < 0 {
			return "", t.errorf("channel %q is not a non-negative integer", t.get(rec, "channel"))
		}
		si, err := strconv.ParseFloat(t.get(rec, "si"), 64)
		if err != nil {
			return "", t.errorf("si %q is not a number", t.get(rec, "si"))
		}
		pref := -1
		switch p := t.get(rec, "preferred"); strings.ToLower(p) {
		case "", "none", "unknown", "nan":
		default:
			if s.Classes == nil {
				p = strings.ToLower(p)
			}
			var ok bool
			if pref, ok = s.class(p); !ok {
				return "", t.errorf("preferred %q is not %s or empty", p, s.classList())
			}
		}
		if pref < 0 || math.IsNaN(si) || math.IsInf(si, 0) {
			si, pref = math.NaN(), -1
		}
		si2, ok := setIdx[set]
		if !ok {
			si2 = len(s.Sets)
			setIdx[set] = si2
			s.Sets = append(s.Sets, set)
		}
		li, ok := layerIdx[layer]
		if !ok {
			li = len(s.Layers)
			layerIdx[layer] = li
			s.Layers = append(s.Layers, Layer{Name: layer})
		}
		k := [2]int{si2, li}
		if cells[k] == nil {
			cells[k] = map[int]cell{}
		}
		if prev, dup := cells[k][ch]; dup {
			return "", t.errorf("set %s layer %s channel %d is listed twice (also line %d)", set, layer, ch, prev.line)
		}
		cells[k][ch] = cell{si, pref, t.line}
	}
	if len(s.Sets) == 0 {
		return "", fmt.Errorf("%w: %s has no rows", ErrFrom, path)
	}
	s.SI = make([][][]float64, len(s.Sets))
	if s.Classes == nil {
		s.Preferred = make([][][]stimuli.Category, len(s.Sets))
	}
	for li := range s.Layers {
		for si2, set := range s.Sets {
			cs := cells[[2]int{si2, li}]
			if len(cs) == 0 {
				return "", fmt.Errorf("%w: %s: set %s has no rows for layer %s", ErrFrom, path, set, s.Layers[li].Name)
			}
			if s.Layers[li].Channels == 0 {
				s.Layers[li].Channels = len(cs)
			}
			if len(cs) != s.Layers[li].Channels {
				return "", fmt.Errorf("%w: %s: layer %s has %d channels in set %s and %d in set %s",
					ErrFrom, path, s.Layers[li].Name, len(cs), set, s.Layers[li].Channels, s.Sets[0])
			}
		}
	}
	for si2 := range s.Sets {
		s.SI[si2] = make([][]float64, len(s.Layers))
		if s.Preferred != nil {
			s.Preferred[si2] = make([][]stimuli.Category, len(s.Layers))
		}
		for li, l := range s.Layers {
			cs := cells[[2]int{si2, li}]
			vals := make([]float64, l.Channels)
			prefs := make([]stimuli.Category, l.Channels)
			for c := range l.Channels {
				v, ok := cs[c]
				if !ok {
					return "", fmt.Errorf("%w: %s: set %s layer %s lists %d channels but not channel %d",
						ErrFrom, path, s.Sets[si2], l.Name, l.Channels, c)
				}
				vals[c], prefs[c] = v.si, stimuli.Unknown
				if v.pref >= 0 {
					prefs[c] = stimuli.Category(v.pref)
				}
			}
			s.SI[si2][li] = vals
			if s.Preferred != nil {
				s.Preferred[si2][li] = prefs
			}
		}
	}
	return network, nil
}

// parseSelective reads the selective file: under a K design the rows of
// network only.
func (s *Selectivity) parseSelective(path string, raw []byte, d design, network string) error {
	need := []string{"layer", "channel", d.classCol}
	if network != "" {
		need = append(need, "network")
	}
	t, err := newTable(path, raw, need...)
	if err != nil {
		return err
	}
	k := int(stimuli.NumEmotions)
	if s.Classes != nil {
		k = len(s.Classes)
	}
	s.Selective = make([][][]int, len(s.Layers))
	for li := range s.Selective {
		s.Selective[li] = make([][]int, k)
	}
	seen := map[string]int{}
	for {
		rec, err := t.next()
		if err != nil {
			return err
		}
		if rec == nil {
			break
		}
		if network != "" && t.get(rec, "network") != network {
			continue
		}
		layer := t.get(rec, "layer")
		li := s.layer(layer)
		if li < 0 {
			return t.errorf("layer %q is not in %s", layer, d.selectivity)
		}
		ch, err := strconv.Atoi(t.get(rec, "channel"))
		if err != nil || ch < 0 || ch >= s.Layers[li].Channels {
			return t.errorf("channel %q is not in [0, %d) for layer %s", t.get(rec, "channel"), s.Layers[li].Channels, layer)
		}
		name := t.get(rec, d.classCol)
		if s.Classes == nil {
			name = strings.ToLower(name)
		}
		e, ok := s.class(name)
		if !ok {
			return t.errorf("%s %q is not %s", d.classCol, t.get(rec, d.classCol), s.classList())
		}
		key := fmt.Sprintf("%s/%d", layer, ch)
		if prev, dup := seen[key]; dup {
			return t.errorf("layer %s channel %d is listed twice (also line %d)", layer, ch, prev)
		}
		seen[key] = t.line
		s.Selective[li][e] = append(s.Selective[li][e], ch)
	}
	for li := range s.Selective {
		for e := range s.Selective[li] {
			slices.Sort(s.Selective[li][e])
		}
	}
	return nil
}

// layer returns the index of the named layer, or −1.
func (s *Selectivity) layer(name string) int {
	return slices.IndexFunc(s.Layers, func(l Layer) bool { return l.Name == name })
}

// set returns the index of the named set, or −1.
func (s *Selectivity) set(name string) int { return slices.Index(s.Sets, name) }

// Check returns an error wrapping ErrFrom unless the output describes m
// and the named sets: every listed layer must be a unit of m with the
// same channel count, each of layers must be listed, and each of sets
// must be there.
func (s *Selectivity) Check(m *nn.Model, sets, layers []string) error {
	for _, l := range s.Layers {
		u, ok := m.Unit(l.Name)
		if !ok {
			return fmt.Errorf("%w: %s does not match the model: layer %s is not a unit of %s", ErrFrom, s.Dir, l.Name, m.Arch)
		}
		if u.Channels != l.Channels {
			return fmt.Errorf("%w: %s does not match the model: layer %s has %d channels there, %d in %s",
				ErrFrom, s.Dir, l.Name, l.Channels, u.Channels, m.Arch)
		}
	}
	for _, l := range layers {
		if s.layer(l) < 0 {
			return fmt.Errorf("%w: %s does not match the model: it has no layer %s (%s has %s)",
				ErrFrom, s.Dir, l, SelectivityFile, s.layerNames())
		}
	}
	for _, n := range sets {
		if s.set(n) < 0 {
			return fmt.Errorf("%w: %s does not match the stimulus sets: it has no set %q (it has %s)",
				ErrFrom, s.Dir, n, strings.Join(s.Sets, ", "))
		}
	}
	return nil
}

func (s *Selectivity) layerNames() string {
	names := make([]string, len(s.Layers))
	for i, l := range s.Layers {
		names[i] = l.Name
	}
	return strings.Join(names, ", ")
}

// Units returns the cross-set selective channels of layer for emotion
// (or class) e.
func (s *Selectivity) Units(layer string, e int) []int {
	return slices.Clone(s.Selective[s.layer(layer)][e])
}

// Tuning returns the SI and preferred emotion of every channel of layer
// on set.
func (s *Selectivity) Tuning(set, layer string) ([]float64, []stimuli.Category) {
	si, li := s.set(set), s.layer(layer)
	return s.SI[si][li], s.Preferred[si][li]
}
