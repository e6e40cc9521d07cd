package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// alexnetChannels are AlexNet's conv layers.
var alexnetChannels = []struct {
	name string
	c    int
}{{"conv1", 64}, {"conv2", 192}, {"conv3", 384}, {"conv4", 256}, {"conv5", 256}}

// writeFrom writes a selectivity output for the named sets and layers
// with random SIs and preferences, and a few selective channels per
// layer and emotion.
func writeFrom(t *testing.T, dir string, sets []string, layers []struct {
	name string
	c    int
}) {
	t.Helper()
	rng := tensor.NewRNG(5)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"set", "layer", "channel", "tuning_pleasant", "tuning_neutral", "tuning_unpleasant",
		"dprime_pleasant", "dprime_neutral", "dprime_unpleasant", "si", "preferred"})
	for _, s := range sets {
		for _, l := range layers {
			for c := range l.c {
				pref := stimuli.Category(rng.IntN(3))
				si := fmt.Sprint(rng.Float64())
				if c == 7 {
					si, pref = "NaN", stimuli.Unknown
				}
				w.Write([]string{s, l.name, fmt.Sprint(c), "0", "0", "0", "0", "0", "0", si, pref.String()})
			}
		}
	}
	w.Flush()
	os.WriteFile(filepath.Join(dir, study.SelectivityFile), b.Bytes(), 0o644)
	b.Reset()
	w = csv.NewWriter(&b)
	w.Write([]string{"layer", "channel", "emotion"})
	for _, l := range layers {
		for e := range stimuli.NumEmotions {
			for k := range 3 {
				w.Write([]string{l.name, fmt.Sprint(int(e)*10 + k), e.String()})
			}
		}
	}
	w.Flush()
	os.WriteFile(filepath.Join(dir, study.SelectiveFile), b.Bytes(), 0o644)
}

// setup writes two small synthetic sets and a matching selectivity
// output for AlexNet, and returns options for a quick study.
func setup(t *testing.T) options {
	t.Helper()
	root := t.TempDir()
	for i, n := range []string{"iaps", "naps"} {
		if err := stimuli.WriteSynthetic(filepath.Join(root, n), n, 24, uint64(i+1), 64); err != nil {
			t.Fatal(err)
		}
	}
	from := filepath.Join(root, "sel")
	os.MkdirAll(from, 0o755)
	writeFrom(t, from, []string{"iaps", "naps"}, alexnetChannels)
	return options{
		from: from, sets: "iaps=" + filepath.Join(root, "iaps") + "," + filepath.Join(root, "naps"),
		out: filepath.Join(root, "out"), model: "alexnet", seed: 1, resize: "squash", size: 64,
		alphas: "0,1", removed: "0,50", layers: "conv5", stages: "lesion,sweep,threshold", draws: 2,
		features: "fc7", mem: 256, readout: cli.ReadoutFlags{Optimizer: "adam", LR: 1e-3, Batch: 128}, epochs: 10, quiet: true,
	}
}

func noEnv(string) string { return "" }

func TestEndToEnd(t *testing.T) {
	o := setup(t)
	var stdout, stderr bytes.Buffer
	est := o
	est.estimate = true
	if err := run(context.Background(), est, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "total") || !strings.Contains(stdout.String(), "conv5") {
		t.Errorf("estimate:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(o.out, study.ManifestFile)); err == nil {
		t.Error("-estimate wrote to -out")
	}
	if err := run(context.Background(), o, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{study.Table1File, study.LesionFile, study.SweepFile, study.StatsFile, "fig6.png", "fig4_iaps.svg", "fig4_naps.svg", "fig3c.svg"} {
		if _, err := os.Stat(filepath.Join(o.out, f)); err != nil {
			t.Error(err)
		}
	}
	table, _ := os.ReadFile(filepath.Join(o.out, study.Table1File))
	if !strings.Contains(string(table), "naps,unpleasant,") {
		t.Errorf("table1.csv:\n%s", table)
	}
	// Merging an unsharded directory rewrites the same outputs.
	m := options{merge: true, out: o.out}
	if err := run(context.Background(), m, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(o.out, study.Table1File))
	if !bytes.Equal(table, again) {
		t.Error("-merge changed table1.csv")
	}
}

func TestBadInput(t *testing.T) {
	o := setup(t)
	other := filepath.Join(t.TempDir(), "sel")
	os.MkdirAll(other, 0o755)
	writeFrom(t, other, []string{"iaps", "naps"}, []struct {
		name string
		c    int
	}{{"conv1", 32}, {"conv2", 192}, {"conv3", 384}, {"conv4", 256}, {"conv5", 256}})
	onlyIAPS := filepath.Join(t.TempDir(), "sel")
	os.MkdirAll(onlyIAPS, 0o755)
	writeFrom(t, onlyIAPS, []string{"iaps"}, alexnetChannels)
	broken := filepath.Join(t.TempDir(), "sel")
	os.MkdirAll(broken, 0o755)
	writeFrom(t, broken, []string{"iaps", "naps"}, alexnetChannels)
	os.WriteFile(filepath.Join(broken, study.SelectiveFile), []byte("layer,channel,emotion\nconv1,3,happy\n"), 0o644)
	cases := []struct {
		name  string
		mod   func(*options)
		env   map[string]string
		want  string
		usage bool
	}{
		{"from model", func(o *options) { o.from = other }, nil, "does not match the model: layer conv1 has 32 channels there, 64 in alexnet", false},
		{"from sets", func(o *options) { o.from = onlyIAPS }, nil, `does not match the stimulus sets: it has no set "naps"`, false},
		{"from missing", func(o *options) { o.from = t.TempDir() }, nil, "selectivity.csv: no such file", false},
		{"from broken", func(o *options) { o.from = broken }, nil, "selective.csv:2: emotion \"happy\"", false},
		{"alpha", func(o *options) { o.alphas = "0,1,-1.5" }, nil, "alpha = -1.5 is outside [-1, inf)", true},
		{"alpha grid", func(o *options) { o.alphas = "-2:1:0.5" }, nil, "alpha = -2 is outside", true},
		{"alpha step", func(o *options) { o.alphas = "0:5:0" }, nil, "positive STEP", true},
		{"alpha word", func(o *options) { o.alphas = "0,x" }, nil, `"x" is not a number`, true},
		{"shard", func(o *options) { o.shard = "3/2" }, nil, "-shard 3/2: want 0 <= i < n", true},
		{"shard form", func(o *options) { o.shard = "1-2" }, nil, `-shard "1-2": want i/n`, true},
		{"slurm", func(o *options) {}, map[string]string{"SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_ID": "4"}, "SLURM_ARRAY_TASK_ID/COUNT 4/4", true},
		{"draws", func(o *options) { o.draws = 0 }, nil, "at least one draw", true},
		{"out", func(o *options) { o.out = "" }, nil, "-out is required", true},
		{"from flag", func(o *options) { o.from = "" }, nil, "-from and -sets are required", true},
		{"layer", func(o *options) { o.layers = "conv9" }, nil, `no layer "conv9"`, false},
		{"stage", func(o *options) { o.stages = "lesion,ablate" }, nil, `unknown stage "ablate"`, true},
		{"size", func(o *options) { o.size = 40 }, nil, "-size 40 is too small for alexnet", true},
		{"optimizer", func(o *options) { o.readout.Optimizer = "rmsprop" }, nil, "-optimizer", true},
		{"merge", func(o *options) { o.merge = true; o.out = t.TempDir() }, nil, "manifest.json", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			oo := o
			c.mod(&oo)
			env := func(k string) string { return c.env[k] }
			var out bytes.Buffer
			err := run(context.Background(), oo, &out, &out, env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if errors.Is(err, cli.ErrUsage) != c.usage {
				t.Errorf("usage error: %v, want %v", errors.Is(err, cli.ErrUsage), c.usage)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, c := range []struct {
		flag string
		env  map[string]string
		i, n int
	}{
		{"", nil, 0, 1},
		{"2/5", nil, 2, 5},
		{"", map[string]string{"SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_ID": "2"}, 2, 3},
		{"", map[string]string{"SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1"}, 2, 3},
		{"0/2", map[string]string{"SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_ID": "2"}, 0, 2},
	} {
		i, n, err := parseShard(c.flag, env(c.env))
		if err != nil || i != c.i || n != c.n {
			t.Errorf("%q %v: %d/%d %v, want %d/%d", c.flag, c.env, i, n, err, c.i, c.n)
		}
	}
	g, err := cli.ParseList("-removed", "0:90:10", 100)
	if err != nil || len(g) != 10 || g[9] != 0.9 || g[3] != 0.3 {
		t.Errorf("removed %v %v", g, err)
	}
}
