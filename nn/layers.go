package nn

import (
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/tensor"
)

// MaxPool2d is max pooling as PyTorch's MaxPool2d (−∞ padding, NaN
// propagates, optional ceil mode):
//
//	[N,C,H,W] -> [N,C,OH,OW]
type MaxPool2d struct {
	Pool conv.Pool
}

// NewMaxPool2d returns an unpadded square max pool, e.g. (3, 2) for
// AlexNet and (2, 2) for VGG.
func NewMaxPool2d(kernel, stride int) *MaxPool2d {
	return &MaxPool2d{Pool: conv.Pool{Kernel: [2]int{kernel, kernel}, Stride: [2]int{stride, stride}}}
}

// Forward implements Layer.
func (m *MaxPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("nn: MaxPool2d input %v is not [N,C,H,W]", x.Shape()))
	}
	if oh, ow := m.Pool.OutSize(x.Dim(2), x.Dim(3)); oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("nn: MaxPool2d input %v is too small for kernel %v", x.Shape(), m.Pool.Kernel))
	}
	return conv.MaxPool2d(x, m.Pool)
}

// String describes the layer.
func (m *MaxPool2d) String() string {
	return fmt.Sprintf("MaxPool2d(kernel_size=%v, stride=%v, padding=%v, dilation=%v, ceil_mode=%v)",
		m.Pool.Kernel, m.Pool.Stride, m.Pool.Pad, m.Pool.Dilation, m.Pool.Ceil)
}

// AdaptiveAvgPool2d averages over PyTorch's adaptive bins to a fixed
// H×W output (torchvision: 7×7 for VGG, 6×6 for AlexNet):
//
//	[N,C,H,W] -> [N,C,OutH,OutW]
type AdaptiveAvgPool2d struct {
	H, W int
}

// Forward implements Layer.
func (a *AdaptiveAvgPool2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() != 4 || x.Dim(2) == 0 || x.Dim(3) == 0 || a.H < 1 || a.W < 1 {
		panic(fmt.Sprintf("nn: AdaptiveAvgPool2d of input %v to [%d %d]", x.Shape(), a.H, a.W))
	}
	return conv.AdaptiveAvgPool2d(x, a.H, a.W)
}

// String describes the layer.
func (a *AdaptiveAvgPool2d) String() string {
	return fmt.Sprintf("AdaptiveAvgPool2d(output_size=(%d, %d))", a.H, a.W)
}

// Dropout is the identity at inference, which is all emosel runs; P is
// kept for description. Forward returns x itself.
type Dropout struct {
	P float64
}

// Forward implements Layer.
func (d *Dropout) Forward(x *tensor.Tensor) *tensor.Tensor { return x }

// String describes the layer.
func (d *Dropout) String() string { return fmt.Sprintf("Dropout(p=%g)", d.P) }

// Flatten keeps the batch axis and flattens the rest, sharing x's data:
//
//	[N,C,H,W] -> [N,C·H·W]
type Flatten struct{}

// Forward implements Layer.
func (Flatten) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Rank() < 1 {
		panic(fmt.Sprintf("nn: Flatten of input %v, want [N,...]", x.Shape()))
	}
	n := x.Dim(0)
	m := 1
	for _, d := range x.Shape()[1:] {
		m *= d
	}
	return x.Reshape(n, m)
}

// String describes the layer.
func (Flatten) String() string { return "Flatten()" }
