package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// counter counts forward passes through the models the test builds.
type counter struct{ n *int }

func (c counter) Forward(x *tensor.Tensor) *tensor.Tensor { *c.n++; return x }
func (counter) String() string                            { return "Counter()" }

// small returns options for a fast run: a 1/8-width VGG-16 on 32×32
// inputs, whose forward passes are counted in *passes.
func small(t *testing.T, sets, out string, passes *int) options {
	t.Helper()
	o, err := parse([]string{"-sets", sets, "-out", out, "-top", "5", "-batch", "8"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o.size = 32
	o.newModel = func(arch, weights string, seed uint64) (*nn.Model, error) {
		if arch != "vgg16" || weights != "" {
			return nil, fmt.Errorf("test builder: %s %q", arch, weights)
		}
		m := vgg.New(vgg.Config{Width: 1.0 / 8, Hidden: 8, Classes: 4}, tensor.NewRNG(seed))
		m.Net.Append("counter", counter{passes})
		return m, nil
	}
	return o
}

func synthetic(t *testing.T, root, name string, n int, seed uint64) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := stimuli.WriteSynthetic(dir, name, n, seed, 40); err != nil {
		t.Fatal(err)
	}
	return dir
}

func firstLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return line
}

func TestRun(t *testing.T) {
	root := t.TempDir()
	a, b := synthetic(t, root, "alpha", 21, 1), synthetic(t, root, "beta", 18, 2)
	out := filepath.Join(root, "out")
	passes := 0
	var stderr bytes.Buffer
	o := small(t, "alpha="+a+",beta="+b, out, &passes)
	if err := run(context.Background(), o, &stderr); err != nil {
		t.Fatal(err)
	}
	// Two networks, batches of 8: 3 + 3 passes each.
	if passes != 12 {
		t.Errorf("%d forward passes, want 12", passes)
	}
	for file, want := range map[string]string{
		"selectivity.csv":              "set,layer,channel,tuning_pleasant,tuning_neutral,tuning_unpleasant,dprime_pleasant,dprime_neutral,dprime_unpleasant,si,preferred",
		"selective.csv":                "layer,channel,emotion",
		"overlap.csv":                  "layer,emotion,n_alpha,n_beta,channels,observed,expected,p",
		"control/selectivity.csv":      "set,layer,channel,tuning_pleasant,tuning_neutral,tuning_unpleasant,dprime_pleasant,dprime_neutral,dprime_unpleasant,si,preferred",
		"control/selective.csv":        "layer,channel,emotion",
		"control/overlap.csv":          "layer,emotion,n_alpha,n_beta,channels,observed,expected,p",
		"top.csv":                      "layer,emotion,channel,shared,set,rank,row,file,valence,category",
		"layers.csv":                   "network,set,layer,channels,valid,dead,non_finite,no_spread,si_mean,si_sd,si_min,si_q25,si_median,si_q75,si_max,si_cut,selective_pleasant,selective_neutral,selective_unpleasant,shared_pleasant,shared_neutral,shared_unpleasant",
		"activations/alpha/images.csv": "row,file,valence,category",
	} {
		if got := firstLine(t, filepath.Join(out, file)); got != want {
			t.Errorf("%s header %q, want %q", file, got, want)
		}
	}
	// selectivity.csv: one row per set, layer and channel (1/8 width:
	// 8+8+16+16+32·3+64·6 = 528 channels).
	sel, _ := os.ReadFile(filepath.Join(out, "selectivity.csv"))
	if n := strings.Count(string(sel), "\n"); n != 1+2*528 {
		t.Errorf("selectivity.csv has %d lines, want %d", n, 1+2*528)
	}
	if ov, _ := os.ReadFile(filepath.Join(out, "overlap.csv")); strings.Count(string(ov), "\n") != 1+13*3 {
		t.Errorf("overlap.csv:\n%s", ov)
	}
	// The activations are the recorded arrays of the main network.
	x := golden.Load(t, filepath.Join(out, "activations", "beta", "conv5_3.npy"))
	if !x.HasShape(18, 64) {
		t.Errorf("activations/beta/conv5_3.npy is %v", x.Shape())
	}
	cached, err := npy.ReadFile(filepath.Join(out, "cache", "beta", "vgg16-random1-squash32", "conv5_3.npy"))
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "activations vs cache", x, cached, 0)
	for _, f := range []string{"fig2_tuning", "fig2_top", "fig3a_si", "fig3b_counts"} {
		for _, ext := range []string{".svg", ".png"} {
			if st, err := os.Stat(filepath.Join(out, f+ext)); err != nil || st.Size() < 1000 {
				t.Errorf("%s%s: %v", f, ext, err)
			}
		}
	}
	rep, _ := os.ReadFile(filepath.Join(out, "report.txt"))
	for _, want := range []string{
		"WITHOUT trained weights: a random initialisation from seed 1",
		"control:  vgg16 random initialisation from seed 2",
		"alpha: 21 images (pleasant 7, neutral 7, unpleasant 7, unknown 0)",
		"beta: 18 images",
		"hypergeometric over all channels",
		"conv5_3  64",
	} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("report.txt lacks %q:\n%s", want, rep)
		}
	}
	if !strings.Contains(stderr.String(), "wrote selectivity.csv") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if tmp, _ := filepath.Glob(filepath.Join(out, ".*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}

	// A second run reuses every recording: no forward pass.
	passes = 0
	stderr.Reset()
	if err := run(context.Background(), o, &stderr); err != nil {
		t.Fatal(err)
	}
	if passes != 0 || strings.Count(stderr.String(), "reused the cache") != 4 {
		t.Errorf("rerun: %d forward passes; stderr:\n%s", passes, stderr.String())
	}
	// Permutation p-values, from the cached recordings.
	o.permutations = 20
	passes = 0
	if err := run(context.Background(), o, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"null.csv", "control/null.csv"} {
		if got := firstLine(t, filepath.Join(out, f)); got != "layer,emotion,observed,null_mean,p_perm,permutations" || passes != 0 {
			t.Errorf("%s header %q after %d passes", f, got, passes)
		}
	}
	if rep, _ := os.ReadFile(filepath.Join(out, "report.txt")); !strings.Contains(string(rep), "permutation p over 20 shuffles") {
		t.Errorf("report.txt without permutations:\n%s", rep)
	}
	o.permutations = 0

	// Another control seed recomputes the control only.
	o.controlSeed = 5
	passes = 0
	if err := run(context.Background(), o, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if passes != 6 {
		t.Errorf("new control seed: %d passes, want 6", passes)
	}

	// -top 5 is below both sets' sizes: no warning. -top 18 is not below
	// beta's 18 images, whose histograms would show the whole set.
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("-top 5 warned:\n%s", stderr.String())
	}
	o.top = 18
	stderr.Reset()
	if err := run(context.Background(), o, &stderr); err != nil {
		t.Fatal(err)
	}
	const warn = "WARNING: -top 18 is not below the 18 images of set beta"
	if !strings.Contains(stderr.String(), warn) || strings.Count(stderr.String(), "WARNING") != 1 {
		t.Errorf("-top 18: stderr lacks exactly one warning %q:\n%s", warn, stderr.String())
	}
}

func TestParse(t *testing.T) {
	o, err := parse([]string{"-sets", "a=x,b=y", "-out", "o", "-seed", "7"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.model != "vgg16" || o.resize != "squash" || o.an.Keep != 0.8 || o.top != 100 || o.batch != 16 || !o.control ||
		o.seed != 7 || o.controlSeed != 8 || o.low != 4.3 || o.high != 6 || o.band != 0 || o.an.Chance != "all" || o.an.Variance != "population" || o.size != 224 {
		t.Errorf("defaults %+v", o)
	}
	var help bytes.Buffer
	if _, err := parse([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-control-seed") {
		t.Errorf("-h: %v\n%s", err, help.String())
	}
	if _, err := parse([]string{"-keep"}, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("bad flag: %v", err)
	}
	if _, err := parse([]string{"stray"}, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("stray argument: %v", err)
	}
}

// TestBadInput checks that bad sets and flags stop the run before anything
// is written, with one error naming the set and the file.
func TestBadInput(t *testing.T) {
	root := t.TempDir()
	good := synthetic(t, root, "good", 9, 1)
	ratings := func(name, content string, images ...string) string {
		dir := filepath.Join(root, name)
		os.MkdirAll(dir, 0o755)
		for _, im := range images {
			os.WriteFile(filepath.Join(dir, im), nil, 0o644)
		}
		os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte(content), 0o644)
		return dir
	}
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	six := []string{"1.png", "2.png", "3.png", "4.png", "5.png", "6.png"}
	cases := []struct {
		name, sets string
		mention    []string
		usage      bool
	}{
		{"no pleasant", "good=" + good + ",bad=" + ratings("np", "file,valence\n1.png,5\n2.png,5\n3.png,2\n4.png,2\n", six...),
			[]string{"set bad", filepath.Join(root, "np", "ratings.csv"), "0 pleasant"}, false},
		{"no neutral", "good=" + good + ",bad=" + ratings("nn", "file,valence\n1.png,7\n2.png,7\n3.png,2\n4.png,2\n", six...),
			[]string{"set bad", filepath.Join(root, "nn", "ratings.csv"), "0 neutral"}, false},
		{"no unpleasant", "good=" + good + ",bad=" + ratings("nu", "file,valence\n1.png,7\n2.png,7\n3.png,5\n4.png,5\n", six...),
			[]string{"set bad", filepath.Join(root, "nu", "ratings.csv"), "0 unpleasant"}, false},
		{"one neutral", "good=" + good + ",bad=" + ratings("one", "file,valence\n1.png,7\n2.png,7\n3.png,5\n4.png,2\n5.png,2\n", six...),
			[]string{"set bad", filepath.Join(root, "one", "ratings.csv"), "1 neutral"}, false},
		{"empty directory", "good=" + good + ",bad=" + empty,
			[]string{"set bad", empty, "ratings.csv"}, false},
		{"malformed CSV", "good=" + good + ",bad=" + ratings("mal", "file,valence\n1.png,\"7\n2.png,5\n", six...),
			[]string{"set bad", filepath.Join(root, "mal", "ratings.csv") + ":3", "bad CSV"}, false},
		{"bad valence", "good=" + good + ",bad=" + ratings("val", "file,valence\n1.png,7\n2.png,abc\n", six...),
			[]string{"set bad", filepath.Join(root, "val", "ratings.csv") + ":3", `valence "abc"`}, false},
		{"missing image", "good=" + good + ",bad=" + ratings("miss", "file,valence\n1.png,7\nnope.png,5\n", six...),
			[]string{"set bad", filepath.Join(root, "miss", "ratings.csv") + ":3", "nope.png"}, false},
		{"one set", "good=" + good, []string{"at least two sets"}, true},
		{"twice", "a=" + good + ",a=" + good, []string{`set "a" twice`}, true},
		{"bad name", "a b=" + good + ",c=" + good, []string{`"a b=`}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(root, "out-"+strings.ReplaceAll(c.name, " ", "-"))
			passes := 0
			err := run(context.Background(), small(t, c.sets, out, &passes), &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, m := range c.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if errors.Is(err, cli.ErrUsage) != c.usage {
				t.Errorf("usage error %v for %v", !c.usage, err)
			}
			if _, serr := os.Stat(out); serr == nil || passes != 0 {
				t.Errorf("%s exists or %d forward passes ran after the error", out, passes)
			}
		})
	}
	// A broken image stops the recording, naming set and file.
	broken := synthetic(t, root, "broken", 9, 3)
	os.WriteFile(filepath.Join(broken, "broken_0004.png"), []byte("garbage"), 0o644)
	passes := 0
	err := run(context.Background(), small(t, "good="+good+",broken="+broken, filepath.Join(root, "out-img"), &passes), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "set broken") || !strings.Contains(err.Error(), filepath.Join(broken, "broken_0004.png")) {
		t.Errorf("broken image: %v", err)
	}
	// Flags.
	for _, args := range [][]string{
		{"-keep", "0"}, {"-keep", "1.5"}, {"-top", "0"}, {"-chance", "some"}, {"-variance", "x"}, {"-resize", "zoom"},
		{"-control-seed", "1"}, {"-fig2", "conv9_9"}, {"-permutations", "-1"},
	} {
		o, err := parse(append([]string{"-sets", "good=" + good + ",again=" + good, "-out", filepath.Join(root, "out-flags")}, args...), &bytes.Buffer{})
		if err == nil {
			passes := 0
			s := small(t, o.sets, o.out, &passes)
			o.size, o.newModel = s.size, s.newModel
			err = run(context.Background(), o, &bytes.Buffer{})
		}
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
