package plots_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/plots"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// Fig 3 for a study of two synthetic sets whose single "layer" responds
// with each image's valence plus a little of its index (a stand-in for
// recorded responses), against a "network" that responds with noise.
func Example() {
	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	analyse := func(respond func(i int, v float64, c int) float32) *selectivity.Study {
		var sets []*selectivity.Responses
		for k, name := range []string{"one", "two"} {
			set := stimuli.Synthetic(name, 30, uint64(k+1), 16)
			resp := tensor.New(30, 4)
			for i, im := range set.Images {
				for c := range 4 {
					resp.Set(respond(i, im.Valence, c), i, c)
				}
			}
			sets = append(sets, &selectivity.Responses{Set: set, Units: []string{"conv1"}, Resp: []*tensor.Tensor{resp}})
		}
		s, err := selectivity.Analyze(sets, selectivity.StudyConfig{})
		if err != nil {
			panic(err)
		}
		return s
	}
	tuned := analyse(func(i int, v float64, c int) float32 { return float32(v*float64(c) + float64(i%5)) })
	noise := analyse(func(i int, v float64, c int) float32 { return float32((i*7 + c*13) % 11) })
	studies := []*selectivity.Study{tuned, noise}
	names := []string{"tuned", "noise"}
	if err := plots.SI(studies, names, filepath.Join(dir, "fig3a_si")); err != nil {
		panic(err)
	}
	if err := plots.Counts(studies, names, filepath.Join(dir, "fig3b_counts")); err != nil {
		panic(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// fig3a_si.png
	// fig3a_si.svg
	// fig3b_counts.png
	// fig3b_counts.svg
}
