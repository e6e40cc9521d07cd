//go:build !purego

package simd

import "github.com/klauspost/cpuid/v2"

//go:generate sh -c "cd _gen && go run . -out ../gemm_amd64.s -stubs ../gemm_amd64.go -pkg simd"

// Toggles for the amd64 kernels, set from cpuid (which also checks that the
// OS saves the wide registers). Tests read them to skip what is missing.
var (
	hasAVX512 = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL)
	hasAVX2   = cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3)
)

// archImpls returns the amd64 kernels this CPU runs, best first.
func archImpls() []*impl {
	var l []*impl
	if hasAVX512 {
		im := &impl{name: "AVX512", mr: 16, nr: 16, kernel: sgemmKernel16x16AVX512}
		if hasAVX2 {
			im.rows = sgemmRows6x16AVX2 // memory-bound: AVX2 is as fast
		}
		l = append(l, im)
	}
	if hasAVX2 {
		l = append(l, &impl{name: "AVX2", mr: 6, nr: 16, kernel: sgemmKernel6x16AVX2, rows: sgemmRows6x16AVX2})
	}
	return l
}
