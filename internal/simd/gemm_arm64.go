//go:build !purego

package simd

// sgemmKernel8x12NEON computes np tiles of 8×12 stacked down a column of C:
//
//	for q := 0; q < np; q++ {
//		for i := 0; i < 8; i++ {
//			r := q*8 + i
//			for j := 0; j < 12; j++ {
//				var s float32
//				for p := 0; p < k; p++ {
//					s += a[q*pstride+p*8+i] * b[p*12+j]
//				}
//				if flags&kAcc != 0 { s += c[r*ldc+j] }
//				if flags&kBias != 0 { s += bias[r] }
//				if flags&kReLU != 0 && s < 0 { s = 0 } // NaN stays NaN
//				if flags&kGain != 0 { s *= 1 + gain[r] }
//				c[r*ldc+j] = s
//				if flags&kRowSum != 0 { rowsum[r] += s } // summed pairwise here
//			}
//		}
//	}
//
// a holds np micro-panels pstride floats apart, each k×8; b is one strip
// k×12. ldc and pstride count float32s. The products use FMA. The Go
// reference with the same arguments is sgemmKernelGo.
//
//go:noescape
func sgemmKernel8x12NEON(np, k int, a *float32, pstride int, b, c *float32, ldc int, flags uintptr, bias, gain, rowsum *float32)

// archImpls returns the arm64 kernels. Advanced SIMD is part of ARMv8-A,
// so NEON is always there.
func archImpls() []*impl {
	return []*impl{{name: "NEON", mr: 8, nr: 12, kernel: sgemmKernel8x12NEON}}
}
