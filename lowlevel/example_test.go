package lowlevel_test

import (
	"fmt"

	"github.com/emosel/emosel/lowlevel"
)

// The default bank on the paper's 224-pixel input: GIST's 4 scales × 8
// orientations × 4 × 4 cells, then the image statistics.
func ExampleConfig_Names() {
	names := lowlevel.Config{}.Names(224)
	fmt.Println(len(names), names[0], names[511], names[512], names[len(names)-1])
	// Output: 523 gabor_s0_o0_0_0 gabor_s3_o7_3_3 luminance band_64_112
}

func ExampleFitLogistic() {
	x := [][]float64{{-2}, {-1}, {-0.5}, {0.5}, {1}, {2}}
	y := []bool{false, false, true, false, true, true}
	m, err := lowlevel.FitLogistic(x, y, 0.1)
	if err != nil {
		panic(err)
	}
	var pred []bool
	for _, r := range x {
		pred = append(pred, m.Predict(r))
	}
	fmt.Println(pred)
	fmt.Printf("w %.4f\n", m.W[0])
	// Output:
	// [false false false true true true]
	// w 0.8976
}
