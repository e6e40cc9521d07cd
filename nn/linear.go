package nn

import (
	"fmt"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// Linear is a fully connected layer:
//
//	[N,in] · [out,in]ᵀ + [out] -> [N,out]
//
// computed as Y = X · Wᵀ with W read in place (simd.Sgemm streams it once
// for a batch of up to 64 and never packs it), so the layer holds one copy
// of its (for VGG's fc6, 411 MB) weight; the bias, ReLU, gain and
// recording then run over the small [N,out] result.
type Linear struct {
	weight, bias *tensor.Tensor // [out,in], [out]
}

// NewLinear returns a layer from in to out features, initialised from rng
// as PyTorch's Linear (nil rng: zero weights, to be loaded).
func NewLinear(rng *tensor.RNG, in, out int) *Linear {
	l := &Linear{weight: tensor.New(out, in), bias: tensor.New(out)}
	if rng != nil {
		rng.KaimingUniformDefault(l.weight)
		rng.BiasUniformDefault(l.bias, l.weight.Shape())
	}
	return l
}

// Weight returns the weight [out,in] (the layer's own; see Stateful).
func (l *Linear) Weight() *tensor.Tensor { return l.weight }

// Bias returns the bias [out] (the layer's own; see Stateful).
func (l *Linear) Bias() *tensor.Tensor { return l.bias }

// SetWeights copies w [out,in] and b [out] into the layer. It panics if
// their shapes differ from the layer's.
func (l *Linear) SetWeights(w, b *tensor.Tensor) {
	if !w.SameShape(l.weight) || !b.SameShape(l.bias) {
		panic(fmt.Sprintf("nn: Linear.SetWeights with %v and %v, want %v and %v",
			w.Shape(), b.Shape(), l.weight.Shape(), l.bias.Shape()))
	}
	copy(l.weight.Data(), w.Data())
	copy(l.bias.Data(), b.Data())
}

// adopt installs sd's tensors as the layer's own, without copying;
// checkState has verified their shapes.
func (l *Linear) adopt(sd StateDict) { l.weight, l.bias = sd["weight"], sd["bias"] }

// StateDict implements Stateful: "weight" and "bias".
func (l *Linear) StateDict() StateDict { return paramState(l.weight, l.bias) }

// LoadStateDict implements Stateful.
func (l *Linear) LoadStateDict(sd StateDict) error {
	if err := checkState(l.StateDict(), sd); err != nil {
		return err
	}
	l.SetWeights(sd["weight"], sd["bias"])
	return nil
}

// Forward implements Layer: [N,in] -> [N,out].
func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := l.product(x)
	out := l.weight.Dim(0)
	yd, bias := y.Data(), l.bias.Data()
	for i := range yd {
		yd[i] += bias[i%out]
	}
	return y
}

// forwardReLU is Forward followed by r in the same pass over the output.
func (l *Linear) forwardReLU(x *tensor.Tensor, r *ReLU) *tensor.Tensor {
	r.checkGain([]int{x.Dim(0), l.weight.Dim(0)})
	y := l.product(x)
	out := l.weight.Dim(0)
	yd, bias := y.Data(), l.bias.Data()
	for i := range yd {
		c := i % out
		v := yd[i] + bias[c]
		if v < 0 {
			v = 0
		}
		if r.Gain != nil {
			v *= 1 + r.Gain[c]
		}
		yd[i] = v
	}
	if r.Record != nil {
		r.Record(y.Clone())
	}
	return y
}

// product returns X · Wᵀ: [N,in] · [out,in]ᵀ -> [N,out].
func (l *Linear) product(x *tensor.Tensor) *tensor.Tensor {
	l.check(x)
	n, in, out := x.Dim(0), l.weight.Dim(1), l.weight.Dim(0)
	y := tensor.Scratch(n, out) // Sgemm with beta 0 writes every value
	simd.Sgemm(false, true, n, out, in, 1, x.Data(), in, l.weight.Data(), in, 0, y.Data(), out)
	return y
}

// check panics unless x is [N,in].
func (l *Linear) check(x *tensor.Tensor) {
	if x.Rank() != 2 || x.Dim(1) != l.weight.Dim(1) {
		panic(fmt.Sprintf("nn: Linear input %v does not match weight %v (want [N %d])",
			x.Shape(), l.weight.Shape(), l.weight.Dim(1)))
	}
}

// String describes the layer as PyTorch prints it.
func (l *Linear) String() string {
	return fmt.Sprintf("Linear(in_features=%d, out_features=%d)", l.weight.Dim(1), l.weight.Dim(0))
}
