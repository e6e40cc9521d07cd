package manipulate_test

import (
	"context"
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// A lesion and an attention gain, applied by re-running only the suffix
// of a tiny network from its cached pre-gain activation.
func ExampleSuffix() {
	net := nn.NewSequential().
		Append("features.0", nn.NewConv2d(tensor.NewRNG(1), 1, 3, 3, 3, conv.Square(1, 1, 1))).
		Append("features.1", &nn.ReLU{}).
		Append("avgpool", &nn.AdaptiveAvgPool2d{H: 1, W: 1}).
		Append("flatten", nn.Flatten{}).
		Append("classifier.0", nn.NewLinear(tensor.NewRNG(2), 3, 4)).
		Append("classifier.1", &nn.ReLU{})
	m := &nn.Model{Arch: "tiny", Net: net}
	m.AddUnits("conv1", "fc7")

	x := tensor.New(2, 1, 4, 4)
	tensor.NewRNG(3).Normal(x, 0, 1)
	s := manipulate.NewSuffix(m, "conv1", "fc7", []int{1, 4, 4})
	h := s.Prefix(x) // conv1's pre-gain output, computed once
	intact := s.Run(h, nil)
	lesioned := s.Run(h, manipulate.Lesion(3, []int{0, 1, 2}))
	boosted := s.Run(h, manipulate.Gain(3, []int{1}, 2))

	m.SetGain("conv1", manipulate.Gain(3, []int{1}, 2))
	full := m.Net.ForwardRange(0, net.Len(), x)
	fmt.Println("features", intact.Shape())
	fmt.Println("lesioning every channel makes the images alike:",
		fmt.Sprint(lesioned.Slice(0, 1).Data()) == fmt.Sprint(lesioned.Slice(1, 2).Data()))
	fmt.Println("suffix equals a full forward with the gain:", fmt.Sprint(boosted.Data()) == fmt.Sprint(full.Data()))
	fmt.Printf("suffix %.0f FLOPs of %.0f per image\n", s.FLOPs(), s.FLOPs()+s.PrefixFLOPs())
	// Output:
	// features [2 4]
	// lesioning every channel makes the images alike: true
	// suffix equals a full forward with the gain: true
	// suffix 24 FLOPs of 888 per image
}

// The statistics comparing the selective neurons with random draws.
func ExampleRankP() {
	// Test F1 after lesioning the selective neurons, and after lesioning
	// each of 10 random draws of as many neurons.
	random := []float64{0.61, 0.58, 0.64, 0.60, 0.59, 0.62, 0.57, 0.63, 0.60, 0.61}
	count, p := manipulate.RankP(0.31, random, manipulate.Less)
	fmt.Printf("draws at least as harmful: %d, p = %.3f\n", count, p)

	// Across 5 layers: selective minus mean random F1.
	w := manipulate.WilcoxonDiff([]float64{-0.30, -0.12, -0.25, 0.02, -0.41}, manipulate.Less)
	fmt.Printf("Wilcoxon: n %d, W+ %g, exact p = %.4f\n", w.N, w.W, w.P)
	// Output:
	// draws at least as harmful: 0, p = 0.091
	// Wilcoxon: n 5, W+ 1, exact p = 0.0625
}

// A readout on separable features, scored with the paper's F1.
func ExampleTrainReadout() {
	labels := make([]stimuli.Category, 90)
	feats := tensor.New(90, 3)
	for i := range labels {
		labels[i] = stimuli.Category(i % 3)
		feats.Set(1, i, i%3) // one feature per emotion
	}
	split := manipulate.Stratify(labels, 1)
	r, err := manipulate.TrainReadout(context.Background(), feats, labels, stimuli.Neutral, split.Train,
		nn.TrainConfig{LR: 0.05, Epochs: 50, Batch: 8}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	test := split.Test
	var rows []float32
	for _, k := range test {
		rows = append(rows, feats.Data()[3*k:3*k+3]...)
	}
	s := manipulate.Evaluate(r.Predict(tensor.From(rows, len(test), 3)), manipulate.Truth(labels, stimuli.Neutral, test))
	fmt.Printf("split %d/%d/%d, test F1 %.2f, accuracy %.2f\n", len(split.Train), len(split.Val), len(split.Test), s.F1(), s.Accuracy())
	// Output:
	// split 45/24/21, test F1 1.00, accuracy 1.00
}
