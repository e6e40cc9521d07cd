package onnx

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// Net runs a decoded model's graph on this module's engine. It is built
// once by NewNet, which checks every operator's attributes and constant
// inputs, infers every value's shape from the graph input's declared
// shape, folds BatchNormalization into the convolution before it, fuses a
// convolution with the ReLU after it, and names the units.
type Net struct {
	Model *Model
	// Units are the graph's ReLU outputs (Relu nodes, and Clip nodes with
	// a lower bound of 0, such as ReLU6) in topological order.
	Units []Unit

	relus  []*nn.ReLU // one per unit
	uvals  []int      // each unit's value index
	steps  []*step
	nvals  int
	input  int   // value index of the data input
	output int   // value index of the graph output
	inDims []int // declared input shape; inDims[0] is any batch
	last   []int // step index after which each value is dead (-1: never read)
	peak   int   // the most elements of any value, at the declared batch

	// shapes is each value's shape at the declared input shape (nil
	// for a constant), for Cut.
	shapes [][]int
	mem    memPlan
	// weights are the initializers that compiled steps copied (Conv and
	// Gemm weights), which LoadNet releases.
	weights []*Tensor
}

// memPlan says when Forward may hand a value's buffer back to
// tensor.Scratch. Views (Identity, Dropout, Flatten, Reshape) share their
// input's buffer, so a buffer belongs to its root value and dies after the
// last step that reads the root or any view of it.
type memPlan struct {
	root []int   // each value's root: itself, or the root of the value it views
	free [][]int // roots whose buffers are dead after each step
	// reuse[i] is the input of step i (0 or 1) whose buffer the step may
	// overwrite with its output, or -1: that input's root dies at step i
	// and the step has a runInPlace.
	reuse []int
}

// Unit is one ReLU of a Net: its channels are the "neurons" recorded and
// manipulated, like nn.Unit for the sequential networks.
type Unit struct {
	// Name is the graph value the ReLU writes, e.g.
	// "/layer3/layer3.1/relu/Relu_output_0" (torch.onnx ≥ 1.13) or "123"
	// (older exporters): unique in the graph.
	Name string
	// Module is the torchvision-style module path derived from the node's
	// scoped name ("layer3.1.relu"; a module called twice gets torch's
	// suffix on its second call, "layer3.1.relu_1"), or "" when the node
	// name carries no scope (older exporters, functional calls at the top
	// level such as DenseNet's final F.relu).
	Module   string
	Node     string // the node's name
	Op       string // "Relu" or "Clip"
	Channels int
	Conv     bool // the output is [N,C,H,W]; false for [N,C]
}

// step is one operation of the compiled graph, reading ins and writing
// value out.
type step struct {
	node *Node
	ins  []int
	out  int
	run  func(ins []*tensor.Tensor) *tensor.Tensor
	// view: run returns ins[0] or a view of its buffer (an alias, Flatten,
	// Reshape).
	view bool
	// runInPlace, when set, is run writing its output into the buffer of
	// ins[k] (same shape as the output), which nothing reads afterwards.
	// It gives the same bits as run.
	runInPlace func(ins []*tensor.Tensor, k int) *tensor.Tensor
}

// builder holds what NewNet knows while compiling.
type builder struct {
	m      *Model
	g      *Graph
	index  map[string]int     // value name -> index
	shapes map[int][]int      // static shape of each value
	consts map[int]*Tensor    // constant values (initializers, Constant, Identity of one)
	users  map[string][]*Node // consumers of each value
	outs   map[string]bool    // graph outputs
	done   map[*Node]bool     // nodes absorbed into an earlier step
	err    error              // the first value too large, from emit
	net    *Net
	// own: the caller (LoadNet) releases the Conv weights after
	// compiling, so a weight that one node alone reads may be folded
	// and packed in place instead of copied first.
	own bool
}

// owns reports whether the builder may overwrite initializer t's data.
func (b *builder) owns(t *Tensor) bool {
	return b.own && len(b.users[t.Name]) == 1 && !b.outs[t.Name]
}

// NewNet compiles m's graph. The graph must have one data input with a
// declared shape [N,C,H,W] or [N,F] (N may be symbolic) and one output.
// Errors wrap ErrFormat or ErrUnsupported and name the node.
func NewNet(m *Model) (*Net, error) {
	n, err := newNet(m, false)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return n, nil
}

// LoadNet is LoadFile followed by NewNet; errors name the file. To save
// memory, the Model it returns in Net.Model has the data of the Conv and
// Gemm/MatMul weight initializers released (their Floats are nil: the Net
// holds those weights in its own forms); use LoadFile and NewNet to keep
// them.
func LoadNet(path string) (*Net, error) {
	m, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	n, err := newNet(m, true)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	// The Net holds the weights in its own forms (folded, packed); the
	// decoded copies would only double the memory.
	for _, t := range n.weights {
		t.Floats = nil
	}
	n.weights = nil
	return n, nil
}

// newNet compiles m; with own, m's Conv weights may be overwritten (see
// builder.own).
func newNet(m *Model, own bool) (*Net, error) {
	g := m.Graph
	b := &builder{m: m, g: g, index: map[string]int{}, shapes: map[int][]int{},
		consts: map[int]*Tensor{}, users: map[string][]*Node{}, outs: map[string]bool{},
		done: map[*Node]bool{}, net: &Net{Model: m}, own: own}
	for _, t := range g.Initializers {
		b.consts[b.value(t.Name)] = t
	}
	ins := g.DataInputs()
	if len(ins) != 1 {
		return nil, errf(ErrUnsupported, "the graph has %d data inputs, want 1", len(ins))
	}
	if len(g.Outputs) != 1 {
		return nil, errf(ErrUnsupported, "the graph has %d outputs, want 1", len(g.Outputs))
	}
	in := ins[0]
	if in.ElemType != Float {
		return nil, errf(ErrUnsupported, "input %s has type %v, want FLOAT", quote(in.Name), in.ElemType)
	}
	if len(in.Shape) != 4 && len(in.Shape) != 2 {
		return nil, errf(ErrUnsupported, "input %s has shape %s, want [N,C,H,W] or [N,F]", quote(in.Name), dimString(in.Shape))
	}
	dims := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		switch {
		case d.Value > 0 && d.Value <= 1<<20:
			dims[i] = int(d.Value)
		case i == 0 && d.Value < 0:
			dims[i] = 1 // a symbolic batch
		default:
			return nil, errf(ErrUnsupported, "input %s has shape %s: every dimension but the batch must be a size from 1 to 2^20", quote(in.Name), dimString(in.Shape))
		}
	}
	if _, ok := elems(dims); !ok {
		return nil, errf(ErrUnsupported, "input %s is %v, more than 2^31 elements", quote(in.Name), dims)
	}
	b.net.inDims = dims
	b.net.input = b.value(in.Name)
	b.shapes[b.net.input] = dims
	b.outs[g.Outputs[0].Name] = true
	for _, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != "" {
				b.users[v] = append(b.users[v], n)
			}
		}
	}
	for _, n := range g.Nodes {
		if b.done[n] {
			continue
		}
		if err := b.node(n); err != nil {
			return nil, wrapf(err, "node %s", n)
		}
		if b.err != nil {
			return nil, wrapf(b.err, "node %s", n)
		}
	}
	out, ok := b.index[g.Outputs[0].Name]
	if !ok || b.shapes[out] == nil {
		return nil, errf(ErrFormat, "graph output %s is not computed from the input", quote(g.Outputs[0].Name))
	}
	if _, c := b.consts[out]; c {
		return nil, errf(ErrUnsupported, "graph output %s is a constant", quote(g.Outputs[0].Name))
	}
	net := b.net
	net.output = out
	net.nvals = len(b.index)
	net.last = make([]int, net.nvals)
	for i := range net.last {
		net.last[i] = -1
	}
	for i, s := range net.steps {
		for _, v := range s.ins {
			net.last[v] = i
		}
	}
	net.last[out] = len(net.steps)
	net.shapes = make([][]int, net.nvals)
	for v, s := range b.shapes {
		net.shapes[v] = s
	}
	net.mem = planMemory(net)
	return net, nil
}

// planMemory finds each value's root buffer, the step after which each
// root is dead, and the inputs that in-place steps may overwrite. The
// graph input's buffer (the caller's) and the output's are never freed.
func planMemory(net *Net) memPlan {
	p := memPlan{root: make([]int, net.nvals), free: make([][]int, len(net.steps)), reuse: make([]int, len(net.steps))}
	for v := range p.root {
		p.root[v] = v
	}
	def := make([]int, net.nvals) // the step that writes each value
	for i, st := range net.steps {
		def[st.out] = i
		if st.view {
			p.root[st.out] = p.root[st.ins[0]]
		}
	}
	dies := make([]int, net.nvals) // per root: the last step reading it or a view
	for v := range dies {
		dies[v] = -1
	}
	for v := range net.last {
		r := p.root[v]
		dies[r] = max(dies[r], net.last[v], def[v])
	}
	keep := func(r int) bool { return r == p.root[net.input] || r == p.root[net.output] }
	for i, st := range net.steps {
		if r := st.out; p.root[r] == r && !keep(r) && dies[r] >= 0 {
			p.free[dies[r]] = append(p.free[dies[r]], r)
		}
		p.reuse[i] = -1
		if st.runInPlace == nil || len(st.ins) != 2 {
			continue
		}
		r0, r1 := p.root[st.ins[0]], p.root[st.ins[1]]
		for k, r := range []int{r0, r1} {
			if r0 != r1 && dies[r] == i && !keep(r) {
				p.reuse[i] = k
				break
			}
		}
	}
	return p
}

// elems returns the element count of shape, false past 2^31.
func elems(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 || d > 0 && n > (1<<31)/d {
			return 0, false
		}
		n *= d
	}
	return n, n <= 1<<31
}

func dimString(ds []Dim) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		switch {
		case d.Value >= 0:
			parts[i] = fmt.Sprint(d.Value)
		case d.Param != "":
			parts[i] = quote(d.Param)
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// value returns the index of a named value, making one if needed.
func (b *builder) value(name string) int {
	if i, ok := b.index[name]; ok {
		return i
	}
	i := len(b.index)
	b.index[name] = i
	return i
}

// operand returns the index and static shape of a node's i-th input,
// which must be computed from the data input (not a constant).
func (b *builder) operand(n *Node, i int) (int, []int, error) {
	name := n.Inputs[i]
	v, ok := b.index[name]
	if ok {
		if _, c := b.consts[v]; c {
			return 0, nil, errf(ErrUnsupported, "input %d (%s) is a constant; this package computes %s only on data", i, quote(name), n.OpType)
		}
		if s := b.shapes[v]; s != nil {
			return v, s, nil
		}
	}
	return 0, nil, errf(ErrFormat, "input %s is not computed from the graph input", quote(name))
}

// constant returns a node's i-th input as a constant, or nil if the input
// is absent.
func (b *builder) constant(n *Node, i int) (*Tensor, error) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, nil
	}
	v, ok := b.index[n.Inputs[i]]
	if t := b.consts[v]; ok && t != nil {
		return t, nil
	}
	return nil, errf(ErrUnsupported, "%s input %d (%s) must be an initializer or a constant", n.OpType, i, quote(n.Inputs[i]))
}

// floats returns a constant input as float32 values with the given
// shape check.
func (b *builder) floats(n *Node, i int, what string, shape ...int) ([]float32, error) {
	t, err := b.constant(n, i)
	if err != nil || t == nil {
		return nil, err
	}
	if t.Floats == nil {
		return nil, errf(ErrFormat, "%s %s has type %v, want a float type", what, quote(t.Name), t.DataType)
	}
	if shape != nil && !slices.Equal(t.Shape(), shape) {
		return nil, errf(ErrFormat, "%s %s is %v, want %v", what, quote(t.Name), t.Shape(), shape)
	}
	return t.Floats, nil
}

// only returns the single consumer of value name if it has exactly one
// and name is not a graph output.
func (b *builder) only(name string) *Node {
	if u := b.users[name]; len(u) == 1 && !b.outs[name] {
		return u[0]
	}
	return nil
}

// emit adds a step writing the node's output out with the given shape.
func (b *builder) emit(n *Node, ins []int, out string, shape []int, run func([]*tensor.Tensor) *tensor.Tensor) {
	o := b.value(out)
	b.shapes[o] = shape
	size, ok := elems(shape)
	if !ok && b.err == nil {
		b.err = errf(ErrUnsupported, "output %s is %v, more than 2^31 elements", quote(out), shape)
	}
	b.net.peak = max(b.net.peak, size)
	b.net.steps = append(b.net.steps, &step{node: n, ins: ins, out: o, run: run})
}

// alias makes value out the same tensor as value in.
func (b *builder) alias(n *Node, in int, out string) {
	b.emit(n, []int{in}, out, b.shapes[in], func(x []*tensor.Tensor) *tensor.Tensor { return x[0] })
	b.net.steps[len(b.net.steps)-1].view = true
}

// unit registers a ReLU unit written by node n to value out.
func (b *builder) unit(n *Node, out string, shape []int) *nn.ReLU {
	r := &nn.ReLU{}
	b.net.Units = append(b.net.Units, Unit{
		Name: out, Module: ModulePath(n.Name), Node: n.Name, Op: n.OpType,
		Channels: shape[1], Conv: len(shape) == 4,
	})
	b.net.relus = append(b.net.relus, r)
	b.net.uvals = append(b.net.uvals, b.value(out))
	return r
}

// ModulePath derives a torchvision-style module path from the scoped node
// name torch.onnx (≥ 1.13) writes: "/layer3/layer3.1/relu/Relu" gives
// "layer3.1.relu", "/features/denseblock1/denselayer2/relu1/Relu" gives
// "features.denseblock1.denselayer2.relu1". Each scope is either the
// full path (it extends the previous one, "layer3.1" after "layer3") or
// the attribute name within it. A name with no scope gives "".
func ModulePath(node string) string {
	if !strings.HasPrefix(node, "/") {
		return ""
	}
	parts := strings.Split(node[1:], "/")
	q := ""
	for _, p := range parts[:len(parts)-1] {
		switch {
		case p == "":
		case q == "" || strings.HasPrefix(p, q+"."):
			q = p
		default:
			q += "." + p
		}
	}
	return q
}

// Unit returns the unit with the given Name or Module.
func (n *Net) Unit(name string) (Unit, bool) {
	if i := n.unitIndex(name); i >= 0 {
		return n.Units[i], true
	}
	return Unit{}, false
}

func (n *Net) unitIndex(name string) int {
	for i, u := range n.Units {
		if u.Name == name {
			return i
		}
	}
	for i, u := range n.Units {
		if u.Module == name && name != "" {
			return i
		}
	}
	return -1
}

// ReLUOf returns the ReLU of the named unit (by Name or Module), whose
// Gain and Record act as in a sequential nn.Model; it panics if there is
// none.
func (n *Net) ReLUOf(name string) *nn.ReLU {
	i := n.unitIndex(name)
	if i < 0 {
		panic(fmt.Sprintf("onnx: the graph has no unit %q", name))
	}
	return n.relus[i]
}

// SetGain installs a per-channel gain α ([Channels], nil for a plain
// ReLU) on the named unit: y = (1+α_c)·relu(x), or (1+α_c)·clip(x, 0, max)
// for a ReLU6.
func (n *Net) SetGain(name string, alpha []float32) {
	i := n.unitIndex(name)
	if i < 0 {
		panic(fmt.Sprintf("onnx: the graph has no unit %q", name))
	}
	if alpha != nil && len(alpha) != n.Units[i].Channels {
		panic(fmt.Sprintf("onnx: gain for %s has %d values, unit has %d channels", name, len(alpha), n.Units[i].Channels))
	}
	n.relus[i].Gain = alpha
}

// ClearGains removes every unit's gain.
func (n *Net) ClearGains() {
	for _, r := range n.relus {
		r.Gain = nil
	}
}

// Record installs fn as the recording hook on every unit (nil removes
// them): during each Forward, fn receives each unit's [N, Channels]
// spatial means of its output (after the gain), in topological order,
// under the unit's Name.
func (n *Net) Record(fn func(unit string, means *tensor.Tensor)) {
	for i, r := range n.relus {
		if fn == nil {
			r.Record = nil
			continue
		}
		name := n.Units[i].Name
		r.Record = func(means *tensor.Tensor) { fn(name, means) }
	}
}

// InputShape returns the declared input shape; the first entry (the
// batch) may be anything in Forward.
func (n *Net) InputShape() []int { return slices.Clone(n.inDims) }

// Forward runs the graph on x, whose shape must be the declared input
// shape but for the batch, and returns the graph's output. It panics
// (naming both shapes) on another shape.
func (n *Net) Forward(x *tensor.Tensor) *tensor.Tensor {
	y, _ := n.forward(x, false)
	return y
}

// ForwardUnits is Forward that also returns each unit's full output, in
// the order of Units.
func (n *Net) ForwardUnits(x *tensor.Tensor) (*tensor.Tensor, []*tensor.Tensor) {
	return n.forward(x, true)
}

func (n *Net) forward(x *tensor.Tensor, keep bool) (*tensor.Tensor, []*tensor.Tensor) {
	s := x.Shape()
	if len(s) != len(n.inDims) || !slices.Equal(s[1:], n.inDims[1:]) || s[0] < 1 {
		want := slices.Clone(n.inDims)
		panic(fmt.Sprintf("onnx: input %v does not match the graph's input [N %v]", s, strings.Trim(fmt.Sprint(want[1:]), "[]")))
	}
	vals := make([]*tensor.Tensor, n.nvals)
	vals[n.input] = x
	// A dead value's buffer goes back to tensor.Scratch for later steps
	// (and later calls) to reuse, unless ForwardUnits returns it.
	var unitVals, keptRoot map[int]bool
	if keep {
		unitVals, keptRoot = map[int]bool{}, map[int]bool{}
		for _, v := range n.uvals {
			unitVals[v] = true
			keptRoot[n.mem.root[v]] = true
		}
	}
	ins := make([]*tensor.Tensor, 0, 8)
	for i, st := range n.steps {
		ins = ins[:0]
		for _, v := range st.ins {
			ins = append(ins, vals[v])
		}
		if k := n.mem.reuse[i]; k >= 0 && !keptRoot[n.mem.root[st.ins[k]]] {
			vals[st.out] = st.runInPlace(ins, k)
		} else {
			vals[st.out] = st.run(ins)
		}
		for _, v := range st.ins {
			if n.last[v] == i && n.mem.root[v] != v && !unitVals[v] {
				vals[v] = nil // a view; its root goes below
			}
		}
		for _, r := range n.mem.free[i] {
			if keptRoot[r] {
				continue
			}
			if t := vals[r]; t != nil && !t.SharesData(vals[st.out]) {
				tensor.Recycle(t)
			}
			vals[r] = nil
		}
	}
	var units []*tensor.Tensor
	if keep {
		for _, v := range n.uvals {
			units = append(units, vals[v])
		}
	}
	return vals[n.output], units
}

// clamp bounds for Clip and the lower bound of an unbounded one.
var (
	negInf = float32(math.Inf(-1))
	posInf = float32(math.Inf(1))
)
