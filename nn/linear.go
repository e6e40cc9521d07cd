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
// computed as Yᵀ [out,N] = W · Xᵀ with W packed once and Xᵀ read in place,
// then transposed.
type Linear struct {
	weight, bias *tensor.Tensor // [out,in], [out]
	a            *simd.PackedA
}

// NewLinear returns a layer from in to out features, initialised from rng
// as PyTorch's Linear (nil rng: zero weights, to be loaded).
func NewLinear(rng *tensor.RNG, in, out int) *Linear {
	l := &Linear{weight: tensor.New(out, in), bias: tensor.New(out)}
	if rng != nil {
		rng.KaimingUniformDefault(l.weight)
		rng.BiasUniformDefault(l.bias, l.weight.Shape())
	}
	l.pack()
	return l
}

func (l *Linear) pack() {
	out, in := l.weight.Dim(0), l.weight.Dim(1)
	l.a = simd.PackA(out, in, l.weight.Data(), in)
}

// Weight returns the weight [out,in] (the layer's own; see Stateful).
func (l *Linear) Weight() *tensor.Tensor { return l.weight }

// Bias returns the bias [out] (the layer's own; see Stateful).
func (l *Linear) Bias() *tensor.Tensor { return l.bias }

// SetWeights copies w [out,in] and b [out] into the layer and repacks it.
// It panics if their shapes differ from the layer's.
func (l *Linear) SetWeights(w, b *tensor.Tensor) {
	if !w.SameShape(l.weight) || !b.SameShape(l.bias) {
		panic(fmt.Sprintf("nn: Linear.SetWeights with %v and %v, want %v and %v",
			w.Shape(), b.Shape(), l.weight.Shape(), l.bias.Shape()))
	}
	copy(l.weight.Data(), w.Data())
	copy(l.bias.Data(), b.Data())
	l.pack()
}

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
	return l.forward(x, simd.Epilogue{Bias: l.bias.Data()})
}

// forwardReLU is Forward followed by r, fused into the GEMM epilogue.
func (l *Linear) forwardReLU(x *tensor.Tensor, r *ReLU) *tensor.Tensor {
	l.check(x)
	r.checkGain([]int{x.Dim(0), l.weight.Dim(0)})
	y := l.forward(x, simd.Epilogue{Bias: l.bias.Data(), ReLU: true, Gain: r.Gain})
	if r.Record != nil {
		r.Record(y.Clone())
	}
	return y
}

func (l *Linear) forward(x *tensor.Tensor, ep simd.Epilogue) *tensor.Tensor {
	l.check(x)
	n, in, out := x.Dim(0), l.weight.Dim(1), l.weight.Dim(0)
	yt := tensor.New(out, n)
	simd.GemmPacked(l.a, simd.DenseB{Data: x.Data(), Ld: in, Trans: true}, n, yt.Data(), n, ep)
	if n == 1 {
		return yt.Reshape(1, out)
	}
	return yt.Transpose2D()
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
