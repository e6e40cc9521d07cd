//go:build purego || !(amd64 || arm64)

package simd

// archImpls returns no assembly kernels: this build has only "Go".
//
// The Go kernel itself, sgemmKernelGo, lives in kernel.go, which every build
// compiles, so that tests can use it as an oracle and Use("Go") works on
// amd64 and arm64 too. This file only keeps the asm out of the registry.
func archImpls() []*impl { return nil }
