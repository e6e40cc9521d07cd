package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestKDesign runs reproduce under a four-category label design on
// synthetic sets: the selectivity stage's K tables appear, with a row per
// class in overlap_k.csv, and the command says the manipulation is not
// run for such designs.
func TestKDesign(t *testing.T) {
	out := filepath.Join(t.TempDir(), "k")
	r := shortRun(t, out, "-synthetic-classes", "dark,dim,light,bright", "-label", "category", "-select", "nasr")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "runs the\nselectivity stage only") {
		t.Errorf("stderr does not say the manipulation was not run:\n%s", r.stderr)
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
	r = command(t, nil, "-out", out, "-rating", "arousal")
	if r.code == 0 || !strings.Contains(r.stderr, `rating "arousal" needs thresholds`) {
		t.Errorf("-rating without -thresholds: exit %d\n%s", r.code, r.stderr)
	}
}
