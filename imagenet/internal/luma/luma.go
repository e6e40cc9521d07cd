// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

// Package luma holds PIL's conversions of a pixel to mode "L" (8-bit
// grey) in Pillow's integer arithmetic (Convert.c), shared by package
// imagenet's Gray and by its JPEG decoder's grey path, which must agree
// byte for byte.
package luma

// RGB is PIL's grey level of an 8-bit RGB pixel: ITU-R 601-2 luma,
// L = R*299/1000 + G*587/1000 + B*114/1000, computed as Pillow's Convert.c
// does, with 16-bit fixed-point weights (19595 + 38470 + 7471 = 65536) and
// rounding.
func RGB(r, g, b uint8) uint8 {
	return uint8((uint32(r)*WR + uint32(g)*WG + uint32(b)*WB + 0x8000) >> 16)
}

// The weights of RGB, in units of 2^-16.
const (
	WR = 19595
	WG = 38470
	WB = 7471
)

// mulDiv255 is a*b/255 rounded, in Pillow's integer form.
func mulDiv255(a, b uint32) uint32 {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

// CMYK is PIL's convert("L") of a CMYK pixel, which goes through RGB with
// Pillow's naive conversion R = (255-K) - C*(255-K)/255 (the same for G
// from M and B from Y).
func CMYK(c, m, y, k uint8) uint8 {
	nk := 255 - uint32(k)
	r := nk - mulDiv255(uint32(c), nk)
	g := nk - mulDiv255(uint32(m), nk)
	b := nk - mulDiv255(uint32(y), nk)
	return RGB(uint8(r), uint8(g), uint8(b))
}
