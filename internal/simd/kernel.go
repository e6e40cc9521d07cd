package simd

import "unsafe"

// Flags of a micro-kernel call. The generator in _gen and gemm_arm64.s
// repeat these values.
const (
	kAcc    = 1 << iota // C += A·B; without it C = A·B and C is not read
	kBias               // add bias[r]
	kReLU               // max(0, ·); NaN stays NaN
	kGain               // multiply by 1+gain[r]
	kRowSum             // rowsum[r] += Σ_j C[r,j] over the tile's columns
)

// kernelFunc is the signature shared by every micro-kernel. It computes np
// tiles of MR×NR stacked down one column of C: a holds np micro-panels of A,
// pstride floats apart, each k×MR (for each p, the MR values A[i,p]); b is
// one strip of B, k×NR (for each p, the NR values B[p,j]); c is the tile's
// top-left element with row stride ldc. bias, gain and rowsum point at the
// first row's entry and are read or written only when their flag is set.
// sgemmKernelRef is the specification.
type kernelFunc func(np, k int, a *float32, pstride int, b, c *float32, ldc int, flags uintptr, bias, gain, rowsum *float32)

// sgemmKernelRef is the specification of a micro-kernel with an MR×NR tile,
// written as the plainest loop over slices indexed from the kernel's
// pointers. The asm kernels' doc comments repeat it; tests compare every
// kernel with it.
func sgemmKernelRef(mr, nr, np, k int, a []float32, pstride int, b, c []float32, ldc int, flags uintptr, bias, gain, rowsum []float32) {
	for q := 0; q < np; q++ {
		for i := 0; i < mr; i++ {
			r := q*mr + i
			for j := 0; j < nr; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += a[q*pstride+p*mr+i] * b[p*nr+j]
				}
				if flags&kAcc != 0 {
					s += c[r*ldc+j]
				}
				if flags&kBias != 0 {
					s += bias[r]
				}
				if flags&kReLU != 0 && s < 0 { // NaN < 0 is false: NaN stays NaN
					s = 0
				}
				if flags&kGain != 0 {
					s *= 1 + gain[r]
				}
				c[r*ldc+j] = s
				if flags&kRowSum != 0 {
					rowsum[r] += s
				}
			}
		}
	}
}

// Tile of the pure-Go kernel: 2×4 keeps its 8 accumulators, and the
// values they are made from, in the 16 registers that Go's compiler has
// on amd64 (4×4 spilled and ran at a third of the speed).
const (
	goMR = 2
	goNR = 4
)

// sgemmKernelGo is the portable micro-kernel, a 2×4 tile. It computes
// exactly what sgemmKernelRef(2, 4, ...) computes, with 8 scalar
// accumulators.
func sgemmKernelGo(np, k int, a *float32, pstride int, b, c *float32, ldc int, flags uintptr, bias, gain, rowsum *float32) {
	if np <= 0 {
		return
	}
	as := unsafe.Slice(a, (np-1)*pstride+k*goMR)
	bs := unsafe.Slice(b, k*goNR)
	cs := unsafe.Slice(c, (np*goMR-1)*ldc+goNR)
	var bi, ga, rs []float32
	if flags&kBias != 0 {
		bi = unsafe.Slice(bias, np*goMR)
	}
	if flags&kGain != 0 {
		ga = unsafe.Slice(gain, np*goMR)
	}
	if flags&kRowSum != 0 {
		rs = unsafe.Slice(rowsum, np*goMR)
	}
	for q := 0; q < np; q++ {
		ap := as[q*pstride : q*pstride+k*goMR]
		var c00, c01, c02, c03, c10, c11, c12, c13 float32
		for p := 0; p < k; p++ {
			av := ap[p*goMR : p*goMR+goMR : p*goMR+goMR]
			bv := bs[p*goNR : p*goNR+goNR : p*goNR+goNR]
			a0, a1 := av[0], av[1]
			b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
			c00 += a0 * b0
			c01 += a0 * b1
			c02 += a0 * b2
			c03 += a0 * b3
			c10 += a1 * b0
			c11 += a1 * b1
			c12 += a1 * b2
			c13 += a1 * b3
		}
		acc := [goMR][goNR]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
		for i := range acc {
			r := q*goMR + i
			row := cs[r*ldc : r*ldc+goNR]
			var sum float32
			for j, s := range acc[i] {
				if flags&kAcc != 0 {
					s += row[j]
				}
				if flags&kBias != 0 {
					s += bi[r]
				}
				if flags&kReLU != 0 && s < 0 {
					s = 0
				}
				if flags&kGain != 0 {
					s *= 1 + ga[r]
				}
				row[j] = s
				sum += s
			}
			if flags&kRowSum != 0 {
				rs[r] += sum
			}
		}
	}
}
