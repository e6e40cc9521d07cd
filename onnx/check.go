package onnx

import (
	"fmt"
	"slices"
	"strings"
)

// Opset versions of the default domain this package reads. The
// operators it supports kept their meaning across them, apart from the
// differences the operator checks handle (Clip's bounds as inputs from
// 11, Dropout's ratio input from 12, BatchNormalization's training_mode
// from 14, Reshape's allowzero from 14).
const (
	MinOpset = 11
	MaxOpset = 17
)

// opSpec is what the reader accepts of one operator: its input and
// output counts and its attributes with their types. Attribute values
// are checked when a Net is built from the model.
type opSpec struct {
	minIn, maxIn   int
	minOut, maxOut int
	attrs          map[string]AttrType
}

// ops lists the supported operators of the default domain.
var ops = map[string]opSpec{
	"Conv": {2, 3, 1, 1, map[string]AttrType{
		"auto_pad": AttrString, "dilations": AttrInts, "group": AttrInt,
		"kernel_shape": AttrInts, "pads": AttrInts, "strides": AttrInts}},
	"BatchNormalization": {5, 5, 1, 3, map[string]AttrType{
		"epsilon": AttrFloat, "momentum": AttrFloat, "training_mode": AttrInt}},
	"Relu": {1, 1, 1, 1, nil},
	"Clip": {1, 3, 1, 1, nil},
	"Add":  {2, 2, 1, 1, nil},
	"Concat": {1, 1 << 20, 1, 1, map[string]AttrType{
		"axis": AttrInt}},
	"MaxPool": {1, 1, 1, 1, map[string]AttrType{
		"auto_pad": AttrString, "ceil_mode": AttrInt, "dilations": AttrInts,
		"kernel_shape": AttrInts, "pads": AttrInts, "storage_order": AttrInt, "strides": AttrInts}},
	"AveragePool": {1, 1, 1, 1, map[string]AttrType{
		"auto_pad": AttrString, "ceil_mode": AttrInt, "count_include_pad": AttrInt,
		"kernel_shape": AttrInts, "pads": AttrInts, "strides": AttrInts}},
	"GlobalAveragePool": {1, 1, 1, 1, nil},
	"Flatten":           {1, 1, 1, 1, map[string]AttrType{"axis": AttrInt}},
	"Reshape":           {2, 2, 1, 1, map[string]AttrType{"allowzero": AttrInt}},
	"Gemm": {2, 3, 1, 1, map[string]AttrType{
		"alpha": AttrFloat, "beta": AttrFloat, "transA": AttrInt, "transB": AttrInt}},
	"MatMul":   {2, 2, 1, 1, nil},
	"Dropout":  {1, 3, 1, 2, map[string]AttrType{"ratio": AttrFloat, "seed": AttrInt}},
	"Identity": {1, 1, 1, 1, nil},
	"Pad":      {2, 3, 1, 1, map[string]AttrType{"mode": AttrString}},
	"Constant": {0, 0, 1, 1, map[string]AttrType{"value": AttrTensor}},
}

// SupportedOps returns the supported operators of the default domain, in
// alphabetical order.
func SupportedOps() []string {
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// check validates a decoded model: opsets, the graph's names, every
// node's operator and attributes, every initializer's data (done while
// decoding), and sorts the nodes topologically.
func (m *Model) check() error {
	if m.functions > 0 {
		return errf(ErrUnsupported, "the model defines %d local functions", m.functions)
	}
	v, ok := m.Opsets[""]
	if !ok {
		return errf(ErrFormat, "the model imports no ai.onnx opset")
	}
	if v < MinOpset || v > MaxOpset {
		return errf(ErrUnsupported, "opset %d (this package reads %d to %d)", v, MinOpset, MaxOpset)
	}
	g := m.Graph
	if g.sparse > 0 {
		return errf(ErrUnsupported, "the graph has %d sparse initializers", g.sparse)
	}
	// Where each value comes from: an initializer, a graph input, or a
	// node's output. Names must be unique among producers.
	made := map[string]int{} // value -> producing node index, or -1
	for _, t := range g.Initializers {
		if t.Name == "" {
			return errf(ErrFormat, "an initializer has no name")
		}
		if _, dup := made[t.Name]; dup {
			return errf(ErrFormat, "initializer %s is defined twice", quote(t.Name))
		}
		made[t.Name] = -1
	}
	for _, in := range g.Inputs {
		if in.Name == "" {
			return errf(ErrFormat, "a graph input has no name")
		}
		made[in.Name] = -1 // an input may repeat an initializer
	}
	for i, n := range g.Nodes {
		if err := checkNode(n); err != nil {
			return wrapf(err, "node %s", n)
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue // an optional output left out
			}
			if j, dup := made[out]; dup {
				what := "a graph input or initializer"
				if j >= 0 {
					what = "node " + g.Nodes[j].String()
				}
				return wrapf(errf(ErrFormat, "output %s is also made by %s", quote(out), what), "node %s", n)
			}
			made[out] = i
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if _, ok := made[in]; !ok && in != "" {
				return wrapf(errf(ErrFormat, "input %s is made by no node, initializer or graph input", quote(in)), "node %s", n)
			}
		}
	}
	if len(g.Outputs) == 0 {
		return errf(ErrFormat, "the graph has no outputs")
	}
	for _, out := range g.Outputs {
		if _, ok := made[out.Name]; !ok {
			return errf(ErrFormat, "graph output %s is made by no node", quote(out.Name))
		}
	}
	sorted, err := topoSort(g.Nodes, made)
	if err != nil {
		return err
	}
	g.Nodes = sorted
	return nil
}

// checkNode checks a node's operator, arity and attribute types.
func checkNode(n *Node) error {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return errf(ErrUnsupported, "operator %s of domain %s (only the default ai.onnx domain is supported)", quote(n.OpType), quote(n.Domain))
	}
	spec, ok := ops[n.OpType]
	if !ok {
		return errf(ErrUnsupported, "operator %s (supported: %s)", quote(n.OpType), strings.Join(SupportedOps(), ", "))
	}
	if len(n.Inputs) < spec.minIn || len(n.Inputs) > spec.maxIn {
		return errf(ErrFormat, "%s has %d inputs, want %s", n.OpType, len(n.Inputs), countRange(spec.minIn, spec.maxIn))
	}
	if len(n.Outputs) < spec.minOut || len(n.Outputs) > spec.maxOut {
		return errf(ErrFormat, "%s has %d outputs, want %s", n.OpType, len(n.Outputs), countRange(spec.minOut, spec.maxOut))
	}
	for i, in := range n.Inputs {
		if in == "" && i < spec.minIn {
			return errf(ErrFormat, "%s input %d is required but empty", n.OpType, i)
		}
	}
	if n.Outputs[0] == "" {
		return errf(ErrFormat, "%s output 0 has no name", n.OpType)
	}
	seen := map[string]bool{}
	for _, a := range n.Attrs {
		if seen[a.Name] {
			return errf(ErrFormat, "attribute %s is given twice", quote(a.Name))
		}
		seen[a.Name] = true
		want, ok := spec.attrs[a.Name]
		if !ok {
			return errf(ErrUnsupported, "%s attribute %s", n.OpType, quote(a.Name))
		}
		if len(a.other) > 0 || a.Type != want {
			return errf(ErrFormat, "%s attribute %s has type %v, want %v", n.OpType, quote(a.Name), a.Type, want)
		}
		if want == AttrTensor && a.T == nil {
			return errf(ErrFormat, "%s attribute %s holds no tensor", n.OpType, quote(a.Name))
		}
	}
	if n.OpType == "Constant" && n.Attr("value") == nil {
		return errf(ErrUnsupported, "Constant without a tensor value")
	}
	return nil
}

func countRange(lo, hi int) string {
	switch {
	case lo == hi:
		return fmt.Sprint(lo)
	case hi >= 1<<20:
		return fmt.Sprintf("at least %d", lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// topoSort orders nodes so each follows the producers of its inputs
// (Kahn's algorithm, taking the earliest ready node in file order, so a
// file already in order is kept as it is). A cycle is an error naming a
// node on it.
func topoSort(nodes []*Node, made map[string]int) ([]*Node, error) {
	users := make([][]int, len(nodes)) // producer -> consumers (with repeats)
	waiting := make([]int, len(nodes)) // unmet inputs per node
	for i, n := range nodes {
		for _, in := range n.Inputs {
			if p, ok := made[in]; ok && p >= 0 && in != "" {
				users[p] = append(users[p], i)
				waiting[i]++
			}
		}
	}
	// A min-heap would be O(n log n); a sorted ready list is fine for the
	// few thousand nodes of a CNN, and inserting keeps file order.
	var ready []int
	for i := range nodes {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	out := make([]*Node, 0, len(nodes))
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		out = append(out, nodes[i])
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				j, _ := slices.BinarySearch(ready, u)
				ready = slices.Insert(ready, j, u)
			}
		}
	}
	if len(out) < len(nodes) {
		// Walk back along unmet inputs from a stuck node until a node
		// repeats: that node is on a cycle.
		i := 0
		for waiting[i] == 0 {
			i++
		}
		seen := map[int]bool{}
		for !seen[i] {
			seen[i] = true
			for _, in := range nodes[i].Inputs {
				if p, ok := made[in]; ok && p >= 0 && waiting[p] > 0 {
					i = p
					break
				}
			}
		}
		var names []string
		j := i
		for {
			names = append(names, nodes[j].String())
			for _, in := range nodes[j].Inputs {
				if p, ok := made[in]; ok && p >= 0 && waiting[p] > 0 {
					j = p
					break
				}
			}
			if j == i {
				break
			}
			if len(names) == 8 {
				names = append(names, "...")
				break
			}
		}
		// names runs against the data flow, from node i; turned round and
		// started at i, it follows the flow back to i.
		slices.Reverse(names)
		names = append([]string{nodes[i].String()}, names...)
		return nil, errf(ErrFormat, "the graph has a cycle through node %s (%s)", nodes[i], strings.Join(names, " -> "))
	}
	return out, nil
}
