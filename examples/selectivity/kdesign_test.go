package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/golden"
)

func readTable(t *testing.T, path string) []map[string]string {
	t.Helper()
	head, rows := golden.CSV(t, path)
	var out []map[string]string
	for _, r := range rows {
		m := map[string]string{}
		for i, h := range head {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// TestKDesign runs the command on synthetic K-category sets under a label
// design (face, object) and a rating design (arousal cut into three), and
// checks the tables: one row per network, set, layer and channel; a
// selected channel prefers a class and passes the criterion; the overlap
// rows' observed counts are the selective_k.csv rows.
func TestKDesign(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		k    int
	}{
		{"faces", []string{"-synthetic-classes", "face,object", "-label", "category"}, 2},
		{"arousal", []string{"-synthetic-classes", "calm,mid,excited", "-rating", "arousal", "-thresholds", "3.67,6.33", "-select", "anova"}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := t.TempDir()
			var passes int
			o := small(t, "", out, &passes)
			o.sets = ""
			newFlagSetFor(t, &o, c.args)
			var stderr bytes.Buffer
			if err := run(context.Background(), o, &stderr); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			rows := readTable(t, filepath.Join(out, "selectivity_k.csv"))
			perNet := map[string]int{}
			for _, r := range rows {
				perNet[r["network"]]++
				if r["selected"] == "true" {
					if r["preferred"] == "none" {
						t.Fatalf("selected channel without a preferred class: %v", r)
					}
					if q, _ := strconv.ParseFloat(r["q"], 64); o.design.Select == "anova" && !(q <= 0.05) {
						t.Fatalf("anova selection with q %v", q)
					}
				}
			}
			if len(perNet) != 2 {
				t.Errorf("networks %v, want the network and its control", perNet)
			}
			overlap := readTable(t, filepath.Join(out, "overlap_k.csv"))
			sel := readTable(t, filepath.Join(out, "selective_k.csv"))
			obs := 0
			classes := map[string]bool{}
			for _, r := range overlap {
				n, _ := strconv.Atoi(r["observed"])
				obs += n
				classes[r["class"]] = true
			}
			if obs != len(sel) || len(classes) != c.k {
				t.Errorf("overlap: %d observed, %d selective rows, classes %v (want %d)", obs, len(sel), classes, c.k)
			}
			if top := readTable(t, filepath.Join(out, "top_k.csv")); len(top) == 0 {
				t.Error("top_k.csv is empty")
			}
		})
	}
}

// newFlagSetFor parses args into o's design and synthetic flags, as the
// command line would.
func newFlagSetFor(t *testing.T, o *options, args []string) *options {
	t.Helper()
	p, err := parse(append(args, "-out", o.out), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	o.design, o.synthetic = p.design, p.synthetic
	return o
}

// TestKDesignErrors: a bad design flag is a usage error; a design column
// the set lacks names the file and line.
func TestKDesignErrors(t *testing.T) {
	out := t.TempDir()
	var passes int
	o := small(t, "", out, &passes)
	newFlagSetFor(t, &o, []string{"-synthetic-classes", "a,b", "-rating", "dominance", "-thresholds", "5"})
	err := run(context.Background(), o, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(out, "stimuli", "synth1", "ratings.csv")+`:1: header has no "dominance" column`) {
		t.Errorf("missing column: %v", err)
	}
	o = small(t, "", out, &passes)
	newFlagSetFor(t, &o, []string{"-synthetic-classes", "a,b", "-rating", "arousal", "-thresholds", "6,3"})
	if err := run(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "not strictly ascending") {
		t.Errorf("descending thresholds: %v", err)
	}
}
