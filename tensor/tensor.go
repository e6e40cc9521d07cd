package tensor

import (
	"fmt"
	"slices"
)

// Tensor is a float32 n-dimensional array stored row-major and contiguously.
// The zero value is not useful; build one with New, From or Zeros.
type Tensor struct {
	shape []int
	data  []float32
	// buf is the whole recycled buffer data is a prefix of, when Scratch
	// made the tensor from one (nil otherwise); Recycle hands it back.
	buf []float32
}

// numel returns the element count of shape, panicking on a negative
// dimension or on overflow.
func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		if d != 0 && n > int(^uint(0)>>1)/d {
			panic(fmt.Sprintf("tensor: shape %v overflows int", shape))
		}
		n *= d
	}
	return n
}

// New returns a zero-filled tensor of the given shape. New() is a scalar.
func New(shape ...int) *Tensor {
	n := numel(shape)
	return &Tensor{shape: slices.Clone(shape), data: make([]float32, n)}
}

// From wraps data (without copying) as a tensor of the given shape. It
// panics if len(data) differs from the product of shape.
func From(data []float32, shape ...int) *Tensor {
	n := numel(shape)
	if len(data) != n {
		panic(fmt.Sprintf("tensor: %d values for shape %v (want %d)", len(data), shape, n))
	}
	return &Tensor{shape: slices.Clone(shape), data: data}
}

// Full returns a tensor of the given shape with every element set to v.
func Full(v float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = v
	}
	return t
}

// Shape returns a copy of the tensor's shape.
func (t *Tensor) Shape() []int { return slices.Clone(t.shape) }

// Data returns the backing slice (not a copy): writes are visible in t.
func (t *Tensor) Data() []float32 { return t.data }

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	if i < 0 || i >= len(t.shape) {
		panic(fmt.Sprintf("tensor: dimension %d out of range for shape %v", i, t.shape))
	}
	return t.shape[i]
}

// SameShape reports whether t and u have identical shapes.
func (t *Tensor) SameShape(u *Tensor) bool { return slices.Equal(t.shape, u.shape) }

// HasShape reports whether t has exactly the given shape.
func (t *Tensor) HasShape(shape ...int) bool { return slices.Equal(t.shape, shape) }

// String returns a short description such as "Tensor[2 3]".
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.shape) }

// Reshape returns a tensor sharing t's data with a new shape of the same
// element count. One dimension may be -1 and is then inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	shape = slices.Clone(shape)
	infer := -1
	known := 1
	for i, d := range shape {
		if d == -1 {
			if infer >= 0 {
				panic(fmt.Sprintf("tensor: reshape %v has more than one -1", shape))
			}
			infer = i
			continue
		}
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in reshape %v", shape))
		}
		known *= d
	}
	if infer >= 0 {
		if known == 0 || len(t.data)%known != 0 {
			panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.shape, shape))
		}
		shape[infer] = len(t.data) / known
	}
	if numel(shape) != len(t.data) {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", t.shape, shape))
	}
	return &Tensor{shape: shape, data: t.data}
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: slices.Clone(t.shape), data: slices.Clone(t.data)}
}

// offset converts a multi-index to a flat offset, panicking when it is out
// of range.
func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: %d indices for shape %v", len(idx), t.shape))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.shape))
		}
		off = off*t.shape[i] + x
	}
	return off
}

// At returns the element at the multi-index idx.
func (t *Tensor) At(idx ...int) float32 { return t.data[t.offset(idx)] }

// Set stores v at the multi-index idx.
func (t *Tensor) Set(v float32, idx ...int) { t.data[t.offset(idx)] = v }

// Slice returns rows [i, j) of the leading dimension, sharing t's data:
// for an NCHW batch it selects images i..j-1.
func (t *Tensor) Slice(i, j int) *Tensor {
	if len(t.shape) == 0 {
		panic("tensor: Slice of a scalar")
	}
	if i < 0 || j < i || j > t.shape[0] {
		panic(fmt.Sprintf("tensor: slice [%d:%d] out of range for shape %v", i, j, t.shape))
	}
	row := 1
	for _, d := range t.shape[1:] {
		row *= d
	}
	shape := slices.Clone(t.shape)
	shape[0] = j - i
	return &Tensor{shape: shape, data: t.data[i*row : j*row]}
}

// Concat joins tensors along the leading dimension. All trailing
// dimensions must agree.
func Concat(ts ...*Tensor) *Tensor {
	if len(ts) == 0 {
		panic("tensor: Concat of nothing")
	}
	shape := slices.Clone(ts[0].shape)
	if len(shape) == 0 {
		panic("tensor: Concat of scalars")
	}
	n := 0
	for _, u := range ts {
		if len(u.shape) != len(shape) || !slices.Equal(u.shape[1:], shape[1:]) {
			panic(fmt.Sprintf("tensor: Concat of %v and %v", ts[0].shape, u.shape))
		}
		n += u.shape[0]
	}
	shape[0] = n
	out := New(shape...)
	off := 0
	for _, u := range ts {
		off += copy(out.data[off:], u.data)
	}
	return out
}

// Transpose2D returns the transpose of a 2-D tensor as a new tensor:
// [R, C] -> [C, R].
func (t *Tensor) Transpose2D() *Tensor {
	if len(t.shape) != 2 {
		panic(fmt.Sprintf("tensor: Transpose2D of shape %v", t.shape))
	}
	r, c := t.shape[0], t.shape[1]
	out := New(c, r)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.data[j*r+i] = t.data[i*c+j]
		}
	}
	return out
}

// MaxAbs returns the largest absolute value in t (0 for an empty tensor).
// NaN elements are ignored.
func (t *Tensor) MaxAbs() float32 {
	var m float32
	for _, v := range t.data {
		if v < 0 {
			v = -v
		}
		if v > m {
			m = v
		}
	}
	return m
}
