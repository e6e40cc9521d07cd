package study

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

var kClasses = []string{"dark", "dim", "light", "bright"}

// kStudy runs the K-category selectivity stage (selectivity/study.RunK)
// on two planted K = 4 sets (stimuli.SyntheticClasses: the categories
// differ in mean luminance) on tinyModel, and returns a study
// configuration under that design with the selectivity output it wrote.
func kStudy(t *testing.T) Config {
	cfg, _ := kStudyOf(t, 0)
	return cfg
}

// kStudyOf is kStudy; with shuffle ≠ 0 each set's class labels are
// permuted among its images first (seeded by shuffle), which keeps the
// class sizes and removes every link between class and image. It also
// returns the selectivity stage's output directory.
func kStudyOf(t *testing.T, shuffle uint64) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	var raw []*stimuli.Set
	var sets []Set
	for i, name := range []string{"kA", "kB"} {
		st := stimuli.SyntheticClasses(name, kClasses, 160, uint64(40+i), size)
		if shuffle != 0 {
			st = shuffled(st, shuffle+uint64(i))
		}
		s, err := FromSet(st, imagenet.Config{Size: size})
		if err != nil {
			t.Fatal(err)
		}
		raw, sets = append(raw, st), append(sets, s)
	}
	m := tinyModelOf(vgg.Config{Width: 1.0 / 8, Hidden: 128, Classes: 10})
	err := selstudy.RunK(context.Background(), filepath.Join(dir, "sel"), selstudy.KConfig{
		Sets: raw, Networks: []selstudy.Network{{Label: "network", Key: "tiny", Model: m, Record: selectivity.RecordConfig{Seed: 3}}},
		Input: imagenet.Config{Size: size}, Criterion: selectivity.BySI, Keep: selectivity.DefaultKeep,
	})
	if err != nil {
		t.Fatal(err)
	}
	from, err := ReadSelectivityK(filepath.Join(dir, "sel"))
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Model: m, ModelID: ParamsID(m), Input: "squash 32", Sets: sets, From: from,
		Classes: kClasses, Design: raw[0].Design.String(),
		Layers:  []string{"conv3_2", "conv4_3"},
		Exp:     manipulate.Config{Draws: 4, Alphas: []float64{0, 0.5, 1}},
		Readout: nn.TrainConfig{LR: 3e-2, Epochs: 200, Batch: 32},
		Seed:    5,
	}, filepath.Join(dir, "sel")
}

// shuffled returns a copy of st whose images' classes are permuted among
// them (tensor.RNG seeded by seed).
func shuffled(st *stimuli.Set, seed uint64) *stimuli.Set {
	c := *st
	c.Images = slices.Clone(st.Images)
	perm := tensor.NewRNG(seed).Perm(len(c.Images))
	for i, p := range perm {
		c.Images[i].Class = st.Images[p].Class
	}
	return &c
}

// TestKStudy runs the whole K-category study end to end on the planted
// K = 4 sets: Table 1 has a row per set × category with the paper's
// columns, lesion.csv and sweep.csv have a selective and the random draws
// per (set, class, layer), and on the planted categories (the darkest and
// the brightest, which the channels carry) silencing the class's
// selective channels lowers its readout's test F1 more than the random
// draws do on average, summed over sets and layers. A second Run reuses
// every unit and rewrites the same bytes.
func TestKStudy(t *testing.T) {
	cfg := kStudy(t)
	if got := len(cfg.From.Classes); got != 4 {
		t.Fatalf("ReadSelectivityK: %d classes %q", got, cfg.From.Classes)
	}
	out := t.TempDir()
	s, err := Open(out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Units()); n != 2*4*2 {
		t.Errorf("%d units, want sets × classes × layers = 16", n)
	}
	if err := s.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	head, rows := golden.CSV(t, filepath.Join(out, Table1File))
	want := []string{"set", "emotion", "original_f1", "enhanced_f1", "enhanced_layer", "enhanced_alpha", "enhanced_pct",
		"lesioned_f1", "lesioned_layer", "lesioned_pct"}
	if len(head) != len(want) {
		t.Fatalf("table1.csv header %q, want %q", head, want)
	}
	for i := range want {
		if head[i] != want[i] {
			t.Fatalf("table1.csv header %q, want %q", head, want)
		}
	}
	if len(rows) != 2*4 {
		t.Fatalf("table1.csv has %d rows, want 8 (2 sets × 4 classes)", len(rows))
	}
	for i, r := range rows {
		if set, class := cfg.Sets[i/4].Name, kClasses[i%4]; r[0] != set || r[1] != class {
			t.Errorf("table1.csv row %d is %s/%s, want %s/%s", i+1, r[0], r[1], set, class)
		}
	}
	_, les := golden.CSV(t, filepath.Join(out, LesionFile))
	if len(les) != 2*4*2*(1+cfg.Exp.Draws) {
		t.Errorf("lesion.csv has %d rows, want %d", len(les), 2*4*2*(1+cfg.Exp.Draws))
	}
	// Per planted class, the selective lesion's drop against the mean
	// random drop, summed over sets and layers.
	drop := map[string][2]float64{}
	nsel := map[string]int{}
	for _, r := range les {
		f, err := strconv.ParseFloat(r[6], 64)
		if err != nil {
			t.Fatalf("lesion.csv f1_test %q", r[6])
		}
		d := drop[r[1]]
		if r[3] == "selective" {
			d[0] -= f
			n, _ := strconv.Atoi(r[5])
			nsel[r[1]] += n
		} else {
			d[1] -= f / float64(cfg.Exp.Draws)
		}
		drop[r[1]] = d
	}
	for _, c := range []string{"dark", "bright"} {
		t.Logf("%s: %d selective channels, summed lesioned F1: selective %.3f, random mean %.3f", c, nsel[c], -drop[c][0], -drop[c][1])
		if nsel[c] == 0 || !(drop[c][0] > drop[c][1]) {
			t.Errorf("%s: selective lesion (summed F1 %.3f, %d channels) does not hurt more than random (%.3f)", c, -drop[c][0], nsel[c], -drop[c][1])
		}
	}
	_, swp := golden.CSV(t, filepath.Join(out, SweepFile))
	if len(swp) == 0 {
		t.Error("sweep.csv is empty")
	}
	_, st := golden.CSV(t, filepath.Join(out, StatsFile))
	if len(st) != 2*4*(2+1)*2 {
		t.Errorf("stats.csv has %d rows, want %d (per set and class: a rank test per layer and Wilcoxon's, for lesion and attention)", len(st), 2*4*3*2)
	}
	// The figures: fig6 has a panel per class and set (classes as rows),
	// fig4_<set> a row per class; a panel is empty where the intact test
	// F1 is 0; each class's selective line has its own colour.
	_, ro := golden.CSV(t, filepath.Join(out, ReadoutFile))
	scored := map[string]int{}
	for _, r := range ro {
		if f, _ := strconv.ParseFloat(r[5], 64); r[2] == "test" && f > 0 {
			scored[r[0]]++
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, "fig6.svg"))
	if err != nil {
		t.Fatal(err)
	}
	n := scored["kA"] + scored["kB"]
	checkFigure(t, "fig6", svg, figureWant{n, 8 - n, -1})
	f, err := figuretest.Parse(bytes.NewReader(svg))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Frames) == 8 && !(math.Abs(f.Frames[2].Y0-f.Frames[0].Y0) > 1 && math.Abs(f.Frames[1].Y0-f.Frames[0].Y0) < 1) {
		t.Errorf("fig6: panels %v, want a row per class and a column per set", f.Frames[:3])
	}
	strokes := map[string]bool{}
	for _, p := range f.Paths {
		strokes[p.Stroke] = true
	}
	for c, name := range kClasses {
		if h := figuretest.Hex(figure.Category(c)); !strokes[h] {
			t.Errorf("fig6: no line in %s's colour %s", name, h)
		}
	}
	for _, set := range []string{"kA", "kB"} {
		svg, err := os.ReadFile(filepath.Join(out, "fig4_"+set+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		checkFigure(t, "fig4_"+set, svg, figureWant{scored[set] + 4, 4 - scored[set], -1})
	}
	before := outputs(t, out)
	s, err = Open(out, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range KStages {
		if p := s.Pending(st); len(p) != 0 {
			t.Errorf("after a run, %d %s units are pending", len(p), st)
		}
	}
	if err := s.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, "resumed K study", outputs(t, out), before)
}

// TestKStudyErrors: a K design refuses the threshold search, classes that
// do not match the selectivity output's, and a paper-design study given a
// K selectivity output.
func TestKStudyErrors(t *testing.T) {
	cfg := kStudy(t)
	c := cfg
	c.Stages = []string{Threshold}
	if _, err := Open(t.TempDir(), c); err == nil {
		t.Error("a K design accepted the threshold stage")
	}
	c = cfg
	c.Classes = []string{"dark", "dim", "light", "glare"}
	if _, err := Open(t.TempDir(), c); err == nil {
		t.Error("a K design accepted classes that differ from the selectivity output's")
	}
	c = cfg
	c.Classes = nil
	if _, err := Open(t.TempDir(), c); err == nil {
		t.Error("the paper's design accepted a K selectivity output")
	}
}

// overlapZ reads an overlap_k.csv (two sets) and returns the summed
// observed overlap, and its z score against the exact chance model: two
// draws of n_A and n_B of the layer's N channels meet in a
// hypergeometric count of mean n_A·n_B/N and variance
// n_A·n_B·(N−n_A)·(N−n_B)/(N²·(N−1)), summed over the rows (as if
// independent). It checks each row's expected column against that mean.
func overlapZ(t *testing.T, path string) (obs, z float64) {
	t.Helper()
	head, rows := golden.CSV(t, path)
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	num := func(r []string, name string) float64 {
		v, err := strconv.ParseFloat(r[col[name]], 64)
		if err != nil {
			t.Fatalf("%s: %s %q", path, name, r[col[name]])
		}
		return v
	}
	var mean, vr float64
	for _, r := range rows {
		a, b, n := num(r, "n_kA"), num(r, "n_kB"), num(r, "channels")
		m := a * b / n
		if e := num(r, "expected"); math.Abs(e-m) > 1e-9*(1+m) {
			t.Errorf("%s %s/%s: expected %v, want n_A·n_B/N = %v", path, r[1], r[2], e, m)
		}
		obs += num(r, "observed")
		mean += m
		if n > 1 {
			vr += a * b * (n - a) * (n - b) / (n * n * (n - 1))
		}
	}
	if vr == 0 {
		t.Fatalf("%s: no overlap row can vary", path)
	}
	return obs, (obs - mean) / math.Sqrt(vr)
}

// TestKShuffled is the planted K = 4 study's negative control. With each
// set's class labels permuted among its images, the channels selective
// in both sets overlap as the exact chance model says (|z| < 3 summed
// over layers and classes), while the planted labels overlap far above
// it (z > 5). The one-vs-rest readouts' test F1 (and macro-F1) of the
// planted classes sit far above a label-permutation null — the same
// features, split procedure, balanced training and seeds, with the
// labels permuted (19 draws; a readout with no signal scores an F1 far
// from 0 once it is trained balanced, so 0 is not the chance level) —
// and the shuffled study's readouts sit within that null's range.
func TestKShuffled(t *testing.T) {
	ctx := context.Background()
	study := func(shuffle uint64) (Config, string, string) {
		cfg, sel := kStudyOf(t, shuffle)
		cfg.Layers, cfg.Stages, cfg.Exp.Draws = []string{"conv4_3"}, []string{Lesion}, 1
		cfg.Readout.Balanced = true
		out := t.TempDir()
		s, err := Open(out, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return cfg, sel, out
	}
	planted, pSel, pOut := study(0)
	_, sSel, sOut := study(101)
	obs, z := overlapZ(t, filepath.Join(pSel, "overlap_k.csv"))
	t.Logf("overlap, planted labels: %v channels, z %.1f", obs, z)
	if !(z > 5) {
		t.Errorf("planted labels: summed overlap z %.2f, want > 5", z)
	}
	obs, z = overlapZ(t, filepath.Join(sSel, "overlap_k.csv"))
	t.Logf("overlap, shuffled labels: %v channels, z %.1f", obs, z)
	if !(math.Abs(z) < 3) {
		t.Errorf("shuffled labels: summed overlap z %.2f, want |z| < 3 (chance)", z)
	}
	// Mean test F1 and macro-F1 over sets and classes of a readout.csv.
	meanF1 := func(out string) (f1, macro float64) {
		_, rows := golden.CSV(t, filepath.Join(out, ReadoutFile))
		n := 0
		for _, r := range rows {
			if r[2] != "test" {
				continue
			}
			a, _ := strconv.ParseFloat(r[5], 64)
			b, _ := strconv.ParseFloat(r[6], 64)
			f1, macro, n = f1+a, macro+b, n+1
		}
		if n != 2*len(kClasses) {
			t.Fatalf("%s: %d test rows, want %d", out, n, 2*len(kClasses))
		}
		return f1 / float64(n), macro / float64(n)
	}
	// The null: the planted study's features, labels permuted.
	s, err := Open(pOut, planted)
	if err != nil {
		t.Fatal(err)
	}
	var nullF1, nullMacro []float64
	for d := range 19 {
		var f1, macro float64
		for si, set := range planted.Sets {
			feats, err := npy.ReadFile(s.featuresPath(si))
			if err != nil {
				t.Fatal(err)
			}
			labels := slices.Clone(set.Classes)
			for i, p := range tensor.NewRNG(uint64(500 + d)).Perm(len(labels)) {
				labels[i] = set.Classes[p]
			}
			split := manipulate.StratifyK(labels, len(kClasses), manipulate.DefaultFractions, manipulate.Derive(planted.Seed, "split", set.Name))
			for c := range kClasses {
				task, err := manipulate.NewTaskK(ctx, set.Name, set.Images, labels, c, feats, split, planted.Readout, uint64(d*10+c))
				if err != nil {
					t.Fatal(err)
				}
				_, test := task.Original()
				f1, macro = f1+test.F1(), macro+test.MacroF1()
			}
		}
		k := float64(2 * len(kClasses))
		nullF1, nullMacro = append(nullF1, f1/k), append(nullMacro, macro/k)
	}
	lo, hi := slices.Min(nullF1), slices.Max(nullF1)
	mlo, mhi := slices.Min(nullMacro), slices.Max(nullMacro)
	pf, pm := meanF1(pOut)
	sf, sm := meanF1(sOut)
	t.Logf("mean test F1: planted %.3f, shuffled %.3f, null [%.3f, %.3f]; macro-F1: planted %.3f, shuffled %.3f, null [%.3f, %.3f]",
		pf, sf, lo, hi, pm, sm, mlo, mhi)
	if lo < 0.05 {
		t.Errorf("null mean F1 down to %.3f: the balanced readout still answers no to everything", lo)
	}
	if !(pf > hi+0.2) || !(pm > mhi+0.2) {
		t.Errorf("planted readouts (F1 %.3f, macro %.3f) not well above the null's largest (%.3f, %.3f)", pf, pm, hi, mhi)
	}
	const slack = 0.05 // the shuffled run is one more draw of the null
	if sf < lo-slack || sf > hi+slack || sm < mlo-slack || sm > mhi+slack {
		t.Errorf("shuffled readouts (F1 %.3f, macro %.3f) outside the null's range F1 [%.3f, %.3f], macro [%.3f, %.3f]", sf, sm, lo, hi, mlo, mhi)
	}
}

// TestKShardsMerge: a K-design study split into two shards, run into
// separate directories one after the other and merged with Merge, gives
// byte for byte the unsharded run's outputs (the K-row Table 1, the
// stages' CSVs and the figures); each shard alone writes no Table 1.
func TestKShardsMerge(t *testing.T) {
	cfg := kStudy(t)
	cfg.Layers, cfg.Exp.Draws = []string{"conv4_3"}, 2
	whole := t.TempDir()
	s, err := Open(whole, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	for i, dir := range dirs {
		c := cfg
		c.Shard, c.Shards = i, 2
		s, err := Open(dir, c)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(s.Mine()); n == 0 || n == len(s.Units()) {
			t.Errorf("shard %d has %d of %d units", i, n, len(s.Units()))
		}
		if err := s.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, Table1File)); err == nil {
			t.Errorf("shard %d merged by itself", i)
		}
	}
	if err := Merge(dirs[0], dirs[1]); err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, "merged K shards", outputs(t, dirs[0]), outputs(t, whole))
}
