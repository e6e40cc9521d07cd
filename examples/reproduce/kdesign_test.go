package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestKDesign runs reproduce under a four-category label design on
// synthetic sets: every stage runs. The selectivity stage writes its K
// tables (a row per class in overlap_k.csv) and figures, the
// manipulation a Table 1 with a row per set and category and its figures,
// with the progress of each stage; a rerun reuses both stages. A rating
// without thresholds and the threshold search are refused.
func TestKDesign(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k")
	r := shortRun(t, out, "-synthetic-classes", "dark,dim,light,bright", "-select", "nasr", "-images", "48")
	for _, want := range []string{"selectivity: done", "manipulate: done", "lesion", "sweep", "a row per set and category"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	head, rows, err := readCSV(filepath.Join(out, "selectivity", "overlap_k.csv"))
	if err != nil {
		t.Fatal(err)
	}
	classes := map[string]int{}
	for _, row := range rows {
		classes[row[2]]++
	}
	if head[2] != "class" || len(classes) != 4 || classes["dark"] != classes["bright"] || classes["dark"] == 0 {
		t.Errorf("overlap_k.csv: header %q, rows per class %v", head, classes)
	}
	head, rows, err = readCSV(filepath.Join(out, "manipulate", "table1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2*4 || head[1] != "emotion" || rows[0][1] != "dark" || rows[7][1] != "bright" {
		t.Errorf("table1.csv: header %q, %d rows %q", head, len(rows), rows)
	}
	for _, f := range []string{"selectivity/tuning_k.svg", "selectivity/si_k.png", "selectivity/overlap_k.svg",
		"manipulate/fig6.svg", "manipulate/fig4_synth1.svg", "manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/stats.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("no %s: %v", f, err)
		}
	}
	// The K report: Table 1 and the readouts with a row per set and
	// category, the figures of both stages, a self-contained HTML.
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []string{"synth1", "synth2"} {
		for _, c := range []string{"dark", "dim", "light", "bright"} {
			if n := strings.Count(string(md), "| "+set+" | "+c+" | "); n < 2 {
				t.Errorf("report.md has %d rows for %s/%s, want Table 1's and the readouts'", n, set, c)
			}
		}
	}
	for _, want := range []string{"(selectivity/tuning_k.png)", "(selectivity/si_k.png)", "(selectivity/overlap_k.png)",
		"(manipulate/fig6.png)", "(manipulate/fig4_synth2.png)", "docs/OUTPUTS.md", "nasr selection"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if h, err := os.ReadFile(filepath.Join(out, "report.html")); err != nil || strings.Count(string(h), "data:image/png;base64,") != 6 {
		t.Errorf("report.html: %v, want the 6 figures inlined", err)
	}
	r = shortRun(t, out, "-synthetic-classes", "dark,dim,light,bright", "-select", "nasr", "-images", "48")
	if !strings.Contains(r.stderr, "selectivity: reused") || !strings.Contains(r.stderr, "manipulate: reused") {
		t.Errorf("a rerun does not reuse the stages:\n%s", r.stderr)
	}
	r = command(t, nil, "-out", out, "-rating", "arousal")
	if r.code == 0 || !strings.Contains(r.stderr, `rating "arousal" needs thresholds`) {
		t.Errorf("-rating without -thresholds: exit %d\n%s", r.code, r.stderr)
	}
	r = command(t, nil, "-out", out, "-synthetic-classes", "a,b", "-stages", "lesion,threshold")
	if r.code == 0 || !strings.Contains(r.stderr, "paper's valence design only") {
		t.Errorf("-stages threshold under a K design: exit %d\n%s", r.code, r.stderr)
	}
}

// TestKDesignRefuses: -estimate under a K design is refused with a
// message that says why, before any stage runs (nothing is written into
// -out).
func TestKDesignRefuses(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k")
	r := command(t, nil, "-out", out, "-synthetic-classes", "face,object", "-label", "category", "-estimate")
	if r.code == 0 || !strings.Contains(r.stderr, "-estimate times the paper's valence design only") {
		t.Errorf("-estimate under a K design: exit %d\n%s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("-estimate under a K design wrote %d entries into -out before refusing", len(entries))
	}
}

// TestKDesignShards: a K design run as -until selectivity, two shards and
// -merge writes the same manipulation outputs and report as one
// unsharded run.
func TestKDesignShards(t *testing.T) {
	args := []string{"-synthetic-classes", "face,object", "-label", "category", "-images", "40"}
	whole, sharded := filepath.Join(t.TempDir(), "w"), filepath.Join(t.TempDir(), "s")
	shortRun(t, whole, args...)
	for _, step := range [][]string{{"-until", "selectivity"}, {"-shard", "0/2"}, {"-shard", "1/2"}, {"-merge"}} {
		shortRun(t, sharded, append(slices.Clone(args), step...)...)
	}
	for _, f := range []string{"manipulate/table1.csv", "manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/stats.csv",
		"manipulate/readout.csv", "manipulate/fig6.svg", "report.md"} {
		a, err := os.ReadFile(filepath.Join(whole, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(sharded, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "report.md" { // the commands differ
			a, b = dropLines(a, "Command:"), dropLines(b, "Command:")
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the sharded and the unsharded run", f)
		}
	}
	if _, err := os.Stat(filepath.Join(sharded, "shards", "shard-1-of-2")); err != nil {
		t.Errorf("the shards did not run in OUT/shards: %v", err)
	}
}

// dropLines removes the lines containing s.
func dropLines(b []byte, s string) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.Contains(l, []byte(s)) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
