package selectivity_test

import (
	"fmt"

	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// A channel that responds to pleasant images whatever their content, in an
// unbalanced design where pleasant images are mostly of people.
func ExampleTwoWayANOVA() {
	labels := []stimuli.Category{
		stimuli.Pleasant, stimuli.Pleasant, stimuli.Pleasant, stimuli.Pleasant, stimuli.Pleasant,
		stimuli.Neutral, stimuli.Neutral, stimuli.Neutral, stimuli.Neutral, stimuli.Neutral,
		stimuli.Unpleasant, stimuli.Unpleasant, stimuli.Unpleasant, stimuli.Unpleasant, stimuli.Unknown,
	}
	content := []string{"people", "people", "people", "scene", "people",
		"scene", "people", "scene", "scene", "people",
		"people", "scene", "scene", "people", "scene"}
	resp := tensor.From([]float32{5.1, 4.8, 5.3, 4.9, 5.2, 1.1, 0.8, 1.3, 0.7, 1.0, 1.2, 0.9, 1.1, 0.8, 9}, 15, 1)
	t, err := selectivity.TwoWayANOVA(resp, labels, content)
	if err != nil {
		panic(err)
	}
	c := t.Channels[0]
	fmt.Printf("%d images, levels %v\n", t.N, t.Levels)
	fmt.Printf("emotion: F(%d,%d) = %.1f, p = %.1e\n", c.Category.DF, c.DFE, c.Category.F, c.Category.P)
	fmt.Printf("content: F(%d,%d) = %.2f, p = %.2f\n", c.Factor.DF, c.DFE, c.Factor.F, c.Factor.P)
	// Output:
	// 14 images, levels [people scene]
	// emotion: F(2,8) = 420.4, p = 7.9e-09
	// content: F(1,8) = 0.00, p = 1.00
}
