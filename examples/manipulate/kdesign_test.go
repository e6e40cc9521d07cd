package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// TestKDesign runs the command under a three-category label design (the
// selectivity stage's K tables made by selectivity/study.RunK on the same
// random AlexNet): Table 1 has a row per set and category, the lesion and
// sweep run, and the threshold search is refused.
func TestKDesign(t *testing.T) {
	o := setup(t)
	root := filepath.Dir(o.out)
	classes := []string{"face", "body", "scene"}
	var sets []*stimuli.Set
	var spec []string
	for i, n := range []string{"ka", "kb"} {
		dir := filepath.Join(root, n)
		if err := stimuli.WriteSyntheticClasses(dir, n, classes, 36, uint64(5+i), 64); err != nil {
			t.Fatal(err)
		}
		s, err := stimuli.Load(dir, stimuli.Config{Name: n, Design: stimuli.Design{Label: "category"}})
		if err != nil {
			t.Fatal(err)
		}
		sets, spec = append(sets, s), append(spec, n+"="+dir)
	}
	m, err := cli.Model("alexnet", "", o.seed)
	if err != nil {
		t.Fatal(err)
	}
	from := filepath.Join(root, "selk")
	err = selstudy.RunK(context.Background(), from, selstudy.KConfig{Sets: sets, Input: imagenet.Config{Size: 64},
		Networks:  []selstudy.Network{{Label: "network", Key: "alexnet", Model: m, Record: selectivity.RecordConfig{Seed: o.seed}}},
		Criterion: selectivity.BySI, Keep: selectivity.DefaultKeep})
	if err != nil {
		t.Fatal(err)
	}
	o.from, o.sets, o.out, o.stages = from, strings.Join(spec, ","), filepath.Join(root, "outk"), ""
	o.design = cli.DesignFlags{Label: "category", Select: "si"}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), o, &stdout, &stderr, noEnv); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(o.out, study.Table1File))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1+2*3 || rows[1][1] != "body" || rows[6][0] != "kb" {
		t.Errorf("table1.csv (%v):\n%q", err, rows)
	}
	for _, name := range []string{study.LesionFile, study.SweepFile, "fig6.svg", "fig4_ka.svg"} {
		if _, err := os.Stat(filepath.Join(o.out, name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(o.out, study.ThresholdFile)); err == nil {
		t.Error("a K design ran the threshold search")
	}
	o.stages, o.out = "lesion,threshold", filepath.Join(root, "outk2")
	if err := run(context.Background(), o, &stdout, &stderr, noEnv); err == nil || !strings.Contains(err.Error(), "valence design only") {
		t.Errorf("-stages threshold under a K design: %v", err)
	}
}
