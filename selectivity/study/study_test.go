package study

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

func tiny(seed uint64) Network {
	return Network{Label: "random", Key: "k" + string(rune('0'+seed)), Record: selectivity.RecordConfig{Seed: seed},
		Model: vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 4, Classes: 2}, tensor.NewRNG(seed))}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	one := stimuli.Synthetic("one", 12, 1, 32)
	// Two images only, both pleasant: too few of the others.
	few := stimuli.Synthetic("few", 1, 2, 32)
	_, err := Run(context.Background(), dir, Config{Sets: []*stimuli.Set{one, few}, Networks: []Network{tiny(1)},
		Input: imagenet.Config{Size: 32}})
	if !errors.Is(err, selectivity.ErrLabels) || !strings.Contains(err.Error(), "set few") {
		t.Errorf("too few images: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %d entries before the error", len(entries))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, dir, Config{Sets: []*stimuli.Set{one, stimuli.Synthetic("two", 12, 2, 32)}, Networks: []Network{tiny(1)},
		Input: imagenet.Config{Size: 32}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, SelectivityFile)); err == nil {
		t.Error("a cancelled run wrote selectivity.csv")
	}

	for name, cfg := range map[string]Config{
		"one set":    {Sets: []*stimuli.Set{one}, Networks: []Network{tiny(1)}},
		"no network": {Sets: []*stimuli.Set{one, one}},
		"same key":   {Sets: []*stimuli.Set{one, one}, Networks: []Network{tiny(1), tiny(1)}},
		"bad key":    {Sets: []*stimuli.Set{one, one}, Networks: []Network{{Key: "../x", Model: tiny(1).Model}}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "study: ") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			Run(context.Background(), dir, cfg)
		}()
	}
}

func TestLayers(t *testing.T) {
	m := tiny(1).Model
	got, err := Layers(m, []string{"conv5_3", "conv1_1"})
	if err != nil || len(got) != 2 || got[0] != 12 || got[1] != 0 {
		t.Errorf("Layers: %v, %v", got, err)
	}
	if _, err := Layers(m, []string{"conv9_9"}); err == nil || !strings.Contains(err.Error(), `"conv9_9" is not a conv layer of vgg16 (conv1_1,`) {
		t.Errorf("unknown layer: %v", err)
	}
}

func TestLoadSetOASIS(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "Images"), 0o755)
	csv := "Theme,Valence_mean\n"
	for i, v := range []string{"6.0", "5.5", "4.0", "3.9", "1.5", "2.0"} {
		name := "img" + string(rune('a'+i))
		os.WriteFile(filepath.Join(dir, "Images", name+".jpg"), []byte("x"), 0o644)
		csv += name + "," + v + "\n"
	}
	os.WriteFile(filepath.Join(dir, stimuli.OASISFile), []byte(csv), 0o644)
	// 1-9 thresholds 4.3 and 6.0 become 3.475 and 4.75 on OASIS's 1-7.
	set, err := LoadSet("oasis", dir, stimuli.DefaultThresholds, false)
	if err != nil {
		t.Fatal(err)
	}
	if c := set.Counts(); c != (stimuli.Counts{2, 2, 2, 0}) {
		t.Errorf("counts %v", c)
	}
	if _, err := LoadSet("none", t.TempDir(), stimuli.DefaultThresholds, false); err == nil || !strings.HasPrefix(err.Error(), "set none: ") {
		t.Errorf("empty directory: %v", err)
	}
}
