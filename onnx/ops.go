package onnx

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// This file compiles each supported operator into a step, checking its
// attributes and constant inputs and computing its output shape.

func attrInt(n *Node, name string, def int64) int64 {
	if a := n.Attr(name); a != nil {
		return a.I
	}
	return def
}

func attrFloat(n *Node, name string, def float32) float32 {
	if a := n.Attr(name); a != nil {
		return a.F
	}
	return def
}

func attrString(n *Node, name, def string) string {
	if a := n.Attr(name); a != nil {
		return a.S
	}
	return def
}

// attrInts returns an INTS attribute of length want (or def when absent),
// each value in [lo, hi].
func attrInts(n *Node, name string, want int, def []int, lo, hi int64) ([]int, error) {
	a := n.Attr(name)
	if a == nil {
		return def, nil
	}
	if len(a.Ints) != want {
		return nil, errf(ErrUnsupported, "%s %s %v has %d values, want %d", n.OpType, name, a.Ints, len(a.Ints), want)
	}
	out := make([]int, want)
	for i, v := range a.Ints {
		if v < lo || v > hi {
			return nil, errf(ErrUnsupported, "%s %s %v: %d is outside [%d, %d]", n.OpType, name, a.Ints, v, lo, hi)
		}
		out[i] = int(v)
	}
	return out, nil
}

// node compiles one node (and any it absorbs).
func (b *builder) node(n *Node) error {
	switch n.OpType {
	case "Constant":
		b.consts[b.value(n.Outputs[0])] = n.Attr("value").T
		return nil
	case "Identity":
		if t, err := b.constant(n, 0); err == nil && t != nil {
			b.consts[b.value(n.Outputs[0])] = t
			return nil
		}
		x, _, err := b.operand(n, 0)
		if err != nil {
			return err
		}
		b.alias(n, x, n.Outputs[0])
		return nil
	case "Dropout":
		return b.dropout(n)
	case "Conv":
		return b.conv(n)
	case "BatchNormalization":
		return b.batchNorm(n)
	case "Relu":
		x, xs, err := b.operand(n, 0)
		if err != nil {
			return err
		}
		if len(xs) < 2 {
			return errf(ErrUnsupported, "Relu on %v, which has no channel axis", xs)
		}
		r := b.unit(n, n.Outputs[0], xs)
		b.emit(n, []int{x}, n.Outputs[0], xs, func(in []*tensor.Tensor) *tensor.Tensor { return r.Forward(in[0]) })
		return nil
	case "Clip":
		return b.clip(n)
	case "Add":
		return b.add(n)
	case "Concat":
		return b.concat(n)
	case "MaxPool", "AveragePool":
		return b.pool(n)
	case "GlobalAveragePool":
		x, xs, err := b.operand(n, 0)
		if err != nil {
			return err
		}
		if len(xs) != 4 {
			return errf(ErrUnsupported, "GlobalAveragePool on %v (want [N,C,H,W])", xs)
		}
		b.emit(n, []int{x}, n.Outputs[0], []int{xs[0], xs[1], 1, 1}, func(in []*tensor.Tensor) *tensor.Tensor {
			return globalAvg(in[0])
		})
		return nil
	case "Flatten":
		return b.flatten(n)
	case "Reshape":
		return b.reshape(n)
	case "Gemm", "MatMul":
		return b.gemm(n)
	case "Pad":
		return b.pad(n)
	}
	return errf(ErrUnsupported, "operator %s", n.OpType)
}

func (b *builder) dropout(n *Node) error {
	x, _, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if t, err := b.constant(n, 2); err != nil {
		return err
	} else if t != nil && (t.Len() != 1 || t.Ints == nil || t.Ints[0] != 0) {
		return errf(ErrUnsupported, "Dropout in training mode (training_mode %s)", quote(t.Name))
	}
	if len(n.Outputs) == 2 && n.Outputs[1] != "" && (len(b.users[n.Outputs[1]]) > 0 || b.outs[n.Outputs[1]]) {
		return errf(ErrUnsupported, "Dropout's mask output %s is used", quote(n.Outputs[1]))
	}
	b.alias(n, x, n.Outputs[0])
	return nil
}

// convGeom is a 2-D window's placement: kernel, strides, dilations and
// pads (top, left, bottom, right).
type convGeom struct {
	k, s, d [2]int
	pads    [4]int
}

// outSize is the output size along axis a of an input of size in, with
// ceil rounding for pooling as PyTorch does it (the last window must
// start inside the input or the leading padding).
func (g convGeom) outSize(a, in int, ceil bool) int {
	span := (g.k[a]-1)*g.d[a] + 1
	num := in + g.pads[a] + g.pads[a+2] - span
	if num < 0 {
		return 0
	}
	out := num/g.s[a] + 1
	if ceil && num%g.s[a] != 0 {
		out++
		if (out-1)*g.s[a] >= in+g.pads[a] {
			out--
		}
	}
	return out
}

// geom reads kernel_shape (or k), strides, dilations, pads and auto_pad.
func geom(n *Node, k []int, xs []int, dilations bool) (convGeom, error) {
	var g convGeom
	ks, err := attrInts(n, "kernel_shape", 2, k, 1, 1<<16)
	if err != nil {
		return g, err
	}
	if ks == nil {
		return g, errf(ErrFormat, "%s has no kernel_shape", n.OpType)
	}
	if k != nil && !slices.Equal(ks, k) {
		return g, errf(ErrFormat, "%s kernel_shape %v disagrees with the weight's %v", n.OpType, ks, k)
	}
	s, err := attrInts(n, "strides", 2, []int{1, 1}, 1, 1<<16)
	if err != nil {
		return g, err
	}
	d := []int{1, 1}
	if dilations {
		if d, err = attrInts(n, "dilations", 2, d, 1, 1<<16); err != nil {
			return g, err
		}
	}
	p, err := attrInts(n, "pads", 4, []int{0, 0, 0, 0}, 0, 1<<16)
	if err != nil {
		return g, err
	}
	copy(g.k[:], ks)
	copy(g.s[:], s)
	copy(g.d[:], d)
	copy(g.pads[:], p)
	switch ap := attrString(n, "auto_pad", "NOTSET"); ap {
	case "NOTSET":
	case "VALID", "SAME_UPPER", "SAME_LOWER":
		if n.Attr("pads") != nil {
			return g, errf(ErrFormat, "%s has both pads and auto_pad %s", n.OpType, ap)
		}
		g.pads = [4]int{}
		if ap == "VALID" {
			break
		}
		// SAME: the output is ceil(in/stride), padded as evenly as
		// possible, the odd pixel at the end (UPPER) or the start.
		for a := 0; a < 2; a++ {
			in := xs[2+a]
			out := (in + g.s[a] - 1) / g.s[a]
			total := max(0, (out-1)*g.s[a]+(g.k[a]-1)*g.d[a]+1-in)
			lo := total / 2
			if ap == "SAME_LOWER" {
				lo = total - total/2
			}
			g.pads[a], g.pads[a+2] = lo, total-lo
		}
	default:
		return g, errf(ErrUnsupported, "%s auto_pad %s", n.OpType, quote(ap))
	}
	return g, nil
}

func (b *builder) conv(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 4 {
		return errf(ErrUnsupported, "Conv on %v (only 2-D convolution on [N,C,H,W])", xs)
	}
	wt, err := b.constant(n, 1)
	if err != nil {
		return err
	}
	if wt.Floats == nil || len(wt.Dims) != 4 {
		return errf(ErrUnsupported, "Conv weight %s is %v %v, want a float [O,C/group,KH,KW]", quote(wt.Name), wt.DataType, wt.Dims)
	}
	ws := wt.Shape()
	if slices.Contains(ws, 0) {
		return errf(ErrFormat, "Conv weight %s is %v", quote(wt.Name), ws)
	}
	o, cg := ws[0], ws[1]
	group := attrInt(n, "group", 1)
	if group < 1 || group > int64(xs[1]) || o%int(group) != 0 || cg*int(group) != xs[1] {
		return errf(ErrFormat, "Conv input %v with group %d does not fit weight %s %v", xs, group, quote(wt.Name), ws)
	}
	g, err := geom(n, ws[2:], xs, true)
	if err != nil {
		return err
	}
	oh, ow := g.outSize(0, xs[2], false), g.outSize(1, xs[3], false)
	if oh < 1 || ow < 1 {
		return errf(ErrFormat, "Conv input %v is too small for weight %v with pads %v", xs, ws, g.pads)
	}
	bias, err := b.floats(n, 2, "Conv bias", o)
	if err != nil {
		return err
	}
	w := wt.Floats
	if !b.owns(wt) {
		w = slices.Clone(w) // folding and packing must not change the model
	}
	b.net.weights = append(b.net.weights, wt)
	bias = slices.Clone(bias)
	if bias == nil {
		bias = make([]float32, o)
	}
	out := n.Outputs[0]
	// Fold a BatchNormalization that alone reads the output.
	if bn := b.only(out); bn != nil && bn.OpType == "BatchNormalization" && bn.Inputs[0] == out {
		scale, shift, err := b.bnParams(bn, o)
		if err != nil {
			return wrapf(err, "node %s", bn)
		}
		per := len(w) / o
		for c := 0; c < o; c++ {
			for i := c * per; i < (c+1)*per; i++ {
				w[i] = float32(float64(w[i]) * scale[c])
			}
			bias[c] = float32(float64(bias[c])*scale[c] + shift[c])
		}
		b.done[bn] = true
		out = bn.Outputs[0]
	}
	op := newConvOp(tensor.From(w, ws...), bias, int(group), g, xs[2], xs[3])
	shape := []int{xs[0], o, oh, ow}
	if ok, err := b.convAdd(n, op, x, out, shape); ok || err != nil {
		return err
	}
	// Fuse a Relu that alone reads the output.
	if r := b.only(out); r != nil && r.OpType == "Relu" {
		b.done[r] = true
		relu := b.unit(r, r.Outputs[0], shape)
		b.emit(n, []int{x}, r.Outputs[0], shape, func(in []*tensor.Tensor) *tensor.Tensor { return op.forward(in[0], relu) })
		return nil
	}
	b.emit(n, []int{x}, out, shape, func(in []*tensor.Tensor) *tensor.Tensor { return op.forward(in[0], nil) })
	return nil
}

// convAdd fuses the Add that alone reads a convolution's output, and the
// Relu that alone reads the sum (a ResNet block's end), into the
// convolution's step, when the Add's other operand is already computed:
// each image's sum (and ReLU, gain and recording) is taken as soon as
// the GEMM has written that image's output, while it is in cache,
// instead of in a pass of its own over the batch. The values are those of
// the Conv, Add and Relu steps it replaces, bit for bit. It reports
// whether it fused.
func (b *builder) convAdd(n *Node, op *convOp, x int, out string, shape []int) (bool, error) {
	a := b.only(out)
	if a == nil || a.OpType != "Add" || len(a.Inputs) != 2 || a.Inputs[0] == a.Inputs[1] || op.groups != 1 || op.w != nil {
		return false, nil
	}
	k := 0 // the Add's operand that is the convolution's output
	if a.Inputs[1] == out {
		k = 1
	}
	sv, ok := b.index[a.Inputs[1-k]]
	if _, c := b.consts[sv]; !ok || c || b.shapes[sv] == nil {
		return false, nil // a constant, or not computed yet
	}
	if !slices.Equal(b.shapes[sv], shape) {
		return false, nil // the Add's own step reports it
	}
	b.done[a] = true
	sum := a.Outputs[0]
	var relu *nn.ReLU
	if r := b.only(sum); r != nil && r.OpType == "Relu" {
		b.done[r] = true
		sum = r.Outputs[0]
		relu = b.unit(r, sum, shape)
	}
	b.emit(n, []int{x, sv}, sum, shape, func(in []*tensor.Tensor) *tensor.Tensor {
		if !in[1].HasShape(op.outShape(in[0])...) {
			panic(fmt.Sprintf("onnx: node %s adds %v to a convolution's %v", a, in[1].Shape(), op.outShape(in[0])))
		}
		return op.forwardAdd(in[0], in[1], relu)
	})
	return true, nil
}

// bnParams checks a BatchNormalization node's constants (each [c]) and
// returns its per-channel scale γ/√(σ²+ε) and shift β − μ·scale.
func (b *builder) bnParams(n *Node, c int) (scale, shift []float64, err error) {
	if attrInt(n, "training_mode", 0) != 0 {
		return nil, nil, errf(ErrUnsupported, "BatchNormalization in training mode")
	}
	for _, o := range n.Outputs[1:] {
		if o != "" && (len(b.users[o]) > 0 || b.outs[o]) {
			return nil, nil, errf(ErrUnsupported, "BatchNormalization's running statistics output %s is used", quote(o))
		}
	}
	var p [4][]float32
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		if p[i], err = b.floats(n, i+1, "BatchNormalization "+what, c); err != nil {
			return nil, nil, err
		}
	}
	eps := float64(attrFloat(n, "epsilon", 1e-5))
	scale, shift = make([]float64, c), make([]float64, c)
	for i := 0; i < c; i++ {
		v := float64(p[3][i]) + eps
		if !(v > 0) {
			return nil, nil, errf(ErrFormat, "BatchNormalization channel %d has variance + epsilon %g", i, v)
		}
		scale[i] = float64(p[0][i]) / math.Sqrt(v)
		shift[i] = float64(p[1][i]) - float64(p[2][i])*scale[i]
	}
	return scale, shift, nil
}

func (b *builder) batchNorm(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if len(xs) < 2 {
		return errf(ErrUnsupported, "BatchNormalization on %v, which has no channel axis", xs)
	}
	c := xs[1]
	scale64, shift64, err := b.bnParams(n, c)
	if err != nil {
		return err
	}
	scale, shift := make([]float32, c), make([]float32, c)
	for i := range scale {
		scale[i], shift[i] = float32(scale64[i]), float32(shift64[i])
	}
	b.emit(n, []int{x}, n.Outputs[0], xs, func(in []*tensor.Tensor) *tensor.Tensor {
		x := in[0]
		y := tensor.Scratch(x.Shape()...)
		src, dst := x.Data(), y.Data()
		hw := x.Len() / (x.Dim(0) * c)
		for p := 0; p < x.Len()/hw; p++ {
			s, t := scale[p%c], shift[p%c]
			for i := p * hw; i < (p+1)*hw; i++ {
				dst[i] = src[i]*s + t
			}
		}
		return y
	})
	return nil
}

func (b *builder) clip(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	bounds := [2]float32{negInf, posInf}
	for i := 1; i < len(n.Inputs); i++ {
		t, err := b.constant(n, i)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if t.Len() != 1 || t.Floats == nil {
			return errf(ErrUnsupported, "Clip bound %s is %v %v, want one float", quote(t.Name), t.DataType, t.Dims)
		}
		bounds[i-1] = t.Floats[0]
	}
	lo, hi := bounds[0], bounds[1]
	if !(lo <= hi) {
		return errf(ErrFormat, "Clip bounds [%g, %g]", lo, hi)
	}
	if lo == 0 && len(xs) >= 2 {
		// A ReLU with an upper bound (ReLU6): a unit, clipped above,
		// then the ReLU with its gain.
		r := b.unit(n, n.Outputs[0], xs)
		b.emit(n, []int{x}, n.Outputs[0], xs, func(in []*tensor.Tensor) *tensor.Tensor {
			return r.Forward(clamp(in[0], negInf, hi))
		})
		return nil
	}
	b.emit(n, []int{x}, n.Outputs[0], xs, func(in []*tensor.Tensor) *tensor.Tensor { return clamp(in[0], lo, hi) })
	return nil
}

// clamp returns min(max(x, lo), hi) elementwise; NaN stays NaN.
func clamp(x *tensor.Tensor, lo, hi float32) *tensor.Tensor {
	y := tensor.Scratch(x.Shape()...)
	dst := y.Data()
	for i, v := range x.Data() {
		if v < lo {
			v = lo
		}
		if v > hi {
			v = hi
		}
		dst[i] = v
	}
	return y
}

func (b *builder) add(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	y, ys, err := b.operand(n, 1)
	if err != nil {
		return err
	}
	if !slices.Equal(xs, ys) {
		return errf(ErrUnsupported, "Add of %v and %v (broadcasting is not supported)", xs, ys)
	}
	out := n.Outputs[0]
	var relu *nn.ReLU
	// Fuse a Relu that alone reads the sum (a ResNet block's end).
	if r := b.only(out); r != nil && r.OpType == "Relu" && len(xs) >= 2 {
		b.done[r] = true
		out = r.Outputs[0]
		relu = b.unit(r, out, xs)
	}
	check := func(in []*tensor.Tensor) {
		if !in[0].SameShape(in[1]) {
			panic(fmt.Sprintf("onnx: node %s adds %v and %v", n, in[0].Shape(), in[1].Shape()))
		}
	}
	b.emit(n, []int{x, y}, out, xs, func(in []*tensor.Tensor) *tensor.Tensor {
		check(in)
		return addReLU(tensor.Scratch(in[0].Shape()...), in[0], in[1], relu)
	})
	b.net.steps[len(b.net.steps)-1].runInPlace = func(in []*tensor.Tensor, k int) *tensor.Tensor {
		check(in)
		return addReLU(tensor.From(in[k].Data(), in[k].Shape()...), in[0], in[1], relu)
	}
	return nil
}

// addParallelMin is the fewest values an Add splits over the threads.
const addParallelMin = 1 << 16

// addReLU writes a + b into dst (which may share a's or b's buffer), then,
// when r is not nil, applies r as nn.ReLU.Forward does (the same bits,
// and the same recorded means): [N,C,...] + [N,C,...] -> [N,C,...].
func addReLU(dst, a, b *tensor.Tensor, r *nn.ReLU) *tensor.Tensor {
	shape := a.Shape()
	var n, c, hw int
	if r != nil {
		n, c = shape[0], shape[1]
		if n*c > 0 {
			hw = a.Len() / (n * c)
		}
		if r.Gain != nil && len(r.Gain) != c {
			panic(fmt.Sprintf("onnx: ReLU gain has %d channels, input %v has %d", len(r.Gain), shape, c))
		}
	}
	var means []float32
	if r != nil && r.Record != nil {
		means = make([]float32, n*c)
	}
	x, y, d := a.Data(), b.Data(), dst.Data()
	run := func(lo, hi int) { addReLURange(d, x, y, lo, hi, c, hw, r, means) }
	total := len(d)
	t := min(simd.Threads(), max(1, total/addParallelMin))
	unit := 1
	if r != nil {
		unit = hw
		t = min(t, n*c)
	}
	if t <= 1 || unit == 0 {
		run(0, total)
	} else {
		units := total / unit
		var wg sync.WaitGroup
		for w := 0; w < t; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				run(w*units/t*unit, (w+1)*units/t*unit)
			}(w)
		}
		wg.Wait()
	}
	if means != nil {
		r.Record(tensor.From(means, n, c))
	}
	return dst
}

// addReLURange is addReLU on values [lo, hi) of d = x + y ([N,C,HW]
// flattened), whole planes of hw values when r is set; means[p] gets
// plane p's mean when not nil. Each value, and each plane's mean, is
// computed alone: the bits do not depend on how a caller splits the work.
func addReLURange(d, x, y []float32, lo, hi, c, hw int, r *nn.ReLU, means []float32) {
	dd, xx, yy := d[lo:hi], x[lo:hi], y[lo:hi]
	for i := range dd {
		dd[i] = xx[i] + yy[i]
	}
	if r == nil {
		return
	}
	if r.Gain == nil {
		simd.ScaleReLU(dd, dd, 1)
	}
	for p := lo / max(hw, 1); p < hi/max(hw, 1); p++ {
		pl := d[p*hw : (p+1)*hw]
		if r.Gain != nil {
			simd.ScaleReLU(pl, pl, 1+r.Gain[p%c])
		}
		if means != nil {
			means[p] = float32(sum64(pl) / float64(hw))
		}
	}
}

// sum64 is nn's sum of x in float64 (four running sums over x[j], j ≡
// 0..3 mod 4, added pairwise, then the tail), so that a fused ReLU records
// the same means as nn.ReLU.
func sum64(x []float32) float64 {
	var s0, s1, s2, s3 float64
	for len(x) >= 4 {
		s0 += float64(x[0])
		s1 += float64(x[1])
		s2 += float64(x[2])
		s3 += float64(x[3])
		x = x[4:]
	}
	t := (s0 + s1) + (s2 + s3)
	for _, v := range x {
		t += float64(v)
	}
	return t
}

func (b *builder) concat(n *Node) error {
	a := n.Attr("axis")
	if a == nil {
		return errf(ErrFormat, "Concat has no axis")
	}
	var vs []int
	var shapes [][]int
	for i := range n.Inputs {
		v, s, err := b.operand(n, i)
		if err != nil {
			return err
		}
		vs, shapes = append(vs, v), append(shapes, s)
	}
	r := len(shapes[0])
	axis := int(a.I)
	if axis < -r || axis >= r {
		return errf(ErrFormat, "Concat axis %d of rank-%d inputs", a.I, r)
	}
	if axis < 0 {
		axis += r
	}
	if axis == 0 {
		return errf(ErrUnsupported, "Concat along the batch axis")
	}
	out := slices.Clone(shapes[0])
	for _, s := range shapes[1:] {
		if len(s) != r {
			return errf(ErrFormat, "Concat of %v and %v", shapes[0], s)
		}
		for d := range s {
			if d != axis && s[d] != out[d] {
				return errf(ErrFormat, "Concat along axis %d of %v and %v", axis, shapes[0], s)
			}
		}
		out[axis] += s[axis]
	}
	b.emit(n, vs, n.Outputs[0], out, func(in []*tensor.Tensor) *tensor.Tensor {
		return concat(in, axis)
	})
	return nil
}

// concat joins tensors along axis ≥ 1; all other dims agree (checked
// statically; the batch is the same for all).
func concat(in []*tensor.Tensor, axis int) *tensor.Tensor {
	shape := in[0].Shape()
	inner := 1
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	outer := 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	shape[axis] = 0
	for _, t := range in {
		shape[axis] += t.Dim(axis)
	}
	y := tensor.Scratch(shape...)
	dst := y.Data()
	off := 0
	for o := 0; o < outer; o++ {
		for _, t := range in {
			k := t.Dim(axis) * inner
			off += copy(dst[off:], t.Data()[o*k:(o+1)*k])
		}
	}
	return y
}

func (b *builder) pool(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 4 {
		return errf(ErrUnsupported, "%s on %v (only 2-D pooling on [N,C,H,W])", n.OpType, xs)
	}
	isMax := n.OpType == "MaxPool"
	g, err := geom(n, nil, xs, isMax)
	if err != nil {
		return err
	}
	ceil := attrInt(n, "ceil_mode", 0)
	if ceil != 0 && ceil != 1 {
		return errf(ErrFormat, "%s ceil_mode %d", n.OpType, ceil)
	}
	for a := 0; a < 2; a++ {
		if g.pads[a] >= g.k[a] || g.pads[a+2] >= g.k[a] {
			return errf(ErrFormat, "%s pads %v are not smaller than the kernel %v", n.OpType, g.pads, g.k)
		}
	}
	if isMax && attrInt(n, "storage_order", 0) != 0 {
		return errf(ErrUnsupported, "MaxPool storage_order 1")
	}
	incl := attrInt(n, "count_include_pad", 0)
	if incl != 0 && incl != 1 {
		return errf(ErrFormat, "AveragePool count_include_pad %d", incl)
	}
	oh, ow := g.outSize(0, xs[2], ceil == 1), g.outSize(1, xs[3], ceil == 1)
	if oh < 1 || ow < 1 {
		return errf(ErrFormat, "%s input %v is too small for kernel %v with pads %v", n.OpType, xs, g.k, g.pads)
	}
	p := poolOp{g: g, oh: oh, ow: ow, max: isMax, ceil: ceil == 1, includePad: incl == 1}
	b.emit(n, []int{x}, n.Outputs[0], []int{xs[0], xs[1], oh, ow}, func(in []*tensor.Tensor) *tensor.Tensor {
		return p.forward(in[0])
	})
	return nil
}

func (b *builder) flatten(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	axis := attrInt(n, "axis", 1)
	r := int64(len(xs))
	if axis < -r || axis > r {
		return errf(ErrFormat, "Flatten axis %d of a rank-%d input", axis, r)
	}
	if axis < 0 {
		axis += r
	}
	if axis != 1 {
		return errf(ErrUnsupported, "Flatten axis %d (only 1: keeping the batch)", axis)
	}
	inner := 1
	for _, d := range xs[1:] {
		inner *= d
	}
	b.emit(n, []int{x}, n.Outputs[0], []int{xs[0], inner}, func(in []*tensor.Tensor) *tensor.Tensor {
		return in[0].Reshape(in[0].Dim(0), inner)
	})
	b.net.steps[len(b.net.steps)-1].view = true
	return nil
}

func (b *builder) reshape(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	t, err := b.constant(n, 1)
	if err != nil {
		return err
	}
	if t.Ints == nil || len(t.Dims) != 1 || t.Len() < 1 || t.Len() > maxRank {
		return errf(ErrUnsupported, "Reshape shape %s is %v %v, want a 1-D integer tensor", quote(t.Name), t.DataType, t.Dims)
	}
	if attrInt(n, "allowzero", 0) != 0 {
		return errf(ErrUnsupported, "Reshape allowzero 1")
	}
	spec := t.Ints
	// The batch must pass through: a first entry 0 (copy) or −1 with the
	// rest fixed. A literal batch size would only fit the exported one.
	if spec[0] != 0 && !(spec[0] == -1 && !slices.Contains(spec[1:], -1)) {
		return errf(ErrUnsupported, "Reshape to %v: the first entry must be 0 or -1, so that the batch passes through", spec)
	}
	inner := 1
	for _, d := range xs[1:] {
		inner *= d
	}
	rest := make([]int, 0, len(spec)-1)
	known, infer := 1, -1
	for i, d := range spec[1:] {
		switch {
		case d == 0 && i+1 < len(xs):
			rest = append(rest, xs[i+1])
		case d == -1 && infer < 0:
			infer = i
			rest = append(rest, 1)
			continue
		case d > 0 && d <= 1<<30:
			rest = append(rest, int(d))
		default:
			return errf(ErrFormat, "Reshape of %v to %v", xs, spec)
		}
		if known *= rest[len(rest)-1]; known > 1<<31 {
			return errf(ErrFormat, "Reshape of %v to %v", xs, spec)
		}
	}
	if spec[0] == -1 {
		if known == 0 || inner%known != 0 {
			return errf(ErrFormat, "Reshape of %v to %v", xs, spec)
		}
	} else {
		if infer >= 0 {
			if known == 0 || inner%known != 0 {
				return errf(ErrFormat, "Reshape of %v to %v", xs, spec)
			}
			rest[infer] = inner / known
			known = inner
		}
		if known != inner {
			return errf(ErrFormat, "Reshape of %v to %v", xs, spec)
		}
	}
	shape := append([]int{xs[0]}, rest...)
	b.emit(n, []int{x}, n.Outputs[0], shape, func(in []*tensor.Tensor) *tensor.Tensor {
		s := append([]int{in[0].Dim(0)}, rest...)
		return in[0].Reshape(s...)
	})
	b.net.steps[len(b.net.steps)-1].view = true
	return nil
}

func (b *builder) gemm(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if len(xs) != 2 {
		return errf(ErrUnsupported, "%s on %v (only [N,K] inputs)", n.OpType, xs)
	}
	bt, err := b.constant(n, 1)
	if err != nil {
		return err
	}
	if bt.Floats == nil || len(bt.Dims) != 2 {
		return errf(ErrUnsupported, "%s weight %s is %v %v, want a float matrix", n.OpType, quote(bt.Name), bt.DataType, bt.Dims)
	}
	if attrInt(n, "transA", 0) != 0 {
		return errf(ErrUnsupported, "Gemm transA 1")
	}
	transB := attrInt(n, "transB", 0) != 0
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	k, m := int(bt.Dims[0]), int(bt.Dims[1])
	if transB {
		k, m = m, k
	}
	if k != xs[1] || m < 1 {
		return errf(ErrFormat, "%s input %v does not fit weight %s %v (transB %v)", n.OpType, xs, quote(bt.Name), bt.Dims, transB)
	}
	// nn.Linear holds W as [M,K].
	w := tensor.From(slices.Clone(bt.Floats), int(bt.Dims[0]), int(bt.Dims[1]))
	b.net.weights = append(b.net.weights, bt)
	if !transB {
		w = w.Transpose2D()
	}
	if alpha != 1 {
		for i, v := range w.Data() {
			w.Data()[i] = v * alpha
		}
	}
	bias := tensor.New(m)
	if n.OpType == "Gemm" {
		c, err := b.constant(n, 2)
		if err != nil {
			return err
		}
		if c != nil {
			if c.Floats == nil || c.Len() != m || len(c.Dims) > 2 || len(c.Dims) == 2 && c.Dims[0] != 1 {
				return errf(ErrUnsupported, "Gemm bias %s is %v %v, want [%d] or [1 %d]", quote(c.Name), c.DataType, c.Dims, m, m)
			}
			for i, v := range c.Floats {
				bias.Data()[i] = v * beta
			}
		}
	}
	lin := nn.NewLinear(nil, k, m)
	lin.SetWeights(w, bias)
	b.emit(n, []int{x}, n.Outputs[0], []int{xs[0], m}, func(in []*tensor.Tensor) *tensor.Tensor {
		return lin.Forward(in[0])
	})
	return nil
}

func (b *builder) pad(n *Node) error {
	x, xs, err := b.operand(n, 0)
	if err != nil {
		return err
	}
	if mode := attrString(n, "mode", "constant"); mode != "constant" {
		return errf(ErrUnsupported, "Pad mode %s (only constant)", quote(mode))
	}
	t, err := b.constant(n, 1)
	if err != nil {
		return err
	}
	if t.Ints == nil || t.Len() != 2*len(xs) {
		return errf(ErrFormat, "Pad pads %s is %v %v, want %d integers", quote(t.Name), t.DataType, t.Dims, 2*len(xs))
	}
	var value float32
	if c, err := b.constant(n, 2); err != nil {
		return err
	} else if c != nil {
		if c.Floats == nil || c.Len() != 1 {
			return errf(ErrUnsupported, "Pad value %s is %v %v, want one float", quote(c.Name), c.DataType, c.Dims)
		}
		value = c.Floats[0]
	}
	r := len(xs)
	zero := true
	for i, p := range t.Ints {
		if p < 0 || p > 1<<16 {
			return errf(ErrUnsupported, "Pad pads %v (each must be in [0, 65536])", t.Ints)
		}
		if p != 0 {
			zero = false
			if i%r < 2 || r != 4 {
				return errf(ErrUnsupported, "Pad pads %v (only the spatial axes of [N,C,H,W])", t.Ints)
			}
		}
	}
	if zero {
		b.alias(n, x, n.Outputs[0])
		return nil
	}
	p := [4]int{int(t.Ints[2]), int(t.Ints[3]), int(t.Ints[6]), int(t.Ints[7])}
	shape := []int{xs[0], xs[1], xs[2] + p[0] + p[2], xs[3] + p[1] + p[3]}
	b.emit(n, []int{x}, n.Outputs[0], shape, func(in []*tensor.Tensor) *tensor.Tensor {
		return padPlanes(in[0], p, value)
	})
	return nil
}

// padPlanes pads the H and W axes of [N,C,H,W] by p (top, left, bottom,
// right) with value.
func padPlanes(x *tensor.Tensor, p [4]int, value float32) *tensor.Tensor {
	s := x.Shape()
	h, w := s[2], s[3]
	oh, ow := h+p[0]+p[2], w+p[1]+p[3]
	y := tensor.New(s[0], s[1], oh, ow)
	dst, src := y.Data(), x.Data()
	if value != 0 {
		for i := range dst {
			dst[i] = value
		}
	}
	for pl := 0; pl < s[0]*s[1]; pl++ {
		for i := 0; i < h; i++ {
			copy(dst[pl*oh*ow+(i+p[0])*ow+p[1]:], src[pl*h*w+i*w:pl*h*w+(i+1)*w])
		}
	}
	return y
}

// globalAvg is [N,C,H,W] -> [N,C,1,1], each plane's mean (summed in
// float64, as channelMeans).
func globalAvg(x *tensor.Tensor) *tensor.Tensor {
	return channelMeans(x).Reshape(x.Dim(0), x.Dim(1), 1, 1)
}

// poolOp is a compiled MaxPool or AveragePool.
type poolOp struct {
	g          convGeom
	oh, ow     int
	max, ceil  bool
	includePad bool
}

// forward pools [N,C,H,W] -> [N,C,OH,OW]. Max pooling with even pads
// runs on conv.MaxPool2d; the rest here. Padding never wins a max; an
// average divides by the window's pixels inside the input, or with
// count_include_pad by those inside the padded input (PyTorch's rule,
// which a ceil-mode window hanging past the padding does not count).
func (p *poolOp) forward(x *tensor.Tensor) *tensor.Tensor {
	g := p.g
	if p.max && g.pads[0] == g.pads[2] && g.pads[1] == g.pads[3] && 2*g.pads[0] <= g.k[0] && 2*g.pads[1] <= g.k[1] {
		return conv.MaxPool2d(x, conv.Pool{Kernel: g.k, Stride: g.s, Pad: [2]int{g.pads[0], g.pads[1]}, Dilation: g.d, Ceil: p.ceil})
	}
	s := x.Shape()
	h, w := s[2], s[3]
	y := tensor.Scratch(s[0], s[1], p.oh, p.ow)
	src, dst := x.Data(), y.Data()
	for pl := 0; pl < s[0]*s[1]; pl++ {
		plane := src[pl*h*w : (pl+1)*h*w]
		out := dst[pl*p.oh*p.ow : (pl+1)*p.oh*p.ow]
		for i := 0; i < p.oh; i++ {
			for j := 0; j < p.ow; j++ {
				y0, x0 := i*g.s[0]-g.pads[0], j*g.s[1]-g.pads[1]
				if p.max {
					m := negInf
					for a := 0; a < g.k[0]; a++ {
						yy := y0 + a*g.d[0]
						if yy < 0 || yy >= h {
							continue
						}
						for c := 0; c < g.k[1]; c++ {
							xx := x0 + c*g.d[1]
							if xx < 0 || xx >= w {
								continue
							}
							if v := plane[yy*w+xx]; v > m || v != v {
								m = v
							}
						}
					}
					out[i*p.ow+j] = m
					continue
				}
				y1, x1 := min(y0+g.k[0], h+g.pads[2]), min(x0+g.k[1], w+g.pads[3])
				div := (y1 - y0) * (x1 - x0)
				y0, x0, y1, x1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
				if !p.includePad {
					div = (y1 - y0) * (x1 - x0)
				}
				var t float32
				for yy := y0; yy < y1; yy++ {
					for _, v := range plane[yy*w+x0 : yy*w+x1] {
						t += v
					}
				}
				out[i*p.ow+j] = t / float32(div)
			}
		}
	}
	return y
}
