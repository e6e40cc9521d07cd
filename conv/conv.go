package conv

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// Filter is a convolution weight [O,C,KH,KW] with its Params, and the
// forms each algorithm needs (the weight packed for the im2col GEMM, the
// Winograd transform), each built on first use. It is immutable: to
// change the weights, build a new Filter.
type Filter struct {
	o, c, kh, kw int
	p            Params    // normalised: strides and dilations ≥ 1
	w            []float32 // the weight, [O, C·KH·KW] row-major
	rows         []rowOff  // one per row k = (c·KH + kh)·KW + kw of the columns

	a     *simd.PackedA // w packed for im2col, built on first use
	aOnce sync.Once

	wg     *winoWeights // U, built on first Winograd use when kept
	wgOnce sync.Once
	dropU  bool // KeepWinograd(false): U is built per call

	s2dF    *Filter // the space-to-depth equivalent (s2d.go), built on first use
	s2dOnce sync.Once
}

// rowOff locates row k = (c, kh, kw) of the im2col matrix: its input
// channel and the offsets, relative to the top-left of an output pixel's
// window origin (oh·SH, ow·SW), of the input element it reads.
type rowOff struct {
	c      int32
	dh, dw int32 // kh·DH − PH and kw·DW − PW
}

// NewFilter returns the filter of weight w [O,C,KH,KW] (copying it: later
// writes to w have no effect) for convolutions placed by p. It panics if w
// is not rank 4 or p has negative entries.
func NewFilter(w *tensor.Tensor, p Params) *Filter {
	f := NewFilterShared(w, p)
	f.w = slices.Clone(f.w)
	return f
}

// NewFilterShared is NewFilter without the copy: the filter reads w's
// data, which must not change while the filter is in use (the forms built
// from it would disagree with it). nn.Conv2d, which builds a new filter
// whenever its weight is set, uses it to keep one copy of the weights.
func NewFilterShared(w *tensor.Tensor, p Params) *Filter {
	if w.Rank() != 4 {
		panic(fmt.Sprintf("conv: weight %v is not [O,C,KH,KW]", w.Shape()))
	}
	p = p.norm()
	f := &Filter{o: w.Dim(0), c: w.Dim(1), kh: w.Dim(2), kw: w.Dim(3), p: p, w: w.Data()}
	k := f.c * f.kh * f.kw
	f.rows = make([]rowOff, 0, k)
	for c := 0; c < f.c; c++ {
		for i := 0; i < f.kh; i++ {
			for j := 0; j < f.kw; j++ {
				f.rows = append(f.rows, rowOff{
					c:  int32(c),
					dh: int32(i*p.Dilation[0] - p.Pad[0]),
					dw: int32(j*p.Dilation[1] - p.Pad[1]),
				})
			}
		}
	}
	return f
}

// Shape returns the weight shape [O, C, KH, KW].
func (f *Filter) Shape() []int { return []int{f.o, f.c, f.kh, f.kw} }

// Params returns the placement with zero strides and dilations made 1.
func (f *Filter) Params() Params { return f.p }

// packed returns the weight packed for the im2col GEMM, packing it on
// first use (a filter that only ever runs by Winograd never holds it).
func (f *Filter) packed() *simd.PackedA {
	f.aOnce.Do(func() {
		k := f.c * f.kh * f.kw
		f.a = simd.PackA(f.o, k, f.w, k) // f.w is nil only once f.a is set
	})
	return f.a
}

// weights returns the weight [O, C·KH·KW]: the plain slice, or, after
// ReleaseWeights, the values read back from the packed form.
func (f *Filter) weights() []float32 {
	if f.w != nil {
		return f.w
	}
	return f.packed().Unpack()
}

// Prepare builds now the form of the weights that Forward uses on inputs
// of h×w pixels under the current algorithm (the packed im2col matrix,
// or the Winograd transform when weights are kept), so that the first
// Forward does not. It must not run concurrently with Forward.
func (f *Filter) Prepare(h, w int) {
	oh, ow := f.p.OutSize(h, w, f.kh, f.kw)
	switch {
	case oh <= 0 || ow <= 0:
	case f.useWinograd(oh, ow):
		if f.keepsU() {
			f.winograd()
		}
	case f.useS2D(oh, ow):
		if s := f.s2d(); s.keepsU() {
			s.winograd()
		}
	default:
		f.packed()
	}
}

// ReleaseWeights drops the filter's plain copy of its weight when the
// packed im2col form exists (after Prepare or a Forward that used it), so
// that the weight is held once. Forms built later (Winograd, space-to-
// depth) read the values back from the packed form: the same bits. It must
// not run concurrently with Forward.
func (f *Filter) ReleaseWeights() {
	if f.a != nil {
		f.w = nil
	}
}

// OutShape returns the output shape [N, O, OH, OW] for an input shape
// [N, C, H, W], panicking (naming both shapes) if the input does not fit.
func (f *Filter) OutShape(in []int) []int {
	if len(in) != 4 {
		panic(fmt.Sprintf("conv: input %v is not [N,C,H,W] (weight %v)", in, f.Shape()))
	}
	if in[1] != f.c {
		panic(fmt.Sprintf("conv: input %v has %d channels, weight %v expects %d", in, in[1], f.Shape(), f.c))
	}
	oh, ow := f.p.OutSize(in[2], in[3], f.kh, f.kw)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("conv: input %v is too small for weight %v with %+v", in, f.Shape(), f.p))
	}
	return []int{in[0], f.o, oh, ow}
}

// Epilogue is applied to each output element as it leaves the GEMM, in
// this order: add Bias[o]; if ReLU, y = (1+Gain[o])·max(0, y) (nil Gain is
// a plain ReLU; NaN stays NaN); then, if Means is non-nil, the GEMM sums
// y per output row and Means[n·O+o] is set to image n's spatial mean of
// channel o (its previous contents are ignored).
//
// Post, when set, is then called once per image i with that image's
// finished output y = dst[i·O·OH·OW : (i+1)·O·OH·OW], which it may
// rewrite (Means are those of the values before it), from the goroutine
// that computed the image, while the image is still in cache: onnx fuses
// a residual Add+ReLU there. Calls for different images may run
// concurrently.
type Epilogue struct {
	Bias  []float32 // [O] or nil
	ReLU  bool
	Gain  []float32 // [O] or nil; requires ReLU
	Means []float32 // [N·O] or nil: output, the mean of y over OH·OW
	Post  func(i int, y []float32)
}

// Forward convolves x with the filter and applies ep:
//
//	[N,C,H,W] * [O,C,KH,KW] -> [N,O,OH,OW]
//
// computed per image as the GEMM out[n] [O, OH·OW] = W [O, C·KH·KW] ·
// cols [C·KH·KW, OH·OW], with the im2col columns packed panel by panel.
func (f *Filter) Forward(x *tensor.Tensor, ep Epilogue) *tensor.Tensor {
	out := tensor.Scratch(f.OutShape(x.Shape())...) // ForwardInto writes every element
	f.ForwardInto(out, x, ep)
	return out
}

// ForwardInto is Forward writing into dst, which must have the output
// shape [N,O,OH,OW] and must not overlap x. Every element of dst is
// overwritten.
func (f *Filter) ForwardInto(dst, x *tensor.Tensor, ep Epilogue) {
	in := x.Shape()
	want := f.OutShape(in)
	if !dst.HasShape(want...) {
		panic(fmt.Sprintf("conv: output %v for input %v and weight %v, want %v", dst.Shape(), in, f.Shape(), want))
	}
	n, h, w := in[0], in[2], in[3]
	oh, ow := want[2], want[3]
	checkVec("Bias", ep.Bias, f.o)
	checkVec("Gain", ep.Gain, f.o)
	if ep.Gain != nil && !ep.ReLU {
		panic("conv: Epilogue.Gain is set without ReLU")
	}
	if ep.Means != nil && len(ep.Means) != n*f.o {
		panic(fmt.Sprintf("conv: Epilogue.Means has length %d, want N·O = %d·%d", len(ep.Means), n, f.o))
	}
	hw := oh * ow
	src, out := x.Data(), dst.Data()
	post := func() {
		if ep.Post == nil {
			return
		}
		forImages(n, func(i int) { ep.Post(i, out[i*f.o*hw:(i+1)*f.o*hw]) })
	}
	if f.useWinograd(oh, ow) {
		f.forwardWinograd(out, src, n, h, w, oh, ow, ep)
		post()
		return
	}
	if f.useS2D(oh, ow) {
		f.forwardS2D(out, src, n, h, w, oh, ow, ep)
		post()
		return
	}
	img := f.c * h * w
	if n > 1 && hw < batchMaxPixels {
		f.forwardBatch(out, src, n, h, w, oh, ow, ep)
		return
	}
	pointwise := f.kh == 1 && f.kw == 1 && f.p.Stride == [2]int{1, 1} && f.p.Pad == [2]int{}
	one := func(i, threads int) {
		sep := simd.Epilogue{Bias: ep.Bias, ReLU: ep.ReLU, Gain: ep.Gain}
		var b simd.BPacker
		if pointwise {
			// B is the image itself, [C, H·W]: packed as a dense
			// matrix (and prefetched), with no im2col cursor.
			b = simd.DenseB{Data: src[i*img : (i+1)*img], Ld: hw}
		} else {
			b = newIm2col(f, src[i*img:(i+1)*img], h, w, oh, ow)
		}
		c := out[i*f.o*hw : (i+1)*f.o*hw]
		if ep.Means != nil {
			sep.RowSums = ep.Means[i*f.o : (i+1)*f.o]
			clear(sep.RowSums)
		}
		simd.GemmPackedThreads(threads, f.packed(), b, hw, c, hw, sep)
		for o := range sep.RowSums {
			sep.RowSums[o] /= float32(hw)
		}
		if ep.Post != nil {
			ep.Post(i, c)
		}
	}
	// A batch runs its images in parallel, one single-threaded product
	// each, with no synchronisation inside the GEMM; a single image splits
	// its product instead. The outputs are the same bits either way (the
	// recorded means may differ in the last bit, being summed in another
	// order).
	t := min(n, simd.Threads())
	if t <= 1 {
		for i := 0; i < n; i++ {
			one(i, 0)
		}
		return
	}
	dynamic(n, t, func(i int) { one(i, 1) })
}

// batchMaxPixels: outputs of fewer pixels per image (ResNet's 14×14 and
// 7×7 layers) run as one GEMM over the whole batch. Per image, such a
// product has too few columns to fill the micro-kernel's strips (49
// columns are 3 strips of 16 and one of 1) and streams all of A for
// little work. (A variable so that tests can move it.)
var batchMaxPixels = 512

// forwardBatch computes the im2col convolution of the whole batch as one
// product, C [O, N·OH·OW] = W · [cols(x[0]) … cols(x[N-1])], into a
// scratch matrix whose rows are then scattered to out. Each output value
// is summed in the same order as by the per-image products (same bits);
// the recorded means are summed here, per plane.
func (f *Filter) forwardBatch(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	hw := oh * ow
	cols := n * hw
	b := &batchIm2col{im2col: *newIm2col(f, nil, h, w, oh, ow), src: src, img: f.c * h * w, ohw: hw}
	tmp := tensor.Scratch(f.o, cols) // the GEMM writes every element
	c := tmp.Data()
	simd.GemmPackedThreads(0, f.packed(), b, cols, c, cols, simd.Epilogue{Bias: ep.Bias, ReLU: ep.ReLU, Gain: ep.Gain})
	scatter := func(i int) {
		for o := 0; o < f.o; o++ {
			plane := out[(i*f.o+o)*hw : (i*f.o+o+1)*hw]
			copy(plane, c[o*cols+i*hw:o*cols+(i+1)*hw])
			if ep.Means != nil {
				var s float32
				for _, v := range plane {
					s += v
				}
				ep.Means[i*f.o+o] = s / float32(hw)
			}
		}
		if ep.Post != nil {
			ep.Post(i, out[i*f.o*hw:(i+1)*f.o*hw])
		}
	}
	forImages(n, scatter)
	tensor.Recycle(tmp)
}

// forImages calls f(0) … f(n-1) on up to simd.Threads() goroutines.
func forImages(n int, f func(i int)) {
	if t := min(n, simd.Threads()); t > 1 {
		dynamic(n, t, f)
		return
	}
	for i := 0; i < n; i++ {
		f(i)
	}
}

// dynamic calls f(0) … f(n-1) on t goroutines that take the next index as
// they finish (items of uneven cost balance themselves).
func dynamic(n, t int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < t; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// checkVec panics unless v is nil or has length o.
func checkVec(name string, v []float32, o int) {
	if v != nil && len(v) != o {
		panic(fmt.Sprintf("conv: Epilogue.%s has length %d, weight has %d output channels", name, len(v), o))
	}
}
