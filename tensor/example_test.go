package tensor_test

import (
	"fmt"
	"math"

	"github.com/emosel/emosel/tensor"
)

// A batch of two 2×3 images with one channel: NCHW, row-major and
// contiguous, so an image is a slice of the first dimension.
func Example() {
	x := tensor.From([]float32{
		1, 2, 3,
		4, 5, 6,

		7, 8, 9,
		10, 11, 12,
	}, 2, 1, 2, 3) // [N,C,H,W]
	fmt.Println(x, x.Len(), x.At(1, 0, 0, 2))

	second := x.Slice(1, 2) // [1,1,2,3], sharing x's data
	second.Set(0, 0, 0, 1, 1)
	fmt.Println(second.Data(), x.At(1, 0, 1, 1))

	flat := x.Reshape(2, 6) // [N, C·H·W]
	fmt.Println(flat.Shape(), tensor.Concat(flat, flat).Shape())
	// Output:
	// Tensor[2 1 2 3] 12 9
	// [7 8 9 10 0 12] 0
	// [2 6] [4 6]
}

// Seeded initialisation, as torchvision's layers do it: the same seed gives
// the same weights on every platform.
func ExampleRNG() {
	w := tensor.New(64, 3, 3, 3) // [O,C,KH,KW]
	tensor.NewRNG(1).KaimingUniformDefault(w)
	fanIn, fanOut := tensor.Fans(w.Shape())
	bound := 1 / math.Sqrt(float64(fanIn)) // U(-bound, bound)
	fmt.Println(fanIn, fanOut, float64(w.MaxAbs()) <= bound)
	again := tensor.New(64, 3, 3, 3)
	tensor.NewRNG(1).KaimingUniformDefault(again)
	fmt.Println(again.At(5, 1, 2, 0) == w.At(5, 1, 2, 0))
	// Output:
	// 27 576 true
	// true
}
