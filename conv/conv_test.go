package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	return x
}

// directConv is the 7-loop definition of a convolution, accumulated in
// float64: [N,C,H,W] * [O,C,KH,KW] -> [N,O,OH,OW], plus bias.
func directConv(x, w *tensor.Tensor, bias []float32, sh, sw, ph, pw, dh, dw int) *tensor.Tensor {
	n, c, h, wd := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	o, kh, kw := w.Dim(0), w.Dim(2), w.Dim(3)
	oh := (h+2*ph-dh*(kh-1)-1)/sh + 1
	ow := (wd+2*pw-dw*(kw-1)-1)/sw + 1
	y := tensor.New(n, o, oh, ow)
	for in := 0; in < n; in++ {
		for io := 0; io < o; io++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var s float64
					if bias != nil {
						s = float64(bias[io])
					}
					for ic := 0; ic < c; ic++ {
						for a := 0; a < kh; a++ {
							for b := 0; b < kw; b++ {
								yy, xx := i*sh-ph+a*dh, j*sw-pw+b*dw
								if yy < 0 || yy >= h || xx < 0 || xx >= wd {
									continue
								}
								s += float64(x.At(in, ic, yy, xx)) * float64(w.At(io, ic, a, b))
							}
						}
					}
					y.Set(float32(s), in, io, i, j)
				}
			}
		}
	}
	return y
}

type convCase struct {
	n, c, h, w, o, kh, kw  int
	sh, sw, ph, pw, dh, dw int
}

func (k convCase) String() string {
	return fmt.Sprintf("x[%d %d %d %d] w[%d %d %d %d] s(%d,%d) p(%d,%d) d(%d,%d)",
		k.n, k.c, k.h, k.w, k.o, k.c, k.kh, k.kw, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw)
}

func (k convCase) params() Params {
	return Params{Stride: [2]int{k.sh, k.sw}, Pad: [2]int{k.ph, k.pw}, Dilation: [2]int{k.dh, k.dw}}
}

// randomCases returns n random small configurations whose output is
// non-empty: strides 1–4, pads 0–3, dilations 1–2, kernels 1–11,
// independently per axis.
func randomCases(r *rand.Rand, n int) []convCase {
	var cs []convCase
	for len(cs) < n {
		k := convCase{
			n: 1 + r.IntN(2), c: 1 + r.IntN(5), o: 1 + r.IntN(7),
			kh: 1 + r.IntN(11), kw: 1 + r.IntN(11),
			sh: 1 + r.IntN(4), sw: 1 + r.IntN(4),
			ph: r.IntN(4), pw: r.IntN(4),
			dh: 1 + r.IntN(2), dw: 1 + r.IntN(2),
		}
		if r.IntN(4) == 0 { // small kernels are the common case
			k.kh, k.kw = 1+r.IntN(3), 1+r.IntN(3)
		}
		k.h, k.w = 1+r.IntN(24), 1+r.IntN(24)
		oh, ow := k.params().OutSize(k.h, k.w, k.kh, k.kw)
		if oh <= 0 || ow <= 0 {
			continue
		}
		cs = append(cs, k)
	}
	return cs
}

// forEachImpl runs f once per GEMM implementation this machine has.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	defer simd.Use(simd.Active())
	for _, name := range simd.Impls() {
		t.Run(name, func(t *testing.T) {
			if err := simd.Use(name); err != nil {
				t.Skip(err)
			}
			f(t)
		})
	}
}

func TestForwardMatchesDirect(t *testing.T) { forEachImpl(t, testForwardMatchesDirect) }

func testForwardMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := randomCases(r, 300)
	// Fixed cases: the contiguous 1×1 path (in the batch GEMM, and per
	// image as a dense B), AlexNet-like and VGG-like.
	cases = append(cases,
		convCase{n: 2, c: 5, h: 6, w: 7, o: 3, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
		convCase{n: 2, c: 19, h: 24, w: 25, o: 9, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
		convCase{n: 1, c: 3, h: 31, w: 29, o: 4, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1},
		convCase{n: 1, c: 4, h: 9, w: 9, o: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},
	)
	cases = append(cases, stride2Cases...)
	for _, k := range cases {
		x := randTensor(r, k.n, k.c, k.h, k.w)
		w := randTensor(r, k.o, k.c, k.kh, k.kw)
		b := randTensor(r, k.o).Data()
		want := directConv(x, w, b, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw)
		got := NewFilter(w, k.params()).Forward(x, Epilogue{Bias: b})
		golden.Require(t, k.String(), got, want, 1e-5)
	}
}

// stride2Cases are ResNet's stride-2 layers (the 7×7 stem, a 3×3 and a
// 1×1 downsample) on rows wide enough for whole 16-column strips of
// stride-2 reads, starting within a strip and across output rows.
var stride2Cases = []convCase{
	{n: 2, c: 3, h: 9, w: 75, o: 5, kh: 7, kw: 7, sh: 2, sw: 2, ph: 3, pw: 3, dh: 1, dw: 1},
	{n: 1, c: 4, h: 7, w: 71, o: 6, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1},
	{n: 2, c: 5, h: 6, w: 68, o: 7, kh: 1, kw: 1, sh: 2, sw: 2, dh: 1, dw: 1},
	{n: 1, c: 2, h: 5, w: 97, o: 3, kh: 1, kw: 1, sh: 2, sw: 3, dh: 1, dw: 1},
}

// TestPackBPanels checks the panel layout of the im2col packer directly,
// for sub-blocks (k0, kc, j0, nc) and strip widths nr that a blocked GEMM
// may request, against an explicitly built column matrix. dst starts as
// NaN so that a missed write shows, and a guard band after the panels
// must stay untouched.
func TestPackBPanels(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := randomCases(r, 60)
	cases = append(cases, convCase{n: 1, c: 3, h: 5, w: 4, o: 1, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1})
	cases = append(cases, stride2Cases...)
	nan := float32(math.NaN())
	for _, k := range cases {
		x := randTensor(r, 1, k.c, k.h, k.w)
		f := NewFilter(tensor.New(k.o, k.c, k.kh, k.kw), k.params())
		oh, ow := k.params().OutSize(k.h, k.w, k.kh, k.kw)
		K, N := k.c*k.kh*k.kw, oh*ow
		cols := make([]float32, K*N) // cols[kk*N + j]
		for ic := 0; ic < k.c; ic++ {
			for a := 0; a < k.kh; a++ {
				for b := 0; b < k.kw; b++ {
					kk := (ic*k.kh+a)*k.kw + b
					for i := 0; i < oh; i++ {
						for j := 0; j < ow; j++ {
							yy, xx := i*k.sh-k.ph+a*k.dh, j*k.sw-k.pw+b*k.dw
							if yy >= 0 && yy < k.h && xx >= 0 && xx < k.w {
								cols[kk*N+i*ow+j] = x.At(0, ic, yy, xx)
							}
						}
					}
				}
			}
		}
		p := newIm2col(f, x.Data(), k.h, k.w, oh, ow)
		for trial := 0; trial < 8; trial++ {
			k0 := r.IntN(K)
			kc := 1 + r.IntN(K-k0)
			j0 := r.IntN(N)
			nc := 1 + r.IntN(N-j0)
			nr := []int{1, 3, 4, 6, 8, 16}[r.IntN(6)]
			if trial%2 == 0 {
				nr = 16 // the AVX2 kernel's width, with its unrolled paths
			}
			if trial == 0 {
				k0, kc, j0, nc = 0, K, 0, N
			}
			strips := (nc + nr - 1) / nr
			dst := make([]float32, strips*nr*kc+5)
			for i := range dst {
				dst[i] = nan
			}
			p.PackB(dst, k0, kc, j0, nc, nr)
			for s := 0; s < strips; s++ {
				for pp := 0; pp < kc; pp++ {
					for q := 0; q < nr; q++ {
						got := dst[(s*kc+pp)*nr+q]
						var want float32
						if j := s*nr + q; j < nc {
							want = cols[(k0+pp)*N+j0+j]
						}
						if got != want {
							t.Fatalf("%v: PackB(k0=%d kc=%d j0=%d nc=%d nr=%d): strip %d row %d col %d = %v, want %v",
								k, k0, kc, j0, nc, nr, s, pp, q, got, want)
						}
					}
				}
			}
			for i, v := range dst[strips*nr*kc:] {
				if v == v {
					t.Fatalf("%v: PackB wrote guard element %d past the panels", k, i)
				}
			}
		}
	}
}

func TestEpilogue(t *testing.T) { forEachImpl(t, testEpilogue) }

func testEpilogue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range randomCases(r, 40) {
		x := randTensor(r, k.n, k.c, k.h, k.w)
		w := randTensor(r, k.o, k.c, k.kh, k.kw)
		b := randTensor(r, k.o).Data()
		gain := randTensor(r, k.o).Data()
		gain[0] = -1 // a lesioned channel is exactly zero
		f := NewFilter(w, k.params())
		means := make([]float32, k.n*k.o)
		for i := range means {
			means[i] = 123 // must be overwritten, not accumulated into
		}
		got := f.Forward(x, Epilogue{Bias: b, ReLU: true, Gain: gain, Means: means})

		want := directConv(x, w, b, k.sh, k.sw, k.ph, k.pw, k.dh, k.dw)
		hw := want.Dim(2) * want.Dim(3)
		wantMeans := tensor.New(k.n, k.o)
		for i, v := range want.Data() {
			o := i / hw % k.o
			v = (1 + gain[o]) * max(0, v)
			want.Data()[i] = v
			wantMeans.Data()[i/hw] += v / float32(hw)
		}
		golden.Require(t, k.String(), got, want, 1e-5)
		golden.Require(t, k.String()+" means", tensor.From(means, k.n, k.o), wantMeans, 1e-5)
		for i, v := range got.Data() {
			if i/hw%k.o == 0 && v != 0 {
				t.Fatalf("%v: lesioned channel has %v at %d", k, v, i)
			}
		}
	}
}

func TestForwardNaN(t *testing.T) {
	w := tensor.Full(1, 2, 1, 3, 3)
	w.Data()[0] = float32(math.NaN())
	x := tensor.Full(1, 1, 1, 5, 5)
	y := NewFilter(w, Square(1, 1, 1)).Forward(x, Epilogue{ReLU: true})
	// Output channel 0 reads the NaN weight at every pixel whose
	// top-left tap is inside the image; the padding multiplies it by 0,
	// which is NaN too, so every output of channel 0 is NaN.
	for i, v := range y.Data()[:25] {
		if v == v {
			t.Fatalf("channel 0 pixel %d = %v, want NaN", i, v)
		}
	}
	if v := y.At(0, 1, 2, 2); v != 9 {
		t.Fatalf("channel 1 centre = %v, want 9", v)
	}
}

func TestOutSize(t *testing.T) {
	// Values from torch 1.13 (F.conv2d / F.max_pool2d output shapes).
	cases := []struct {
		in, k, s, p, d int
		ceil           bool
		want           int
	}{
		{224, 11, 4, 2, 1, false, 55},
		{55, 3, 2, 0, 1, false, 27},
		{13, 3, 2, 0, 1, false, 6},
		{224, 3, 1, 1, 1, false, 224},
		{224, 2, 2, 0, 1, false, 112},
		{7, 2, 2, 0, 1, true, 4},
		{7, 2, 2, 0, 1, false, 3},
		{5, 3, 3, 1, 1, true, 2}, // the last window would start in the padding
		{8, 3, 3, 1, 1, true, 3},
		{4, 5, 1, 0, 1, false, 0},
		{3, 3, 1, 0, 2, false, -1},
	}
	for _, c := range cases {
		if got := OutSize(c.in, c.k, c.s, c.p, c.d, c.ceil); got != c.want {
			t.Errorf("OutSize(%d, k=%d, s=%d, p=%d, d=%d, ceil=%v) = %d, want %d",
				c.in, c.k, c.s, c.p, c.d, c.ceil, got, c.want)
		}
	}
	if oh, ow := (Params{}).OutSize(5, 7, 3, 1); oh != 3 || ow != 7 {
		t.Errorf("zero Params OutSize = %d, %d, want 3, 7", oh, ow)
	}
}

// naiveMaxPool pads the input explicitly with −∞ and takes each window's
// maximum, NaN winning, using a separately derived output size.
func naiveMaxPool(x *tensor.Tensor, p Pool) *tensor.Tensor {
	n, c, h, w := x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	sh, sw := p.Stride[0], p.Stride[1]
	if sh == 0 {
		sh = p.Kernel[0]
	}
	if sw == 0 {
		sw = p.Kernel[1]
	}
	dh, dw := max(p.Dilation[0], 1), max(p.Dilation[1], 1)
	size := func(in, k, s, pad, d int) int {
		span := d*(k-1) + 1
		var o int
		if p.Ceil {
			o = int(math.Ceil(float64(in+2*pad-span)/float64(s))) + 1
			for (o-1)*s >= in+pad { // windows may not start in the right padding
				o--
			}
		} else {
			o = int(math.Floor(float64(in+2*pad-span)/float64(s))) + 1
		}
		return o
	}
	oh := size(h, p.Kernel[0], sh, p.Pad[0], dh)
	ow := size(w, p.Kernel[1], sw, p.Pad[1], dw)
	ph, pw := p.Pad[0], p.Pad[1]
	// Pad generously on the right so that ceil-mode windows stay inside.
	H, W := h+2*ph+sh*2+dh*p.Kernel[0], w+2*pw+sw*2+dw*p.Kernel[1]
	inf := float32(math.Inf(-1))
	y := tensor.New(n, c, oh, ow)
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			padded := make([]float32, H*W)
			for i := range padded {
				padded[i] = inf
			}
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					padded[(i+ph)*W+j+pw] = x.At(in, ic, i, j)
				}
			}
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					m, nan := inf, false
					for a := 0; a < p.Kernel[0]; a++ {
						for b := 0; b < p.Kernel[1]; b++ {
							v := padded[(i*sh+a*dh)*W+j*sw+b*dw]
							nan = nan || math.IsNaN(float64(v))
							m = max(m, v)
						}
					}
					if nan {
						m = float32(math.NaN())
					}
					y.Set(m, in, ic, i, j)
				}
			}
		}
	}
	return y
}

func TestMaxPoolMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 300; trial++ {
		p := Pool{
			Kernel:   [2]int{1 + r.IntN(4), 1 + r.IntN(4)},
			Stride:   [2]int{r.IntN(4), r.IntN(4)},
			Dilation: [2]int{r.IntN(3), r.IntN(3)},
			Ceil:     r.IntN(2) == 0,
		}
		p.Pad = [2]int{r.IntN(p.Kernel[0]/2 + 1), r.IntN(p.Kernel[1]/2 + 1)}
		// Rows up to 40 wide give the vector path (8 windows at a time)
		// full groups and tails.
		x := randTensor(r, 1+r.IntN(2), 1+r.IntN(3), 1+r.IntN(15), 1+r.IntN(40))
		if trial%2 == 0 { // VGG's and AlexNet's windows, which have vector paths
			p = Pool{Kernel: [2]int{2 + trial%3/2, 2 + trial%3/2}, Stride: [2]int{2, 2}, Ceil: p.Ceil}
		}
		if r.IntN(3) == 0 {
			x.Data()[r.IntN(x.Len())] = float32(math.NaN())
		}
		if oh, ow := p.OutSize(x.Dim(2), x.Dim(3)); oh <= 0 || ow <= 0 {
			continue
		}
		golden.Require(t, fmt.Sprintf("%+v on %v", p, x.Shape()), MaxPool2d(x, p), naiveMaxPool(x, p), 0)
	}
}

func TestAdaptiveAvgPoolMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := 0; trial < 100; trial++ {
		h, w := 1+r.IntN(15), 1+r.IntN(15)
		oh, ow := 1+r.IntN(9), 1+r.IntN(9)
		if r.IntN(4) == 0 { // the identity shortcut (AlexNet's 6×6)
			oh, ow = h, w
		}
		x := randTensor(r, 1+r.IntN(2), 1+r.IntN(3), h, w)
		want := tensor.New(x.Dim(0), x.Dim(1), oh, ow)
		for n := 0; n < x.Dim(0); n++ {
			for c := 0; c < x.Dim(1); c++ {
				for i := 0; i < oh; i++ {
					y0 := int(math.Floor(float64(i*h) / float64(oh)))
					y1 := int(math.Ceil(float64((i+1)*h) / float64(oh)))
					for j := 0; j < ow; j++ {
						x0 := int(math.Floor(float64(j*w) / float64(ow)))
						x1 := int(math.Ceil(float64((j+1)*w) / float64(ow)))
						var s float64
						for a := y0; a < y1; a++ {
							for b := x0; b < x1; b++ {
								s += float64(x.At(n, c, a, b))
							}
						}
						want.Set(float32(s/float64((y1-y0)*(x1-x0))), n, c, i, j)
					}
				}
			}
		}
		golden.Require(t, fmt.Sprintf("%v -> [%d %d]", x.Shape(), oh, ow), AdaptiveAvgPool2d(x, oh, ow), want, 1e-6)
	}
}

func TestMisusePanics(t *testing.T) {
	f := NewFilter(tensor.New(8, 3, 11, 11), Square(4, 2, 1))
	golden.Panics(t, "conv: ", []string{"[1 4 63 63]", "[8 3 11 11]", "4 channels", "expects 3"}, func() {
		f.Forward(tensor.New(1, 4, 63, 63), Epilogue{})
	})
	golden.Panics(t, "conv: ", []string{"[1 3 5 5]", "[8 3 11 11]", "too small"}, func() {
		f.Forward(tensor.New(1, 3, 5, 5), Epilogue{})
	})
	golden.Panics(t, "conv: ", []string{"[3 63 63]", "[8 3 11 11]"}, func() {
		f.Forward(tensor.New(3, 63, 63), Epilogue{})
	})
	golden.Panics(t, "conv: ", []string{"[8 3 11]"}, func() { NewFilter(tensor.New(8, 3, 11), Params{}) })
	golden.Panics(t, "conv: ", []string{"Bias", "5", "8"}, func() {
		f.Forward(tensor.New(1, 3, 63, 63), Epilogue{Bias: make([]float32, 5)})
	})
	golden.Panics(t, "conv: ", []string{"Gain", "ReLU"}, func() {
		f.Forward(tensor.New(1, 3, 63, 63), Epilogue{Gain: make([]float32, 8)})
	})
	golden.Panics(t, "conv: ", []string{"Means", "3", "2·8"}, func() {
		f.Forward(tensor.New(2, 3, 63, 63), Epilogue{Means: make([]float32, 3)})
	})
	golden.Panics(t, "conv: ", []string{"[2 8 15 14]", "[2 8 15 15]"}, func() {
		f.ForwardInto(tensor.New(2, 8, 15, 14), tensor.New(2, 3, 63, 63), Epilogue{})
	})
	golden.Panics(t, "conv: ", []string{"negative"}, func() { NewFilter(tensor.New(1, 1, 1, 1), Square(1, -1, 1)) })
	golden.Panics(t, "conv: ", []string{"[1 1 2 2]", "too small"}, func() {
		MaxPool2d(tensor.New(1, 1, 2, 2), Pool{Kernel: [2]int{3, 3}})
	})
	golden.Panics(t, "conv: ", []string{"pad [2 2]", "kernel [3 3]"}, func() {
		MaxPool2d(tensor.New(1, 1, 9, 9), Pool{Kernel: [2]int{3, 3}, Pad: [2]int{2, 2}})
	})
	golden.Panics(t, "conv: ", []string{"[1 9 9]"}, func() { MaxPool2d(tensor.New(1, 9, 9), Pool{Kernel: [2]int{2, 2}}) })
	golden.Panics(t, "conv: ", []string{"[1 1 0 4]", "[2 2]"}, func() { AdaptiveAvgPool2d(tensor.New(1, 1, 0, 4), 2, 2) })
	golden.Panics(t, "conv: ", []string{"[1 1 4 4]", "[0 2]"}, func() { AdaptiveAvgPool2d(tensor.New(1, 1, 4, 4), 0, 2) })
}

// TestBatchSameBits checks that the one-GEMM batch path (outputs under
// batchMaxPixels) gives the per-image path's bits, with bias, gain ReLU
// and means, on ResNet-like small-output shapes (7×7, 14×14, strided and
// 1×1, pixel counts that leave ragged strips) at reduced widths.
func TestBatchSameBits(t *testing.T) { forEachImpl(t, testBatchSameBits) }

func testBatchSameBits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := []convCase{
		{n: 3, c: 40, h: 7, w: 7, o: 70, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
		{n: 4, c: 24, h: 14, w: 14, o: 33, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
		{n: 2, c: 16, h: 14, w: 14, o: 20, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1},
		{n: 3, c: 18, h: 28, w: 28, o: 17, kh: 1, kw: 1, sh: 2, sw: 2, dh: 1, dw: 1},
		{n: 5, c: 3, h: 9, w: 11, o: 5, kh: 3, kw: 2, sh: 1, sw: 1, ph: 1, dh: 1, dw: 1},
	}
	defer func(v int) { batchMaxPixels = v }(batchMaxPixels)
	withAlgorithm(t, Im2col, func() {
		for _, k := range cases {
			x := randTensor(r, k.n, k.c, k.h, k.w)
			f := NewFilter(randTensor(r, k.o, k.c, k.kh, k.kw), k.params())
			gain := randTensor(r, k.o).Data()
			run := func(limit int) (*tensor.Tensor, *tensor.Tensor) {
				batchMaxPixels = limit
				ep := Epilogue{Bias: randTensorSeed(k.o), ReLU: true, Gain: gain, Means: make([]float32, k.n*k.o)}
				y := f.Forward(x, ep)
				return y, tensor.From(ep.Means, k.n, k.o)
			}
			want, wantMeans := run(0)
			got, gotMeans := run(1 << 30)
			for i, v := range got.Data() {
				if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
					t.Fatalf("%v: batch path %v at %d, per image %v", k, v, i, want.Data()[i])
				}
			}
			golden.Require(t, k.String()+" means", gotMeans, wantMeans, 1e-6)
		}
	})
}

// TestPost checks Epilogue.Post on every path (per-image im2col, the
// per-image dense 1×1, the batch GEMM, Winograd, space-to-depth): it is
// called once per image with that image's part of the output after the
// rest of the epilogue, what it writes is the result, and the means are
// those of the values before it.
func TestPost(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	cases := []struct {
		k    convCase
		algo Algorithm
	}{
		{convCase{n: 3, c: 5, h: 24, w: 24, o: 6, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1}, Im2col},
		{convCase{n: 3, c: 7, h: 24, w: 23, o: 6, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1}, Im2col},
		{convCase{n: 4, c: 7, h: 14, w: 14, o: 9, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1}, Im2col},
		{convCase{n: 2, c: 16, h: 12, w: 12, o: 16, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1}, Winograd},
		{convCase{n: 2, c: 4, h: 21, w: 21, o: 16, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1}, Winograd},
	}
	for _, c := range cases {
		k := c.k
		withAlgorithm(t, c.algo, func() {
			f := NewFilter(randTensor(r, k.o, k.c, k.kh, k.kw), k.params())
			if a := f.AlgorithmFor(k.h, k.w); a != c.algo {
				t.Fatalf("%v runs by %v, want %v", k, a, c.algo)
			}
			x := randTensor(r, k.n, k.c, k.h, k.w)
			bias := randTensorSeed(k.o)
			wantMeans := make([]float32, k.n*k.o)
			want := f.Forward(x, Epilogue{Bias: bias, ReLU: true, Means: wantMeans})
			per := want.Len() / k.n
			for i := range want.Data() {
				want.Data()[i] = 2*want.Data()[i] + float32(i/per)
			}
			got := tensor.New(want.Shape()...)
			calls := make([]atomic.Int32, k.n)
			means := make([]float32, k.n*k.o)
			f.ForwardInto(got, x, Epilogue{Bias: bias, ReLU: true, Means: means, Post: func(i int, y []float32) {
				calls[i].Add(1)
				if len(y) != per || &y[0] != &got.Data()[i*per] {
					t.Errorf("%v: Post(%d) got %d values at another place than image %d's output", k, i, len(y), i)
					return
				}
				for j := range y {
					y[j] = 2*y[j] + float32(i)
				}
			}})
			for i := range calls {
				if n := calls[i].Load(); n != 1 {
					t.Fatalf("%v: Post called %d times for image %d", k, n, i)
				}
			}
			for i, v := range got.Data() {
				if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
					t.Fatalf("%v (%v): %v at %d, want %v", k, c.algo, v, i, want.Data()[i])
				}
			}
			golden.Require(t, k.String()+" means", tensor.From(means, k.n, k.o), tensor.From(wantMeans, k.n, k.o), 0)
		})
	}
}

// randTensorSeed is a fixed [o] vector in [-1, 1).
func randTensorSeed(o int) []float32 {
	return randTensor(rand.New(rand.NewPCG(9, uint64(o))), o).Data()
}

// TestReleaseWeights checks that a filter prepared and stripped of its
// plain weight (ReleaseWeights) computes the same bits as a fresh one,
// by im2col and, reading its weight back from the packed form, by
// Winograd and space-to-depth.
func TestReleaseWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	cases := []convCase{
		{n: 2, c: 17, h: 12, w: 10, o: 19, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},
		{n: 1, c: 3, h: 31, w: 29, o: 20, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1},
		{n: 2, c: 8, h: 9, w: 9, o: 5, kh: 1, kw: 1, sh: 1, sw: 1, dh: 1, dw: 1},
	}
	for _, k := range cases {
		x := randTensor(r, k.n, k.c, k.h, k.w)
		w := randTensor(r, k.o, k.c, k.kh, k.kw)
		for _, algo := range []Algorithm{Im2col, Winograd} {
			withAlgorithm(t, algo, func() {
				want := NewFilter(w, k.params()).Forward(x, Epilogue{})
				f := NewFilter(w, k.params())
				withAlgorithm(t, Im2col, func() { f.Prepare(k.h, k.w) })
				f.ReleaseWeights()
				if f.w != nil {
					t.Fatalf("%v: the weight is still held after ReleaseWeights", k)
				}
				got := f.Forward(x, Epilogue{})
				for i, v := range got.Data() {
					if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
						t.Fatalf("%v %v: %v at %d, fresh filter %v", k, algo, v, i, want.Data()[i])
					}
				}
			})
		}
	}
}

// TestKeepWinograd checks that a filter that builds its Winograd
// transform per call (KeepWinograd(false), in recycled buffers, so also
// on a second call) gives the bits of one that keeps it, by Winograd and
// by space-to-depth, and that it holds no transform between calls.
func TestKeepWinograd(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	cases := []convCase{
		{n: 3, c: 17, h: 14, w: 13, o: 21, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},
		{n: 1, c: 3, h: 31, w: 29, o: 20, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1},
	}
	withAlgorithm(t, Winograd, func() {
		for _, k := range cases {
			x := randTensor(r, k.n, k.c, k.h, k.w)
			w := randTensor(r, k.o, k.c, k.kh, k.kw)
			ep := func() Epilogue {
				return Epilogue{Bias: randTensorSeed(k.o), ReLU: true, Means: make([]float32, k.n*k.o)}
			}
			e := ep()
			want := NewFilter(w, k.params()).Forward(x, e)
			f := NewFilter(w, k.params())
			f.Prepare(k.h, k.w)
			f.KeepWinograd(false)
			for pass := 0; pass < 2; pass++ {
				e2 := ep()
				got := f.Forward(x, e2)
				for i, v := range got.Data() {
					if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
						t.Fatalf("%v pass %d: %v at %d, kept U gives %v", k, pass, v, i, want.Data()[i])
					}
				}
				for i, v := range e2.Means {
					if v != e.Means[i] {
						t.Fatalf("%v pass %d: mean %d is %v, kept U gives %v", k, pass, i, v, e.Means[i])
					}
				}
			}
			if f.wg != nil || f.s2dF != nil && f.s2dF.wg != nil {
				t.Fatalf("%v: the filter holds U", k)
			}
		}
	})
}
