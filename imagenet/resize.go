package imagenet

import (
	"fmt"
	"image"
	"math"
)

// precisionBits is the number of fractional bits of Pillow's fixed-point
// filter weights for 8-bit images: 32 bits, less 8 for the sample and 2 for
// overflow headroom.
const precisionBits = 32 - 8 - 2

// weights are the fixed-point filter taps of a 1-D resampling pass: output
// sample i is Σ_j in[start[i]+j] * k[i*ksize+j] for j < n[i].
type weights struct {
	start, n []int
	k        []int32
	ksize    int
}

// bilinear is the triangle filter, support 1.
func bilinear(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// bilinearWeights computes the taps that take inSize samples to outSize as
// Pillow's precompute_coeffs and normalize_coeffs_8bpc do (Resample.c), in
// the same float64 operations and order:
//
//   - scale = in/out; when shrinking the filter is stretched by scale (so
//     it averages over the input: antialiasing), when enlarging it is not;
//   - output sample i is centred at (i + 0.5) * scale in input coordinates
//     and reads the inputs from int(center - support + 0.5) up to, but not
//     including, int(center + support + 0.5), clipped to the image;
//   - tap j weighs filter((j + start - center + 0.5) / filterscale), the taps
//     are divided by their sum, then rounded half away from zero to
//     precisionBits fractional bits.
//
// Explicit float64 conversions keep the compiler from fusing a multiply
// and add into an FMA, which would round differently from Pillow's C.
func bilinearWeights(inSize, outSize int) weights {
	const support0 = 1.0 // the bilinear filter's support
	scale := float64(inSize) / float64(outSize)
	filterscale := max(scale, 1.0)
	support := support0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	w := weights{
		start: make([]int, outSize),
		n:     make([]int, outSize),
		k:     make([]int32, outSize*ksize),
		ksize: ksize,
	}
	ss := 1.0 / filterscale
	tap := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			t := bilinear((float64(x+xmin) - center + 0.5) * ss)
			tap[x] = t
			ww += t
		}
		k := w.k[xx*ksize : xx*ksize+ksize]
		for x := 0; x < xmax; x++ {
			t := tap[x]
			if ww != 0 {
				t /= ww
			}
			f := float64(t * (1 << precisionBits))
			if t < 0 {
				k[x] = int32(-0.5 + f)
			} else {
				k[x] = int32(0.5 + f)
			}
		}
		w.start[xx], w.n[xx] = xmin, max(xmax, 0)
	}
	return w
}

// clip8 turns a fixed-point sum into a byte, saturating.
func clip8(ss int32) uint8 {
	v := ss >> precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// Resize returns src resized to w×h as PIL's Image.resize((w, h),
// Image.BILINEAR) does for a mode "L" image, which is what torchvision's
// Resize does to a PIL image: a separable triangle filter, antialiased when
// shrinking (the filter widens with the shrink factor), in Pillow's 8-bit
// fixed-point arithmetic (weights with 22 fractional bits, sums rounded
// and clipped). As Pillow does, it runs the horizontal pass first, over
// just the rows the vertical pass reads, and skips a pass whose size does
// not change. The result's bounds start at (0, 0).
//
// Resize panics if w or h is not positive or src is empty.
func Resize(src *image.Gray, w, h int) *image.Gray {
	sb := src.Bounds()
	sw, sh := sb.Dx(), sb.Dy()
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("imagenet: Resize to %dx%d", w, h))
	}
	if sw <= 0 || sh <= 0 {
		panic(fmt.Sprintf("imagenet: Resize of an empty %dx%d image", sw, sh))
	}
	// cur holds the current picture (src, then the horizontal pass's output).
	cur := src.Pix[src.PixOffset(sb.Min.X, sb.Min.Y):]
	curStride, curW := src.Stride, sw
	yOff := 0 // row of src that cur's row 0 holds

	vert := bilinearWeights(sh, h)
	if w != sw {
		// Only rows first..last-1 feed the vertical pass.
		first := vert.start[0]
		last := vert.start[h-1] + vert.n[h-1]
		if h == sh {
			first, last = 0, sh
		}
		hw := bilinearWeights(sw, w)
		tmp := make([]uint8, w*(last-first))
		for y := first; y < last; y++ {
			in := cur[y*curStride : y*curStride+sw]
			out := tmp[(y-first)*w : (y-first)*w+w]
			for xx := range out {
				k := hw.k[xx*hw.ksize : xx*hw.ksize+hw.n[xx]]
				xs := in[hw.start[xx] : hw.start[xx]+len(k)]
				ss := int32(1 << (precisionBits - 1))
				for j, kj := range k {
					ss += int32(xs[j]) * kj
				}
				out[xx] = clip8(ss)
			}
		}
		cur, curStride, curW, yOff = tmp, w, w, first
	}

	dst := image.NewGray(image.Rect(0, 0, w, h))
	if h == sh {
		for y := 0; y < h; y++ {
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+w], cur[(y-yOff)*curStride:])
		}
		return dst
	}
	// Integer sums, so accumulating a row at a time (for the cache) gives
	// Pillow's per-pixel results exactly.
	acc := make([]int32, curW)
	for yy := 0; yy < h; yy++ {
		k := vert.k[yy*vert.ksize : yy*vert.ksize+vert.n[yy]]
		y0 := vert.start[yy] - yOff
		for xx := range acc {
			acc[xx] = 1 << (precisionBits - 1)
		}
		for j, kj := range k {
			in := cur[(y0+j)*curStride : (y0+j)*curStride+curW]
			for xx, v := range in {
				acc[xx] += int32(v) * kj
			}
		}
		out := dst.Pix[yy*dst.Stride : yy*dst.Stride+curW]
		for xx, ss := range acc {
			out[xx] = clip8(ss)
		}
	}
	return dst
}
