//go:build !purego

package simd

// wgAsm reports whether the transforms run in assembly: on AVX2 machines,
// unless the Go GEMM implementation has been chosen (so that EMOSEL_SIMD=go
// runs everything in Go).
func wgAsm() bool { return hasAVX2 && active.Load().name != "Go" }

// vecAsm reports whether the element-wise helpers (pooling, ScaleReLU,
// CopyRows) run in assembly (as wgAsm).
func vecAsm() bool { return wgAsm() }
