// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

//go:build purego || !amd64

package jpeg

// useAVX2 and hasAVX2 are false: this build has only the Go kernels.
var useAVX2, hasAVX2 = false, false

func idctIslowAVX2(coef *int16, q *int32, dst *byte, stride int) {
	panic("jpeg: no AVX2 IDCT in this build")
}

func yccRGBAAVX2(dst *byte, y *byte, cb *byte, cr *byte, n int) {
	panic("jpeg: no AVX2 colour conversion in this build")
}

func yccGrayAVX2(dst *byte, y *byte, cb *byte, cr *byte, n int) {
	panic("jpeg: no AVX2 colour conversion in this build")
}

func h2v2FancyAVX2(out *byte, near *byte, far *byte, n int) {
	panic("jpeg: no AVX2 upsampling in this build")
}

func h2v1FancyAVX2(out *byte, in *byte, n int) { panic("jpeg: no AVX2 upsampling in this build") }
