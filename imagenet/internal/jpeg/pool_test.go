// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import (
	"image"
	"testing"
)

// TestUncleared checks that uncleared gives n bytes of its own, holding
// poison under tests (so that the fixture comparisons catch any output
// byte the decoder leaves unwritten), and that the image constructors
// built on it have image.New*'s geometry.
func TestUncleared(t *testing.T) {
	var prev []byte
	for _, n := range []int{0, 1, 7, 4096, 1 << 20, 3<<20 + 5} {
		s := uncleared(n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("uncleared(%d): len %d, cap %d", n, len(s), cap(s))
		}
		for i, v := range s {
			if v != *poison {
				t.Fatalf("uncleared(%d)[%d] = %#x, want the poison %#x", n, i, v, *poison)
			}
		}
		for i := range s {
			s[i] = byte(i)
		}
		for i, v := range prev {
			if v != byte(i) {
				t.Fatalf("writing uncleared(%d) changed the previous slice at %d", n, i)
			}
		}
		prev = s
	}
	r := image.Rect(0, 0, 13, 5)
	if g, w := newGray(r), image.NewGray(r); g.Rect != w.Rect || g.Stride != w.Stride || len(g.Pix) != len(w.Pix) {
		t.Errorf("newGray: %v %d %d, image.NewGray: %v %d %d", g.Rect, g.Stride, len(g.Pix), w.Rect, w.Stride, len(w.Pix))
	}
	if g, w := newRGBA(r), image.NewRGBA(r); g.Rect != w.Rect || g.Stride != w.Stride || len(g.Pix) != len(w.Pix) {
		t.Errorf("newRGBA: %v %d %d, image.NewRGBA: %v %d %d", g.Rect, g.Stride, len(g.Pix), w.Rect, w.Stride, len(w.Pix))
	}
	if g, w := newCMYK(r), image.NewCMYK(r); g.Rect != w.Rect || g.Stride != w.Stride || len(g.Pix) != len(w.Pix) {
		t.Errorf("newCMYK: %v %d %d, image.NewCMYK: %v %d %d", g.Rect, g.Stride, len(g.Pix), w.Rect, w.Stride, len(w.Pix))
	}
}
