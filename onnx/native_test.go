package onnx

import (
	"fmt"
	"math"
	"testing"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// TestNativeBits checks that the reduced VGG-16 and AlexNet of the vgg
// and alexnet tests, exported to ONNX by torch.onnx (vgg_small.onnx,
// alexnet_small.onnx), give the same bits as the native builders with the
// same weights: the output, every unit's recorded means, and the output
// again with a gain on one unit.
func TestNativeBits(t *testing.T) {
	cases := []struct {
		name   string
		native func() (*nn.Model, error)
		gain   int // the unit that gets a gain
	}{
		{"vgg", func() (*nn.Model, error) {
			return vgg.Load(vgg.Config{Width: 1.0 / 16, Hidden: 32, Classes: 10}, "../vgg/testdata/small.pt")
		}, 5},
		{"alexnet", func() (*nn.Model, error) {
			return alexnet.Load(alexnet.Config{Width: 1.0 / 8, Hidden: 32, Classes: 10}, "../alexnet/testdata/small.pt")
		}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			native, err := c.native()
			if err != nil {
				t.Fatal(err)
			}
			net, err := LoadNet(fixtureDir + "/" + c.name + "_small.onnx")
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Units) != len(native.Units) {
				t.Fatalf("%d units, native %d", len(net.Units), len(native.Units))
			}
			x := tensor.New(2, 3, 224, 224)
			tensor.NewRNG(16).Uniform(x, -2, 2)

			var gotM, wantM []*tensor.Tensor
			net.Record(func(_ string, m *tensor.Tensor) { gotM = append(gotM, m) })
			native.Record(func(_ string, m *tensor.Tensor) { wantM = append(wantM, m) })
			sameBits(t, "output", net.Forward(x), native.Forward(x))
			for i := range wantM {
				sameBits(t, fmt.Sprintf("means of %s (%s)", native.Units[i].Name, net.Units[i].Module), gotM[i], wantM[i])
			}

			u := native.Units[c.gain]
			alpha := make([]float32, u.Channels)
			for i := range alpha {
				alpha[i] = []float32{-1, 0.5, 0, 2.25}[i%4]
			}
			native.SetGain(u.Name, alpha)
			net.SetGain(net.Units[c.gain].Module, alpha)
			gotM, wantM = nil, nil
			sameBits(t, "output with a gain on "+u.Name, net.Forward(x), native.Forward(x))
			for i := range wantM {
				sameBits(t, fmt.Sprintf("means of %s with the gain", native.Units[i].Name), gotM[i], wantM[i])
			}
		})
	}
}

// sameBits fails unless got and want have the same shape and bits.
func sameBits(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !got.SameShape(want) {
		t.Fatalf("%s: shape %v, native %v", what, got.Shape(), want.Shape())
	}
	for i, v := range want.Data() {
		if math.Float32bits(got.Data()[i]) != math.Float32bits(v) {
			t.Fatalf("%s: value %d is %g, native %g", what, i, got.Data()[i], v)
		}
	}
}
