// Package conv computes 2-D convolution and pooling on NCHW tensors: the
// geometry (stride, padding, dilation, output sizes), convolution as a
// packed GEMM over implicit im2col columns with a fused epilogue, MaxPool2d
// and AdaptiveAvgPool2d, all with PyTorch's semantics.
//
// # Layout
//
//   - params.go: Params (stride, pad, dilation; zero stride and dilation
//     mean 1), OutSize and Params.OutSize.
//   - conv.go: Filter, a weight [O,C,KH,KW] packed once for the GEMM, and
//     Filter.Forward, [N,C,H,W] * [O,C,KH,KW] -> [N,O,OH,OW], with an
//     Epilogue that adds the bias, applies a per-channel gain ReLU and
//     returns per-image channel means in the same pass.
//   - im2col.go: the simd.BPacker that writes im2col panels straight into
//     the GEMM's buffer; the column matrix [C·KH·KW, OH·OW] never exists.
//   - pool.go: Pool, MaxPool2d and AdaptiveAvgPool2d.
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
