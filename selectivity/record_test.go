package selectivity

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// counter is a layer appended to a model's Sequential that counts forward
// passes, independently of the recording hooks Record installs.
type counter struct{ n *int }

func (c counter) Forward(x *tensor.Tensor) *tensor.Tensor { *c.n++; return x }
func (counter) String() string                            { return "Counter()" }

// tiny returns a reduced-width VGG-16 (channels 4…32) with a forward-pass
// counter, and the preprocessing for 32×32 inputs.
func tiny(seed uint64) (*nn.Model, *int, imagenet.Config) {
	m := vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 8, Classes: 4}, tensor.NewRNG(seed))
	n := new(int)
	m.Net.Append("counter", counter{n})
	return m, n, imagenet.Config{Size: 32}
}

// direct records every conv unit of m on the whole set in one batch with
// plain m.Record hooks, the images loaded by imagenet.Config.LoadBatch.
func direct(t *testing.T, m *nn.Model, set *stimuli.Set, pre imagenet.Config) map[string]*tensor.Tensor {
	t.Helper()
	var paths []string
	for _, im := range set.Images {
		paths = append(paths, im.Path)
	}
	x, err := pre.LoadBatch(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*tensor.Tensor{}
	m.Record(func(unit string, means *tensor.Tensor) { want[unit] = means })
	m.Forward(x)
	m.Record(nil)
	return want
}

func diskSet(t *testing.T, name string, n int, seed uint64) *stimuli.Set {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := stimuli.WriteSynthetic(dir, name, n, seed, 40); err != nil {
		t.Fatal(err)
	}
	set, err := stimuli.Load(dir, stimuli.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestRecordMatchesDirect(t *testing.T) {
	m, passes, pre := tiny(1)
	set := diskSet(t, "disk", 11, 3)
	dir := filepath.Join(t.TempDir(), "cache")
	var progress [][2]int
	rec, err := Record(context.Background(), m, set, pre, dir, RecordConfig{
		Batch:    4,
		Progress: func(done, total int) { progress = append(progress, [2]int{done, total}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Cached || *passes != 3 {
		t.Errorf("cached %v after %d passes, want a fresh recording in 3 batches", rec.Cached, *passes)
	}
	if len(progress) != 4 || progress[0] != [2]int{0, 11} || progress[1] != [2]int{4, 11} || progress[3] != [2]int{11, 11} {
		t.Errorf("progress %v", progress)
	}
	want := direct(t, m, set, pre)
	units := m.ConvUnits()
	if len(units) != 13 {
		t.Fatalf("%d conv units", len(units))
	}
	for _, u := range units {
		got := golden.Load(t, filepath.Join(dir, u.Name+".npy"))
		golden.Check(t, u.Name, got, want[u.Name], 1e-5)
	}
	resp, err := rec.Responses()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Units) != 13 || resp.Units[12] != "conv5_3" || !resp.Resp[12].HasShape(11, 32) {
		t.Errorf("Responses: units %v, last %v", resp.Units, resp.Resp[12].Shape())
	}
	for _, name := range []string{"fc6.npy", "fc7.npy"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s written; only conv units are recorded", name)
		}
	}
	idx, err := os.ReadFile(filepath.Join(dir, ImagesFile))
	lines := strings.Split(strings.TrimSpace(string(idx)), "\n")
	if err != nil || len(lines) != 12 || lines[0] != "row,file,valence,category" ||
		lines[1] != "0,"+set.Images[0].File+","+formatFloat(set.Images[0].Valence)+","+set.Images[0].Category.String() {
		t.Errorf("images.csv: %q, %v", lines, err)
	}
	// The hooks are gone: a plain forward pass records nothing.
	for _, u := range m.Units {
		if m.ReLUOf(u.Name).Record != nil {
			t.Errorf("%s still has a recording hook", u.Name)
		}
	}
}

func TestRecordCache(t *testing.T) {
	ctx := context.Background()
	m, passes, pre := tiny(1)
	set := stimuli.Synthetic("mem", 6, 5, 32)
	dir := t.TempDir()
	record := func(m *nn.Model, set *stimuli.Set, pre imagenet.Config, cfg RecordConfig) *Recording {
		t.Helper()
		cfg.Batch = 4
		r, err := Record(ctx, m, set, pre, dir, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := record(m, set, pre, RecordConfig{Seed: 1})
	if first.Cached || *passes != 2 {
		t.Fatalf("first recording: cached %v, %d passes", first.Cached, *passes)
	}
	stat := func() os.FileInfo {
		st, err := os.Stat(filepath.Join(dir, "conv3_1.npy"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	before := stat()

	*passes = 0
	if r := record(m, set, pre, RecordConfig{Seed: 1}); !r.Cached || *passes != 0 {
		t.Errorf("same key: cached %v after %d forward passes, want a cache hit with none", r.Cached, *passes)
	}
	if after := stat(); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a cache hit rewrote conv3_1.npy")
	}

	// Each part of the key makes the cache stale.
	m2, passes2, _ := tiny(2)
	gained, _, _ := tiny(1)
	gained.SetGain("conv2_1", make([]float32, 8))
	gained.ReLUOf("conv2_1").Gain[3] = 0.5
	other := stimuli.Synthetic("mem", 6, 6, 32)
	base, err := NewKey(m, set, pre, RecordConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !validCache(dir, base) {
		t.Fatal("the cache is not valid for its own key")
	}
	for _, c := range []struct {
		name string
		m    *nn.Model
		set  *stimuli.Set
		pre  imagenet.Config
		cfg  RecordConfig
	}{
		{"other weights", m2, set, pre, RecordConfig{Seed: 1}},
		{"a gain", gained, set, pre, RecordConfig{Seed: 1}},
		{"other images", m, other, pre, RecordConfig{Seed: 1}},
		{"other resize", m, set, imagenet.Config{Mode: imagenet.CenterCrop, Size: 32}, RecordConfig{Seed: 1}},
		{"other size", m, set, imagenet.Config{Size: 33}, RecordConfig{Seed: 1}},
		{"other seed label", m, set, pre, RecordConfig{Seed: 2}},
		{"weights label", m, set, pre, RecordConfig{Weights: "file.pth"}},
	} {
		k, err := NewKey(c.m, c.set, c.pre, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if k.equal(base) || validCache(dir, k) {
			t.Errorf("%s: key %+v matches the cache", c.name, k)
		}
	}
	// A stale cache is recomputed, and the old key then is stale.
	*passes2 = 0
	if r := record(m2, set, pre, RecordConfig{Seed: 2}); r.Cached || *passes2 != 2 {
		t.Errorf("other weights: cached %v after %d passes, want a recomputation", r.Cached, *passes2)
	}
	if validCache(dir, base) {
		t.Error("the old key still matches after recomputation")
	}

	// A damaged array is detected through key.json's size and hash.
	record(m, set, pre, RecordConfig{Seed: 1})
	path := filepath.Join(dir, "conv1_1.npy")
	raw, _ := os.ReadFile(path)
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o644)
	*passes = 0
	if r := record(m, set, pre, RecordConfig{Seed: 1}); r.Cached || *passes != 2 {
		t.Errorf("damaged array: cached %v, %d passes", r.Cached, *passes)
	}

	// Changed categories (other thresholds) reuse the arrays but rewrite
	// images.csv.
	soft := *set
	soft.Images = append([]stimuli.Image(nil), set.Images...)
	soft.Images[0].Category = stimuli.Unknown
	*passes = 0
	if r := record(m, &soft, pre, RecordConfig{Seed: 1}); !r.Cached || *passes != 0 {
		t.Errorf("relabelled set: cached %v, %d passes", r.Cached, *passes)
	}
	idx, _ := os.ReadFile(filepath.Join(dir, ImagesFile))
	if !strings.Contains(string(idx), "\n0,"+set.Images[0].File+","+formatFloat(set.Images[0].Valence)+",unknown\n") {
		t.Errorf("images.csv not relabelled:\n%s", idx)
	}

	var kf keyFileContent
	raw, _ = os.ReadFile(filepath.Join(dir, KeyFile))
	if err := json.Unmarshal(raw, &kf); err != nil || kf.Key.Arch != "vgg16" || kf.Key.Weights != "random" ||
		kf.Key.Seed == nil || *kf.Key.Seed != 1 || kf.Key.Images != 6 || kf.Key.Resize != "Squash 32" || len(kf.Files) != 13 {
		t.Errorf("key.json: %s (%v)", raw, err)
	}
}

// TestRecordInterrupted cancels a recording in its second batch: the
// previous cache is gone (its key.json removed first), no temporary file
// is left, and the next run recomputes.
func TestRecordInterrupted(t *testing.T) {
	m, passes, pre := tiny(1)
	set := stimuli.Synthetic("mem", 9, 5, 32)
	dir := t.TempDir()
	if _, err := Record(context.Background(), m, set, pre, dir, RecordConfig{Batch: 4}); err != nil {
		t.Fatal(err)
	}
	m2, _, _ := tiny(2)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Record(ctx, m2, set, pre, dir, RecordConfig{Batch: 4, Progress: func(done, total int) {
		if done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled recording: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key.json survives an interrupted recomputation: %v", err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	*passes = 0
	if r, err := Record(context.Background(), m, set, pre, dir, RecordConfig{Batch: 4}); err != nil || r.Cached || *passes != 3 {
		t.Errorf("after the interruption: %v, cached %v, %d passes", err, r != nil && r.Cached, *passes)
	}
	for _, u := range m2.Units {
		if m2.ReLUOf(u.Name).Record != nil {
			t.Errorf("%s keeps its hook after the error", u.Name)
		}
	}
}

func TestRecordBadImage(t *testing.T) {
	m, _, pre := tiny(1)
	set := diskSet(t, "broken", 6, 3)
	bad := set.Images[4].Path
	if err := os.WriteFile(bad, []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "cache")
	_, err := Record(context.Background(), m, set, pre, dir, RecordConfig{Batch: 4})
	if err == nil || !strings.Contains(err.Error(), "set broken") || !strings.Contains(err.Error(), bad) ||
		!errors.Is(err, imagenet.ErrFormat) {
		t.Fatalf("error %v does not name the set and %s", err, bad)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after the error: %v", entries)
	}
}
