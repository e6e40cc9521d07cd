package manipulate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// Trace describes a network's children for one input image: Shapes[i] is
// the output shape of child i ([1,...]) and FLOPs[i] its floating-point
// operations (2 per multiply-add of a Conv2d or Linear; pooling, ReLU and
// the rest count 0, being a negligible share).
type Trace struct {
	In     []int // [1,C,H,W]
	Shapes [][]int
	FLOPs  []float64
}

// TraceNet propagates the shape of one image [C,H,W] through net. Layers
// it does not know are run on a zero image to learn their output shape.
func TraceNet(net *nn.Sequential, image []int) Trace {
	shape := shapeOf(1, image)
	tr := Trace{In: slices.Clone(shape)}
	for i := range net.Len() {
		var flops float64
		switch l := net.Layer(i).(type) {
		case *nn.Conv2d:
			w := l.Weight().Shape()
			oh, ow := l.Params().OutSize(shape[2], shape[3], w[2], w[3])
			flops = 2 * float64(w[0]*w[1]*w[2]*w[3]) * float64(oh*ow)
			shape = []int{1, w[0], oh, ow}
		case *nn.Linear:
			w := l.Weight().Shape()
			flops = 2 * float64(w[0]*w[1])
			shape = []int{1, w[0]}
		case *nn.ReLU, *nn.Dropout:
		case *nn.MaxPool2d:
			oh, ow := l.Pool.OutSize(shape[2], shape[3])
			shape = []int{1, shape[1], oh, ow}
		case *nn.AdaptiveAvgPool2d:
			shape = []int{1, shape[1], l.H, l.W}
		case nn.Flatten, *nn.Flatten:
			n := 1
			for _, d := range shape[1:] {
				n *= d
			}
			shape = []int{1, n}
		default:
			shape = l.Forward(tensor.New(shape...)).Shape()
		}
		tr.Shapes = append(tr.Shapes, slices.Clone(shape))
		tr.FLOPs = append(tr.FLOPs, flops)
	}
	return tr
}

// Span returns the FLOPs of children i..j-1 for one image.
func (t Trace) Span(i, j int) float64 {
	var s float64
	for _, f := range t.FLOPs[i:j] {
		s += f
	}
	return s
}

// size returns the element count of child i's output for one image (the
// input's for i = −1).
func (t Trace) size(i int) int {
	s := t.In
	if i >= 0 {
		s = t.Shapes[i]
	}
	n := 1
	for _, d := range s[1:] {
		n *= d
	}
	return n
}

// peak returns the largest output of children i..j-1, in elements per
// image.
func (t Trace) peak(i, j int) int {
	m := 0
	for k := i; k < j; k++ {
		m = max(m, t.size(k))
	}
	return m
}

// Cost is the work of running a network from one unit to the readout
// layer, per image.
type Cost struct {
	Prefix float64 // FLOPs up to the unit's pre-gain output
	Suffix float64 // FLOPs from the unit's ReLU to the readout features
	Full   float64 // FLOPs of the whole network up to the readout features
}

// UnitCost returns the per-image FLOPs of the prefix and the suffix at
// layer for images of shape image [C,H,W], with features the readout
// unit (e.g. "fc7"). It panics on unknown units.
func UnitCost(m *nn.Model, layer, features string, image []int) Cost {
	u, end := units(m, layer, features)
	if m.Graph != nil {
		p, s := m.Graph.Cut(layer, features).FLOPs()
		return Cost{Prefix: p, Suffix: s, Full: p + s}
	}
	tr := TraceNet(m.Net, image)
	return Cost{Prefix: tr.Span(0, u.ReLU), Suffix: tr.Span(u.ReLU+1, end), Full: tr.Span(0, end)}
}

// units looks up layer and the features unit, returning layer's Unit and
// the child index just after the features unit's ReLU. It panics if
// either is missing or the features unit comes before layer.
func units(m *nn.Model, layer, features string) (nn.Unit, int) {
	u, ok := m.Unit(layer)
	if !ok {
		panic(fmt.Sprintf("manipulate: %s has no unit %q", m.Arch, layer))
	}
	f, ok := m.Unit(features)
	if !ok {
		panic(fmt.Sprintf("manipulate: %s has no features unit %q", m.Arch, features))
	}
	if f.ReLU < u.ReLU {
		panic(fmt.Sprintf("manipulate: features unit %s comes before %s", features, layer))
	}
	return u, f.ReLU + 1
}

// Timing is the measured cost of a suffix's experiments on this machine.
type Timing struct {
	Prefix  float64 // seconds per image of the prefix up to the unit
	Base    float64 // seconds per image and unit set of the rest of a pass's fixed work (the next layer's base and d_S)
	PerEval float64 // seconds per image-suffix evaluation, in batches as the experiments stack them
}

// Measure times the suffix as the experiments run it, on n random
// images: the prefix once, then sets random unit sets of a tenth of the
// channels at one gain and at alphas gains each (median of three runs
// each), in chunks of Chunk(budget) with the gains stacked into batches.
// The difference gives the cost per evaluation, the rest the fixed cost
// of a pass per image and unit set.
func (s *Suffix) Measure(ctx context.Context, n, sets, alphas int, budget int64) (Timing, error) {
	var shape []int
	var f, h int // features and cached values per image
	if s.cut != nil {
		shape, f, h = s.image, s.feats, s.cut.Width()
	} else {
		shape, f, h = s.trace.In[1:], s.trace.size(s.end-1), s.trace.size(s.unit.Layer)
	}
	x := tensor.New(shapeOf(n, shape)...)
	rng := tensor.NewRNG(1)
	rng.Normal(x, 0, 1)
	imgs := Tensor(x)
	r := &Readout{Head: nn.NewLinear(rng, f, 2)}
	cache := newPrefixCache(int64(n) * int64(4*h))
	idx := all(n)
	t0 := time.Now()
	if _, err := s.prefixOf(ctx, imgs, idx, cache); err != nil {
		return Timing{}, err
	}
	var tm Timing
	tm.Prefix = time.Since(t0).Seconds() / float64(n)
	c := s.unit.Channels
	timeRun := func(a int) (float64, error) {
		var ts []float64
		for rep := range 3 {
			var reqs []*request
			for k := range sets {
				units := Draw(uint64(7919*k+rep+1), c, max(1, c/10))
				for j := range a {
					al := float64(j+1) / 2
					reqs = append(reqs, &request{units: units, alpha: al, gain: Gain(c, units, al), images: idx})
				}
			}
			t := time.Now()
			if err := s.run(ctx, imgs, reqs, r, budget, cache, nil); err != nil {
				return 0, err
			}
			ts = append(ts, time.Since(t).Seconds())
		}
		slices.Sort(ts)
		return ts[1], nil
	}
	t1, err := timeRun(1)
	if err != nil {
		return Timing{}, err
	}
	ta, err := timeRun(alphas)
	if err != nil {
		return Timing{}, err
	}
	evals := float64(n * sets)
	tm.PerEval = max(0, ta-t1) / (evals * float64(alphas-1))
	if tm.PerEval == 0 {
		tm.PerEval = ta / (evals * float64(alphas)) // noise: no separable fixed cost
	}
	tm.Base = max(0, t1-evals*tm.PerEval) / evals
	return tm, nil
}
