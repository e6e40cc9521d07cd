package nn

import "github.com/emosel/emosel/tensor"

// Graph is a network that is not a flat Sequential: a DAG such as a
// ResNet read from ONNX (package onnx's Net.AsModel implements it). A
// Model with a Graph runs it for Forward, finds each unit's ReLU through
// it, and reads its parameters from it; package manipulate re-runs its
// suffixes through Cut. Its units are the Model's Units, whose Layer and
// ReLU fields are then the unit's index in Units (so that forward order
// compares as for a Sequential).
type Graph interface {
	// Forward runs the whole graph: [N,C,H,W] -> [N,classes].
	Forward(x *tensor.Tensor) *tensor.Tensor
	// ReLU returns unit i's ReLU, whose Gain and Record act as in a
	// Sequential.
	ReLU(i int) *ReLU
	// StateDict returns the parameters under the file's names.
	StateDict() StateDict
	// String describes the graph, one operator a line.
	String() string
	// Cut returns the graph cut at unit (a unit name) for the readout
	// features of unit features; it panics on unknown units or if the
	// features are not computed from unit.
	Cut(unit, features string) Cut
}

// Cut is a Graph cut at one unit: what does not depend on the unit is
// computed once (Prefix), what does is re-run for each gain (Gain, then
// Rest). Rows are images and independent, so rows of Prefix outputs may
// be selected, cached and stacked. For an image, Rest(Gain(Prefix(x),
// α)) is bitwise Features(x) with α installed on the unit.
type Cut interface {
	// Prefix returns the cut for the batch x: [N,C,H,W] -> [N,Width()].
	Prefix(x *tensor.Tensor) *tensor.Tensor
	// Gain returns h with gain ([Channels] of the unit, nil for none)
	// applied to the unit as its ReLU would; h is not modified.
	Gain(h *tensor.Tensor, gain []float32) *tensor.Tensor
	// Rest runs the rest of the graph from Gain's rows to the readout
	// features: [N,Width()] -> [N,F].
	Rest(y *tensor.Tensor) *tensor.Tensor
	// Features runs the whole graph to the readout features, with the
	// gains installed: [N,C,H,W] -> [N,F].
	Features(x *tensor.Tensor) *tensor.Tensor
	// FLOPs returns the floating-point operations per image of Prefix
	// and of Rest.
	FLOPs() (prefix, suffix float64)
	// Width is the number of values per image of the cut.
	Width() int
	// Peak is the most values per image of any activation the graph
	// makes up to the features.
	Peak() int
}
