package onnx_test

import (
	"fmt"
	"log"
	"os"

	"github.com/emosel/emosel/onnx"
	"github.com/emosel/emosel/tensor"
)

// A reduced-width torchvision ResNet-18 exported by torch.onnx: its units
// are its ReLUs, named by value and by torchvision module.
func ExampleLoadNet() {
	net, err := onnx.LoadNet("../testdata/onnx/resnet18.onnx")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("input", net.InputShape(), "units", len(net.Units))
	for _, u := range net.Units[:3] {
		fmt.Println(u.Module, u.Channels, u.Name)
	}

	// Silence channel 0 of layer1.0.relu and record every unit's means.
	alpha := make([]float32, 8)
	alpha[0] = -1
	net.SetGain("layer1.0.relu", alpha)
	net.Record(func(unit string, means *tensor.Tensor) {
		if unit == "/layer1/layer1.0/relu/Relu_output_0" {
			fmt.Println("means", means.Shape(), "channel 0:", means.At(0, 0))
		}
	})
	y := net.Forward(tensor.Full(0.5, 1, 3, 32, 32))
	fmt.Println("output", y.Shape())
	// Output:
	// input [2 3 32 32] units 17
	// relu 8 /relu/Relu_output_0
	// layer1.0.relu 8 /layer1/layer1.0/relu/Relu_output_0
	// layer1.0.relu_1 8 /layer1/layer1.0/relu_1/Relu_output_0
	// means [1 8] channel 0: 0
	// output [1 10]
}

// A truncated file is refused with one line naming the file and what
// ended early.
func ExampleDecode_truncated() {
	b, err := os.ReadFile("../testdata/onnx/squeezenet1_1.onnx")
	if err != nil {
		log.Fatal(err)
	}
	_, err = onnx.Decode(b[:len(b)-1])
	fmt.Println(err)
	// Output:
	// onnx: truncated model: ModelProto field 8 (opset_import) ends early
}

// A cut inside ResNet-18's first residual block caches the unit's output
// and the block's input (the skip path); a suffix re-run under a gain
// gives the features a full forward with that gain installed gives.
func ExampleNet_NewCut() {
	net, err := onnx.LoadNet("../testdata/onnx/resnet18.onnx")
	if err != nil {
		log.Fatal(err)
	}
	cut := net.NewCut("layer1.0.relu", "layer4.1.relu_1")
	x := tensor.Full(0.5, 2, 3, 32, 32)
	h := cut.Prefix(x) // once per batch of images
	fmt.Println("cut", h.Shape(), "of which the unit", 8*8*8)
	alpha := make([]float32, 8)
	alpha[3] = 0.5
	f := cut.Rest(cut.Gain(h, alpha)) // once per gain

	net.SetGain("layer1.0.relu", alpha)
	want := cut.Features(x)
	same := true
	for i := range want.Data() {
		same = same && f.Data()[i] == want.Data()[i]
	}
	fmt.Println("features", f.Shape(), "equal to a full forward:", same)
	// Output:
	// cut [2 1024] of which the unit 512
	// features [2 64] equal to a full forward: true
}

// The graph as an nn.Model, for packages selectivity and manipulate.
func ExampleNet_AsModel() {
	net, err := onnx.LoadNet("../testdata/onnx/resnet18.onnx")
	if err != nil {
		log.Fatal(err)
	}
	m := net.AsModel("resnet18")
	for _, u := range m.Units[:3] {
		fmt.Println(u.Name, u.Channels, u.Conv)
	}
	fmt.Println(m.Units[len(m.Units)-1].Name)
	// Output:
	// relu 8 true
	// layer1.0.relu 8 true
	// layer1.0.relu_1 8 true
	// layer4.1.relu_1
}
