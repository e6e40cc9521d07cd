// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"image"
	"strings"
	"sync"
	"unsafe"
)

// buffers are a decoding's working memory: the sample planes and, for a
// progressive image, the coefficients and their nonzero masks, by
// component. Decode returns them to bufferPool, so that decoding one
// image after another reuses memory the process has already touched
// rather than faulting in tens of megabytes of fresh pages per image.
type buffers struct {
	pix  [maxComponents][]byte
	coef [maxComponents][]int16
	nz   [maxComponents][]uint64
}

var bufferPool = sync.Pool{New: func() any { return new(buffers) }}

// zeroed returns s resized to n zero elements, reusing its array if it is
// large enough.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// resized returns s resized to n elements, reusing its array if it is
// large enough; the elements are left as they were, except under tests,
// which set poison to fill them with it.
func resized(s []byte, n int) []byte {
	if cap(s) < n {
		s = make([]byte, n)
	}
	s = s[:n]
	if poison != nil {
		for i := range s {
			s[i] = *poison
		}
	}
	return s
}

// poison, if set, is what resized fills its buffers with, so that tests
// catch a sample read before it is written.
var poison *byte

// release hands d's buffers back to the pool; d must not use them again.
func (d *decoder) release() {
	b := d.bufs
	if b == nil {
		return
	}
	d.bufs = nil
	for i := 0; i < d.nComp; i++ {
		b.pix[i] = d.planes[i].pix
		b.coef[i], b.nz[i] = d.comp[i].coef, d.comp[i].nz
		d.planes[i].pix, d.comp[i].coef, d.comp[i].nz = nil, nil, nil
	}
	bufferPool.Put(b)
}

// uncleared returns a new slice of n bytes whose values are unspecified
// (under tests, those of poison): it is for an output image every byte of
// which the decoder writes, so that the runtime does not clear megabytes
// only for them to be overwritten (for a 2013x2241 RGBA image, 18 MB of
// stores and as many of cache misses). Go has no public allocation that
// skips the clearing, but strings.Builder.Grow allocates its buffer
// without clearing it; the builder is dropped at once and the slice made
// over the buffer's whole capacity is then the only reference to it.
func uncleared(n int) []byte {
	if n == 0 {
		return []byte{}
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte(0)
	s := unsafe.Slice(unsafe.StringData(b.String()), b.Cap())[:n:n]
	if poison != nil {
		for i := range s {
			s[i] = *poison
		}
	}
	return s
}

// newGray, newRGBA and newCMYK are image.NewGray, image.NewRGBA and
// image.NewCMYK with uncleared pixels.
func newGray(r image.Rectangle) *image.Gray {
	return &image.Gray{Pix: uncleared(r.Dx() * r.Dy()), Stride: r.Dx(), Rect: r}
}

func newRGBA(r image.Rectangle) *image.RGBA {
	return &image.RGBA{Pix: uncleared(4 * r.Dx() * r.Dy()), Stride: 4 * r.Dx(), Rect: r}
}

func newCMYK(r image.Rectangle) *image.CMYK {
	return &image.CMYK{Pix: uncleared(4 * r.Dx() * r.Dy()), Stride: 4 * r.Dx(), Rect: r}
}
