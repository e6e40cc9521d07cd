package study_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// The manipulation stage after the selectivity stage, on a 1/16-width
// VGG-16 and two small synthetic sets: readouts, lesions and attention
// sweeps of the selective neurons of two layers against one random draw
// each, then Table 1.
func Example() {
	dir, err := os.MkdirTemp("", "manipulate-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	m := vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 16, Classes: 2}, tensor.NewRNG(1))
	sets := []*stimuli.Set{stimuli.Synthetic("one", 24, 1, 32), stimuli.Synthetic("two", 24, 2, 32)}
	pre := imagenet.Config{Size: 32}

	// The selectivity stage writes selectivity.csv and selective.csv.
	sel := filepath.Join(dir, "selectivity")
	_, err = selstudy.Run(context.Background(), sel, selstudy.Config{
		Sets:     sets,
		Networks: []selstudy.Network{{Label: "random", Key: "random1", Model: m, Record: selectivity.RecordConfig{Seed: 1}}},
		Input:    pre,
	})
	if err != nil {
		panic(err)
	}
	from, err := study.ReadSelectivity(sel)
	if err != nil {
		panic(err)
	}

	cfg := study.Config{
		Model: m, ModelID: study.ParamsID(m), Input: "squash 32", From: from,
		Layers:  []string{"conv3_1", "conv5_3"},
		Stages:  []string{study.Lesion, study.Sweep},
		Exp:     manipulate.Config{Draws: 1, Alphas: []float64{0, 1}},
		Readout: nn.TrainConfig{Epochs: 20},
		Seed:    1,
	}
	for _, s := range sets {
		ss, err := study.FromSet(s, pre)
		if err != nil {
			panic(err)
		}
		cfg.Sets = append(cfg.Sets, ss)
	}
	out := filepath.Join(dir, "manipulate")
	s, err := study.Open(out, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(s.Units()), "units of (set, emotion, layer)")
	if err := s.Run(context.Background(), nil); err != nil {
		panic(err)
	}
	b, err := os.ReadFile(filepath.Join(out, study.Table1File))
	if err != nil {
		panic(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	fmt.Println(lines[0])
	fmt.Println(len(lines)-1, "rows")
	// Output:
	// 12 units of (set, emotion, layer)
	// set,emotion,original_f1,enhanced_f1,enhanced_layer,enhanced_alpha,enhanced_pct,lesioned_f1,lesioned_layer,lesioned_pct
	// 6 rows
}
