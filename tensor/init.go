package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// RNG is the seeded random source used by the initialisers. It is a PCG
// generator, so a seed gives the same weights on every platform and Go
// version that keeps math/rand/v2's PCG stable (it is specified).
//
// The streams are not PyTorch's mt19937 streams: emosel matches torchvision's
// distributions, not its exact numbers.
type RNG struct{ r *rand.Rand }

// NewRNG returns a generator seeded by seed.
func NewRNG(seed uint64) *RNG {
	return &RNG{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Uniform fills t with independent draws from U(lo, hi).
func (g *RNG) Uniform(t *Tensor, lo, hi float64) {
	for i := range t.data {
		t.data[i] = float32(lo + (hi-lo)*g.r.Float64())
	}
}

// Normal fills t with independent draws from N(mean, std²).
func (g *RNG) Normal(t *Tensor, mean, std float64) {
	for i := range t.data {
		t.data[i] = float32(mean + std*g.r.NormFloat64())
	}
}

// Perm returns a random permutation of 0..n-1.
func (g *RNG) Perm(n int) []int { return g.r.Perm(n) }

// IntN returns a uniform integer in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Float64 returns a uniform float in [0, 1).
func (g *RNG) Float64() float64 { return g.r.Float64() }

// Fans returns PyTorch's fan_in and fan_out for a weight of the given shape
// (as torch.nn.init._calculate_fan_in_and_fan_out): for [out, in, k...] the
// receptive field size multiplies both.
func Fans(shape []int) (fanIn, fanOut int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("tensor: fan in and fan out need at least 2 dimensions, got %v", shape))
	}
	rf := 1
	for _, d := range shape[2:] {
		rf *= d
	}
	return shape[1] * rf, shape[0] * rf
}

// KaimingUniformDefault fills a weight as PyTorch's Conv2d and Linear
// reset_parameters do: kaiming_uniform_(a=√5), which is U(-b, b) with
// b = 1/√fan_in.
func (g *RNG) KaimingUniformDefault(w *Tensor) {
	fanIn, _ := Fans(w.shape)
	b := 0.0
	if fanIn > 0 {
		b = 1 / math.Sqrt(float64(fanIn))
	}
	g.Uniform(w, -b, b)
}

// BiasUniformDefault fills a bias as PyTorch's Conv2d and Linear do:
// U(-b, b) with b = 1/√fan_in of the layer's weight shape.
func (g *RNG) BiasUniformDefault(bias *Tensor, weightShape []int) {
	fanIn, _ := Fans(weightShape)
	b := 0.0
	if fanIn > 0 {
		b = 1 / math.Sqrt(float64(fanIn))
	}
	g.Uniform(bias, -b, b)
}

// KaimingNormalFanOut fills a weight as torchvision's VGG does for conv
// layers: kaiming_normal_(mode="fan_out", nonlinearity="relu"), which is
// N(0, 2/fan_out).
func (g *RNG) KaimingNormalFanOut(w *Tensor) {
	_, fanOut := Fans(w.shape)
	std := 0.0
	if fanOut > 0 {
		std = math.Sqrt(2 / float64(fanOut))
	}
	g.Normal(w, 0, std)
}
