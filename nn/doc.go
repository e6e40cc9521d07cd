// Package nn builds inference networks from layers with PyTorch's
// semantics and torchvision's parameter names, with a per-channel gain on
// every ReLU and a hook that records each ReLU's per-channel spatial means.
//
// # Layout
//
//   - layer.go: the Layer and Stateful interfaces.
//   - conv2d.go: Conv2d, whose weight is packed for the GEMM once, when it
//     is built or replaced (SetWeights, LoadStateDict), never per Forward.
//   - linear.go: Linear, which reads its weight in place as the GEMM's
//     right operand and packs only the small batch, so the large fc
//     weights are held once.
//   - model.go: Model, a Sequential plus the paper's unit names, gains,
//     recording hooks and LoadFile (which adopts the file's tensors
//     instead of copying them).
//   - relu.go: ReLU with an optional per-channel Gain, y = (1+α_c)·max(0,x)
//     (α_c = −1 silences channel c), and a Record hook receiving [N,C]
//     spatial means of y (Eq 2 of the paper).
//   - layers.go: MaxPool2d, AdaptiveAvgPool2d, Dropout (identity at
//     inference) and Flatten.
//   - sequential.go: Sequential, a flat list of named children whose
//     names are torchvision key prefixes ("features.0", "classifier.6"), so
//     a parameter's state-dict key is name + ".weight" or name + ".bias".
//     Forward, ForwardRange, ForwardFrom and ForwardCapture run all or
//     part of the list; a Conv2d or Linear directly followed by a ReLU is
//     fused into one GEMM pass (bias, gain-ReLU and the recorded means in
//     the GEMM epilogue). Activations made and consumed within a call are
//     recycled for the next batch (tensor.Scratch), never what the caller
//     or a layer of another type can hold.
//   - graph.go: the Graph and Cut interfaces, for a Model over a network
//     that is not a flat Sequential (a DAG read by package onnx): the
//     Model finds its units' ReLUs and parameters through the Graph, and
//     package manipulate its suffix re-runs through Cut.
//   - train.go: Trainer and Train, a k-class softmax cross-entropy head
//     on cached features with torch.optim's Adam and SGD, bit-deterministic
//     for a seed (the paper's 2-unit emotion readouts).
//   - state.go: StateDict, LoadStateDict's checks and the sentinel errors.
//
// # Initialisation
//
// Constructors that own parameters take an *tensor.RNG first. A non-nil
// RNG initialises as PyTorch's reset_parameters does (KaimingUniformDefault
// for the weight, BiasUniformDefault for the bias), drawing the weight
// then the bias; a nil RNG leaves them zero, for layers about to be loaded
// from a state dict. Other schemes (torchvision VGG's kaiming_normal_)
// fill tensors with tensor.RNG and install them with SetWeights.
//
// # Errors and panics
//
// Bad data returns an error: LoadStateDict reports every missing key
// (ErrMissingKey), unexpected key (ErrUnexpectedKey) and mis-shaped or
// nil tensor (ErrShape), each naming the key and both shapes, joined with
// errors.Join in key order, and loads nothing unless all are right. NaN or
// Inf weights are not errors. Programmer misuse panics with an "nn: ..."
// message naming both shapes: an input of the wrong rank or channel count
// for a layer, an input too small for a window, a gain vector of the
// wrong length, SetWeights with wrong shapes, a duplicate or empty child
// name, or an out-of-range child index.
//
// # Concurrency and aliasing
//
// Forward never modifies its input; identity layers (Dropout, and Flatten
// as a reshape) return a tensor sharing the input's data. Layers keep no
// per-call state, so a network may run Forward from one goroutine at a
// time with no further care, and from several at once provided nothing
// changes its gains, hooks or weights meanwhile and its Record hooks are
// safe for concurrent use. Record hooks run on the goroutine that called
// Forward and may keep the tensor they receive.
package nn
