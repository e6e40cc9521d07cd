// Package simd is emosel's single-precision matrix multiply: BLIS-style
// cache blocking and packing around SIMD micro-kernels that are chosen at
// run time, with a pure-Go kernel as the fallback and the reference.
//
// # Contract
//
// All matrices are float32 and row-major: element (i,j) of a matrix with
// leading dimension ld is at index i*ld+j, and ld is at least the number of
// columns.
//
// Sgemm computes C = alpha·op(A)·op(B) + beta·C, where op(X) is X or Xᵀ,
// op(A) is [m,k], op(B) is [k,n] and C is [m,n]. As in reference BLAS,
// beta == 0 means C is only written (a NaN already in C does not survive),
// and alpha == 0 or k == 0 means A and B are not read and C = beta·C.
//
// GemmPacked computes C = ep(A·B) for an A [M,K] packed once by PackA (the
// weights) and a B [K,n] that a BPacker supplies panel by panel (conv's
// im2col; DenseB for an ordinary matrix). C is written, never read. The
// Epilogue is applied to each element of C after its last K block, while
// the tile is still in cache, in this order: y += Bias[i]; if ReLU,
// y = (1+Gain[i])·max(0, y); RowSums[i] += y. A Gain of -1 lesions a row to
// exactly 0 (for finite y). With K == 0 the epilogue runs on zeros; with
// n == 0 nothing is written and RowSums is unchanged.
//
// Arithmetic is IEEE float32 with fused multiply-adds in the SIMD kernels:
// NaN and Inf propagate (a NaN in row i of A makes row i of C NaN, Inf·0
// is NaN), and ReLU keeps NaN (max(0, NaN) is NaN, as in PyTorch).
// Products are summed in K blocks and row sums pairwise across vector
// lanes, so results differ from a naive loop by float32 rounding only. For
// a given implementation and thread count they are the same bits on every
// run: RowSums are summed per thread and then added in thread order.
//
// Both functions may be called from several goroutines at once. Each call
// uses up to Threads() goroutines (SetThreads; by default GOMAXPROCS),
// fewer for small products. Wide products are split by columns, each
// thread packing its own B; narrow ones (few strips of columns, such as
// conv5 at 14×14 or a fully connected layer on a small batch) are split by
// rows, with the threads packing one shared B together.
//
// Misuse panics with a message that starts with "simd: " and names the
// sizes that disagree, for example
// "simd: Sgemm: len(a)=11, want at least 12 for 3×4 with ld=4".
//
// # Blocking and packing
//
// A micro-kernel multiplies an MR×KC micro-panel of A by a KC×NR strip of
// B into an MR×NR tile of C held in registers, and runs down a column of
// tiles in one call. Around it are BLIS's loops: for each block of NC
// columns and KC rows, B is packed into strips (BPacker's layout); each
// strip stays in L1 while the MC×KC block of A (in L2) streams past it.
// Unlike BLIS's usual choice, the packed B panel is small enough to stay
// in L2 as well, and a DenseB's next panel is prefetched while the current
// one is multiplied, so B crosses the memory bus once. KC, MC and NC
// follow the cache sizes that cpuid reports (Zen 4's 32 KiB L1d and 1 MiB
// L2 where it cannot tell). PackedA is already in micro-panels. Tiles that
// stick out of C (M%MR rows or N%NR columns) are computed into a scratch
// tile and copied, so nothing outside C is written. Scratch buffers are
// 64-byte aligned and recycled through sync.Pools.
//
// Sgemm(false, true, m, …) with m ≤ 32, C = A·Bᵀ for a few rows of A (a
// batch of feature vectors) against a large B (a weight matrix, as
// nn.Linear calls it), takes the rows path where the implementation has a
// rows kernel (AVX2 and AVX-512 machines): it computes Cᵀ = B·Aᵀ with B
// read in place, six rows at a time, and Aᵀ packed once, so the weight
// crosses the memory bus once and is never packed (2.2–2.4× the packed
// path at batch 16, at the memory bandwidth). It sums in the packed
// path's K blocks, so both give the same bits: a row's result does not
// depend on how many rows come with it.
//
// # Implementations and dispatch
//
// A small registry, in the manner of crypto/internal/impl, lists the
// kernels this machine and build can run, best first (Impls); Use forces
// one and Active names the one in use:
//
//	AVX512  sgemmKernel16x16AVX512 (AVX-512F+VL, amd64)
//	AVX2    sgemmKernel6x16AVX2    (AVX2+FMA, amd64)
//	NEON    sgemmKernel8x12NEON    (arm64)
//	Go      sgemmKernelGo, 2×4     (everywhere)
//
// The CPU features come from github.com/klauspost/cpuid/v2 at init. The
// environment variable EMOSEL_SIMD=avx512|avx2|neon|go (any case) selects
// the implementation at start-up; a name that this machine or build lacks
// leaves the best available one in place (Active tells), and a name that
// no build knows leaves it too, with EnvError saying why (the commands
// refuse to start on it).
//
// The amd64 kernels are generated with avo by _gen (its own module; run
// go generate) into gemm_amd64.s and gemm_amd64.go, both from one
// function, so the AVX-512 kernel shares its logic with the AVX2 one.
// Where the CPU lacks AVX-512, _gen/avx512-bochs.sh runs the tests on an
// emulated one (Bochs). The NEON kernel in
// gemm_arm64.s is written by hand. Assembly files carry //go:build !purego;
// with -tags purego, or on other architectures, gemm_generic.go leaves
// only "Go".
//
// # Other kernels
//
// More families serve packages conv and nn, with the same dispatch (AVX2
// assembly from _gen unless the active implementation is "Go" or the
// build has none; Go references that the tests compare against):
//
//   - winograd.go: WgInput8, WgInput8Pair and WgOutput8, the F(4×4, 3×3)
//     tile transforms Bᵀ d B and Aᵀ m A (with the bias and gain-ReLU
//     epilogue), eight tiles per vector, transposing 4×8 blocks in
//     registers; winograd8.go: WgInput8x8 and WgOutput8x8 for
//     F(4×4, 5×5). Without FMA and in the Go code's order, so the two
//     give the same bits.
//   - pool.go: MaxRows and MaxWindows, the two separable steps of max
//     pooling, and MaxPool2Rows, a whole output row of 2×2 or 3×3
//     windows at stride 2 (VGG's and AlexNet's) in one pass over its
//     input rows; NaN wins as in PyTorch. The vector paths cover windows
//     of 2 and 3 at stride 2.
//   - relu.go: ScaleReLU, nn.ReLU's gain ReLU; copyrows.go: CopyRows,
//     conv's strided row copies.
//
// PackedALayout and WrapPackedA let conv build packed weights in place
// (the Winograd weights are written packed by one GEMM, with no
// intermediate copy).
package simd
