package onnx

import (
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// convOp is a compiled Conv: [N,C,H,W] * [O,C/G,KH,KW] -> [N,O,OH,OW].
//
// Package conv computes groups=1 with even padding. Uneven pads become an
// explicit zero border first. A grouped convolution runs one conv.Filter
// per group on that group's input channels. A depthwise one (one input
// channel per group, MobileNet's) runs as a direct loop here: a GEMM per
// channel with K = KH·KW would spend its time packing.
type convOp struct {
	o, groups int
	kh, kw    int
	g         convGeom
	even      bool           // pads top = bottom and left = right
	filters   []*conv.Filter // one per group, unless depthwise
	w         []float32      // [O, KH·KW] for the depthwise loop
	bias      []float32      // [O]
}

// newConvOp compiles the convolution for inputs of h×w pixels: each
// filter's packed form is built now, and a filter that runs by im2col
// keeps its weight only in packed form; one that runs by Winograd keeps
// its plain weight and builds its transform in every call.
func newConvOp(w *tensor.Tensor, bias []float32, groups int, g convGeom, h, wd int) *convOp {
	s := w.Shape()
	op := &convOp{o: s[0], groups: groups, kh: s[2], kw: s[3], g: g, bias: bias,
		even: g.pads[0] == g.pads[2] && g.pads[1] == g.pads[3]}
	p := conv.Params{Stride: g.s, Dilation: g.d}
	if op.even {
		p.Pad = [2]int{g.pads[0], g.pads[1]}
	}
	if s[1] == 1 && groups > 1 {
		op.w = w.Data()
		return op
	}
	og := s[0] / groups
	per := s[1] * s[2] * s[3]
	for i := 0; i < groups; i++ {
		wg := tensor.From(w.Data()[i*og*per:(i+1)*og*per], og, s[1], s[2], s[3])
		f := conv.NewFilterShared(wg, p)
		// U would take 4× a 3×3 weight (180 MB for ResNet-50); built per
		// call in recycled memory it costs about 1% at batch 16.
		f.KeepWinograd(false)
		if !op.even {
			f.Prepare(h+g.pads[0]+g.pads[2], wd+g.pads[1]+g.pads[3])
		} else {
			f.Prepare(h, wd)
		}
		f.ReleaseWeights()
		op.filters = append(op.filters, f)
	}
	return op
}

// forward computes the convolution, followed by r (with its gain and
// recording) when r is not nil.
func (op *convOp) forward(x *tensor.Tensor, r *nn.ReLU) *tensor.Tensor {
	if r != nil && r.Gain != nil && len(r.Gain) != op.o {
		panic(fmt.Sprintf("onnx: ReLU gain has %d channels, convolution has %d", len(r.Gain), op.o))
	}
	if !op.even {
		x = padPlanes(x, op.g.pads, 0)
		defer tensor.Recycle(x) // only this call reads it
	}
	if op.w != nil {
		y := op.depthwise(x, r)
		if r != nil && r.Record != nil {
			r.Record(channelMeans(y))
		}
		return y
	}
	n := x.Dim(0)
	ep := conv.Epilogue{Bias: op.bias}
	if r != nil {
		ep.ReLU, ep.Gain = true, r.Gain
		if r.Record != nil {
			ep.Means = make([]float32, n*op.o)
		}
	}
	var y *tensor.Tensor
	if op.groups == 1 {
		y = op.filters[0].Forward(x, ep)
	} else {
		y = op.grouped(x, ep)
	}
	if ep.Means != nil {
		r.Record(tensor.From(ep.Means, n, op.o))
	}
	return y
}

// outShape is the output shape for input x.
func (op *convOp) outShape(x *tensor.Tensor) []int {
	s := x.Shape()
	if !op.even {
		s[2] += op.g.pads[0] + op.g.pads[2]
		s[3] += op.g.pads[1] + op.g.pads[3]
	}
	return op.filters[0].OutShape(s)
}

// forwardAdd computes relu(conv(x) + skip) as addReLU(conv(x), skip, r)
// would (r may be nil: the sum alone), image by image as the
// convolution finishes each; only for groups = 1.
func (op *convOp) forwardAdd(x, skip *tensor.Tensor, r *nn.ReLU) *tensor.Tensor {
	if r != nil && r.Gain != nil && len(r.Gain) != op.o {
		panic(fmt.Sprintf("onnx: ReLU gain has %d channels, convolution has %d", len(r.Gain), op.o))
	}
	if !op.even {
		x = padPlanes(x, op.g.pads, 0)
		defer tensor.Recycle(x) // only this call reads it
	}
	y := tensor.Scratch(op.filters[0].OutShape(x.Shape())...) // every value is written
	n := y.Dim(0)
	hw := y.Len() / (n * op.o)
	var means []float32
	if r != nil && r.Record != nil {
		means = make([]float32, n*op.o)
	}
	d, s := y.Data(), skip.Data()
	per := op.o * hw
	ep := conv.Epilogue{Bias: op.bias, Post: func(i int, _ []float32) {
		addReLURange(d, d, s, i*per, (i+1)*per, op.o, hw, r, means)
	}}
	op.filters[0].ForwardInto(y, x, ep)
	if means != nil {
		r.Record(tensor.From(means, n, op.o))
	}
	return y
}

// grouped runs each group's filter on its slice of the input channels.
func (op *convOp) grouped(x *tensor.Tensor, ep conv.Epilogue) *tensor.Tensor {
	s := x.Shape()
	n, c, hw := s[0], s[1], s[2]*s[3]
	cg, og := c/op.groups, op.o/op.groups
	var y *tensor.Tensor
	var ohw int
	xg := tensor.New(n, cg, s[2], s[3])
	for gi, f := range op.filters {
		for i := 0; i < n; i++ {
			copy(xg.Data()[i*cg*hw:(i+1)*cg*hw], x.Data()[(i*c+gi*cg)*hw:(i*c+(gi+1)*cg)*hw])
		}
		e := conv.Epilogue{Bias: ep.Bias[gi*og : (gi+1)*og], ReLU: ep.ReLU}
		if ep.Gain != nil {
			e.Gain = ep.Gain[gi*og : (gi+1)*og]
		}
		if ep.Means != nil {
			e.Means = make([]float32, n*og)
		}
		yg := f.Forward(xg, e)
		if y == nil {
			ys := yg.Shape()
			ys[1] = op.o
			y = tensor.Scratch(ys...) // every group writes its channels
			ohw = ys[2] * ys[3]
		}
		for i := 0; i < n; i++ {
			copy(y.Data()[(i*op.o+gi*og)*ohw:], yg.Data()[i*og*ohw:(i+1)*og*ohw])
			if e.Means != nil {
				copy(ep.Means[i*op.o+gi*og:], e.Means[i*og:(i+1)*og])
			}
		}
	}
	return y
}

// depthwise is the direct loop for one input channel per group: output
// channel o reads input channel o/(O/G).
func (op *convOp) depthwise(x *tensor.Tensor, r *nn.ReLU) *tensor.Tensor {
	s := x.Shape()
	n, c, h, w := s[0], s[1], s[2], s[3]
	p := [2]int{}
	if op.even {
		p = [2]int{op.g.pads[0], op.g.pads[1]}
	}
	g := convGeom{k: [2]int{op.kh, op.kw}, s: op.g.s, d: op.g.d, pads: [4]int{p[0], p[1], p[0], p[1]}}
	oh, ow := g.outSize(0, h, false), g.outSize(1, w, false)
	y := tensor.Scratch(n, op.o, oh, ow) // every output is written
	src, dst := x.Data(), y.Data()
	mult := op.o / c
	k := op.kh * op.kw
	// One output plane per task, over the threads: each value is computed
	// alone, so the bits do not depend on the split.
	conv.Parallel(n*op.o, oh*ow*k, func(pl int) {
		i, o := pl/op.o, pl%op.o
		plane := src[(i*c+o/mult)*h*w : (i*c+o/mult+1)*h*w]
		wt := op.w[o*k : (o+1)*k]
		out := dst[(i*op.o+o)*oh*ow : (i*op.o+o+1)*oh*ow]
		for yy := 0; yy < oh; yy++ {
			for xx := 0; xx < ow; xx++ {
				var t float32
				for a := 0; a < op.kh; a++ {
					iy := yy*g.s[0] - p[0] + a*g.d[0]
					if iy < 0 || iy >= h {
						continue
					}
					row := plane[iy*w : (iy+1)*w]
					for bb := 0; bb < op.kw; bb++ {
						ix := xx*g.s[1] - p[1] + bb*g.d[1]
						if ix >= 0 && ix < w {
							t += row[ix] * wt[a*op.kw+bb]
						}
					}
				}
				t += op.bias[o]
				if r != nil {
					t = max(t, 0)
					if r.Gain != nil {
						t *= 1 + r.Gain[o]
					}
				}
				out[yy*ow+xx] = t
			}
		}
	})
	return y
}

// channelMeans returns the [N,C] spatial means of [N,C,H,W], summed in
// float64.
func channelMeans(y *tensor.Tensor) *tensor.Tensor {
	n, c := y.Dim(0), y.Dim(1)
	hw := y.Len() / (n * c)
	m := tensor.New(n, c)
	src := y.Data()
	for p := range m.Data() {
		var t float64
		for _, v := range src[p*hw : (p+1)*hw] {
			t += float64(v)
		}
		m.Data()[p] = float32(t / float64(hw))
	}
	return m
}
