package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/onnx"
)

// resnet18 is the reduced ResNet-18 the onnx package's fixtures hold
// (32-pixel input).
const resnet18 = "../../testdata/onnx/resnet18.onnx"

// TestDemoONNX runs the demonstration on the reduced ResNet-18 of
// testdata/onnx (-model onnx, every stage, a few seconds) and checks its
// outputs: every file written, the layers named after the graph's units,
// F1 scores in [0, 1], and one unit's recorded means against a forward
// of the graph computed here, on the stimulus files the run wrote.
func TestDemoONNX(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	r := command(t, nil, "-model", "onnx", "-weights", resnet18, "-out", out)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	t.Logf("demonstration on ResNet-18 (ONNX): %.1fs", r.took.Seconds())
	net, err := onnx.LoadNet(resnet18)
	if err != nil {
		t.Fatal(err)
	}
	names := onnx.UnitNames(net.Units)
	for _, f := range []string{
		"report.md", "report.html", "manifest.json", "table1.csv", "overlap.csv",
		"figures/fig2_tuning.png", "figures/fig2_top.png", "figures/fig3a_si.png", "figures/fig3b_counts.png",
		"figures/fig3c.png", "figures/fig4_synth1.png", "figures/fig4_synth2.png", "figures/fig6.png",
		"selectivity/selectivity.csv", "selectivity/selective.csv", "selectivity/layers.csv", "selectivity/top.csv",
		"selectivity/control/overlap.csv", "selectivity/activations/synth1/layer3.1.relu.npy",
		"manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/threshold.csv", "manipulate/stats.csv",
		"manipulate/readout.csv", "stages/selectivity.json", "stages/manipulate.json",
	} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	// The manipulated layers are graph units, the scores F1s (the sweep's
	// test F1 is NaN at the gains the search did not need on the test
	// split, so its validation F1 is checked).
	for f, col := range map[string]string{"lesion.csv": "f1_test", "sweep.csv": "f1_val"} {
		head, rows, err := readCSV(filepath.Join(out, "manipulate", f))
		if err != nil {
			t.Fatal(err)
		}
		li, fi := slices.Index(head, "layer"), slices.Index(head, col)
		if len(rows) == 0 || li < 0 || fi < 0 {
			t.Fatalf("%s: %d rows, columns %v", f, len(rows), head)
		}
		layers := map[string]bool{}
		for _, row := range rows {
			if !slices.Contains(names, row[li]) {
				t.Fatalf("%s: layer %q is not a unit of the graph", f, row[li])
			}
			layers[row[li]] = true
			if v, err := strconv.ParseFloat(row[fi], 64); err != nil || !(v >= 0 && v <= 1) {
				t.Fatalf("%s: %s %q", f, col, row[fi])
			}
		}
		if len(layers) < 3 {
			t.Errorf("%s: layers %v, want early, middle and deep", f, layers)
		}
	}

	// Recorded means of layer3.1.relu against a forward computed here.
	_, rows, err := readCSV(filepath.Join(out, "selectivity/activations/synth1/images.csv"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, row := range rows {
		paths = append(paths, filepath.Join(out, "stimuli/synth1", row[1]))
	}
	x, err := imagenet.Config{Mode: imagenet.Squash, Size: 32}.LoadBatch(t.Context(), paths)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := npy.ReadFile(filepath.Join(out, "selectivity/activations/synth1/layer3.1.relu.npy"))
	if err != nil {
		t.Fatal(err)
	}
	k := slices.Index(names, "layer3.1.relu")
	_, units := net.ForwardUnits(x)
	u := units[k]
	n, c := u.Dim(0), u.Dim(1)
	hw := u.Len() / (n * c)
	if !rec.HasShape(n, c) {
		t.Fatalf("recorded %v, want [%d %d]", rec.Shape(), n, c)
	}
	worst := 0.0
	for p := 0; p < n*c; p++ {
		var s float64
		for _, v := range u.Data()[p*hw : (p+1)*hw] {
			s += float64(v)
		}
		want := s / float64(hw)
		worst = math.Max(worst, math.Abs(float64(rec.Data()[p])-want)/(1+math.Abs(want)))
	}
	if worst > 1e-5 {
		t.Errorf("layer3.1.relu: recorded means differ from the forward by %.3g (relative)", worst)
	}
	if !strings.Contains(r.stderr, "onnx-random") {
		t.Errorf("no random control recorded:\n%s", r.stderr)
	}
}

// TestONNXFlags checks the usage errors of -model onnx: no -weights, and
// a -size the graph does not take.
func TestONNXFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "o")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-model", "onnx"}, "-model onnx needs -weights"},
		{[]string{"-model", "onnx", "-weights", resnet18, "-size", "64"}, "takes 32-pixel images"},
	} {
		r := command(t, nil, append(c.args, "-out", out)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.msg) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, r.code, r.stderr, c.msg)
		}
	}
}
