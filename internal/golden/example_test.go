package golden_test

import (
	"fmt"

	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/tensor"
)

// Diff compares with a tolerance relative to the largest reference value,
// and names the worst element when they differ.
func ExampleDiff() {
	want := tensor.From([]float32{1, -2, 4}, 3)
	fmt.Printf("%q\n", golden.Diff(tensor.From([]float32{1, -2.001, 4}, 3), want, 1e-3))
	fmt.Println(golden.Diff(tensor.From([]float32{1, -2.1, 4}, 3), want, 1e-3))
	fmt.Println(golden.Diff(tensor.New(2), want, 1e-3))
	// Output:
	// ""
	// worst index 1 (of shape [3]): got -2.1, want -2, |diff| 0.1 > 0.004 (tol 0.001 × max|want| 4)
	// shape [2], want [3]
}
