package study

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// The experiments a study runs, in order.
const (
	Lesion    = "lesion"    // Fig 6
	Sweep     = "sweep"     // Figs 4–5
	Threshold = "threshold" // Fig 3C
)

// Stages lists every experiment in the order a study runs them.
var Stages = []string{Lesion, Sweep, Threshold}

// KStages are the experiments of a K-category design.
var KStages = []string{Lesion, Sweep}

// DefaultRemoved are the SI thresholds of the threshold search (Fig 3C):
// the lowest 0%, 10%, …, 90% removed.
func DefaultRemoved() []float64 { return manipulate.Grid(0, 0.9, 0.1) }

// Set is one stimulus set of a study.
type Set struct {
	Name   string
	Images manipulate.Images
	Labels []stimuli.Category // one per image (the paper's design)
	// Classes holds, under a K-category design (Config.Classes), each
	// image's class in 0..K−1, or −1 for an image in no class; Labels is
	// then unused.
	Classes []int
	Hash    string // identifies the content, e.g. stimuli.Set.Hash
}

// Config describes a study. Model, Sets and From are required.
type Config struct {
	Model *nn.Model
	// ModelID identifies the weights (ParamsID computes one); Input the
	// preprocessing ("squash 224"). Both enter the fingerprint.
	ModelID, Input string
	Sets           []Set
	From           *Selectivity
	// Layers to manipulate; nil means every conv unit of the model.
	Layers []string
	// Stages to run; nil means all (Stages), or KStages under a
	// K-category design.
	Stages []string
	// Classes names the categories of a K-category design (K ≥ 2, as
	// stimuli.Set.Classes), whose labels are each Set's Classes and whose
	// selective channels From gives per class (ReadSelectivityK); nil
	// means the paper's three emotions. Each class is a one-vs-rest
	// readout task, its units (set, class, layer) run the lesion and the
	// attention sweep like an emotion's; the threshold search is the
	// paper's design only. Design describes how the classes were made
	// (stimuli.Design's String); it enters the fingerprint.
	Classes []string
	Design  string
	// Exp configures the experiments; its Seed is replaced by Seed.
	Exp manipulate.Config
	// Readout configures the readouts' training.
	Readout nn.TrainConfig
	// Removed are the threshold search's fractions; nil means
	// DefaultRemoved.
	Removed []float64
	// Seed derives every random choice: the splits, the readouts'
	// initialisation and shuffling, and the random draws.
	Seed uint64
	// Shard of Shards (0-based) selects this run's part of the work;
	// Shards 0 means 1.
	Shard, Shards int
	// DryRun makes Open check the output directory without writing to it
	// (for Estimate); Run then refuses to start.
	DryRun bool
	// ThresholdAll runs the threshold search (Fig 3C) on every set,
	// emotion and layer. By default it runs as the paper did: on the
	// first set and the pleasant emotion (every layer), the example the
	// paper uses to justify the 80% threshold.
	ThresholdAll bool
}

// Threshold scopes, as the manifest names them.
const (
	ScopePaper = "paper" // first set, pleasant, every layer
	ScopeAll   = "all"   // every set, emotion and layer
)

// Manifest is OUT/manifest.json: what a study's output directory holds.
// Every field but Layers and Stages enters the fingerprint that unit files
// carry; a run whose settings give another fingerprint refuses the
// directory.
type Manifest struct {
	Version     int            `json:"version"`
	Fingerprint string         `json:"fingerprint"`
	Model       string         `json:"model"`
	ModelID     string         `json:"model_id"`
	Input       string         `json:"input"`
	Features    string         `json:"features"`
	Sets        []ManifestSet  `json:"sets"`
	From        string         `json:"from"`
	Seed        uint64         `json:"seed"`
	Split       [3]float64     `json:"split"`
	Readout     nn.TrainConfig `json:"readout"`
	Draws       int            `json:"draws"`
	Alphas      []float64      `json:"alphas"`
	Refine      float64        `json:"refine"`
	Removed     []float64      `json:"removed"`
	Search      string         `json:"search"`
	Layers      []Layer        `json:"layers"`
	Stages      []string       `json:"stages"`
	// Emotions names the categories: the paper's three emotions, or the
	// classes of a K-category design (described by Design, empty for the
	// paper's).
	Emotions []string `json:"emotions"`
	Design   string   `json:"design,omitempty"`
	// ThresholdScope is ScopePaper or ScopeAll (see Config.ThresholdAll).
	ThresholdScope string `json:"threshold_scope"`
}

// ManifestSet describes a stimulus set in the manifest.
type ManifestSet struct {
	Name   string `json:"name"`
	Hash   string `json:"hash"`   // content (Set.Hash)
	Labels string `json:"labels"` // SHA-256 of the categories, first 24 hex digits
	Images int    `json:"images"`
}

const manifestVersion = 1

// Files and directories of an output directory.
const (
	ManifestFile = "manifest.json"
	unitsDir     = "units"
	readoutsDir  = "readouts"
	featuresDir  = "features"
)

// Unit is one (set, emotion, layer) of a study: the grain of sharding and
// resuming.
type Unit struct {
	Set     int              // index into Config.Sets
	Emotion stimuli.Category // the emotion, or a K design's class index
	Layer   int              // index into the study's layers
}

// Study is a configured study bound to its output directory.
type Study struct {
	cfg      Config
	dir      string
	man      Manifest
	layers   []Layer
	units    []Unit // every unit, canonical order
	mine     []Unit // this shard's
	splits   []manipulate.Split
	labels   [][]int   // per set, each image's class (−1: none)
	sel      [][][]int // [layer][emotion or class], from From
	flops    []float64 // suffix FLOPs per image per layer
	prefix   []float64 // prefix FLOPs per image per layer
	features float64   // FLOPs per image of a full forward
}

// Open checks cfg against its selectivity output and dir, and returns the
// study. If dir has a manifest it must have the same fingerprint (the same
// model, sets, selectivity, seed and settings); otherwise it is written.
// Errors wrap ErrFrom for a selectivity output that does not match, and
// ErrMismatch for a directory holding another study.
func Open(dir string, cfg Config) (*Study, error) {
	if cfg.Model == nil || cfg.From == nil || len(cfg.Sets) == 0 {
		panic("study: Open needs a model, a selectivity output and at least one set")
	}
	if cfg.Shards == 0 {
		cfg.Shards = 1
	}
	if cfg.Shard < 0 || cfg.Shard >= cfg.Shards {
		return nil, fmt.Errorf("study: shard %d/%d: want 0 ≤ i < n", cfg.Shard, cfg.Shards)
	}
	all := Stages
	if cfg.Classes != nil {
		all = KStages
		if len(cfg.Classes) < 2 || len(cfg.Classes) > 255 {
			return nil, fmt.Errorf("study: a K-category design has %d classes, want 2 to 255", len(cfg.Classes))
		}
		for _, c := range cfg.Classes {
			if !validName(c) {
				return nil, fmt.Errorf("study: class name %q must be letters, digits, '.', '_' or '-'", c)
			}
		}
		if !slices.Equal(cfg.From.Classes, cfg.Classes) {
			return nil, fmt.Errorf("%w: %s has the classes %q, the sets %q", ErrFrom, cfg.From.Dir, cfg.From.Classes, cfg.Classes)
		}
	} else if cfg.From.Classes != nil {
		return nil, fmt.Errorf("%w: %s is of a K-category design (%s); give the study its Classes",
			ErrFrom, cfg.From.Dir, strings.Join(cfg.From.Classes, ", "))
	}
	if cfg.Stages == nil {
		cfg.Stages = all
	}
	for _, st := range cfg.Stages {
		if !slices.Contains(all, st) {
			if st == Threshold {
				return nil, fmt.Errorf("study: the threshold search is for the paper's design only (want %s)", strings.Join(all, ", "))
			}
			return nil, fmt.Errorf("study: unknown stage %q (want %s)", st, strings.Join(all, ", "))
		}
	}
	var stages []string // in the canonical order, once each
	for _, st := range Stages {
		if slices.Contains(cfg.Stages, st) {
			stages = append(stages, st)
		}
	}
	cfg.Stages = stages
	if cfg.Removed == nil {
		cfg.Removed = DefaultRemoved()
	}
	for _, r := range cfg.Removed {
		if !(r >= 0 && r < 1) {
			return nil, fmt.Errorf("study: threshold fraction %v is outside [0, 1)", r)
		}
	}
	if err := cfg.Exp.Check(); err != nil {
		return nil, err
	}
	cfg.Exp.Seed = cfg.Seed
	cfg.Exp = cfg.Exp.WithDefaults()
	if cfg.Layers == nil {
		for _, u := range cfg.Model.ConvUnits() {
			cfg.Layers = append(cfg.Layers, u.Name)
		}
	}
	names := make([]string, len(cfg.Sets))
	for i, s := range cfg.Sets {
		if !validName(s.Name) {
			return nil, fmt.Errorf("study: set name %q must be letters, digits, '.', '_' or '-'", s.Name)
		}
		if slices.Contains(names[:i], s.Name) {
			return nil, fmt.Errorf("study: set %q given twice", s.Name)
		}
		if n := len(s.Labels); cfg.Classes != nil {
			if len(s.Classes) != s.Images.Len() {
				panic(fmt.Sprintf("study: set %s has %d classes for %d images", s.Name, len(s.Classes), s.Images.Len()))
			}
			for j, c := range s.Classes {
				if c >= len(cfg.Classes) {
					return nil, fmt.Errorf("study: set %s: image %d has class %d of %d", s.Name, j, c, len(cfg.Classes))
				}
			}
		} else if n != s.Images.Len() {
			panic(fmt.Sprintf("study: set %s has %d labels for %d images", s.Name, n, s.Images.Len()))
		}
		names[i] = s.Name
	}
	feat, ok := cfg.Model.Unit(cfg.Exp.Features)
	if !ok {
		return nil, fmt.Errorf("study: %s has no unit %q for the readout's input", cfg.Model.Arch, cfg.Exp.Features)
	}
	for i, l := range cfg.Layers {
		if slices.Contains(cfg.Layers[:i], l) {
			return nil, fmt.Errorf("study: layer %s given twice", l)
		}
		u, ok := cfg.Model.Unit(l)
		if !ok {
			return nil, fmt.Errorf("study: %s has no layer %q", cfg.Model.Arch, l)
		}
		if feat.ReLU < u.ReLU {
			return nil, fmt.Errorf("study: layer %s is not before the readout's input %s", l, cfg.Exp.Features)
		}
	}
	if err := cfg.From.Check(cfg.Model, names, cfg.Layers); err != nil {
		return nil, err
	}
	s := &Study{cfg: cfg, dir: dir}
	for _, l := range cfg.Layers {
		u, _ := cfg.Model.Unit(l)
		s.layers = append(s.layers, Layer{Name: l, Channels: u.Channels})
		sel := make([][]int, s.classes())
		for e := range sel {
			sel[e] = cfg.From.Units(l, e)
		}
		s.sel = append(s.sel, sel)
		c := manipulate.UnitCost(cfg.Model, l, cfg.Exp.Features, cfg.Sets[0].Images.Shape())
		s.flops = append(s.flops, c.Suffix)
		s.prefix = append(s.prefix, c.Prefix)
		s.features = c.Full
	}
	for _, set := range cfg.Sets {
		labels := set.Classes
		if cfg.Classes == nil {
			labels = make([]int, len(set.Labels))
			for i, l := range set.Labels {
				labels[i] = int(l)
				if l >= stimuli.NumEmotions {
					labels[i] = -1
				}
			}
		}
		s.labels = append(s.labels, labels)
		// At K = 3 with the emotions as classes StratifyK is Stratify.
		split := manipulate.StratifyK(labels, s.classes(), manipulate.DefaultFractions, manipulate.Derive(cfg.Seed, "split", set.Name))
		for _, part := range [][]int{split.Train, split.Val, split.Test} {
			if len(part) == 0 {
				return nil, fmt.Errorf("study: set %s is too small: a train, val or test split is empty", set.Name)
			}
		}
		s.splits = append(s.splits, split)
	}
	s.man = s.manifest()
	if err := s.bind(); err != nil {
		return nil, err
	}
	for si := range cfg.Sets {
		for e := range stimuli.Category(s.classes()) {
			for li := range s.layers {
				s.units = append(s.units, Unit{Set: si, Emotion: e, Layer: li})
			}
		}
	}
	costs := make([]float64, len(s.units))
	for i, u := range s.units {
		for _, st := range cfg.Stages {
			costs[i] += s.cost(st, u)
		}
	}
	for i, sh := range Assign(costs, cfg.Shards) {
		if sh == cfg.Shard {
			s.mine = append(s.mine, s.units[i])
		}
	}
	return s, nil
}

// ErrMismatch is wrapped by Open's error when the output directory holds
// a study with other settings.
var ErrMismatch = errors.New("output directory holds another study")

func validName(n string) bool {
	return n != "" && n != "." && n != ".." &&
		strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}

// manifest builds the manifest and its fingerprint.
func (s *Study) manifest() Manifest {
	c := s.cfg
	m := Manifest{
		Version: manifestVersion, Model: c.Model.Arch, ModelID: c.ModelID, Input: c.Input,
		Features: c.Exp.Features, From: c.From.Hash, Seed: c.Seed, Split: manipulate.DefaultFractions,
		Readout: c.Readout.WithDefaults(), Draws: c.Exp.Draws, Alphas: c.Exp.Alphas, Refine: c.Exp.Refine,
		Removed: c.Removed, Search: searchName(c.Exp),
	}
	if c.Classes != nil {
		// A K design's classes and description enter the fingerprint; the
		// paper's manifest is unchanged (no design, the emotions added
		// after).
		m.Design = c.Design
		if m.Design == "" {
			m.Design = "classes"
		}
		m.Emotions = slices.Clone(c.Classes)
	}
	m.Readout.Seed = 0 // derived per readout from Seed
	for _, set := range c.Sets {
		lh := sha256.New()
		for i, l := range set.Labels {
			if c.Classes != nil {
				l = stimuli.Category(set.Classes[i] + 1) // −1 → 0
			}
			lh.Write([]byte{byte(l)})
		}
		m.Sets = append(m.Sets, ManifestSet{Name: set.Name, Hash: set.Hash, Images: set.Images.Len(),
			Labels: hex.EncodeToString(lh.Sum(nil))[:24]})
	}
	b, _ := json.Marshal(m)
	h := sha256.Sum256(b)
	m.Fingerprint = hex.EncodeToString(h[:12])
	m.Layers = s.layers
	m.Stages = c.Stages
	m.ThresholdScope = ScopePaper
	if c.ThresholdAll {
		m.ThresholdScope = ScopeAll
	}
	if c.Classes == nil {
		for e := range stimuli.NumEmotions {
			m.Emotions = append(m.Emotions, e.String())
		}
	}
	return m
}

// classes returns the number of categories: the emotions' or the K
// design's.
func (s *Study) classes() int {
	if s.cfg.Classes != nil {
		return len(s.cfg.Classes)
	}
	return int(stimuli.NumEmotions)
}

// className names category e.
func (s *Study) className(e stimuli.Category) string {
	if s.cfg.Classes != nil {
		return s.cfg.Classes[e]
	}
	return e.String()
}

// bind checks the directory's manifest against s's, or writes it.
func (s *Study) bind() error {
	path := filepath.Join(s.dir, ManifestFile)
	var old Manifest
	err := readJSON(path, &old)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case old.Fingerprint != s.man.Fingerprint:
		return fmt.Errorf("%w: %s was made with other settings (%s); use another -out or the same settings",
			ErrMismatch, s.dir, diffManifest(old, s.man))
	}
	if s.cfg.DryRun {
		return nil
	}
	return writeJSON(path, s.man)
}

// searchName describes how sweeps find the best α: "grid" (every α of
// the grid on every image, refined if asked) or "search, bracket B",
// with ", direct" when no layer is reused (manipulate.Config.Direct).
func searchName(c manipulate.Config) string {
	s := "grid"
	if c.Searching() {
		s = "search, bracket " + strconv.FormatFloat(c.Bracket, 'g', -1, 64)
	}
	if c.Direct {
		s += ", direct"
	}
	return s
}

// InScope reports whether a stage's unit belongs to the study: every unit
// does, but for the threshold search under the paper's scope.
func (m Manifest) InScope(stage string, set int, e stimuli.Category) bool {
	return stage != Threshold || m.ThresholdScope == ScopeAll || (set == 0 && e == stimuli.Pleasant)
}

// diffManifest names the first field in which a and b differ.
func diffManifest(a, b Manifest) string {
	var ma, mb map[string]json.RawMessage
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	json.Unmarshal(ja, &ma)
	json.Unmarshal(jb, &mb)
	keys := make([]string, 0, len(ma))
	for k := range ma {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "fingerprint" || k == "layers" || k == "stages" || k == "threshold_scope" {
			continue
		}
		if string(ma[k]) != string(mb[k]) {
			return fmt.Sprintf("%s %s, now %s", k, clip(ma[k]), clip(mb[k]))
		}
	}
	return "fingerprint " + a.Fingerprint + ", now " + b.Fingerprint
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

// Manifest returns the study's manifest.
func (s *Study) Manifest() Manifest { return s.man }

// Units returns every unit of the study, and Mine this shard's.
func (s *Study) Units() []Unit { return slices.Clone(s.units) }

// Mine returns this shard's units.
func (s *Study) Mine() []Unit { return slices.Clone(s.mine) }

// Name returns "set/emotion/layer".
func (s *Study) Name(u Unit) string {
	return s.cfg.Sets[u.Set].Name + "/" + s.className(u.Emotion) + "/" + s.layers[u.Layer].Name
}

// Assign splits work items of the given costs into n shards: longest
// first, each to the least loaded shard (the lowest on a tie), ties in
// cost broken by position. It returns each item's shard; the result
// depends only on costs and n.
func Assign(costs []float64, n int) []int {
	order := make([]int, len(costs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case costs[a] > costs[b]:
			return -1
		case costs[a] < costs[b]:
			return 1
		}
		return 0
	})
	load := make([]float64, n)
	out := make([]int, len(costs))
	for _, i := range order {
		best := 0
		for k := 1; k < n; k++ {
			if load[k] < load[best] {
				best = k
			}
		}
		out[i] = best
		load[best] += costs[i]
	}
	return out
}

// work returns the image-suffix evaluations of a stage's unit (before
// refinement; a search's expected count), the images whose prefix it
// computes and the unit sets it manipulates.
func (s *Study) work(stage string, u Unit) (evals, prefixes, sets int) {
	if !s.man.InScope(stage, u.Set, u.Emotion) {
		return 0, 0, 0
	}
	split := s.splits[u.Set]
	nv, nt := len(split.Val), len(split.Test)
	sel := len(s.sel[u.Layer][u.Emotion])
	exp := s.cfg.Exp
	sizes := make([]int, 1+exp.Draws)
	for i := range sizes {
		sizes[i] = sel
	}
	switch stage {
	case Lesion:
		evals = manipulate.LesionWork(nt, exp.Draws, sel)
		if evals > 0 {
			prefixes, sets = nt, len(sizes)
		}
	case Sweep:
		evals = manipulate.SweepWork(nv, nt, sizes, exp.Alphas) * refineFactor(exp)
		if exp.Searching() {
			evals = manipulate.SearchWork(nv, nt, sizes, true, exp.Alphas, exp.Bracket)
		}
		if evals > 0 {
			prefixes, sets = nv+nt, len(sizes)
		}
	case Threshold:
		si, pref := s.cfg.From.Tuning(s.cfg.Sets[u.Set].Name, s.layers[u.Layer].Name)
		var distinct [][]int
		for _, x := range s.cfg.Removed {
			units := manipulate.ThresholdUnits(si, pref, u.Emotion, x)
			if !slices.ContainsFunc(distinct, func(d []int) bool { return slices.Equal(d, units) }) {
				distinct = append(distinct, units)
			}
		}
		sz := make([]int, len(distinct))
		for i, d := range distinct {
			sz[i] = len(d)
		}
		evals = manipulate.ThresholdWork(nv, nt, sz, exp.Alphas) * refineFactor(exp)
		if exp.Searching() {
			evals = manipulate.SearchWork(nv, nt, sz, false, exp.Alphas, exp.Bracket)
		}
		if evals > 0 {
			prefixes = nv + nt
			for _, n := range sz {
				sets += min(n, 1)
			}
		}
	}
	return evals, prefixes, sets
}

// refineFactor approximates the growth of a sweep through refinement:
// (coarse gains + fine gains around a middle point) / coarse gains.
func refineFactor(exp manipulate.Config) int {
	if exp.Refine <= 0 || len(exp.Alphas) < 2 {
		return 1
	}
	gap := (exp.Alphas[len(exp.Alphas)-1] - exp.Alphas[0]) / float64(len(exp.Alphas)-1)
	fine := 2 * max(0, int(math.Ceil(gap/exp.Refine-1e-9))-1)
	return int(math.Ceil(float64(len(exp.Alphas)+fine) / float64(len(exp.Alphas))))
}

// cost returns a unit's FLOPs in a stage.
func (s *Study) cost(stage string, u Unit) float64 {
	evals, prefixes, _ := s.work(stage, u)
	return float64(evals)*s.flops[u.Layer] + float64(prefixes)*s.prefix[u.Layer]
}

// Progress receives a run's progress, stage by stage. Work is counted in
// millions of floating-point operations of suffix re-runs (or, for the
// "features" stage, in images).
type Progress interface {
	Start(stage string, total int64)
	Add(n int64)
	Finish()
}

type noProgress struct{}

func (noProgress) Start(string, int64) {}
func (noProgress) Add(int64)           {}
func (noProgress) Finish()             {}

// unitPath returns the file of a unit's result in a stage.
func unitPath(dir, stage, set, emotion, layer string) string {
	return filepath.Join(dir, unitsDir, stage, set, emotion, layer+".json")
}

func readoutPath(dir, set, emotion string) string {
	return filepath.Join(dir, readoutsDir, set, emotion+".json")
}

// unitFile is a finished unit of one stage.
type unitFile struct {
	Fingerprint string                      `json:"fingerprint"`
	Stage       string                      `json:"stage"`
	Set         string                      `json:"set"`
	Emotion     string                      `json:"emotion"`
	Layer       string                      `json:"layer"`
	Lesion      *manipulate.LesionResult    `json:"lesion,omitempty"`
	Sweep       *manipulate.SweepResult     `json:"sweep,omitempty"`
	Threshold   *manipulate.ThresholdResult `json:"threshold,omitempty"`
}

// readoutFile is a trained readout's summary.
type readoutFile struct {
	Fingerprint string           `json:"fingerprint"`
	Set         string           `json:"set"`
	Emotion     string           `json:"emotion"`
	Train       int              `json:"train"`
	Val         manipulate.Score `json:"val"`
	Test        manipulate.Score `json:"test"`
	Losses      []float64        `json:"losses"`
}

// done reports whether a stage's unit has a finished file of this study.
func (s *Study) done(stage string, u Unit) bool {
	var f unitFile
	err := readJSON(unitPath(s.dir, stage, s.cfg.Sets[u.Set].Name, s.className(u.Emotion), s.layers[u.Layer].Name), &f)
	return err == nil && f.Fingerprint == s.man.Fingerprint
}

// Pending returns this shard's units of a stage that have no finished
// file yet.
func (s *Study) Pending(stage string) []Unit {
	var out []Unit
	for _, u := range s.mine {
		if s.man.InScope(stage, u.Set, u.Emotion) && !s.done(stage, u) {
			out = append(out, u)
		}
	}
	return out
}

// Reused says what a Run would reuse of this shard's work already on
// disk: per stage, "lesion 12 of 36 units", then the readouts and the
// cached readout features; "" when nothing is done yet. Commands print it
// before a resumed Run.
func (s *Study) Reused() string {
	var parts []string
	for _, st := range s.cfg.Stages {
		total, done := 0, 0
		for _, u := range s.mine {
			if s.man.InScope(st, u.Set, u.Emotion) {
				total++
				if s.done(st, u) {
					done++
				}
			}
		}
		if done > 0 {
			parts = append(parts, fmt.Sprintf("%s %d of %d units", st, done, total))
		}
	}
	readouts, total := 0, 0
	seen := map[[2]int]bool{}
	for _, u := range s.mine {
		k := [2]int{u.Set, int(u.Emotion)}
		if seen[k] {
			continue
		}
		seen[k] = true
		total++
		if s.readoutDone(u) {
			readouts++
		}
	}
	if readouts > 0 {
		parts = append(parts, fmt.Sprintf("readouts %d of %d", readouts, total))
	}
	feats := 0
	for si := range s.cfg.Sets {
		if _, err := os.Stat(s.featuresPath(si)); err == nil {
			feats++
		}
	}
	if feats > 0 {
		parts = append(parts, fmt.Sprintf("readout features of %d of %d sets", feats, len(s.cfg.Sets)))
	}
	return strings.Join(parts, ", ")
}

// Run runs this shard's pending units, stage by stage: first the readout
// features of the sets it needs (cached in OUT/features), then the
// readouts (OUT/readouts), then each stage's units, each written to
// OUT/units/<stage>/<set>/<emotion>/<layer>.json as soon as it is done.
// An interrupted run (ctx cancelled) keeps every finished unit, and a new
// Run skips them. An unsharded run finishes with Merge. p may be nil.
func (s *Study) Run(ctx context.Context, p Progress) error {
	if s.cfg.DryRun {
		return errors.New("study: Run of a study opened with DryRun")
	}
	if p == nil {
		p = noProgress{}
	}
	pending := map[string][]Unit{}
	need := map[[2]int]bool{} // (set, emotion) with pending work
	for _, st := range s.cfg.Stages {
		pending[st] = s.Pending(st)
		for _, u := range pending[st] {
			need[[2]int{u.Set, int(u.Emotion)}] = true
		}
	}
	for _, u := range s.mine {
		if !s.readoutDone(u) {
			need[[2]int{u.Set, int(u.Emotion)}] = true
		}
	}
	feats := make([]*tensor.Tensor, len(s.cfg.Sets))
	if err := s.runFeatures(ctx, p, need, feats); err != nil {
		return err
	}
	tasks := map[[2]int]*manipulate.Task{}
	keys := make([][2]int, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	for _, k := range keys {
		t, err := s.task(ctx, k[0], stimuli.Category(k[1]), feats[k[0]])
		if err != nil {
			return err
		}
		tasks[k] = t
	}
	for _, st := range s.cfg.Stages {
		var total float64
		for _, u := range pending[st] {
			evals, _, _ := s.work(st, u)
			total += float64(evals) * s.flops[u.Layer] / 1e6
		}
		p.Start(st, int64(total))
		for _, u := range pending[st] {
			if err := s.runUnit(ctx, st, u, tasks[[2]int{u.Set, int(u.Emotion)}], p); err != nil {
				p.Finish()
				return err
			}
		}
		p.Finish()
	}
	if s.cfg.Shards == 1 {
		return Merge(s.dir)
	}
	return nil
}

func (s *Study) readoutDone(u Unit) bool {
	var f readoutFile
	err := readJSON(readoutPath(s.dir, s.cfg.Sets[u.Set].Name, s.className(u.Emotion)), &f)
	return err == nil && f.Fingerprint == s.man.Fingerprint
}

// featuresPath returns the cache of a set's readout features.
func (s *Study) featuresPath(set int) string {
	return filepath.Join(s.dir, featuresDir, s.cfg.Sets[set].Name+"."+s.man.Fingerprint+".npy")
}

// runFeatures loads or computes the readout features of every set in
// need.
func (s *Study) runFeatures(ctx context.Context, p Progress, need map[[2]int]bool, out []*tensor.Tensor) error {
	var todo []int
	total := 0
	for si := range s.cfg.Sets {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(need)), func(k [2]int) bool { return k[0] == si }) {
			continue
		}
		if x, err := npy.ReadFile(s.featuresPath(si)); err == nil && x.Rank() == 2 && x.Dim(0) == s.cfg.Sets[si].Images.Len() {
			out[si] = x
			continue
		}
		todo = append(todo, si)
		total += labelled(s.splits[si])
	}
	if len(todo) == 0 {
		return nil
	}
	p.Start("features", int64(total))
	defer p.Finish()
	for _, si := range todo {
		set := s.cfg.Sets[si]
		idx := append(append(slices.Clone(s.splits[si].Train), s.splits[si].Val...), s.splits[si].Test...)
		slices.Sort(idx)
		f, err := manipulate.Features(ctx, s.cfg.Model, s.cfg.Exp.Features, set.Images, idx, s.cfg.Exp.Budget,
			func(n int) { p.Add(int64(n)) })
		if err != nil {
			return err
		}
		dim := f.Dim(1)
		full := tensor.New(set.Images.Len(), dim)
		for i, k := range idx {
			copy(full.Data()[k*dim:(k+1)*dim], f.Data()[i*dim:(i+1)*dim])
		}
		if err := os.MkdirAll(filepath.Join(s.dir, featuresDir), 0o755); err != nil {
			return err
		}
		if err := npy.WriteFile(s.featuresPath(si), full); err != nil {
			return err
		}
		out[si] = full
	}
	return nil
}

func labelled(sp manipulate.Split) int { return len(sp.Train) + len(sp.Val) + len(sp.Test) }

// task trains the readout of a set and emotion and records its summary.
func (s *Study) task(ctx context.Context, si int, e stimuli.Category, feats *tensor.Tensor) (*manipulate.Task, error) {
	set := s.cfg.Sets[si]
	name := s.className(e)
	seed := manipulate.Derive(s.cfg.Seed, "readout", set.Name, name)
	var t *manipulate.Task
	var err error
	if s.cfg.Classes == nil {
		t, err = manipulate.NewTask(ctx, set.Name, set.Images, set.Labels, feats, s.splits[si], e, s.cfg.Readout, seed)
	} else {
		// The task's name seeds its random draws: set/class, so that each
		// class draws its own.
		t, err = manipulate.NewTaskK(ctx, set.Name+"/"+name, set.Images, set.Classes, int(e), feats, s.splits[si], s.cfg.Readout, seed)
	}
	if err != nil {
		return nil, err
	}
	val, test := t.Original()
	losses := make([]float64, len(t.Readout.Losses))
	for i, l := range t.Readout.Losses {
		losses[i] = l
		if math.IsNaN(l) || math.IsInf(l, 0) {
			losses[i] = -1 // JSON has no NaN; a diverged readout shows as −1
		}
	}
	f := readoutFile{Fingerprint: s.man.Fingerprint, Set: set.Name, Emotion: name,
		Train: len(s.splits[si].Train), Val: val, Test: test, Losses: losses}
	return t, writeJSON(readoutPath(s.dir, set.Name, name), f)
}

// runUnit runs one stage's unit and writes its file.
func (s *Study) runUnit(ctx context.Context, stage string, u Unit, t *manipulate.Task, p Progress) error {
	l := s.layers[u.Layer]
	set := s.cfg.Sets[u.Set].Name
	per := s.flops[u.Layer] / 1e6
	var acc float64
	progress := func(n int) {
		acc += float64(n) * per
		if whole := int64(acc); whole > 0 {
			p.Add(whole)
			acc -= float64(whole)
		}
	}
	f := unitFile{Fingerprint: s.man.Fingerprint, Stage: stage, Set: set, Emotion: s.className(u.Emotion), Layer: l.Name}
	var err error
	sel := s.sel[u.Layer][u.Emotion]
	switch stage {
	case Lesion:
		f.Lesion, err = t.Lesion(ctx, s.cfg.Model, l.Name, sel, s.cfg.Exp, progress)
	case Sweep:
		f.Sweep, err = t.Sweep(ctx, s.cfg.Model, l.Name, sel, s.cfg.Exp, progress)
	case Threshold:
		si, pref := s.cfg.From.Tuning(set, l.Name)
		f.Threshold, err = t.Threshold(ctx, s.cfg.Model, l.Name, si, pref, s.cfg.Removed, s.cfg.Exp, progress)
	}
	if err != nil {
		return err
	}
	return writeJSON(unitPath(s.dir, stage, set, s.className(u.Emotion), l.Name), f)
}
