// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package luma

import "testing"

// RGB and CMYK are checked against PIL's own convert("L") by package
// imagenet's golden tests (TestGrayMatchesPIL, on RGB and CMYK files).
// These are the hand-worked corner cases.

func TestCMYK(t *testing.T) {
	// Full ink in any channel with no black, or full black: 0 or what
	// the other channels leave. No ink at all is white.
	for _, c := range []struct {
		c, m, y, k, want uint8
	}{
		{0, 0, 0, 0, 255},
		{0, 0, 0, 255, 0},
		{255, 255, 255, 0, 0},
		{255, 0, 0, 0, RGB(0, 255, 255)},
		{0, 0, 0, 128, 127},
	} {
		if got := CMYK(c.c, c.m, c.y, c.k); got != c.want {
			t.Errorf("CMYK(%d, %d, %d, %d) = %d, want %d", c.c, c.m, c.y, c.k, got, c.want)
		}
	}
}
