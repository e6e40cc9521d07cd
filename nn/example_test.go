package nn_test

import (
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// A tiny torchvision-style network: record one ReLU's channel means,
// then lesion a channel by setting its gain to −1.
func Example() {
	net := nn.NewSequential().
		Append("features.0", nn.NewConv2d(nil, 1, 2, 3, 3, conv.Square(1, 1, 1))).
		Append("features.1", &nn.ReLU{}).
		Append("avgpool", &nn.AdaptiveAvgPool2d{H: 1, W: 1}).
		Append("flatten", nn.Flatten{}).
		Append("classifier.0", nn.NewLinear(nil, 2, 1))

	// Channel 0 copies the input, channel 1 negates it; the classifier
	// adds both.
	w := tensor.New(2, 1, 3, 3)
	w.Set(1, 0, 0, 1, 1)
	w.Set(-1, 1, 0, 1, 1)
	sd := net.StateDict()
	sd["features.0.weight"] = w
	sd["classifier.0.weight"] = tensor.From([]float32{1, 1}, 1, 2)
	if err := net.LoadStateDict(sd); err != nil {
		fmt.Println(err)
		return
	}

	relu := net.Layer(net.Index("features.1")).(*nn.ReLU)
	relu.Record = func(m *tensor.Tensor) { fmt.Println("means", m.Shape(), m.Data()) }
	x := tensor.From([]float32{1, -2, 3, -4}, 1, 1, 2, 2)
	fmt.Println("out", net.Forward(x).Data())

	relu.Gain = []float32{-1, 0} // lesion channel 0
	fmt.Println("out", net.Forward(x).Data())

	err := net.LoadStateDict(nn.StateDict{"features.0.weight": tensor.New(2, 1, 5, 5)})
	fmt.Println(err)
	// Output:
	// means [1 2] [1 1.5]
	// out [2.5]
	// means [1 2] [0 1.5]
	// out [1.5]
	// nn: missing key: classifier.0.bias, want [1]
	// nn: missing key: classifier.0.weight, want [1 2]
	// nn: missing key: features.0.bias, want [2]
	// nn: wrong shape: features.0.weight is [2 1 5 5], want [2 1 3 3]
}
