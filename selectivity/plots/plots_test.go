package plots

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/figure"
	"github.com/emosel/emosel/internal/figure/figuretest"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// study analyses two small synthetic sets on a tiny random VGG-16.
func study(t *testing.T, seed uint64) *selectivity.Study {
	t.Helper()
	m := vgg.New(vgg.Config{Width: 1.0 / 8, Hidden: 8, Classes: 4}, tensor.NewRNG(seed))
	var resp []*selectivity.Responses
	for i, name := range []string{"a", "b"} {
		set := stimuli.Synthetic(name, 24, uint64(3+i), 32)
		rec, err := selectivity.Record(context.Background(), m, set, imagenet.Config{Size: 32}, t.TempDir(), selectivity.RecordConfig{})
		if err != nil {
			t.Fatal(err)
		}
		r, err := rec.Responses()
		if err != nil {
			t.Fatal(err)
		}
		resp = append(resp, r)
	}
	s, err := selectivity.Analyze(resp, selectivity.StudyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFigures(t *testing.T) {
	main, control := study(t, 1), study(t, 2)
	dir := t.TempDir()
	if d := os.Getenv("EMOSEL_PLOTS_DIR"); d != "" {
		dir = d // to look at them
	}
	var ex []selectivity.Exemplar
	for _, l := range selectivity.PaperLayers(len(main.Layers)) {
		for e := range stimuli.NumEmotions {
			ex = append(ex, main.Exemplar(l, e))
		}
	}
	// A neuron that does not exist gets an empty panel that says so.
	ex[1].Channel, ex[1].Shared = -1, false
	shown := 0
	for _, e := range ex {
		if e.Channel >= 0 {
			shown++
		}
	}
	names := []string{"pretrained", "random"}
	// panels: the expected frames (panels with data) and notes (empty
	// panels); counts: whether the y axes count.
	type want struct {
		panels, notes int
		counts        bool
	}
	wants := map[string]want{
		"tuning": {shown, len(ex) - shown, false}, "top": {shown, len(ex) - shown, true},
		"si": {2, 0, false}, "si1": {2, 0, false}, "counts": {6, 0, true}, "counts1": {3, 0, true},
	}
	for name, f := range map[string]func(string) error{
		"tuning": func(b string) error { return Tuning(main, ex, b) },
		"top":    func(b string) error { return TopValence(main, ex, 10, b) },
		"si":     func(b string) error { return SI([]*selectivity.Study{main, control}, names, b) },
		"counts": func(b string) error { return Counts([]*selectivity.Study{main, control}, names, b) },
		"si1":    func(b string) error { return SI([]*selectivity.Study{main, nil}, names, b) },
		"counts1": func(b string) error {
			return Counts([]*selectivity.Study{main, nil}, names, b)
		},
	} {
		base := filepath.Join(dir, name)
		if err := f(base); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fig, err := figuretest.Read(base + ".svg")
		if err != nil {
			t.Fatal(err)
		}
		w := wants[name]
		if len(fig.Frames) != w.panels || len(fig.Notes()) != w.notes {
			t.Errorf("%s: %d panels and %d empty ones, want %d and %d", name, len(fig.Frames), len(fig.Notes()), w.panels, w.notes)
		}
		for _, bad := range fig.Check(w.counts) {
			t.Errorf("%s: %s", name, bad)
		}
		pf, err := os.Open(base + ".png")
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(pf)
		pf.Close()
		if err != nil || img.Bounds().Dx() != 10*figure.DPI {
			t.Errorf("%s.png: %v", name, err)
		}
	}
	if err := Tuning(main, nil, filepath.Join(dir, "none")); err == nil {
		t.Error("no exemplars: no error")
	}
	if err := SI(nil, nil, filepath.Join(dir, "none")); err == nil {
		t.Error("no studies: no error")
	}
	if err := Tuning(main, ex, filepath.Join(dir, "missing", "x")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("unwritable: %v", err)
	}
}
