package conv

import (
	"sync"

	"github.com/emosel/emosel/tensor"
)

// Kernel splitting computes a stride-1 filter of 4 to 6 taps on an axis
// that has no Winograd algorithm of its own (4×4, 6×6, 5×3, …: a 5×5
// filter has F(2×2, 5×5)) with F(4×4, 3×3): padded with zero taps to
// 6×6, the kernel is four 3×3 kernels g_ab (taps 3a…3a+2, 3b…3b+2), and
//
//	y[i][j] = Σ_ab z_ab[i+3a][j+3b]
//
// where z_ab is the 3×3 convolution of the input with g_ab (same padding
// as the original). One Winograd convolution with 4·O output channels
// gives every z_ab; a pass adds the shifted maps and applies the
// epilogue. It takes 9 multiplications per output and input channel
// against 25 for a direct 5×5, less the tiles' overhang.

// splitParts returns the sub-kernels per axis (1 or 2 each), or 0, 0 when
// splitting does not apply: stride 1, dilation 1, no axis over 6 taps,
// at least one over 3, and no Winograd algorithm of the filter's own.
func (f *Filter) splitParts() (na, nb int) {
	p := f.p
	if p.Stride != [2]int{1, 1} || p.Dilation != [2]int{1, 1} || f.kh > 6 || f.kw > 6 || (f.kh <= 3 && f.kw <= 3) || f.winogradFits() {
		return 0, 0
	}
	return (f.kh + 2) / 3, (f.kw + 2) / 3
}

// useSplit decides kernel splitting for an output of oh×ow: only when
// Winograd is forced.
func (f *Filter) useSplit(_, _ int) bool {
	if na, _ := f.splitParts(); na == 0 {
		return false
	}
	// Auto does not split: on a 5×5 layer shaped like AlexNet's conv2
	// (Zen 3, AVX2) the split was 1.2–1.3× slower than im2col, the
	// four-fold output transform and the combining pass costing more than
	// the halved GEMM saves (F(2×2, 5×5) now takes 5×5 filters).
	return CurrentAlgorithm() == Winograd
}

// split returns the 3×3 filter whose output channel (a·nb + b)·O + o is
// g_ab of output channel o, built on first use and kept.
func (f *Filter) split() *Filter {
	f.splitOnce.Do(func() {
		na, nb := f.splitParts()
		k := f.c * f.kh * f.kw
		w := f.w
		w2 := tensor.New(na*nb*f.o, f.c, 3, 3)
		d := w2.Data()
		for o := 0; o < f.o; o++ {
			for c := 0; c < f.c; c++ {
				for u := 0; u < f.kh; u++ {
					for v := 0; v < f.kw; v++ {
						o2 := ((u/3)*nb+v/3)*f.o + o
						d[((o2*f.c+c)*3+u%3)*3+v%3] = w[o*k+(c*f.kh+u)*f.kw+v]
					}
				}
			}
		}
		f.splitF = NewFilter(w2, Params{Pad: f.p.Pad})
	})
	return f.splitF
}

// forwardSplit computes the convolution by kernel splitting.
func (f *Filter) forwardSplit(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	na, nb := f.splitParts()
	g := f.split()
	parts := na * nb
	// z_ab is needed at rows i+3a for i < OH: OH + 3(na−1) rows, read past
	// the image as zeros by the Winograd input transform.
	// Rounded up to whole tiles, which costs nothing and lets the
	// transform write whole rows of z when a tile row is 8k tiles wide.
	zh, zw := (oh+3*(na-1)+3)&^3, (ow+3*(nb-1)+3)&^3
	zb := bigPool.Get().(*[]float32)
	defer bigPool.Put(zb)
	z := growF32(zb, n*parts*f.o*zh*zw)
	g.forwardWinograd(z, src, n, h, w, zh, zw, Epilogue{})
	plane := oh * ow
	parallel(n*f.o, parts*plane, func(pl int) {
		img, o := pl/f.o, pl%f.o
		var bias, scale float32 = 0, 1
		if ep.Bias != nil {
			bias = ep.Bias[o]
		}
		if ep.Gain != nil {
			scale = 1 + ep.Gain[o]
		}
		dst := out[pl*plane : (pl+1)*plane]
		for i := range dst {
			dst[i] = bias
		}
		for a := 0; a < na; a++ {
			for b := 0; b < nb; b++ {
				zp := z[((img*parts+a*nb+b)*f.o+o)*zh*zw:][:zh*zw]
				for i := 0; i < oh; i++ {
					row := dst[i*ow : (i+1)*ow]
					src := zp[(i+3*a)*zw+3*b:][:ow]
					for j, v := range src {
						row[j] += v
					}
				}
			}
		}
		var sum float64
		if ep.ReLU {
			for i, v := range dst {
				if v < 0 { // NaN stays NaN
					v = 0
				}
				v *= scale
				dst[i] = v
				sum += float64(v)
			}
		} else {
			for _, v := range dst {
				sum += float64(v)
			}
		}
		if ep.Means != nil {
			ep.Means[pl] = float32(sum / float64(plane))
		}
	})
}

// bigPool recycles the intermediate images of split and space-to-depth
// convolutions (tens of MB at batch 16): fresh ones each call cost more
// in page faults than their transforms.
var bigPool = sync.Pool{New: func() any { return new([]float32) }}
