package onnx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// Cut is a Net cut at one unit, for re-running what depends on that unit
// under many gains while computing the rest once. The graph's steps that
// the features value needs are split in two:
//
//   - the prefix: every step that does not depend on the unit, and the
//     unit's own step (for a residual block, the skip path is here);
//   - the suffix: every step that reads the unit's output, directly or
//     not.
//
// The cut is the unit's output without gain plus every value the prefix
// makes (or the graph input) that the suffix reads. Prefix packs it, one
// image per row, into [N,D]; Gain applies a per-channel gain to the unit's
// part of the rows as the unit's ReLU would, (1+α_c)·max(0, u); Rest runs
// the suffix from the rows. Rows are independent, so a caller may select,
// cache and stack rows of several Prefix calls. For a given image, Rest's
// output is bitwise that of Features with the gain installed on the unit
// (Net.SetGain), whatever the batch.
//
// The features are the output of a unit at or after the cut unit: an
// [N,C] unit as it is, an [N,C,H,W] one as its [N,C] spatial means (in
// float64, as GlobalAveragePool computes them), which for torchvision's
// ResNets, DenseNets and MobileNets is exactly the vector their final
// Linear reads.
type Cut struct {
	net      *Net
	unit     int   // index into Units
	feat     int   // index into Units of the features unit
	prefix   []int // step indices, in order
	suffix   []int
	vals     []int   // the cut's values; vals[0] is the unit's output
	shapes   [][]int // one image's shape of each ([C,H,W] or [C])
	sizes    []int   // one image's elements of each
	width    int     // sum of sizes
	pfree    [][]int // values dead after each prefix step
	sfree    [][]int
	featv    int // the features value
	prefixFL float64
	suffixFL float64
	peak     int // the most elements per image of any value the cut's steps make
}

// NewCut returns the cut of n at unit (a Unit's Name or Module) with the
// features of unit features. It panics if either unit is unknown or the
// features do not depend on unit (programmer misuse).
func (n *Net) NewCut(unit, features string) *Cut {
	ui, fi := n.unitIndex(unit), n.unitIndex(features)
	if ui < 0 {
		panic(fmt.Sprintf("onnx: the graph has no unit %q", unit))
	}
	if fi < 0 {
		panic(fmt.Sprintf("onnx: the graph has no features unit %q", features))
	}
	tr := n.trace()
	uv, fv := n.uvals[ui], n.uvals[fi]
	// dep: values computed from the unit's output; need: values the
	// features are computed from.
	dep := make([]bool, n.nvals)
	dep[uv] = true
	for _, st := range n.steps {
		for _, v := range st.ins {
			if dep[v] {
				dep[st.out] = true
			}
		}
	}
	if !dep[fv] {
		panic(fmt.Sprintf("onnx: features %s are not computed from unit %s", n.Units[fi].Name, n.Units[ui].Name))
	}
	need := make([]bool, n.nvals)
	need[fv] = true
	for i := len(n.steps) - 1; i >= 0; i-- {
		st := n.steps[i]
		if need[st.out] {
			for _, v := range st.ins {
				need[v] = true
			}
		}
	}
	c := &Cut{net: n, unit: ui, feat: fi, featv: fv}
	made := make([]bool, n.nvals) // by the prefix, or the input
	made[n.input] = true
	for i, st := range n.steps {
		if !need[st.out] {
			continue
		}
		fl := tr.flops[i]
		c.peak = max(c.peak, tr.size(st.out))
		if dep[st.out] && st.out != uv {
			c.suffix = append(c.suffix, i)
			c.suffixFL += fl
		} else {
			c.prefix = append(c.prefix, i)
			c.prefixFL += fl
			made[st.out] = true
		}
	}
	c.vals = []int{uv}
	for _, i := range c.suffix {
		for _, v := range n.steps[i].ins {
			if made[v] && v != uv && !slices.Contains(c.vals, v) {
				c.vals = append(c.vals, v)
			}
		}
	}
	slices.Sort(c.vals[1:])
	for _, v := range c.vals {
		c.shapes = append(c.shapes, tr.shapes[v][1:])
		c.sizes = append(c.sizes, tr.size(v))
		c.width += tr.size(v)
	}
	keep := make([]bool, n.nvals)
	for _, v := range c.vals {
		keep[v] = true
	}
	c.pfree = n.frees(c.prefix, keep)
	keep = make([]bool, n.nvals)
	keep[fv] = true
	c.sfree = n.frees(c.suffix, keep)
	return c
}

// frees returns, for each step of list, the values that no later step of
// list reads and that are not kept.
func (n *Net) frees(list []int, keep []bool) [][]int {
	last := map[int]int{}
	for k, i := range list {
		for _, v := range n.steps[i].ins {
			last[v] = k
		}
	}
	out := make([][]int, len(list))
	for v, k := range last {
		if !keep[v] {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// run executes the steps of list on vals, dropping each value after its
// last reader in list (free).
func (n *Net) run(list []int, free [][]int, vals []*tensor.Tensor) {
	ins := make([]*tensor.Tensor, 0, 8)
	for k, i := range list {
		st := n.steps[i]
		ins = ins[:0]
		for _, v := range st.ins {
			if vals[v] == nil {
				panic(fmt.Sprintf("onnx: step %s reads a value not computed", st.node))
			}
			ins = append(ins, vals[v])
		}
		vals[st.out] = st.run(ins)
		for _, v := range free[k] {
			vals[v] = nil
		}
	}
}

// Unit returns the cut unit.
func (c *Cut) Unit() Unit { return c.net.Units[c.unit] }

// Width returns D, the elements per image of the cut.
func (c *Cut) Width() int { return c.width }

// Peak returns the most elements per image of any value the prefix or
// the suffix makes.
func (c *Cut) Peak() int { return c.peak }

// FLOPs returns the floating-point operations per image of the prefix
// and the suffix (2 per multiply-add of a Conv, Gemm or MatMul).
func (c *Cut) FLOPs() (prefix, suffix float64) { return c.prefixFL, c.suffixFL }

// Prefix runs the prefix on x [N,C,H,W] and returns the cut, [N,D]. The
// gains and hooks installed on the Net act on the prefix's units; the
// cut unit must have no gain (it panics otherwise), so that its part of
// the cut is its output without gain.
func (c *Cut) Prefix(x *tensor.Tensor) *tensor.Tensor {
	n := c.net
	n.checkInput(x)
	if n.relus[c.unit].Gain != nil {
		panic(fmt.Sprintf("onnx: Prefix at unit %s, which has a gain installed", n.Units[c.unit].Name))
	}
	vals := make([]*tensor.Tensor, n.nvals)
	vals[n.input] = x
	n.run(c.prefix, c.pfree, vals)
	b := x.Dim(0)
	h := tensor.New(b, c.width)
	off := 0
	for k, v := range c.vals {
		src, sz := vals[v].Data(), c.sizes[k]
		for i := 0; i < b; i++ {
			copy(h.Data()[i*c.width+off:], src[i*sz:(i+1)*sz])
		}
		off += sz
	}
	return h
}

// Gain returns h [N,D] with gain ([C] of the unit, nil for none) applied
// to the unit's part of every row: (1+α_c)·max(0, u). h is not modified.
func (c *Cut) Gain(h *tensor.Tensor, gain []float32) *tensor.Tensor {
	b := c.rows(h)
	if gain != nil && len(gain) != c.net.Units[c.unit].Channels {
		panic(fmt.Sprintf("onnx: gain for %s has %d values, unit has %d channels", c.net.Units[c.unit].Name, len(gain), c.net.Units[c.unit].Channels))
	}
	y := h.Clone()
	if gain == nil {
		return y
	}
	u := c.unpack(h, 0)
	g := (&nn.ReLU{Gain: gain}).Forward(u)
	sz := c.sizes[0]
	for i := 0; i < b; i++ {
		copy(y.Data()[i*c.width:], g.Data()[i*sz:(i+1)*sz])
	}
	return y
}

// Rest runs the suffix from y [N,D] (Prefix rows, through Gain) and
// returns the features [N,F].
func (c *Cut) Rest(y *tensor.Tensor) *tensor.Tensor {
	c.rows(y)
	n := c.net
	vals := make([]*tensor.Tensor, n.nvals)
	for k, v := range c.vals {
		vals[v] = c.unpack(y, k)
	}
	n.run(c.suffix, c.sfree, vals)
	return features(vals[c.featv])
}

// Features runs x [N,C,H,W] through the whole graph to the features
// [N,F], with the gains installed on the Net.
func (c *Cut) Features(x *tensor.Tensor) *tensor.Tensor {
	n := c.net
	n.checkInput(x)
	vals := make([]*tensor.Tensor, n.nvals)
	vals[n.input] = x
	all := append(slices.Clone(c.prefix), c.suffix...)
	slices.Sort(all)
	keep := make([]bool, n.nvals)
	keep[c.featv] = true
	n.run(all, n.frees(all, keep), vals)
	return features(vals[c.featv])
}

// features returns an [N,C] value as it is and the [N,C] spatial means of
// an [N,C,...] one.
func features(v *tensor.Tensor) *tensor.Tensor {
	if v.Rank() == 2 {
		return v
	}
	n, ch := v.Dim(0), v.Dim(1)
	return channelMeans(v.Reshape(n, ch, v.Len()/max(1, n*ch), 1))
}

// rows checks that t is [N,D] and returns N.
func (c *Cut) rows(t *tensor.Tensor) int {
	if t.Rank() != 2 || t.Dim(1) != c.width {
		panic(fmt.Sprintf("onnx: cut rows %v, want [N %d] (cut at %s)", t.Shape(), c.width, c.net.Units[c.unit].Name))
	}
	return t.Dim(0)
}

// unpack copies the k-th value of the cut out of rows h.
func (c *Cut) unpack(h *tensor.Tensor, k int) *tensor.Tensor {
	b := h.Dim(0)
	off := 0
	for _, s := range c.sizes[:k] {
		off += s
	}
	sz := c.sizes[k]
	t := tensor.New(append([]int{b}, c.shapes[k]...)...)
	for i := 0; i < b; i++ {
		copy(t.Data()[i*sz:(i+1)*sz], h.Data()[i*c.width+off:i*c.width+off+sz])
	}
	return t
}

// checkInput panics unless x has the declared input shape but for the
// batch.
func (n *Net) checkInput(x *tensor.Tensor) {
	s := x.Shape()
	if len(s) != len(n.inDims) || !slices.Equal(s[1:], n.inDims[1:]) || s[0] < 1 {
		panic(fmt.Sprintf("onnx: input %v does not match the graph's input [N %v]", s, strings.Trim(fmt.Sprint(n.inDims[1:]), "[]")))
	}
}

// netTrace is one image's shape of every value and the FLOPs of every
// step.
type netTrace struct {
	shapes [][]int // by value; nil for values never computed
	flops  []float64
}

func (t netTrace) size(v int) int {
	n := 1
	for _, d := range t.shapes[v][1:] {
		n *= d
	}
	return n
}

// trace returns one image's shape of every value and the FLOPs of every
// step.
func (n *Net) trace() netTrace {
	tr := netTrace{shapes: make([][]int, n.nvals), flops: make([]float64, len(n.steps))}
	for v, s := range n.shapes {
		if s != nil {
			s = slices.Clone(s)
			s[0] = 1
			tr.shapes[v] = s
		}
	}
	for i, st := range n.steps {
		out := tr.size(st.out)
		switch st.node.OpType {
		case "Conv":
			// 2 per multiply-add: output elements × weight elements per
			// output channel.
			if w := n.Model.Graph.Initializer(st.node.Inputs[1]); w != nil && len(w.Dims) == 4 && w.Dims[0] > 0 {
				tr.flops[i] = 2 * float64(out) * float64(w.Len()/int(w.Dims[0]))
			}
		case "Gemm", "MatMul":
			tr.flops[i] = 2 * float64(out) * float64(tr.shapes[st.ins[0]][1])
		}
	}
	return tr
}
