package nn

import (
	"fmt"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/tensor"
)

// Conv2d is a 2-D convolution with bias, groups=1:
//
//	[N,C,H,W] * [O,C,KH,KW] + [O] -> [N,O,OH,OW]
//
// Its conv.Filter shares the weight tensor and is rebuilt whenever the
// weight is set (SetWeights, LoadStateDict, loading a file), so the layer
// holds one copy of its weights; what each algorithm derives from them
// (im2col packing, Winograd transform) is built on first use. Writing
// into Weight() in place is not seen reliably: use SetWeights. It always
// has a bias (as every torchvision VGG and AlexNet convolution does).
type Conv2d struct {
	weight, bias *tensor.Tensor // [O,C,KH,KW], [O]
	p            conv.Params
	f            *conv.Filter
}

// NewConv2d returns a convolution from in to out channels with a kh×kw
// kernel placed by p, initialised from rng as PyTorch's Conv2d (nil rng:
// zero weights, to be loaded).
func NewConv2d(rng *tensor.RNG, in, out, kh, kw int, p conv.Params) *Conv2d {
	c := &Conv2d{weight: tensor.New(out, in, kh, kw), bias: tensor.New(out), p: p}
	if rng != nil {
		rng.KaimingUniformDefault(c.weight)
		rng.BiasUniformDefault(c.bias, c.weight.Shape())
	}
	c.f = conv.NewFilterShared(c.weight, p)
	return c
}

// Weight returns the weight [O,C,KH,KW] (the layer's own; see Stateful).
func (c *Conv2d) Weight() *tensor.Tensor { return c.weight }

// Bias returns the bias [O] (the layer's own; see Stateful).
func (c *Conv2d) Bias() *tensor.Tensor { return c.bias }

// Params returns the stride, padding and dilation.
func (c *Conv2d) Params() conv.Params { return c.p }

// SetWeights copies w [O,C,KH,KW] and b [O] into the layer and repacks
// it. It panics if their shapes differ from the layer's.
func (c *Conv2d) SetWeights(w, b *tensor.Tensor) {
	if !w.SameShape(c.weight) || !b.SameShape(c.bias) {
		panic(fmt.Sprintf("nn: Conv2d.SetWeights with %v and %v, want %v and %v",
			w.Shape(), b.Shape(), c.weight.Shape(), c.bias.Shape()))
	}
	copy(c.weight.Data(), w.Data())
	copy(c.bias.Data(), b.Data())
	c.f = conv.NewFilterShared(c.weight, c.p)
}

// adopt installs sd's tensors as the layer's own, without copying, and
// repacks; checkState has verified their shapes.
func (c *Conv2d) adopt(sd StateDict) {
	c.weight, c.bias = sd["weight"], sd["bias"]
	c.f = conv.NewFilterShared(c.weight, c.p)
}

// StateDict implements Stateful: "weight" and "bias".
func (c *Conv2d) StateDict() StateDict { return paramState(c.weight, c.bias) }

// LoadStateDict implements Stateful.
func (c *Conv2d) LoadStateDict(sd StateDict) error {
	if err := checkState(c.StateDict(), sd); err != nil {
		return err
	}
	c.SetWeights(sd["weight"], sd["bias"])
	return nil
}

// Forward implements Layer: [N,C,H,W] -> [N,O,OH,OW].
func (c *Conv2d) Forward(x *tensor.Tensor) *tensor.Tensor {
	c.check(x)
	return c.f.Forward(x, conv.Epilogue{Bias: c.bias.Data()})
}

// forwardReLU is Forward followed by r, fused into the GEMM epilogue.
func (c *Conv2d) forwardReLU(x *tensor.Tensor, r *ReLU) *tensor.Tensor {
	c.check(x)
	n, o := x.Dim(0), c.weight.Dim(0)
	r.checkGain(c.f.OutShape(x.Shape()))
	ep := conv.Epilogue{Bias: c.bias.Data(), ReLU: true, Gain: r.Gain}
	if r.Record != nil {
		ep.Means = make([]float32, n*o)
	}
	y := c.f.Forward(x, ep)
	if r.Record != nil {
		r.Record(tensor.From(ep.Means, n, o))
	}
	return y
}

// check panics unless x fits the layer.
func (c *Conv2d) check(x *tensor.Tensor) {
	w := c.weight.Shape()
	if x.Rank() != 4 {
		panic(fmt.Sprintf("nn: Conv2d input %v is not [N,C,H,W] (weight %v)", x.Shape(), w))
	}
	if x.Dim(1) != w[1] {
		panic(fmt.Sprintf("nn: Conv2d input %v has %d channels, weight %v expects %d", x.Shape(), x.Dim(1), w, w[1]))
	}
	if oh, ow := c.p.OutSize(x.Dim(2), x.Dim(3), w[2], w[3]); oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("nn: Conv2d input %v is too small for weight %v with %+v", x.Shape(), w, c.p))
	}
}

// String describes the layer as PyTorch prints it.
func (c *Conv2d) String() string {
	w := c.weight.Shape()
	p := c.f.Params()
	return fmt.Sprintf("Conv2d(%d, %d, kernel_size=(%d, %d), stride=(%d, %d), padding=(%d, %d), dilation=(%d, %d))",
		w[1], w[0], w[2], w[3], p.Stride[0], p.Stride[1], p.Pad[0], p.Pad[1], p.Dilation[0], p.Dilation[1])
}
