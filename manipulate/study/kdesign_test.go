package study

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/vgg"
)

var kClasses = []string{"dark", "dim", "light", "bright"}

// kStudy runs the K-category selectivity stage (selectivity/study.RunK)
// on two planted K = 4 sets (stimuli.SyntheticClasses: the categories
// differ in mean luminance) on tinyModel, and returns a study
// configuration under that design with the selectivity output it wrote.
func kStudy(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	var raw []*stimuli.Set
	var sets []Set
	for i, name := range []string{"kA", "kB"} {
		st := stimuli.SyntheticClasses(name, kClasses, 160, uint64(40+i), size)
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
	}
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
	head, rows := readCSV(t, filepath.Join(out, Table1File))
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
	_, les := readCSV(t, filepath.Join(out, LesionFile))
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
	_, swp := readCSV(t, filepath.Join(out, SweepFile))
	if len(swp) == 0 {
		t.Error("sweep.csv is empty")
	}
	_, st := readCSV(t, filepath.Join(out, StatsFile))
	if len(st) != 2*4*(2+1)*2 {
		t.Errorf("stats.csv has %d rows, want %d (per set and class: a rank test per layer and Wilcoxon's, for lesion and attention)", len(st), 2*4*3*2)
	}
	// The figures: fig6 has a panel per class and set (classes as rows),
	// fig4_<set> a row per class; a panel is empty where the intact test
	// F1 is 0; each class's selective line has its own colour.
	_, ro := readCSV(t, filepath.Join(out, ReadoutFile))
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

// readCSV reads a CSV output: its header and rows.
func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("%s: %v (%d lines)", path, err, len(all))
	}
	return all[0], all[1:]
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
