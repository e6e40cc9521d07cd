package manipulate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// DefaultDraws is the number of random draws each selective set is
// compared with.
const DefaultDraws = 10

// DefaultAlphas returns the paper's attention gains: 0 to 5 in steps of
// 0.1.
func DefaultAlphas() []float64 { return Grid(0, 5, 0.1) }

// Grid returns lo, lo+step, … up to hi (inclusive within 1e-9), each
// rounded to 9 decimals so that 0.1-steps print as 0.3, not
// 0.30000000000000004. It panics unless step > 0, lo ≤ hi and the grid
// has at most a million points.
func Grid(lo, hi, step float64) []float64 {
	if !(step > 0) || !(lo <= hi) || (hi-lo)/step > 1e6 {
		panic(fmt.Sprintf("manipulate: grid %v:%v:%v", lo, hi, step))
	}
	var g []float64
	for i := 0; ; i++ {
		v := round9(lo + float64(i)*step)
		if v > hi+1e-9 {
			return g
		}
		g = append(g, v)
	}
}

func round9(v float64) float64 { return math.Round(v*1e9) / 1e9 }

// Config configures the experiments on a Task. The zero value follows the
// paper.
type Config struct {
	// Draws is R, the number of random draws of as many channels as the
	// selective set, per layer; 0 means DefaultDraws.
	Draws int
	// Alphas are the attention gains swept (each ≥ −1, ascending after
	// sorting); nil means DefaultAlphas.
	Alphas []float64
	// Refine > 0 sweeps coarse to fine: Alphas is the coarse grid; then,
	// for each unit set, the gains between the best coarse α's neighbours
	// at multiples of Refine from it are added.
	Refine float64
	// Seed derives the random draws (see Task.Sets).
	Seed uint64
	// Budget bounds the activations held at once, in bytes; 0 means
	// DefaultBudget.
	Budget int64
	// Features is the readout's input unit; "" means DefaultFeatures.
	Features string
	// Exhaustive evaluates every α of Alphas on every val and test image
	// for every unit set. By default (false, and Refine 0) the val-best α
	// is searched for instead (see search.go): the same α under a stated
	// assumption, at a fraction of the cost; the test images are scored
	// at the chosen α only, except for the selective set (draw 0) of a
	// sweep, whose test curve is kept at every gain evaluated (Figs 4–5).
	Exhaustive bool
	// Bracket is the search's widest gap between the gains evaluated on
	// every image; 0 means DefaultBracket.
	Bracket float64
	// Direct re-runs the whole suffix for every gain (Suffix.Direct),
	// bitwise equal to a full forward with the gain installed, instead
	// of reusing the next linear layer (faster, equal to float
	// reassociation).
	Direct bool
}

// WithDefaults returns c with its zero fields filled in and Alphas
// sorted and deduplicated.
func (c Config) WithDefaults() Config {
	if c.Draws == 0 {
		c.Draws = DefaultDraws
	}
	if c.Alphas == nil {
		c.Alphas = DefaultAlphas()
	} else {
		c.Alphas = slices.Clone(c.Alphas)
		for i, a := range c.Alphas {
			c.Alphas[i] = round9(a)
		}
		slices.Sort(c.Alphas)
		c.Alphas = slices.Compact(c.Alphas)
	}
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	if c.Features == "" {
		c.Features = DefaultFeatures
	}
	if c.Bracket == 0 {
		c.Bracket = DefaultBracket
	}
	return c
}

// suffix returns the suffix of m at layer that the experiments run.
func (c Config) suffix(m *nn.Model, layer string, image []int) *Suffix {
	s := NewSuffix(m, layer, c.Features, image)
	if c.Direct {
		s.Direct()
	}
	return s
}

// Searching reports whether sweeps search for the val-best α rather
// than evaluate the whole grid.
func (c Config) Searching() bool { return !c.Exhaustive && c.Refine <= 0 }

// Check returns an error for settings no experiment can run with: a
// negative Draws or Refine, no gains, or a gain below −1.
func (c Config) Check() error {
	if c.Draws < 0 {
		return fmt.Errorf("manipulate: %d random draws", c.Draws)
	}
	if c.Alphas != nil && len(c.Alphas) == 0 {
		return fmt.Errorf("manipulate: no attention gains to sweep")
	}
	for _, a := range c.Alphas {
		if err := CheckAlpha(a); err != nil {
			return err
		}
	}
	if c.Refine < 0 || math.IsNaN(c.Refine) || math.IsInf(c.Refine, 0) {
		return fmt.Errorf("manipulate: refinement step %v", c.Refine)
	}
	if c.Bracket < 0 || math.IsNaN(c.Bracket) || math.IsInf(c.Bracket, 0) {
		return fmt.Errorf("manipulate: search bracket %v", c.Bracket)
	}
	return nil
}

// Task is one readout experiment: a stimulus set, an emotion, the split,
// the readout trained on the intact network, and that network's
// decisions on the val and test images, which every manipulation is
// compared with.
type Task struct {
	Set     string
	Emotion stimuli.Category
	Images  Images
	Labels  []stimuli.Category
	Split   Split
	Readout *Readout
	// BaseVal and BaseTest are the intact network's decisions on
	// Split.Val and Split.Test.
	BaseVal, BaseTest []bool
}

// NewTask trains the readout for emotion e on the training images of
// split and records its decisions on the val and test images. feats
// [N,F] are the intact network's readout features for every image of
// imgs (rows of images in no split are not read); seed initialises and
// shuffles the readout (see TrainReadout).
func NewTask(ctx context.Context, set string, imgs Images, labels []stimuli.Category, feats *tensor.Tensor, split Split, e stimuli.Category, train nn.TrainConfig, seed uint64) (*Task, error) {
	if len(labels) != imgs.Len() {
		panic(fmt.Sprintf("manipulate: %d labels for %d images", len(labels), imgs.Len()))
	}
	r, err := TrainReadout(ctx, feats, labels, e, split.Train, train, seed)
	if err != nil {
		return nil, err
	}
	return &Task{Set: set, Emotion: e, Images: imgs, Labels: labels, Split: split, Readout: r,
		BaseVal:  r.Predict(gatherRows(feats, split.Val)),
		BaseTest: r.Predict(gatherRows(feats, split.Test))}, nil
}

// Original returns the intact network's scores on the val and test
// images.
func (t *Task) Original() (val, test Score) {
	return Evaluate(t.BaseVal, Truth(t.Labels, t.Emotion, t.Split.Val)),
		Evaluate(t.BaseTest, Truth(t.Labels, t.Emotion, t.Split.Test))
}

// UnitSet is a set of channels of one layer that a manipulation acts on.
type UnitSet struct {
	Draw  int   `json:"draw"`  // 0 for the selective neurons, 1..R for the random draws
	Units []int `json:"units"` // ascending channel indices
}

// Sets returns the selective set (draw 0) followed by R random draws of
// as many channels, each from all the layer's channels without
// replacement, seeded by Derive(cfg.Seed, "draw", set, emotion, layer, r)
// so that a draw does not depend on what else runs.
func (t *Task) Sets(layer string, channels int, selective []int, cfg Config) []UnitSet {
	cfg = cfg.WithDefaults()
	sel := slices.Clone(selective)
	slices.Sort(sel)
	sel = slices.Compact(sel)
	for _, c := range sel {
		if c < 0 || c >= channels {
			panic(fmt.Sprintf("manipulate: selective channel %d of %s out of range [0, %d)", c, layer, channels))
		}
	}
	out := []UnitSet{{Draw: 0, Units: sel}}
	for r := 1; r <= cfg.Draws; r++ {
		seed := Derive(cfg.Seed, "draw", t.Set, t.Emotion.String(), layer, strconv.Itoa(r))
		out = append(out, UnitSet{Draw: r, Units: Draw(seed, channels, len(sel))})
	}
	return out
}

// LesionResult is the lesion experiment at one layer (Fig 6): the test
// scores after silencing each unit set.
type LesionResult struct {
	Layer    string    `json:"layer"`
	Channels int       `json:"channels"`
	Sets     []UnitSet `json:"sets"`
	Test     []Score   `json:"test"` // per set
	// Count is the number of random draws whose F1 is at most the
	// selective set's, and P = (1+Count)/(R+1) (RankP, Less).
	Count int     `json:"count"`
	P     float64 `json:"p"`
}

// Lesion silences (α = −1) the selective channels of layer, then each of
// the R random draws, and scores the readout on the test images. An
// empty set leaves the network intact and is not re-run. progress, if not
// nil, receives the number of image-suffix evaluations done.
func (t *Task) Lesion(ctx context.Context, m *nn.Model, layer string, selective []int, cfg Config, progress func(int)) (*LesionResult, error) {
	cfg = cfg.WithDefaults()
	s := cfg.suffix(m, layer, t.Images.Shape())
	c := s.Unit().Channels
	sets := t.Sets(layer, c, selective, cfg)
	var reqs []*request
	for _, u := range sets {
		if len(u.Units) > 0 {
			reqs = append(reqs, &request{units: u.Units, alpha: -1, gain: Lesion(c, u.Units), images: t.Split.Test})
		}
	}
	if err := s.run(ctx, t.Images, reqs, t.Readout, cfg.Budget, nil, progress); err != nil {
		return nil, err
	}
	preds := make([][]bool, len(reqs))
	for i, q := range reqs {
		preds[i] = q.out
	}
	truth := Truth(t.Labels, t.Emotion, t.Split.Test)
	res := &LesionResult{Layer: layer, Channels: c, Sets: sets}
	k := 0
	for _, u := range sets {
		p := t.BaseTest
		if len(u.Units) > 0 {
			p = preds[k]
			k++
		}
		res.Test = append(res.Test, Evaluate(p, truth))
	}
	res.Count, res.P = RankP(res.Test[0].F1(), f1s(res.Test[1:]), Less)
	return res, nil
}

// LesionWork returns the image-suffix evaluations Lesion will run.
func LesionWork(tests, draws, selective int) int {
	if selective == 0 {
		return 0
	}
	return tests * (1 + draws)
}

func f1s(s []Score) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v.F1()
	}
	return out
}

// Curve is a gain sweep of one unit set: the val and test scores at each
// α, and the α chosen on val.
type Curve struct {
	Alphas []float64 `json:"alphas"` // ascending
	Val    []Score   `json:"val"`
	Test   []Score   `json:"test"`
	// Best indexes the α with the highest val F1, the smallest such α on
	// a tie: the gain the paper reports, chosen on val and scored on
	// test.
	Best int `json:"best"`
	// Points is the number of gains evaluated (α = 0, the intact
	// network, is free), Evals the image-suffix evaluations they took.
	// A search lists in Alphas only the gains whose val decisions it
	// knows; a test Score with no images (N() == 0) was not evaluated.
	Points int `json:"points"`
	Evals  int `json:"evals"`
}

// BestAlpha returns the α chosen on val.
func (c Curve) BestAlpha() float64 { return c.Alphas[c.Best] }

// BestTest returns the test score at the α chosen on val.
func (c Curve) BestTest() Score { return c.Test[c.Best] }

// SweepResult is the attention experiment at one layer (Figs 4–5): a gain
// sweep of the selective set and of each random draw.
type SweepResult struct {
	Layer    string    `json:"layer"`
	Channels int       `json:"channels"`
	Sets     []UnitSet `json:"sets"`
	Curves   []Curve   `json:"curves"` // per set
	// Count is the number of random draws whose test F1 at their best α
	// is at least the selective set's, P = (1+Count)/(R+1) (RankP,
	// Greater).
	Count int     `json:"count"`
	P     float64 `json:"p"`
}

// Sweep scales the gain of the selective channels of layer, then of each
// random draw, by every α of cfg.Alphas (coarse to fine with cfg.Refine),
// and scores the readout on the val and test images. α = 0 and empty
// sets are the intact network and are not re-run.
func (t *Task) Sweep(ctx context.Context, m *nn.Model, layer string, selective []int, cfg Config, progress func(int)) (*SweepResult, error) {
	cfg = cfg.WithDefaults()
	s := cfg.suffix(m, layer, t.Images.Shape())
	c := s.Unit().Channels
	sets := t.Sets(layer, c, selective, cfg)
	units := make([][]int, len(sets))
	for i, u := range sets {
		units[i] = u.Units
	}
	full := make([]bool, len(sets))
	full[0] = true // the selective set's test curve is Figs 4–5's right column
	curves, err := t.curves(ctx, s, units, full, cfg, progress)
	if err != nil {
		return nil, err
	}
	res := &SweepResult{Layer: layer, Channels: c, Sets: sets, Curves: curves}
	best := make([]float64, len(curves))
	for i, cv := range curves {
		best[i] = cv.BestTest().F1()
	}
	res.Count, res.P = RankP(best[0], best[1:], Greater)
	return res, nil
}

// SweepWork returns the image-suffix evaluations of a sweep of the given
// unit-set sizes over alphas, before refinement.
func SweepWork(vals, tests int, sizes []int, alphas []float64) int {
	n := 0
	for _, a := range alphas {
		if a != 0 {
			n++
		}
	}
	w := 0
	for _, s := range sizes {
		if s > 0 {
			w += n * (vals + tests)
		}
	}
	return w
}

// ThresholdResult is the threshold search at one layer (Fig 3C): after
// removing the fraction Removed[i] of the channels with the lowest SI on
// the task's set, the channels left that prefer the task's emotion,
// Units[i], swept for attention.
type ThresholdResult struct {
	Layer    string    `json:"layer"`
	Channels int       `json:"channels"`
	Removed  []float64 `json:"removed"`
	Units    [][]int   `json:"units"`
	Curves   []Curve   `json:"curves"`
}

// ThresholdUnits returns the channels selective for e after removing the
// fraction removed of the channels with the lowest SI: those
// selectivity.Result.Select(1 − removed) keeps that prefer e. si and
// preferred describe one layer on one set; channels with a non-finite SI
// or no preferred emotion are never kept.
func ThresholdUnits(si []float64, preferred []stimuli.Category, e stimuli.Category, removed float64) []int {
	if len(si) != len(preferred) {
		panic(fmt.Sprintf("manipulate: %d SIs and %d preferred emotions", len(si), len(preferred)))
	}
	r := &selectivity.Result{Neurons: make([]selectivity.Neuron, len(si))}
	for i, v := range si {
		n := &r.Neurons[i]
		n.SI, n.Preferred = v, preferred[i]
		if math.IsNaN(v) || math.IsInf(v, 0) || preferred[i] >= stimuli.NumEmotions {
			n.SI, n.Preferred, n.Flaw = math.NaN(), stimuli.Unknown, selectivity.NonFinite
		}
	}
	keep := min(1, max(0, 1-removed))
	return slices.Clone(r.Select(keep).Selective[e])
}

// Threshold runs the threshold search at layer: for each fraction in
// removed (e.g. 0, 0.1, …, 0.9), the channels ThresholdUnits keeps are
// swept for attention as in Sweep (identical sets are run once).
func (t *Task) Threshold(ctx context.Context, m *nn.Model, layer string, si []float64, preferred []stimuli.Category, removed []float64, cfg Config, progress func(int)) (*ThresholdResult, error) {
	cfg = cfg.WithDefaults()
	s := cfg.suffix(m, layer, t.Images.Shape())
	c := s.Unit().Channels
	if len(si) != c {
		panic(fmt.Sprintf("manipulate: %d SIs for %s with %d channels", len(si), layer, c))
	}
	res := &ThresholdResult{Layer: layer, Channels: c, Removed: slices.Clone(removed)}
	for _, x := range removed {
		res.Units = append(res.Units, ThresholdUnits(si, preferred, t.Emotion, x))
	}
	curves, err := t.curves(ctx, s, res.Units, make([]bool, len(res.Units)), cfg, progress)
	if err != nil {
		return nil, err
	}
	res.Curves = curves
	return res, nil
}

// ThresholdWork returns the image-suffix evaluations of a threshold
// search whose distinct unit sets have the given sizes, before
// refinement.
func ThresholdWork(vals, tests int, sizes []int, alphas []float64) int {
	return SweepWork(vals, tests, sizes, alphas)
}

// curves sweeps each unit set over cfg.Alphas: by a search (full[i]:
// with set i's test decisions at every gain evaluated), or exhaustively
// (then refined). A (set, α) pair is evaluated once however many sets
// share it; α = 0 and empty sets take the intact decisions.
func (t *Task) curves(ctx context.Context, s *Suffix, sets [][]int, full []bool, cfg Config, progress func(int)) ([]Curve, error) {
	if cfg.Searching() {
		return t.search(ctx, s, sets, full, cfg, progress)
	}
	idx := append(slices.Clone(t.Split.Val), t.Split.Test...)
	nv := len(t.Split.Val)
	base := append(slices.Clone(t.BaseVal), t.BaseTest...)
	c := s.Unit().Channels
	done := map[string][]bool{}
	eval := func(grids [][]float64) error {
		var keys []string
		var gains [][]float32
		seen := map[string]bool{}
		for i, g := range grids {
			for _, a := range g {
				if a == 0 || len(sets[i]) == 0 {
					continue
				}
				k := variantKey(sets[i], a)
				if done[k] != nil || seen[k] {
					continue
				}
				seen[k] = true
				keys = append(keys, k)
				gains = append(gains, Gain(c, sets[i], a))
			}
		}
		preds, err := s.Predict(ctx, t.Images, idx, gains, t.Readout, cfg.Budget, progress)
		if err != nil {
			return err
		}
		for v, k := range keys {
			done[k] = preds[v]
		}
		return nil
	}
	grids := make([][]float64, len(sets))
	for i := range sets {
		grids[i] = cfg.Alphas
	}
	if err := eval(grids); err != nil {
		return nil, err
	}
	tv := Truth(t.Labels, t.Emotion, t.Split.Val)
	tt := Truth(t.Labels, t.Emotion, t.Split.Test)
	build := func(i int, alphas []float64) Curve {
		cv := Curve{Alphas: alphas}
		bestF1 := math.Inf(-1)
		for j, a := range alphas {
			p := base
			if a != 0 && len(sets[i]) > 0 {
				p = done[variantKey(sets[i], a)]
			}
			v, te := Evaluate(p[:nv], tv), Evaluate(p[nv:], tt)
			cv.Val, cv.Test = append(cv.Val, v), append(cv.Test, te)
			if a != 0 && len(sets[i]) > 0 {
				cv.Points++
				cv.Evals += len(p)
			}
			if f := v.F1(); f > bestF1 {
				bestF1, cv.Best = f, j
			}
		}
		return cv
	}
	out := make([]Curve, len(sets))
	for i := range sets {
		out[i] = build(i, cfg.Alphas)
	}
	if cfg.Refine <= 0 {
		return out, nil
	}
	fine := make([][]float64, len(sets))
	for i, cv := range out {
		fine[i] = refineGrid(cv.Alphas, cv.Best, cfg.Refine)
	}
	if err := eval(fine); err != nil {
		return nil, err
	}
	for i := range sets {
		all := append(slices.Clone(cfg.Alphas), fine[i]...)
		slices.Sort(all)
		out[i] = build(i, slices.Compact(all))
	}
	return out, nil
}

// refineGrid returns the gains strictly between the neighbours of
// alphas[best] at multiples of step from it, excluding alphas[best].
func refineGrid(alphas []float64, best int, step float64) []float64 {
	b := alphas[best]
	lo, hi := b, b
	if best > 0 {
		lo = alphas[best-1]
	}
	if best+1 < len(alphas) {
		hi = alphas[best+1]
	}
	var out []float64
	for j := 1; ; j++ {
		a := round9(b - float64(j)*step)
		if a <= lo+1e-9 || a < -1 {
			break
		}
		out = append(out, a)
	}
	for j := 1; ; j++ {
		a := round9(b + float64(j)*step)
		if a >= hi-1e-9 {
			break
		}
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

func variantKey(units []int, alpha float64) string {
	var b strings.Builder
	for _, u := range units {
		b.WriteString(strconv.Itoa(u))
		b.WriteByte(',')
	}
	b.WriteByte('@')
	b.WriteString(strconv.FormatFloat(alpha, 'g', -1, 64))
	return b.String()
}

// Table1Row is one line of the paper's Table 1 for a set and emotion.
// Fields of an experiment that did not run are NaN and "".
type Table1Row struct {
	Original      float64 // test F1 of the intact network
	Enhanced      float64 // best test F1 over layers, at each layer's α chosen on val
	EnhancedLayer string
	EnhancedAlpha float64
	EnhancedPct   float64 // 100·(Enhanced − Original)/Original
	Lesioned      float64 // worst test F1 over layers after lesioning the selective set
	LesionedLayer string
	LesionedPct   float64 // 100·(Lesioned − Original)/Original: negative when the lesion lowers F1, like EnhancedPct
}

// Table1 summarises a task's experiments across layers as Table 1 does:
// the largest enhancement and the largest lesion effect of the selective
// neurons, with their layers (earliest layer on a tie). Nil results, and
// layers with no selective neurons (an empty Sets[0]), are skipped: with
// none left, the row's fields for that experiment are NaN and "".
func Table1(original Score, lesions []*LesionResult, sweeps []*SweepResult) Table1Row {
	nan := math.NaN()
	row := Table1Row{Original: original.F1(), Enhanced: nan, EnhancedAlpha: nan, EnhancedPct: nan,
		Lesioned: nan, LesionedPct: nan}
	pct := func(d float64) float64 {
		if row.Original == 0 {
			return nan
		}
		return 100 * d / row.Original
	}
	for _, s := range sweeps {
		if s == nil || noSelective(s.Sets) {
			continue
		}
		cv := s.Curves[0]
		if f := cv.BestTest().F1(); math.IsNaN(row.Enhanced) || f > row.Enhanced {
			row.Enhanced, row.EnhancedLayer, row.EnhancedAlpha = f, s.Layer, cv.BestAlpha()
			row.EnhancedPct = pct(f - row.Original)
		}
	}
	for _, l := range lesions {
		if l == nil || noSelective(l.Sets) {
			continue
		}
		if f := l.Test[0].F1(); math.IsNaN(row.Lesioned) || f < row.Lesioned {
			row.Lesioned, row.LesionedLayer = f, l.Layer
			row.LesionedPct = pct(f - row.Original)
		}
	}
	return row
}

// noSelective reports whether a layer's unit sets say it has no selective
// neuron.
func noSelective(sets []UnitSet) bool { return len(sets) > 0 && len(sets[0].Units) == 0 }

// LesionAcrossLayers is Wilcoxon's signed-rank test, across layers, of
// the selective set's test F1 after lesion against the mean of the
// random draws' (Less: lesioning the selective neurons hurts more). It
// also returns the per-layer selective and mean random F1.
func LesionAcrossLayers(lesions []*LesionResult) (SignedRank, []float64, []float64) {
	f := make([][]float64, len(lesions))
	for i, l := range lesions {
		f[i] = f1s(l.Test)
	}
	return acrossLayers(f, Less)
}

// acrossLayers runs Wilcoxon's test on the per-layer differences between
// the selective value f[l][0] and the mean of the random ones f[l][1:],
// computed as the mean of the pairwise differences so that a layer where
// every draw equals the selective set gives exactly 0 (and is
// discarded), not a rounding residue.
func acrossLayers(f [][]float64, tail Tail) (SignedRank, []float64, []float64) {
	var d, sel, rnd []float64
	for _, v := range f {
		sel = append(sel, v[0])
		rnd = append(rnd, mean(v[1:]))
		diffs := make([]float64, len(v)-1)
		for i, r := range v[1:] {
			diffs[i] = v[0] - r
		}
		d = append(d, mean(diffs))
	}
	return WilcoxonDiff(d, tail), sel, rnd
}

// SweepAcrossLayers is Wilcoxon's signed-rank test, across layers, of the
// selective set's test F1 at its best α against the mean of the random
// draws' (Greater: enhancing the selective neurons helps more).
func SweepAcrossLayers(sweeps []*SweepResult) (SignedRank, []float64, []float64) {
	f := make([][]float64, len(sweeps))
	for l, s := range sweeps {
		f[l] = make([]float64, len(s.Curves))
		for i, cv := range s.Curves {
			f[l][i] = cv.BestTest().F1()
		}
	}
	return acrossLayers(f, Greater)
}

// mean returns the mean of x, NaN for none.
func mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
