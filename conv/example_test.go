package conv_test

import (
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/tensor"
)

// A 2×2 box filter over a 3×3 image, with bias, ReLU and the channel
// means fused into the GEMM, then the pooling ops.
func Example() {
	x := tensor.From([]float32{
		1, 2, 3,
		4, 5, 6,
		7, 8, 9,
	}, 1, 1, 3, 3) // [N,C,H,W]
	w := tensor.Full(1, 2, 1, 2, 2) // [O,C,KH,KW]: two box filters
	f := conv.NewFilter(w, conv.Params{})
	means := make([]float32, 2) // [N·O]
	y := f.Forward(x, conv.Epilogue{Bias: []float32{0, -14}, ReLU: true, Means: means})
	fmt.Println(y.Shape(), y.Data(), means)

	fmt.Println(conv.MaxPool2d(x, conv.Pool{Kernel: [2]int{2, 2}, Ceil: true}).Data())
	fmt.Println(conv.AdaptiveAvgPool2d(x, 2, 2).Data())
	// Output:
	// [1 2 2 2] [12 16 24 28 0 2 10 14] [20 6.5]
	// [5 6 8 9]
	// [3 4 6 7]
}
