package study_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// The selectivity stage on a 1/16-width VGG-16 and two small synthetic
// sets: a random network stands in for the pretrained one, and a second
// random network is the control. A second run reuses the recordings.
func Example() {
	dir, err := os.MkdirTemp("", "study-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	net := func(seed uint64) study.Network {
		return study.Network{
			Label:  fmt.Sprintf("random (seed %d)", seed),
			About:  fmt.Sprintf("vgg16 at 1/16 width, random initialisation from seed %d", seed),
			Key:    fmt.Sprintf("vgg16w16-random%d-squash32", seed),
			Model:  vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 16, Classes: 2}, tensor.NewRNG(seed)),
			Record: selectivity.RecordConfig{Seed: seed},
		}
	}
	cfg := study.Config{
		Sets:     []*stimuli.Set{stimuli.Synthetic("one", 15, 1, 32), stimuli.Synthetic("two", 15, 2, 32)},
		Networks: []study.Network{net(1), net(2)},
		Input:    imagenet.Config{Size: 32},
		Resize:   "squash",
		Top:      5,
	}
	res, err := study.Run(context.Background(), dir, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(res.Networks[0].Study.Layers), "layers,", res.Recorded, "recordings")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	fmt.Println(strings.Join(names, " "))
	ctl, _ := filepath.Glob(filepath.Join(dir, "control", "*"))
	fmt.Println(len(ctl), "control tables")

	res, err = study.Run(context.Background(), dir, cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Recorded, "recordings the second time")
	// Output:
	// 13 layers, 4 recordings
	// activations cache control fig2_top.png fig2_top.svg fig2_tuning.png fig2_tuning.svg fig3a_si.png fig3a_si.svg fig3b_counts.png fig3b_counts.svg layers.csv overlap.csv report.txt selective.csv selectivity.csv top.csv
	// 3 control tables
	// 0 recordings the second time
}
