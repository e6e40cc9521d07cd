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
	out := tensor.Scratch(in[0], in[1], oh, ow) // every window is written
	src, dst := x.Data(), out.Data()
	sh, sw, ph, pw := p.Stride[0], p.Stride[1], p.Pad[0], p.Pad[1]
	dh, dw, kh, kw := p.Dilation[0], p.Dilation[1], p.Kernel[0], p.Kernel[1]
	inf := float32(math.Inf(-1))
	Parallel(in[0]*in[1], oh*ow*kh*kw, func(pl int) {
		plane := src[pl*h*w : (pl+1)*h*w]
		o := dst[pl*oh*ow : (pl+1)*oh*ow]
		if dh == 1 && dw == 1 {
			maxPoolPlane(o, plane, src[pl*h*w:], h, w, oh, ow, p)
			return
		}
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
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

// maxPoolPlane pools one undilated plane separably: for each output row,
// the column maxima over the window's rows inside the input, then the
// maximum of those over each window's columns inside the input (padding
// never wins). Neither loop carries a dependency from one element to the
// next, unlike a running maximum over each window, whose chain of
// NaN-aware max operations made pooling latency-bound. Go's max is NaN
// when either operand is, as PyTorch's pooling is.
//
// Rows of k×k windows at stride 2 (k = 2 or 3: AlexNet's and VGG's
// pools) whose windows lie inside the plane, at least eight of them, are
// one simd.MaxPool2Rows call each, which reads the k input rows in place
// (the separable steps, a copy and two row maxima per row, made AlexNet's
// pooling 1.1 Gelem/s). Narrower rows stay separable: there MaxPool2Rows
// runs in Go, which made AlexNet's last pool 1.4× slower. rest is the
// input from the plane on, whose values past the plane let more of the
// last row run in vector code.
func maxPoolPlane(o, plane, rest []float32, h, w, oh, ow int, p Pool) {
	sh, sw, ph, pw, kh, kw := p.Stride[0], p.Stride[1], p.Pad[0], p.Pad[1], p.Kernel[0], p.Kernel[1]
	i0 := 0
	j1 := min(ow, (w-kw)/2+1) // windows inside the row
	if sh == 2 && sw == 2 && kh == kw && (kh == 2 || kh == 3) && ph == 0 && pw == 0 && j1 >= 8 {
		for ; i0 < oh && 2*i0+kh <= h; i0++ {
			simd.MaxPool2Rows(o[i0*ow:i0*ow+j1], rest[2*i0*w:], w, kh)
			if j1 < ow {
				break // ceil mode: the row's last windows need the general path
			}
		}
		if i0 == oh {
			return
		}
	}
	// The column buffer comes from a pool: a stack array escapes (the
	// assembly takes its address) and would cost an allocation per plane.
	cb := colPool.Get().(*[]float32)
	defer colPool.Put(cb)
	// Slack past the row lets MaxWindows finish in vector code: its last
	// reads may run past the windows (into values no window uses).
	colx := growF32(cb, w+16)
	clear(colx[w:])
	col := colx[:w]
	for i := i0; i < oh; i++ {
		y0, y1 := max(0, i*sh-ph), min(h, i*sh-ph+kh)
		if y0 >= y1 {
			for j := range o[i*ow : (i+1)*ow] {
				o[i*ow+j] = float32(math.Inf(-1))
			}
			continue
		}
		copy(col, plane[y0*w:(y0+1)*w])
		for y := y0 + 1; y < y1; y++ {
			simd.MaxRows(col, plane[y*w:(y+1)*w])
		}
		out := o[i*ow : (i+1)*ow]
		// Outputs whose windows lie inside the row, in one call; the rest
		// (padding or ceil-mode windows at the ends) one by one.
		j0 := min(ow, (pw+sw-1)/sw)                     // first window starting at x ≥ 0
		j1 := max(j0, min(ow, floorDiv(w+pw-kw, sw)+1)) // past the last one ending at x ≤ w
		if j1 > j0 {
			simd.MaxWindows(out[j0:j1], colx[j0*sw-pw:], kw, sw)
		}
		edge := func(j int) {
			x0, x1 := max(0, j*sw-pw), min(w, j*sw-pw+kw)
			m := float32(math.Inf(-1))
			for _, v := range col[x0:x1] {
				m = max(m, v)
			}
			out[j] = m
		}
		for j := 0; j < j0; j++ {
			edge(j)
		}
		for j := j1; j < ow; j++ {
			edge(j)
		}
	}
}

var colPool = sync.Pool{New: func() any { return new([]float32) }}

// Parallel calls f(0) … f(n-1), spread over simd.Threads() goroutines when
// the work (n items of cost each) is large enough to pay for them, in
// contiguous blocks (one per goroutine). The onnx package splits its
// depthwise convolution with it too.
func Parallel(n, cost int, f func(i int)) {
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
	if h == oh && w == ow {
		// Every bin is one pixel (AlexNet's 6×6 at 224×224 input): the
		// mean of one value is that value.
		return x.Clone()
	}
	out := tensor.Scratch(in[0], in[1], oh, ow) // every bin is written
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
