package vgg_test

import (
	"fmt"

	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// A VGG-16 with the real topology at 1/16 of the width, from a seed: the
// paper's layer names, a forward pass on one 32×32 image, and each conv
// unit's channel means (Eq 2 of the paper) recorded on the way.
func Example() {
	m := vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 16, Classes: 2}, tensor.NewRNG(1))
	var names []string
	for _, u := range m.ConvUnits() {
		names = append(names, fmt.Sprintf("%s:%d", u.Name, u.Channels))
	}
	fmt.Println(m.Arch, names)

	means := map[string]*tensor.Tensor{}
	m.Record(func(unit string, x *tensor.Tensor) { means[unit] = x })
	x := tensor.New(1, 3, 32, 32) // [N,3,H,W]
	tensor.NewRNG(2).Normal(x, 0, 1)
	y := m.Forward(x)
	m.Record(nil)
	fmt.Println(y.Shape(), means["conv1_1"].Shape(), means["conv5_3"].Shape(), means["fc7"].Shape())

	// torchvision's keys, so that real weights load by name.
	_, ok := m.StateDict()["features.0.weight"]
	fmt.Println(ok, len(m.StateDict()))
	// Output:
	// vgg16 [conv1_1:4 conv1_2:4 conv2_1:8 conv2_2:8 conv3_1:16 conv3_2:16 conv3_3:16 conv4_1:32 conv4_2:32 conv4_3:32 conv5_1:32 conv5_2:32 conv5_3:32]
	// [1 2] [1 4] [1 32] [1 16]
	// true 32
}

// Loading the real network: torchvision's file, used as downloaded
// (https://download.pytorch.org/models/vgg16-397923af.pth). It needs the
// file, so it has no output to check.
func ExampleLoad() {
	m, err := vgg.Load(vgg.Config{}, "vgg16-397923af.pth")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Arch, len(m.ConvUnits()))
}
