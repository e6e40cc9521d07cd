package conv

import (
	"sync"

	"fmt"
	"github.com/emosel/emosel/internal/simd"
	"math"

	"github.com/emosel/emosel/tensor"
)

// Pool places a pooling window as PyTorch's MaxPool2d does, per axis (H, W).
// A zero Stride entry means the kernel size (PyTorch's default), a zero
// Dilation entry means 1. Padding is implicit −∞ and at most half the
// kernel. With Ceil, the output size rounds up, but a window never starts
// in the right padding.
type Pool struct {
	Kernel   [2]int
	Stride   [2]int
	Pad      [2]int
	Dilation [2]int
	Ceil     bool
}

// norm fills in defaults and panics on an invalid window.
func (p Pool) norm() Pool {
	for a := 0; a < 2; a++ {
		if p.Kernel[a] <= 0 || p.Stride[a] < 0 || p.Pad[a] < 0 || p.Dilation[a] < 0 {
			panic(fmt.Sprintf("conv: invalid pooling window %+v", p))
		}
		if p.Stride[a] == 0 {
			p.Stride[a] = p.Kernel[a]
		}
		if p.Dilation[a] == 0 {
			p.Dilation[a] = 1
		}
		if p.Pad[a] > p.Kernel[a]/2 {
			panic(fmt.Sprintf("conv: pooling pad %v exceeds half the kernel %v", p.Pad, p.Kernel))
		}
	}
	return p
}

// OutSize returns the pooled size (OH, OW) of an H×W input. Either may be
// ≤ 0 when the input is too small.
func (p Pool) OutSize(h, w int) (oh, ow int) {
	p = p.norm()
	oh = OutSize(h, p.Kernel[0], p.Stride[0], p.Pad[0], p.Dilation[0], p.Ceil)
	ow = OutSize(w, p.Kernel[1], p.Stride[1], p.Pad[1], p.Dilation[1], p.Ceil)
	return oh, ow
}

// MaxPool2d takes the maximum over each window, as torch's max_pool2d:
//
//	[N,C,H,W] -> [N,C,OH,OW]
//
// Padding never wins (it is −∞) and a NaN in a window makes that output
// NaN. It panics if x is not rank 4 or is too small for the window.
func MaxPool2d(x *tensor.Tensor, p Pool) *tensor.Tensor {
	in := x.Shape()
	if len(in) != 4 {
		panic(fmt.Sprintf("conv: max pool input %v is not [N,C,H,W]", in))
	}
	p = p.norm()
	h, w := in[2], in[3]
	oh, ow := p.OutSize(h, w)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("conv: max pool input %v is too small for window %+v", in, p))
	}
	out := tensor.New(in[0], in[1], oh, ow)
	src, dst := x.Data(), out.Data()
	sh, sw, ph, pw := p.Stride[0], p.Stride[1], p.Pad[0], p.Pad[1]
	dh, dw, kh, kw := p.Dilation[0], p.Dilation[1], p.Kernel[0], p.Kernel[1]
	inf := float32(math.Inf(-1))
	parallel(in[0]*in[1], oh*ow*kh*kw, func(pl int) {
		plane := src[pl*h*w : (pl+1)*h*w]
		o := dst[pl*oh*ow : (pl+1)*oh*ow]
		for i := 0; i < oh; i++ {
			y0 := i*sh - ph
			// Fast path: outputs whose window lies inside the input, with no
			// dilation (VGG's 2×2 and AlexNet's 3×3 pools, away from ceil-mode
			// edges): no bounds tests in the inner loop.
			inside := dh == 1 && dw == 1 && y0 >= 0 && y0+kh <= h
			for j := 0; j < ow; j++ {
				if x0 := j*sw - pw; inside && x0 >= 0 && x0+kw <= w {
					m := inf
					for a := 0; a < kh; a++ {
						for _, v := range plane[(y0+a)*w+x0 : (y0+a)*w+x0+kw] {
							if v > m || v != v {
								m = v
							}
						}
					}
					o[i*ow+j] = m
					continue
				}
				m := inf
				for a := 0; a < kh; a++ {
					y := i*sh - ph + a*dh
					if uint(y) >= uint(h) {
						continue
					}
					row := plane[y*w : (y+1)*w]
					for b := 0; b < kw; b++ {
						xx := j*sw - pw + b*dw
						if uint(xx) >= uint(w) {
							continue
						}
						// As PyTorch: a NaN replaces the max, and nothing
						// compares greater than NaN afterwards.
						if v := row[xx]; v > m || v != v {
							m = v
						}
					}
				}
				o[i*ow+j] = m
			}
		}
	})
	return out
}

// parallel calls f(0) … f(n-1), spread over simd.Threads() goroutines when
// the work (n items of cost each) is large enough to pay for them.
func parallel(n, cost int, f func(i int)) {
	t := min(n, simd.Threads())
	if t <= 1 || n*cost < 1<<16 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < t; w++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				f(i)
			}
		}(w*n/t, (w+1)*n/t)
	}
	wg.Wait()
}

// AdaptiveAvgPool2d averages over PyTorch's adaptive bins: output row i
// covers input rows floor(i·H/OH) to ceil((i+1)·H/OH) − 1, and likewise for
// columns, so bins may overlap and, when OH > H, repeat rows:
//
//	[N,C,H,W] -> [N,C,OH,OW]
//
// It panics if x is not rank 4, is spatially empty, or oh or ow is < 1.
func AdaptiveAvgPool2d(x *tensor.Tensor, oh, ow int) *tensor.Tensor {
	in := x.Shape()
	if len(in) != 4 || in[2] == 0 || in[3] == 0 || oh < 1 || ow < 1 {
		panic(fmt.Sprintf("conv: adaptive average pool of input %v to [%d %d]", in, oh, ow))
	}
	h, w := in[2], in[3]
	out := tensor.New(in[0], in[1], oh, ow)
	src, dst := x.Data(), out.Data()
	for pl := 0; pl < in[0]*in[1]; pl++ {
		plane := src[pl*h*w : (pl+1)*h*w]
		o := dst[pl*oh*ow : (pl+1)*oh*ow]
		for i := 0; i < oh; i++ {
			y0, y1 := i*h/oh, ((i+1)*h+oh-1)/oh
			for j := 0; j < ow; j++ {
				x0, x1 := j*w/ow, ((j+1)*w+ow-1)/ow
				var s float32
				for y := y0; y < y1; y++ {
					for _, v := range plane[y*w+x0 : y*w+x1] {
						s += v
					}
				}
				o[i*ow+j] = s / float32((y1-y0)*(x1-x0))
			}
		}
	}
	return out
}
