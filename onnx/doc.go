// Package onnx reads convolutional networks exported to ONNX (weights and
// graph, opsets 11 to 17) and runs them on this module's engine, with a
// per-channel gain and a recording hook on every ReLU, as package nn does
// for the sequential VGG and AlexNet.
//
// # Use
//
//	net, err := onnx.LoadNet("resnet18.onnx") // decode, check, compile
//	y := net.Forward(x)                        // [N,3,224,224] -> [N,1000]
//	for _, u := range net.Units { ... }        // u.Name, u.Module ("layer3.1.relu"), u.Channels
//	net.SetGain("layer3.1.relu", alpha)        // y = (1+α_c)·relu(x) on that unit
//	net.Record(func(unit string, means *tensor.Tensor) { ... }) // [N,C] spatial means
//
// LoadFile, Read and Decode give the decoded Model alone (the graph,
// topologically sorted, and its initializers converted to float32 or
// int64); NewNet compiles one.
//
// # Layout
//
//   - proto.go: the wire decoder for the six messages a CNN needs,
//     ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto and
//     ValueInfoProto (with the TypeProto and shape inside it), on
//     google.golang.org/protobuf/encoding/protowire: no generated code, no
//     reflection, unknown fields skipped.
//   - model.go: Model, Graph, Node, Attribute, Tensor, ValueInfo; tensor
//     data checked against dims and converted; Decode, Read, LoadFile.
//   - check.go: the supported operators and their attributes, opset
//     range, value definitions, topological sort with cycle detection.
//   - net.go: Net and Unit: compiling, shape inference at the declared
//     input shape, units, gains, recording, Forward.
//   - ops.go, convop.go: each operator compiled to a step.
//   - suffix.go: Cut, a Net cut at one unit for suffix re-runs under
//     many gains (Prefix, Gain, Rest), the features a readout reads,
//     and per-image FLOPs.
//   - asmodel.go: Net.AsModel (the Net as an nn.Model with an nn.Graph),
//     UnitNames, and Model.Randomize and LoadRandom, the untrained
//     control.
//
// # Operators
//
// Conv (any group, depthwise included; dilation; uneven pads; auto_pad),
// BatchNormalization (folded into the Conv before it when that Conv feeds
// only it, else per channel), Relu, Clip (bounds from constants), Add
// (same shapes: no broadcasting), Concat, MaxPool, AveragePool
// (count_include_pad either way, ceil_mode), GlobalAveragePool, Flatten
// (axis 1), Reshape (a constant shape whose first entry is 0 or −1, so the
// batch passes through), Gemm (transA 0; alpha and beta folded into the
// weight and bias), MatMul (by a constant matrix), Pad (constant mode,
// spatial axes), Dropout and Identity (inference: no-ops), Constant. Any
// other operator, or a non-default domain, is refused when the model is
// decoded, naming the node, the operator and the supported list:
//
//	onnx: m.onnx: node /act/LeakyRelu: unsupported: operator LeakyRelu (supported: Add, AveragePool, ...)
//
// Operands other than the data path (weights, biases, BN statistics, Clip
// bounds, shapes, pads) must be initializers or Constant nodes (or
// Identity of one, as torch.onnx writes for shared weights). A Net
// computes only on data: there is no constant folding of computed shapes
// (torch.onnx folds them itself, do_constant_folding=True).
//
// Convolution runs on package conv: groups=1 with even pads directly
// (im2col GEMM or Winograd, with the bias, ReLU, gain and channel means in
// the GEMM's epilogue when a Relu alone reads the Conv); uneven pads as an
// explicit zero border first; a grouped convolution as one conv.Filter per
// group; a depthwise one (one input channel per group) as a direct loop.
// An Add whose sum a Relu alone reads runs that ReLU in its loop, writing
// over an input nothing reads afterwards. Forward hands each dead value's
// buffer back to tensor.Scratch; filters are packed at load and keep the
// weight once (a Winograd filter builds its transform in every call), and
// LoadNet drops the decoded Conv and Gemm weights from its Model.
// Pooling follows PyTorch where ONNX leaves room: in ceil mode a window
// may not start in the trailing padding, and count_include_pad counts the
// padding but not a window's overhang past it.
//
// # Units
//
// Every Relu, and every Clip whose lower bound is 0 (ReLU6, computed as
// the upper clip then nn.ReLU), is a Unit with an nn.ReLU of its own, in
// topological order. Unit.Name is the value the node writes (unique in
// the graph; "/layer3/layer3.1/relu/Relu_output_0" from torch.onnx 1.13).
// Unit.Module is the torchvision module path derived from torch.onnx's
// scoped node name by ModulePath ("layer3.1.relu"; torchvision's ResNet
// blocks call one ReLU module twice, and torch.onnx names the second call
// "relu_1"). SetGain, ReLUOf and Unit accept either name.
//
// # Shapes
//
// The graph must have one FLOAT data input of declared shape [N,C,H,W] or
// [N,F], only N symbolic, and one output. NewNet infers every value's
// shape from it, so mis-shaped weights, concatenations and sums are
// refused at load with the node's name. Forward takes any batch size, but
// C, H and W must be the declared ones (a model exported at 224 px runs at
// 224 px); another shape panics.
//
// # Memory and hostile input
//
// As in package weights, nothing is allocated for a length read from the
// file before it is checked against the input that remains: strings,
// packed arrays and tensor data are slices of the input, a tensor's dims
// must multiply to what its data holds (and to under 2^31 elements),
// ranks are capped at 8, names at 64 KiB, the model at protobuf's 2 GiB.
// Decoded tensors are converted to float32 (FLOAT, FLOAT16 exactly,
// DOUBLE rounded) or int64 (INT64, INT32, INT8, UINT8); other types are
// refused. Shape inference refuses any value of more than 2^31 elements.
// Tensors stored in external files (data_location EXTERNAL, the form
// onnx.save_model uses past 2 GB) are refused, naming the initializer and
// the file: reading paths named inside an untrusted model is a way to
// read files it should not. Sparse initializers, model-local functions
// and subgraph attributes are refused too.
//
// # Errors and panics
//
// Malformed, truncated or hostile input returns an error, never a panic
// (FuzzDecode checks Decode, NewNet and Forward). Errors wrap ErrFormat,
// ErrTruncated or ErrUnsupported, begin with "onnx: ", name the file when
// LoadFile or LoadNet is used, and name the node or initializer, on one
// line:
//
//	onnx: m.onnx: initializer conv1.weight: malformed model: raw_data has 100 bytes, dims [64 3 7 7] of FLOAT need 37632
//	onnx: m.onnx: malformed model: the graph has a cycle through node b (b -> a -> b)
//
// Forward panics on an input of the wrong shape, and SetGain on an
// unknown unit or a gain of the wrong length: programmer misuse.
//
// # The study on a graph
//
// Net.AsModel returns an nn.Model whose Graph is the Net, so that
// packages selectivity and manipulate and the example commands (-model
// onnx -weights FILE.onnx) run the whole study on it. Its units are
// named by UnitNames (the torchvision module path where torch.onnx kept
// it: "layer3.1.relu"). manipulate's suffix re-runs cache the activations
// at a unit and re-run only what follows (nn.Sequential.ForwardRange for
// VGG). In a graph what follows a unit may also read values made before
// it (a ResNet block's skip input), so the cache there is the cut: every
// value made at or before the unit's step and read after it: Net.NewCut
// splits the steps the features need into those that do not depend on
// the unit (computed once, by Cut.Prefix, with the unit itself) and those
// that do (re-run by Cut.Rest for each gain), and a re-run is bitwise a
// full forward with the gain installed (TestCutBitwise, on every fixture
// network). The readout's features are a unit's spatial means: for the
// last unit of a ResNet, DenseNet or MobileNet, exactly the vector the
// final Linear reads. manipulate's reuse of the next linear layer is not
// implemented for graphs: every gain re-runs the whole suffix.
// Model.Randomize (LoadRandom) gives the untrained control of a graph.
//
// # Concurrency
//
// A Net may run Forward from several goroutines at once provided nothing
// changes its gains or hooks meanwhile and the Record hook is safe for
// concurrent use, as for nn.
package onnx
