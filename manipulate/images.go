package manipulate

import (
	"context"
	"fmt"
	"slices"

	"github.com/emosel/emosel/tensor"
)

// Images is a stimulus set prepared as network input.
type Images interface {
	// Len returns the number of images.
	Len() int
	// Shape returns the shape of one image, [C,H,W].
	Shape() []int
	// Load returns the images idx, in that order, as one batch
	// [len(idx),C,H,W]. It checks ctx between images.
	Load(ctx context.Context, idx []int) (*tensor.Tensor, error)
}

// Tensor returns x [N,C,H,W], held in memory, as Images.
func Tensor(x *tensor.Tensor) Images {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("manipulate: images %v are not [N,C,H,W]", x.Shape()))
	}
	return memImages{x}
}

type memImages struct{ x *tensor.Tensor }

func (m memImages) Len() int     { return m.x.Dim(0) }
func (m memImages) Shape() []int { return m.x.Shape()[1:] }
func (m memImages) Load(ctx context.Context, idx []int) (*tensor.Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	shape := m.x.Shape()
	per := shape[1] * shape[2] * shape[3]
	out := tensor.New(append([]int{len(idx)}, shape[1:]...)...)
	for i, k := range idx {
		if k < 0 || k >= shape[0] {
			panic(fmt.Sprintf("manipulate: image %d out of range [0, %d)", k, shape[0]))
		}
		copy(out.Data()[i*per:(i+1)*per], m.x.Data()[k*per:(k+1)*per])
	}
	return out, nil
}

// gatherRows returns rows idx of x [N,F] as a new [len(idx),F] tensor.
func gatherRows(x *tensor.Tensor, idx []int) *tensor.Tensor {
	f := x.Dim(1)
	out := tensor.New(len(idx), f)
	for i, k := range idx {
		copy(out.Data()[i*f:(i+1)*f], x.Data()[k*f:(k+1)*f])
	}
	return out
}

// shapeOf returns [n] followed by shape.
func shapeOf(n int, shape []int) []int { return append([]int{n}, slices.Clone(shape)...) }
