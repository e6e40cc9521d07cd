package manipulate

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// selectiveUnits computes every conv unit's selectivity on the fixture
// with labels and keeps the top fraction keep by SI (selectivity.Index
// and Result.Select): the channels selective for each emotion.
func selectiveUnits(t testing.TB, m *nn.Model, f fixture, labels []stimuli.Category, keep float64) map[string][stimuli.NumEmotions][]int {
	t.Helper()
	resp := map[string]*tensor.Tensor{}
	m.Record(func(unit string, means *tensor.Tensor) { resp[unit] = means })
	defer m.Record(nil)
	x, err := f.images.Load(context.Background(), allIndices(f.images.Len()))
	if err != nil {
		t.Fatal(err)
	}
	m.Forward(x)
	out := map[string][stimuli.NumEmotions][]int{}
	for _, u := range m.ConvUnits() {
		res, err := selectivity.Index(resp[u.Name], labels, selectivity.Config{})
		if err != nil {
			t.Fatal(err)
		}
		out[u.Name] = res.Select(keep).Selective
	}
	return out
}

// plantedLayers are the last conv layer of each VGG block but the first
// (whose suffix is the costliest to re-run).
var plantedLayers = []string{"conv2_2", "conv3_3", "conv4_3", "conv5_3"}

// strongLesion reports whether lesioning the selective set hurt F1 more
// than every random draw (p = 1/(R+1)) and by at least 0.25 below the
// draws' mean.
func strongLesion(r *LesionResult) bool {
	f := f1s(r.Test)
	return r.Count == 0 && mean(f[1:])-f[0] >= 0.25
}

// TestPlantedEffect: on the synthetic set, whose categories differ in
// luminance and spatial frequency, lesioning the channels a random
// network's selectivity analysis calls selective hurts the readout more
// than lesioning as many random channels, in at least one layer. With
// every label shuffled (selectivity, readout and scoring), no layer shows
// such a difference.
func TestPlantedEffect(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	shuffled := slices.Clone(f.labels)
	for i, p := range tensor.NewRNG(77).Perm(len(shuffled)) {
		shuffled[i] = f.labels[p]
	}
	cfg := Config{Seed: 4}
	for _, c := range []struct {
		name   string
		labels []stimuli.Category
	}{{"real", f.labels}, {"shuffled", shuffled}} {
		sel := selectiveUnits(t, m, f, c.labels, 0.25)
		strong := 0
		for e := range stimuli.NumEmotions {
			task := newTask(t, f, c.labels, e)
			_, orig := task.Original()
			var rs []*LesionResult
			for _, layer := range plantedLayers {
				r, err := task.Lesion(context.Background(), m, layer, sel[layer][e], cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
				fs := f1s(r.Test)
				t.Logf("%s %v %s: %d units, F1 intact %.3f, selective %.3f, random mean %.3f, p %.3f",
					c.name, e, layer, len(r.Sets[0].Units), orig.F1(), fs[0], mean(fs[1:]), r.P)
				if strongLesion(r) {
					strong++
				}
			}
			w, _, _ := LesionAcrossLayers(rs)
			t.Logf("%s %v: Wilcoxon across layers n %d, W+ %g, p %.4f", c.name, e, w.N, w.W, w.P)
		}
		switch {
		case c.name == "real" && strong == 0:
			t.Error("real labels: no layer where lesioning the selective neurons hurts more than every random draw")
		case c.name == "shuffled" && strong > 0:
			t.Errorf("shuffled labels: %d layers where the selective lesion stands out", strong)
		}
	}
}

func TestSweepAndThreshold(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	task := newTask(t, f, f.labels, stimuli.Neutral)
	_, orig := task.Original()
	ctx := context.Background()
	cfg := Config{Draws: 2, Alphas: []float64{0, 1, 2}, Refine: 0.5, Seed: 1}
	var work int
	res, err := task.Sweep(ctx, m, "conv4_3", []int{1, 5, 9}, cfg, func(n int) { work += n })
	if err != nil {
		t.Fatal(err)
	}
	imgs := len(task.Split.Val) + len(task.Split.Test)
	coarse := SweepWork(len(task.Split.Val), len(task.Split.Test), []int{3, 3, 3}, cfg.Alphas)
	if coarse != 3*2*imgs || work < coarse || work > coarse+3*2*imgs {
		t.Errorf("sweep evaluated %d image-suffixes, want %d coarse plus at most 2 fine gains per set", work, coarse)
	}
	for i, cv := range res.Curves {
		if !slices.IsSorted(cv.Alphas) || len(cv.Val) != len(cv.Alphas) || cv.Alphas[0] != 0 {
			t.Fatalf("curve %d: %+v", i, cv)
		}
		if cv.Test[0] != orig {
			t.Errorf("curve %d: α = 0 scores %+v, intact %+v", i, cv.Test[0], orig)
		}
		for j, v := range cv.Val {
			if v.F1() > cv.Val[cv.Best].F1() || v.F1() == cv.Val[cv.Best].F1() && j < cv.Best {
				t.Errorf("curve %d: best %d is not the first maximum of val F1", i, cv.Best)
			}
		}
		// Refined points lie strictly between the best coarse α's
		// neighbours, 0.5 apart.
		if len(cv.Alphas) < 4 {
			t.Errorf("curve %d: no refinement: %v", i, cv.Alphas)
		}
	}
	if res.Sets[0].Draw != 0 || !slices.Equal(res.Sets[0].Units, []int{1, 5, 9}) || len(res.Sets) != 3 {
		t.Errorf("sets %+v", res.Sets)
	}
	for _, s := range res.Sets[1:] {
		if len(s.Units) != 3 {
			t.Errorf("random draw %+v is not count-matched", s)
		}
	}

	// Threshold: SIs rising with the channel index, everyone prefers
	// neutral; removing x% removes the first channels.
	u, _ := m.Unit("conv4_3")
	si := make([]float64, u.Channels)
	pref := make([]stimuli.Category, u.Channels)
	for i := range si {
		si[i], pref[i] = float64(i), stimuli.Neutral
	}
	si[3] = math.NaN()
	th, err := task.Threshold(ctx, m, "conv4_3", si, pref, []float64{0.5, 0.9, 0.9}, Config{Alphas: []float64{0, 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	valid := u.Channels - 1
	if len(th.Units[0]) != valid-valid/2 || th.Units[1][0] != u.Channels-len(th.Units[1]) || !slices.Equal(th.Units[1], th.Units[2]) {
		t.Errorf("threshold units %v", th.Units)
	}
	if th.Curves[1].Test[1] != th.Curves[2].Test[1] {
		t.Error("identical unit sets scored differently")
	}
}

func TestThresholdUnits(t *testing.T) {
	si := []float64{0.5, 0.1, math.NaN(), 0.9, 0.3, 0.7, math.Inf(1)}
	pref := []stimuli.Category{stimuli.Pleasant, stimuli.Pleasant, stimuli.Pleasant, stimuli.Neutral,
		stimuli.Pleasant, stimuli.Pleasant, stimuli.Pleasant}
	for _, c := range []struct {
		removed float64
		want    []int
	}{
		{0, []int{0, 1, 4, 5}},
		{0.2, []int{0, 4, 5}}, // 5 valid, drop ⌊0.2·5⌋ = 1 (SI 0.1)
		{0.4, []int{0, 5}},
		{0.8, nil}, // only SI 0.9 (neutral) is left
	} {
		if got := ThresholdUnits(si, pref, stimuli.Pleasant, c.removed); !slices.Equal(got, c.want) {
			t.Errorf("removed %v: %v, want %v", c.removed, got, c.want)
		}
	}
}

func TestGridAndRefine(t *testing.T) {
	g := DefaultAlphas()
	if len(g) != 51 || g[0] != 0 || g[3] != 0.3 || g[50] != 5 {
		t.Errorf("default alphas %v", g)
	}
	if got := refineGrid([]float64{0, 0.5, 1, 1.5}, 1, 0.1); !slices.Equal(got, []float64{0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9}) {
		t.Errorf("refine middle: %v", got)
	}
	if got := refineGrid([]float64{0, 0.5, 1}, 0, 0.2); !slices.Equal(got, []float64{0.2, 0.4}) {
		t.Errorf("refine at the left end: %v", got)
	}
	if got := refineGrid([]float64{-1, 0}, 0, 0.25); len(got) != 3 || got[0] != -0.75 {
		t.Errorf("refine below -1 is cut: %v", got)
	}
	c := Config{Alphas: []float64{2, 0.30000000000000004, 0.3, 1}}.WithDefaults()
	if !slices.Equal(c.Alphas, []float64{0.3, 1, 2}) || c.Draws != 10 || c.Features != "fc7" {
		t.Errorf("defaults %+v", c)
	}
	for _, bad := range []Config{{Draws: -1}, {Alphas: []float64{}}, {Alphas: []float64{-1.5}}, {Alphas: []float64{math.NaN()}}, {Refine: -1}} {
		if bad.Check() == nil {
			t.Errorf("%+v passed Check", bad)
		}
	}
	if (Config{Alphas: []float64{-1, 0, 7}}).Check() != nil {
		t.Error("α in [-1, ∞) refused")
	}
}

func TestDrawsAreStable(t *testing.T) {
	task := &Task{Set: "iaps", Emotion: stimuli.Pleasant}
	a := task.Sets("conv3_1", 64, []int{9, 3, 4}, Config{Seed: 1})
	b := task.Sets("conv3_1", 64, []int{3, 4, 9}, Config{Seed: 1, Draws: 10})
	if len(a) != 11 || !slices.EqualFunc(a, b, func(x, y UnitSet) bool { return x.Draw == y.Draw && slices.Equal(x.Units, y.Units) }) {
		t.Fatal("draws depend on the order of the selective channels")
	}
	// Draw r is the same whatever R is, and differs between emotions.
	c := task.Sets("conv3_1", 64, []int{3, 4, 9}, Config{Seed: 1, Draws: 3})
	if !slices.Equal(c[3].Units, a[3].Units) {
		t.Error("draw 3 depends on R")
	}
	other := (&Task{Set: "iaps", Emotion: stimuli.Neutral}).Sets("conv3_1", 64, []int{3, 4, 9}, Config{Seed: 1})
	if slices.Equal(other[1].Units, a[1].Units) {
		t.Error("draws do not depend on the emotion")
	}
}

func TestTable1(t *testing.T) {
	sc := func(tp, fp, fn, tn int) Score { return Score{TP: tp, FP: fp, FN: fn, TN: tn} }
	orig := sc(5, 5, 5, 5) // F1 0.5
	lesions := []*LesionResult{
		{Layer: "a", Test: []Score{sc(4, 5, 6, 5)}},
		{Layer: "b", Test: []Score{sc(1, 5, 9, 5)}},
		{Layer: "c", Test: []Score{sc(1, 5, 9, 5)}},
		// No selective neuron in d: its "lesion" (F1 0 here) is no result.
		{Layer: "d", Sets: []UnitSet{{Draw: 0}, {Draw: 1}}, Test: []Score{sc(0, 5, 10, 5), sc(0, 5, 10, 5)}},
	}
	curve := func(best int, tests ...Score) Curve {
		return Curve{Alphas: []float64{0, 1, 2}[:len(tests)], Test: tests, Val: tests, Best: best}
	}
	sweeps := []*SweepResult{
		{Layer: "a", Curves: []Curve{curve(1, orig, sc(6, 4, 4, 6))}},
		{Layer: "b", Curves: []Curve{curve(0, orig, sc(9, 0, 0, 11))}}, // best on val is α = 0
		{Layer: "d", Sets: []UnitSet{{Draw: 0}}, Curves: []Curve{curve(1, orig, sc(10, 0, 0, 10))}},
	}
	row := Table1(orig, lesions, sweeps)
	if row.Original != 0.5 || row.Enhanced != 0.6 || row.EnhancedLayer != "a" || row.EnhancedAlpha != 1 ||
		math.Abs(row.EnhancedPct-20) > 1e-12 || row.Lesioned != 0.125 || row.LesionedLayer != "b" || math.Abs(row.LesionedPct+75) > 1e-12 {
		t.Errorf("%+v", row)
	}
	for _, empty := range []Table1Row{Table1(orig, nil, nil), Table1(orig, lesions[3:], sweeps[2:])} {
		if !math.IsNaN(empty.Enhanced) || !math.IsNaN(empty.Lesioned) || empty.EnhancedLayer != "" || empty.LesionedLayer != "" {
			t.Errorf("%+v", empty)
		}
	}
}

func TestStratify(t *testing.T) {
	labels := make([]stimuli.Category, 0, 200)
	for i := range 200 {
		labels = append(labels, stimuli.Category([]int{0, 0, 1, 2, 2, 2, 3}[i%7]))
	}
	s := Stratify(labels, 3)
	all := append(append(slices.Clone(s.Train), s.Val...), s.Test...)
	slices.Sort(all)
	var want []int
	var per [3][3]int
	for i, l := range labels {
		if l != stimuli.Unknown {
			want = append(want, i)
		}
	}
	if !slices.Equal(all, want) {
		t.Fatal("the splits do not partition the labelled images")
	}
	for k, part := range [][]int{s.Train, s.Val, s.Test} {
		if !slices.IsSorted(part) {
			t.Error("split not sorted")
		}
		for _, i := range part {
			per[labels[i]][k]++
		}
	}
	for c, p := range per {
		n := p[0] + p[1] + p[2]
		a := int(math.Round(0.5 * float64(n)))
		b := int(math.Round(0.75*float64(n))) - a
		if p[0] != a || p[1] != b {
			t.Errorf("category %d: %v of %d", c, p, n)
		}
	}
	if s2 := Stratify(labels, 3); !slices.Equal(s.Test, s2.Test) {
		t.Error("not deterministic")
	}
	if s3 := Stratify(labels, 4); slices.Equal(s.Test, s3.Test) {
		t.Error("the seed is ignored")
	}
}

func TestScore(t *testing.T) {
	pred := []bool{true, true, false, false, true, false}
	truth := []bool{true, false, true, false, true, false}
	s := Evaluate(pred, truth)
	if s != (Score{TP: 2, FP: 1, FN: 1, TN: 2}) || s.F1() != 2.0/3 || s.MacroF1() != 2.0/3 || s.Accuracy() != 4.0/6 {
		t.Errorf("%+v F1 %v macro %v acc %v", s, s.F1(), s.MacroF1(), s.Accuracy())
	}
	none := Evaluate([]bool{false, false}, []bool{false, false})
	if none.F1() != 0 || none.MacroF1() != 0.5 || none.Accuracy() != 1 {
		t.Errorf("no positives: F1 %v macro %v", none.F1(), none.MacroF1())
	}
	if (Score{}).Accuracy() != 0 {
		t.Error("empty accuracy")
	}
}

func TestGainPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"alpha":   func() { Gain(4, []int{1}, -1.01) },
		"unit":    func() { Gain(4, []int{4}, 1) },
		"draw":    func() { Draw(1, 3, 4) },
		"split":   func() { StratifyFractions(nil, [3]float64{0.5, 0.5, 0.5}, 1) },
		"layer":   func() { NewSuffix(tinyModel(), "conv9_9", "", []int{3, 32, 32}) },
		"reverse": func() { NewSuffix(tinyModel(), "fc7", "fc6", []int{3, 32, 32}) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				s, ok := r.(string)
				if !ok || len(s) < 12 || s[:12] != "manipulate: " {
					t.Errorf("panic %v, want a manipulate: message", r)
				}
			}()
			f()
		})
	}
	if g := Gain(3, []int{0, 2}, 0.5); !slices.Equal(g, []float32{0.5, 0, 0.5}) {
		t.Errorf("gain %v", g)
	}
}

// TestPlantedEffectAllLayers repeats TestPlantedEffect on every conv layer
// with the paper's settings (keep 80% by SI, R = 10) as well as keep 25%.
// It takes about a minute; set EMOSEL_HEAVY=1 to run it.
func TestPlantedEffectAllLayers(t *testing.T) {
	if os.Getenv("EMOSEL_HEAVY") == "" {
		t.Skip("set EMOSEL_HEAVY=1 to run")
	}
	f := synthetic(t)
	m := tinyModel()
	for _, keep := range []float64{0.8, 0.25} {
		sel := selectiveUnits(t, m, f, f.labels, keep)
		strong := 0
		for e := range stimuli.NumEmotions {
			task := newTask(t, f, f.labels, e)
			var rs []*LesionResult
			for _, u := range m.ConvUnits() {
				r, err := task.Lesion(context.Background(), m, u.Name, sel[u.Name][e], Config{Seed: 4}, nil)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
				fs := f1s(r.Test)
				t.Logf("keep %.2f %v %s: %d units, selective %.3f, random mean %.3f, p %.3f",
					keep, e, u.Name, len(r.Sets[0].Units), fs[0], mean(fs[1:]), r.P)
				if strongLesion(r) {
					strong++
				}
			}
			w, _, _ := LesionAcrossLayers(rs)
			t.Logf("keep %.2f %v: Wilcoxon across layers n %d, W+ %g, p %.4f", keep, e, w.N, w.W, w.P)
		}
		if keep == 0.25 && strong == 0 {
			t.Error("no layer where lesioning the selective neurons hurts more than every random draw")
		}
	}
}

// TestSuffixVGG16 checks the suffix re-run against a full forward with the
// gain installed on full-size VGG-16 at 224×224 (EMOSEL_HEAVY=1).
func TestSuffixVGG16(t *testing.T) {
	if os.Getenv("EMOSEL_HEAVY") == "" {
		t.Skip("set EMOSEL_HEAVY=1 to run")
	}
	m := vgg.Random16(1)
	x := tensor.New(2, 3, 224, 224)
	tensor.NewRNG(2).Normal(x, 0, 1)
	fc7, _ := m.Unit("fc7")
	for _, layer := range []string{"conv1_2", "conv3_1", "conv5_3"} {
		s := NewSuffix(m, layer, "", []int{3, 224, 224})
		c := s.Unit().Channels
		g := Gain(c, []int{0, 3, c - 1}, 1.5)
		g[5] = -1
		got := s.Run(s.Prefix(x), g)
		m.SetGain(layer, g)
		want := m.Net.ForwardRange(0, fc7.ReLU+1, x)
		m.ClearGains()
		if !slices.Equal(got.Data(), want.Data()) {
			t.Errorf("%s: suffix features differ from the full forward", layer)
		}
	}
}
