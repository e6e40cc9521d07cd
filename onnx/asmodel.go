package onnx

import (
	"fmt"
	"strings"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// AsModel returns n as an nn.Model (with n as its Graph) under the
// architecture name arch, so that package selectivity records it and
// package manipulate manipulates it as it does VGG-16. Gains, hooks and
// the suffix re-runs act on n itself.
//
// Its units are n's Units, in topological order, named by UnitNames: the
// torchvision module path where the export keeps it ("layer3.1.relu";
// the second call of a ResNet block's one ReLU module is "relu_1"), else
// the node's name with its scopes joined by dots, else "unit<i>".
func (n *Net) AsModel(arch string) *nn.Model {
	g := &graph{n: n, names: UnitNames(n.Units)}
	m := &nn.Model{Arch: arch, Graph: g, Net: nn.NewSequential().Append("graph", g)}
	for i, u := range n.Units {
		m.Units = append(m.Units, nn.Unit{Name: g.names[i], Conv: u.Conv, Layer: i, ReLU: i, Channels: u.Channels})
	}
	return m
}

// UnitNames returns a name for each unit that is unique and safe in a
// file name (letters, digits, '.', '_', '-'): its Module if set, else its
// node's name without the leading '/' and with '/' as '.', else
// "unit<i>"; any other character becomes '_', and a name already taken
// gets "_<i>" appended.
func UnitNames(units []Unit) []string {
	out := make([]string, len(units))
	seen := map[string]bool{}
	for i, u := range units {
		name := u.Module
		if name == "" {
			name = strings.ReplaceAll(strings.TrimPrefix(u.Node, "/"), "/", ".")
		}
		name = strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
				return r
			}
			return '_'
		}, name)
		if name == "" || strings.Trim(name, ".") != name {
			name = fmt.Sprintf("unit%d", i)
		}
		if seen[name] {
			name = fmt.Sprintf("%s_%d", name, i)
		}
		seen[name] = true
		out[i] = name
	}
	return out
}

// graph is a Net as an nn.Graph.
type graph struct {
	n     *Net
	names []string // the nn unit names, by unit
}

// Forward implements nn.Layer and nn.Graph.
func (g *graph) Forward(x *tensor.Tensor) *tensor.Tensor { return g.n.Forward(x) }

// ReLU implements nn.Graph.
func (g *graph) ReLU(i int) *nn.ReLU { return g.n.relus[i] }

// StateDict implements nn.Graph: the float initializers under their names
// (the graph's own tensors: read them only).
func (g *graph) StateDict() nn.StateDict {
	sd := nn.StateDict{}
	for _, t := range g.n.Model.Graph.Initializers {
		if t.Floats != nil {
			sd[t.Name] = tensor.From(t.Floats, t.Shape()...)
		}
	}
	return sd
}

// String implements nn.Graph: the input shape, then one line per
// compiled step, "op node -> unit" for a unit's step.
func (g *graph) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Graph(input %v\n", g.n.inDims[1:])
	unit := map[int]string{}
	for i, v := range g.n.uvals {
		unit[v] = g.names[i]
	}
	for _, st := range g.n.steps {
		fmt.Fprintf(&b, "  %s %s %v", st.node.OpType, st.node, g.n.shapes[st.out][1:])
		if u, ok := unit[st.out]; ok {
			fmt.Fprintf(&b, " -> %s", u)
		}
		b.WriteString("\n")
	}
	b.WriteString(")")
	return b.String()
}

// Cut implements nn.Graph, with the nn unit names.
func (g *graph) Cut(unit, features string) nn.Cut {
	return g.n.NewCut(g.unit(unit), g.unit(features))
}

func (g *graph) unit(name string) string {
	for i, s := range g.names {
		if s == name {
			return g.n.Units[i].Name
		}
	}
	panic(fmt.Sprintf("onnx: the graph has no unit %q", name))
}

// Randomize re-initialises m's parameters from seed as the native
// untrained control does (torchvision's VGG._initialize_weights, which
// ResNet's matches for convolutions): every Conv weight
// kaiming_normal_(mode="fan_out", nonlinearity="relu"), Conv biases 0,
// Gemm and MatMul weights N(0, 0.01²) and biases 0, BatchNormalization
// scale 1, bias 0, running mean 0 and variance 1. Parameters are drawn in
// node order, each initializer once (shared weights stay shared). An
// export that folded BatchNormalization into the convolutions (torch.onnx
// may) comes out the same: a kaiming Conv with bias 0 is what a kaiming
// Conv followed by an identity BatchNormalization computes. Call it
// before NewNet, which compiles the parameters.
func (m *Model) Randomize(seed uint64) {
	rng := tensor.NewRNG(seed)
	done := map[*Tensor]bool{}
	param := func(n *Node, i int) *Tensor {
		if i >= len(n.Inputs) {
			return nil
		}
		t := m.Graph.Initializer(n.Inputs[i])
		if t == nil || t.Floats == nil || done[t] {
			return nil
		}
		done[t] = true
		return t
	}
	fill := func(t *Tensor, v float32) {
		for i := range t.Floats {
			t.Floats[i] = v
		}
	}
	for _, n := range m.Graph.Nodes {
		switch n.OpType {
		case "Conv":
			if w := param(n, 1); w != nil {
				wt := tensor.From(w.Floats, w.Shape()...)
				rng.KaimingNormalFanOut(wt)
			}
			if b := param(n, 2); b != nil {
				fill(b, 0)
			}
		case "Gemm", "MatMul":
			if w := param(n, 1); w != nil {
				rng.Normal(tensor.From(w.Floats, w.Len()), 0, 0.01)
			}
			if n.OpType == "Gemm" {
				if b := param(n, 2); b != nil {
					fill(b, 0)
				}
			}
		case "BatchNormalization":
			for i, v := range []float32{1, 0, 0, 1} {
				if t := param(n, i+1); t != nil {
					fill(t, v)
				}
			}
		}
	}
}

// LoadRandom is LoadFile, Randomize(seed) and NewNet: the graph of the
// file at path with the untrained control's parameters.
func LoadRandom(path string, seed uint64) (*Net, error) {
	m, err := LoadFile(path)
	if err != nil {
		return nil, err
	}
	m.Randomize(seed)
	n, err := newNet(m, false)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return n, nil
}

var (
	_ nn.Graph = (*graph)(nil)
	_ nn.Cut   = (*Cut)(nil)
)
