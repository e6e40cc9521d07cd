package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the demonstration exactly as `go run ./examples/reproduce`
// does (no flags but -out) and checks that every figure shows the effect
// it exists to show: readouts below ceiling, selective neurons for every
// emotion in both sets, an attention gain and a lesion drop in Table 1
// for at least two emotions per set, selective lesions worse than random
// ones, and top-N histograms that differ by emotion. Its golden subtest
// holds the outputs byte-identical to the committed default study
// (golden_test.go). It takes about a minute of CPU.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the full demonstration takes about a minute of CPU")
	}
	out := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command(binary, "-out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v:\n%s", err, stderr.String())
	}
	ps := cmd.ProcessState
	t.Logf("demonstration: %.1fs wall, %.1fs user+sys CPU", time.Since(t0).Seconds(), (ps.UserTime() + ps.SystemTime()).Seconds())
	checkOutputs(t, out)
	t.Run("golden", func(t *testing.T) { checkGolden(t, out) })
	table := func(rel string) []map[string]string {
		t.Helper()
		head, rows, err := readCSV(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		var m []map[string]string
		for _, r := range rows {
			row := map[string]string{}
			for i, h := range head {
				row[h] = r[i]
			}
			m = append(m, row)
		}
		return m
	}
	num := func(s string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return v
	}

	// The readouts are below ceiling on the test split, and above chance.
	for _, r := range table("manipulate/readout.csv") {
		if f1 := num(r["f1"]); r["split"] == "test" && !(f1 > 0.5 && f1 < 0.95) {
			t.Errorf("%s %s readout: test F1 %.3f, want 0.5 < F1 < 0.95", r["set"], r["emotion"], f1)
		}
	}

	// Every emotion has neurons selective in both sets, in some layer the
	// manipulation uses.
	shared := map[string]float64{}
	for _, r := range table("overlap.csv") {
		shared[r["emotion"]] += num(r["observed"])
	}
	units := map[string]float64{}
	for _, r := range table("manipulate/lesion.csv") {
		if r["units"] == "selective" {
			units[r["set"]+" "+r["emotion"]] += num(r["n_units"])
		}
	}
	for _, e := range []string{"pleasant", "neutral", "unpleasant"} {
		if shared[e] == 0 {
			t.Errorf("no neuron is selective for %s in both sets", e)
		}
		for _, s := range demoSets {
			if units[s+" "+e] == 0 {
				t.Errorf("%s %s: no selective neurons in the manipulated layers", s, e)
			}
		}
	}

	// Table 1: a rise with attention and a fall with the lesion for at
	// least two emotions per set; at the lesion's layer, the selective
	// neurons' lesion hurts more than the random draws' (stats.csv).
	random := map[string]float64{}
	for _, r := range table("manipulate/stats.csv") {
		if r["test"] == "lesion_rank" {
			random[r["set"]+" "+r["emotion"]+" "+r["layer"]] = num(r["random_mean"])
		}
	}
	both := map[string]int{}
	for _, r := range table("table1.csv") {
		enh, les := num(r["enhanced_pct"]), num(r["lesioned_pct"])
		if enh > 0 && les < 0 {
			both[r["set"]]++
		}
		key := r["set"] + " " + r["emotion"] + " " + r["lesioned_layer"]
		rnd, ok := random[key]
		if !ok {
			t.Errorf("stats.csv has no lesion_rank row for %s", key)
		} else if sel := num(r["lesioned_f1"]); !(sel < rnd) {
			t.Errorf("%s: selective lesion F1 %.3f, random draws' mean %.3f: want lower", key, sel, rnd)
		}
		t.Logf("%s %s: F1 %.3f, attention %+.1f%% (%s, α %s), lesion %+.1f%% (%s)", r["set"], r["emotion"],
			num(r["original_f1"]), enh, r["enhanced_layer"], r["enhanced_alpha"], les, r["lesioned_layer"])
	}
	for _, s := range demoSets {
		if both[s] < 2 {
			t.Errorf("%s: %d emotions with both an attention gain and a lesion drop, want at least 2", s, both[s])
		}
	}

	// Fig 2 (bottom): the top images are a part of each set, and in every
	// layer the pleasant exemplar's are more pleasant than the unpleasant
	// one's, by a point of valence on average.
	top := map[string][]float64{}
	for _, r := range table("selectivity/top.csv") {
		k := r["set"] + " " + r["layer"] + " " + r["emotion"]
		top[k] = append(top[k], num(r["valence"]))
	}
	want, pairs := demoImages/demoTopPart, 0
	for k, v := range top {
		if len(v) != want {
			t.Errorf("top.csv: %d images for %s, want %d", len(v), k, want)
		}
		base, ok := strings.CutSuffix(k, " pleasant")
		if u, found := top[base+" unpleasant"]; ok && found {
			pairs++
			if !(mean(v) > mean(u)+1) {
				t.Errorf("top.csv: %s: mean top valence %.2f for the pleasant exemplar, %.2f for the unpleasant one", base, mean(v), mean(u))
			}
		}
	}
	if pairs == 0 {
		t.Error("top.csv: no layer with both a pleasant and an unpleasant exemplar")
	}
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("the demonstration warned:\n%s", stderr.String())
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestTopWarning checks the demonstration's default -top (a part of each
// set) and the warning when -top reaches the set's size.
func TestTopWarning(t *testing.T) {
	o, err := parse(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o.out = t.TempDir()
	p, err := resolve(o)
	if err != nil {
		t.Fatal(err)
	}
	if p.top != demoImages/demoTopPart || p.top >= demoImages {
		t.Errorf("demonstration -top %d, want %d", p.top, demoImages/demoTopPart)
	}
	if o, _ := parse([]string{"-sets", "a=x,b=y"}, &bytes.Buffer{}); o.top != paperTop {
		t.Errorf("-top default %d, want the paper's %d", o.top, paperTop)
	}
	out := filepath.Join(t.TempDir(), "out")
	r := shortRun(t, out, "-until", "stimuli")
	if strings.Contains(r.stderr, "WARNING") {
		t.Errorf("default -top warned:\n%s", r.stderr)
	}
	r = shortRun(t, out, "-until", "stimuli", "-top", "24")
	for _, s := range demoSets {
		if want := "WARNING: -top 24 is not below the 24 images of set " + s; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
