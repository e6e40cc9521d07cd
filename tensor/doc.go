// Package tensor provides Tensor, a concrete float32 n-dimensional array with
// row-major contiguous storage, and the seeded initialisers that match
// torchvision's defaults.
//
// # Layout
//
// Data is row-major (C order): the last index varies fastest. Shapes follow
// PyTorch so that loading a state dict never transposes:
//
//   - activations are NCHW: [N, C, H, W], N is always present (1 for one image);
//   - convolution weights are OIHW: [out, in, kH, kW];
//   - linear weights are [out, in], biases [out];
//   - a per-channel gain or bias is a [C] vector;
//   - a recording of a layer is [N, C] (images × channels).
//
// There is no implicit broadcasting anywhere in emosel.
//
// # Recycled buffers
//
// Scratch returns a tensor whose buffer may be one that Recycle handed
// back, uncleared: for outputs that are overwritten entirely, such as a
// layer's activations, which nn.Sequential recycles once the next layer
// has read them. SharesData tells whether two tensors are views of one
// buffer. DebugScratch fills reused buffers with NaN for tests.
//
// # Errors and panics
//
// Constructors cannot build an invalid Tensor: a negative dimension or a data
// slice whose length disagrees with the shape is programmer misuse and
// panics with a "tensor: ..." message naming both sides. Nothing in this
// package reads user files, so it returns no errors.
package tensor
