package study

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/vgg"
)

// outputs returns the files Merge writes in dir, by name.
func outputs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || e.Name() == ManifestFile {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameOutputs(t *testing.T, what string, got, want map[string][]byte) {
	t.Helper()
	var names []string
	for n := range want {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !bytes.Equal(got[n], want[n]) {
			t.Errorf("%s: %s differs from the unsharded run's", what, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d output files, unsharded run wrote %d", what, len(got), len(want))
	}
}

func run(t *testing.T, dir string, cfg Config) {
	t.Helper()
	s, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// reference holds the outputs of the unsharded run of testConfig, made
// once per test binary by unsharded.
var reference map[string][]byte

// unsharded runs the test study once, unsharded, and returns its outputs.
func unsharded(t *testing.T) map[string][]byte {
	t.Helper()
	if reference == nil {
		dir := t.TempDir()
		run(t, dir, testConfig(t))
		reference = outputs(t, dir)
	}
	return reference
}

func TestOutputs(t *testing.T) {
	want := unsharded(t)
	for _, n := range []string{Table1File, LesionFile, SweepFile, StatsFile, ThresholdFile, ReadoutFile,
		"fig6.svg", "fig6.png", "fig4_alpha.svg", "fig4_beta.png", "fig3c.svg", "fig3c.png"} {
		if len(want[n]) == 0 {
			t.Errorf("no %s", n)
		}
	}
	head := func(name string) string { return strings.SplitN(string(want[name]), "\n", 2)[0] }
	for name, h := range map[string]string{
		Table1File: "set,emotion,original_f1,enhanced_f1,enhanced_layer,enhanced_alpha,enhanced_pct,lesioned_f1,lesioned_layer,lesioned_pct",
		LesionFile: "set,emotion,layer,units,draw,n_units,f1_test",
		SweepFile:  "set,emotion,layer,units,draw,alpha,f1_val,f1_test",
	} {
		if head(name) != h {
			t.Errorf("%s header %q", name, head(name))
		}
	}
	// 2 sets × 3 emotions rows, + header.
	if n := strings.Count(string(want[Table1File]), "\n"); n != 7 {
		t.Errorf("table1.csv has %d lines", n)
	}
	// 2 sets × 3 emotions × 2 layers × (1 + 2 draws).
	if n := strings.Count(string(want[LesionFile]), "\n"); n != 1+36 {
		t.Errorf("lesion.csv has %d lines", n)
	}
	if !strings.Contains(string(want[StatsFile]), "lesion_wilcoxon,all") || !strings.Contains(string(want[StatsFile]), "attention_rank,conv5_3") {
		t.Errorf("stats.csv lacks tests:\n%s", want[StatsFile])
	}
}

// TestShardsMergeToUnsharded: two shards run at the same time into
// separate directories, merged with Merge(dir, other), give byte for byte
// the unsharded run's outputs (CSVs and figures).
func TestShardsMergeToUnsharded(t *testing.T) {
	want := unsharded(t)
	dirs := []string{t.TempDir(), t.TempDir()}
	studies := make([]*Study, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cfg := testConfig(t)
		cfg.Shard, cfg.Shards = i, 2
		s, err := Open(dirs[i], cfg)
		if err != nil {
			t.Fatal(err)
		}
		studies[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Run(context.Background(), nil)
		}()
	}
	wg.Wait()
	seen := map[Unit]int{}
	for i, s := range studies {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(s.Mine()) == 0 || len(s.Mine()) == len(s.Units()) {
			t.Errorf("shard %d has %d of %d units", i, len(s.Mine()), len(s.Units()))
		}
		for _, u := range s.Mine() {
			seen[u]++
		}
		if _, err := os.Stat(filepath.Join(dirs[i], Table1File)); err == nil {
			t.Errorf("shard %d merged by itself", i)
		}
	}
	if len(seen) != 12 {
		t.Errorf("the shards cover %d distinct units, want 12", len(seen))
	}
	for u, n := range seen {
		if n != 1 {
			t.Errorf("unit %+v is in %d shards", u, n)
		}
	}
	if err := Merge(dirs[0]); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("merging half a study: %v", err)
	}
	if err := Merge(dirs[0], dirs[1]); err != nil {
		t.Fatal(err)
	}
	sameOutputs(t, "merged shards", outputs(t, dirs[0]), want)
}

// TestResume: a run cancelled halfway through the lesion stage keeps its
// finished units; running again does only the rest, and gives the
// uninterrupted run's outputs.
func TestResume(t *testing.T) {
	want := unsharded(t)
	dir := t.TempDir()
	cfg := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	half := &cancelAtHalf{cancel: cancel}
	if err := s.Run(ctx, half); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	finished := len(s.Units()) - len(s.Pending(Lesion))
	if finished == 0 || finished == len(s.Units()) {
		t.Fatalf("%d of %d lesion units finished before the interruption, want some", finished, len(s.Units()))
	}
	if _, err := os.Stat(filepath.Join(dir, Table1File)); err == nil {
		t.Error("an interrupted run wrote table1.csv")
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", path)
		}
		return nil
	})
	s2, err := Open(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	second := &countingProgress{}
	if err := s2.Run(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if second.total[Lesion] >= half.total[Lesion] {
		t.Errorf("resumed lesion work %d, first run's %d: finished units were redone", second.total[Lesion], half.total[Lesion])
	}
	if slices.Contains(second.started, "features") {
		t.Error("features were recomputed although cached")
	}
	sameOutputs(t, "resumed run", outputs(t, dir), want)
}

// countingProgress records each stage's total work.
type countingProgress struct {
	total   map[string]int64
	started []string
	done    int64
}

func (p *countingProgress) Start(stage string, total int64) {
	if p.total == nil {
		p.total = map[string]int64{}
	}
	p.total[stage] = total
	p.started = append(p.started, stage)
	p.done = 0
}

func (p *countingProgress) Add(n int64) { p.done += n }
func (p *countingProgress) Finish()     {}

// cancelAtHalf cancels once half the lesion stage's work is done.
type cancelAtHalf struct {
	countingProgress
	cancel func()
}

func (c *cancelAtHalf) Add(n int64) {
	c.countingProgress.Add(n)
	if c.started[len(c.started)-1] == Lesion && 2*c.done >= c.total[Lesion] {
		c.cancel()
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	run := func(mod func(*Config)) error {
		cfg := testConfig(t)
		mod(&cfg)
		_, err := Open(dir, cfg)
		return err
	}
	if err := run(func(*Config) {}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		mod  func(*Config)
		want string
		is   error
	}{
		"shard":   {func(c *Config) { c.Shard, c.Shards = 3, 2 }, "shard 3/2", nil},
		"seed":    {func(c *Config) { c.Seed = 8 }, "other settings (seed 7, now 8)", ErrMismatch},
		"draws":   {func(c *Config) { c.Exp.Draws = 3 }, "draws", ErrMismatch},
		"layer":   {func(c *Config) { c.Layers = []string{"conv9_1"} }, "no layer \"conv9_1\"", nil},
		"fc7":     {func(c *Config) { c.Layers = []string{"fc7"}; c.Exp.Features = "fc6" }, "not before", nil},
		"alpha":   {func(c *Config) { c.Exp.Alphas = []float64{-2} }, "outside [-1, ∞)", nil},
		"stage":   {func(c *Config) { c.Stages = []string{"ablate"} }, "unknown stage", nil},
		"removed": {func(c *Config) { c.Removed = []float64{1} }, "outside [0, 1)", nil},
		"set missing": {func(c *Config) {
			c.Sets = append(c.Sets[:1:1], Set{Name: "gamma", Images: c.Sets[1].Images, Labels: c.Sets[1].Labels})
		}, "no set \"gamma\"", ErrFrom},
		"set twice": {func(c *Config) { c.Sets = []Set{c.Sets[0], c.Sets[0]} }, "given twice", nil},
		"set name":  {func(c *Config) { c.Sets = []Set{{Name: "a/b", Images: c.Sets[0].Images, Labels: c.Sets[0].Labels}} }, "set name", nil},
		"model": {func(c *Config) {
			c.Model = vgg.New(vgg.Config{Width: 1.0 / 8, Hidden: 64, Classes: 10}, nil)
		}, "does not match the model: layer conv1_1 has 4 channels there, 8 in vgg16", ErrFrom},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(c.mod)
			if err == nil || !strings.Contains(err.Error(), c.want) || c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// Stages and layers may change between runs of one directory.
	if err := run(func(c *Config) { c.Stages = []string{Lesion}; c.Layers = []string{"conv5_3"} }); err != nil {
		t.Errorf("narrower run refused: %v", err)
	}
}

func TestEstimate(t *testing.T) {
	cfg := testConfig(t)
	s, err := Open(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Estimate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Rates) != 2 || len(e.Stages) != 4 || e.Rates[0].Slope <= 0 || e.Rates[1].FLOPs >= e.Rates[0].FLOPs {
		t.Errorf("estimate %+v", e)
	}
	all, shard := e.Total()
	if all <= 0 || shard != all {
		t.Errorf("total %v, shard %v", all, shard)
	}
	var b bytes.Buffer
	if err := e.Write(&b); err != nil || !strings.Contains(b.String(), "total") || !strings.Contains(b.String(), "conv5_3") {
		t.Errorf("%v\n%s", err, b.String())
	}
	// The counted work matches the experiments' own accounting.
	ev := map[string]int64{}
	for _, st := range e.Stages {
		ev[st.Stage] = st.Evals
	}
	if ev[Lesion] == 0 || ev[Sweep] == 0 {
		t.Errorf("work %v", ev)
	}
	// Each stage's per-layer split adds up to its time, and each layer's
	// part is its units' evaluations and prefixes at that layer's rate.
	for _, st := range e.Stages {
		if st.ByLayer == nil {
			if st.Stage != "features" {
				t.Errorf("%s: no per-layer split", st.Stage)
			}
			continue
		}
		want := make([]float64, len(e.Rates))
		for _, u := range s.Units() {
			evals, prefixes, sets := s.work(st.Stage, u)
			if evals == 0 {
				continue
			}
			r := e.Rates[u.Layer]
			want[u.Layer] += float64(evals)*r.Slope + float64(prefixes)*(r.Prefix+float64(sets)*r.Base)
		}
		var sum float64
		for li := range want {
			sum += st.ByLayer[li]
			if math.Abs(st.ByLayer[li]-want[li]) > 1e-9*max(1, want[li]) {
				t.Errorf("%s %s: %g s, want %g", st.Stage, e.Rates[li].Layer, st.ByLayer[li], want[li])
			}
		}
		if math.Abs(sum-st.Time) > 1e-9*max(1, st.Time) {
			t.Errorf("%s: layers sum to %g s, stage %g", st.Stage, sum, st.Time)
		}
	}
	if !strings.Contains(b.String(), "% of total") || !strings.Contains(b.String(), "% of sweep") {
		t.Errorf("no per-layer share table:\n%s", b.String())
	}
}

func TestAssign(t *testing.T) {
	got := Assign([]float64{1, 5, 3, 3, 2, 0}, 2)
	// 5 → 0; 3 → 1; 3 → 1 (load 3 < 5); 2 → 0 (5 < 6); 1 → 1 (6 < 7... 6 vs 7: shard 1 has 6)
	if !slices.Equal(got, []int{1, 0, 1, 1, 0, 0}) {
		t.Errorf("Assign: %v", got)
	}
	if got := Assign([]float64{1, 1, 1}, 1); !slices.Equal(got, []int{0, 0, 0}) {
		t.Errorf("one shard: %v", got)
	}
}

// TestThresholdScope: by default the threshold search runs on the first
// set and the pleasant emotion only (the paper's Fig 3C example), and its
// rows are those of the same units in a study of every set, emotion and
// layer; the manifest says which scope ran.
func TestThresholdScope(t *testing.T) {
	cfg := testConfig(t)
	cfg.Stages = []string{Threshold}
	cfg.Exp = manipulate.Config{Draws: 1, Alphas: []float64{0, 1, 2}}
	paper, all := t.TempDir(), t.TempDir()
	s, err := Open(paper, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pend := s.Pending(Threshold)
	if len(pend) != 2 { // 2 layers
		t.Fatalf("%d pending threshold units under the paper's scope, want 2", len(pend))
	}
	for _, u := range pend {
		if u.Set != 0 || u.Emotion != stimuli.Pleasant {
			t.Errorf("threshold unit %s outside the paper's scope", s.Name(u))
		}
	}
	if err := s.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	cfg.ThresholdAll = true
	run(t, all, cfg)
	rows := func(dir string) []string {
		b, err := os.ReadFile(filepath.Join(dir, ThresholdFile))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	p, a := rows(paper), rows(all)
	if len(a) != 1+2*3*2*2 || len(p) != 1+2*2 {
		t.Fatalf("threshold.csv: %d rows under the paper's scope, %d under all", len(p), len(a))
	}
	first := cfg.Sets[0].Name + ",pleasant,"
	var want []string
	for _, r := range a[1:] {
		if strings.HasPrefix(r, first) {
			want = append(want, r)
		}
	}
	if !slices.Equal(p[1:], want) {
		t.Errorf("paper-scope rows\n%v\nwant the same units of the full search\n%v", p[1:], want)
	}
	var m Manifest
	if err := readJSON(filepath.Join(paper, ManifestFile), &m); err != nil || m.ThresholdScope != ScopePaper {
		t.Errorf("manifest scope %q (%v), want %q", m.ThresholdScope, err, ScopePaper)
	}
}

// TestSearchMatchesExhaustive: the test study with the default search
// for the val-best α and with the exhaustive grid gives the same
// Table 1, lesion table and statistics, and a sweep table whose val
// scores agree at every gain the search evaluated.
func TestSearchMatchesExhaustive(t *testing.T) {
	cfg := testConfig(t)
	cfg.Exp = manipulate.Config{Draws: 2, Alphas: manipulate.Grid(0, 2, 0.25)}
	cfg.Stages = []string{Lesion, Sweep}
	search, grid := t.TempDir(), t.TempDir()
	run(t, search, cfg)
	cfg.Exp.Exhaustive = true
	run(t, grid, cfg)
	a, b := outputs(t, search), outputs(t, grid)
	for _, n := range []string{Table1File, LesionFile, StatsFile} {
		if !bytes.Equal(a[n], b[n]) {
			t.Errorf("%s differs between the search and the grid:\n%s\n%s", n, a[n], b[n])
		}
	}
	gridRows := map[string]string{} // set,emotion,layer,units,draw,alpha → f1_val
	for _, l := range strings.Split(string(b[SweepFile]), "\n")[1:] {
		if f := strings.Split(l, ","); len(f) == 8 {
			gridRows[strings.Join(f[:6], ",")] = f[6]
		}
	}
	n := 0
	for _, l := range strings.Split(string(a[SweepFile]), "\n")[1:] {
		f := strings.Split(l, ",")
		if len(f) != 8 {
			continue
		}
		n++
		if v, ok := gridRows[strings.Join(f[:6], ",")]; !ok || v != f[6] {
			t.Errorf("sweep row %s: grid val F1 %q", l, v)
		}
	}
	if n == 0 || n >= len(gridRows) {
		t.Errorf("the search wrote %d sweep rows, the grid %d", n, len(gridRows))
	}
}
