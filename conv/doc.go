// Package conv computes 2-D convolution and pooling on NCHW tensors: the
// geometry (stride, padding, dilation, output sizes), convolution as a
// packed GEMM over implicit im2col columns or by Winograd's minimal
// filtering, with a fused epilogue, MaxPool2d and AdaptiveAvgPool2d, all
// with PyTorch's semantics.
//
// # Layout
//
//   - params.go: Params (stride, pad, dilation; zero stride and dilation
//     mean 1), OutSize and Params.OutSize.
//   - conv.go: Filter, a weight [O,C,KH,KW] with the forms each algorithm
//     derives from it (built on first use), and Filter.Forward,
//     [N,C,H,W] * [O,C,KH,KW] -> [N,O,OH,OW], with an Epilogue that adds
//     the bias, applies a per-channel gain ReLU and returns per-image
//     channel means in the same pass.
//   - im2col.go: the simd.BPacker that writes im2col panels straight into
//     the GEMM's buffer; the column matrix [C·KH·KW, OH·OW] never exists.
//   - winograd.go: Algorithm (Auto, Im2col, Winograd; SetAlgorithm or
//     EMOSEL_CONV=auto|im2col|winograd), F(4×4, 3×3) and F(4×4, 5×5): the
//     weight transform (kept per Filter unless KeepWinogradWeights(false))
//     and the tiled forward pass; the tile transforms are simd.WgInput8,
//     WgOutput8 (6×6 tiles), WgInput8x8 and WgOutput8x8 (8×8).
//   - s2d.go: strided filters made 3×3 by space-to-depth (AlexNet conv1).
//   - pool.go: Pool, MaxPool2d and AdaptiveAvgPool2d.
//
// # Algorithms
//
// Auto, the default, computes 3×3 and 5×5 stride-1 convolutions with at
// least 16 input and output channels (every VGG layer but conv1_1,
// AlexNet's conv2 to conv5) and AlexNet's strided conv1 by Winograd, with
// 4× (3×3) or 6.25× (5×5) fewer multiplications, and the rest by im2col.
// The two differ by rounding only: Winograd's error is under 1e-5 of the
// layer's largest output against 5e-7 for im2col, both far inside the
// 1e-4 the network tests allow against PyTorch (which run under each
// algorithm). For a given algorithm, an image's outputs are the same
// bits in any batch and on any thread count (under Winograd its recorded
// means too; under im2col they may differ in the last bit). Im2col
// is there for bit-level comparisons with older results and for checking
// a finding does not depend on the algorithm.
//
// Only groups=1 is supported: none of the target networks (VGG, AlexNet)
// uses grouped convolution.
//
// # Errors and panics
//
// Nothing here reads user files, so nothing returns an error. Misuse
// panics with a "conv: ..." message naming both sides: a tensor of the
// wrong rank, an input whose channel count differs from the weight's, an
// input too small for the window, negative strides or paddings, or an
// epilogue vector of the wrong length. Data never panics: NaN and Inf in
// inputs or weights flow through as IEEE arithmetic (and as PyTorch does
// in ReLU and max pooling).
//
// # Concurrency
//
// A Filter is immutable after NewFilter and may be used by many goroutines
// at once; each call allocates its own output and scratch.
package conv
