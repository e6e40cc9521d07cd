// Copyright (c) 2026, The emosel Authors. All rights reserved.
// Use of this source code is governed by the BSD 3-Clause licence in the
// repository root.

package jpeg

import "testing"

// benchImpls runs f as a sub-benchmark per kernel implementation the
// machine has, "AVX2/name" and "Go/name".
func benchImpls(b *testing.B, name string, f func(b *testing.B)) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	for _, avx2 := range []bool{true, false} {
		if avx2 && !hasAVX2 {
			continue
		}
		useAVX2 = avx2
		impl := "Go"
		if avx2 {
			impl = "AVX2"
		}
		b.Run(impl+"/"+name, func(b *testing.B) {
			b.ReportAllocs()
			f(b)
		})
	}
}

// BenchmarkIDCT times the dequantising IDCT of one photo-like block.
func BenchmarkIDCT(b *testing.B) {
	var blk block
	var q [blockSize]int32
	for i := range blk {
		blk[i] = int16(100 / (1 + i))
		q[i] = int32(2 + i/4)
	}
	out := make([]byte, 8*64)
	benchImpls(b, "block", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			idctIslow(&blk, &q, out, 64)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/1e6, "Mblock/s")
	})
}

// BenchmarkYCC times the YCbCr -> RGBA conversion of a 2048-pixel row.
func BenchmarkYCC(b *testing.B) {
	const n = 2048
	y, cb, cr, dst := make([]byte, n), make([]byte, n), make([]byte, n), make([]byte, 4*n)
	for i := range y {
		y[i], cb[i], cr[i] = byte(i*7), byte(i*13), byte(i*29)
	}
	benchImpls(b, "row2048", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			yccRGBA(dst, y, cb, cr)
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds()/1e6, "MP/s")
	})
}
