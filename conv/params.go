package conv

import "fmt"

// Params places a convolution window: per-axis (H, W) stride, zero padding
// on each side, and dilation. The zero value is a stride-1, unpadded,
// undilated convolution: a zero Stride or Dilation entry means 1.
type Params struct {
	Stride   [2]int
	Pad      [2]int
	Dilation [2]int
}

// Square returns Params with the same stride, pad and dilation along both
// axes, e.g. Square(4, 2, 1) for AlexNet's first convolution.
func Square(stride, pad, dilation int) Params {
	return Params{
		Stride:   [2]int{stride, stride},
		Pad:      [2]int{pad, pad},
		Dilation: [2]int{dilation, dilation},
	}
}

// norm returns p with zero strides and dilations replaced by 1, panicking
// on negative values.
func (p Params) norm() Params {
	for a := 0; a < 2; a++ {
		if p.Stride[a] < 0 || p.Pad[a] < 0 || p.Dilation[a] < 0 {
			panic(fmt.Sprintf("conv: negative stride, pad or dilation in %+v", p))
		}
		if p.Stride[a] == 0 {
			p.Stride[a] = 1
		}
		if p.Dilation[a] == 0 {
			p.Dilation[a] = 1
		}
	}
	return p
}

// OutSize returns the output size along one axis of a window of size k
// with the given stride, padding (each side) and dilation over an input of
// size in, as PyTorch computes it for Conv2d (ceil false) and pooling:
//
//	floor((in + 2·pad − dilation·(k−1) − 1 + (ceil ? stride−1 : 0)) / stride) + 1,
//
// less one when ceil is set and the last window would start in the right
// padding. Zero stride or dilation mean 1. A result ≤ 0 means the input is
// too small.
func OutSize(in, k, stride, pad, dilation int, ceil bool) int {
	if stride == 0 {
		stride = 1
	}
	if dilation == 0 {
		dilation = 1
	}
	num := in + 2*pad - dilation*(k-1) - 1
	if ceil {
		num += stride - 1
	}
	out := floorDiv(num, stride) + 1
	if ceil && out > 0 && (out-1)*stride >= in+pad {
		out--
	}
	return out
}

// OutSize returns the convolution output size (OH, OW) of a KH×KW kernel
// over an H×W input. Either may be ≤ 0 when the input is too small.
func (p Params) OutSize(h, w, kh, kw int) (oh, ow int) {
	p = p.norm()
	oh = OutSize(h, kh, p.Stride[0], p.Pad[0], p.Dilation[0], false)
	ow = OutSize(w, kw, p.Stride[1], p.Pad[1], p.Dilation[1], false)
	return oh, ow
}

// floorDiv returns floor(a/b) for b > 0.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
