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
// images: the prefix once, then whole passes as a search round makes
// them, sets random unit sets of a quarter of the channels (about the
// size of an emotion's selective set after the 80% threshold) at alphas
// gains each, in chunks of Chunk(budget) with the gains stacked into
// batches and the prefixes read from a cache (median of three passes).
// The fixed work of a pass, the next layer's base and each set's d_S
// (linear.go), is timed on its own over the same chunks; the rest of a
// pass, divided by its evaluations, is the cost per evaluation.
//
// An earlier version took the cost per evaluation from the difference of
// a pass at one gain and at three. That difference is small beside the
// noise of a shared host, and it missed the per-set work, which grows
// with the set's size: it predicted a quarter less than the real sweep.
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
	h0, err := s.prefixOf(ctx, imgs, idx, cache)
	if err != nil {
		return Timing{}, err
	}
	var tm Timing
	tm.Prefix = time.Since(t0).Seconds() / float64(n)
	tensor.Recycle(h0)
	c := s.unit.Channels
	size := max(1, c/4)
	draw := func(rep, k int) []int { return Draw(uint64(7919*k+rep+1), c, size) }
	median := func(f func(rep int) (float64, error)) (float64, error) {
		ts := make([]float64, 3)
		for rep := range ts {
			t, err := f(rep)
			if err != nil {
				return 0, err
			}
			ts[rep] = t
		}
		slices.Sort(ts)
		return ts[1], nil
	}
	pass := func(rep int) (float64, error) {
		var reqs []*request
		for k := range sets {
			units := draw(rep, k)
			for j := range alphas {
				al := float64(j+1) / 2
				reqs = append(reqs, &request{units: units, alpha: al, gain: Gain(c, units, al), images: idx})
			}
		}
		t := time.Now()
		err := s.run(ctx, imgs, reqs, r, budget, cache, nil)
		return time.Since(t).Seconds(), err
	}
	// The fixed work of the same pass, chunk by chunk as run takes them.
	fixed := func(rep int) (float64, error) {
		if s.linear == nil {
			return 0, nil
		}
		chunk := s.Chunk(budget)
		var sum float64
		for c0 := 0; c0 < n; c0 += chunk {
			ims := idx[c0:min(c0+chunk, n)]
			h, err := s.prefixOf(ctx, imgs, ims, cache)
			if err != nil {
				return 0, err
			}
			t := time.Now()
			bs := s.baseOf(h)
			for k := range sets {
				tensor.Recycle(s.delta(bs, draw(rep, k), all(len(ims))))
			}
			sum += time.Since(t).Seconds()
			tensor.Recycle(bs.z0)
			if !bs.u0.SharesData(h) {
				tensor.Recycle(bs.u0)
			}
			tensor.Recycle(h)
		}
		return sum, nil
	}
	if _, err := pass(3); err != nil { // warm the scratch pools
		return Timing{}, err
	}
	tp, err := median(pass)
	if err != nil {
		return Timing{}, err
	}
	tf, err := median(fixed)
	if err != nil {
		return Timing{}, err
	}
	tf = min(tf, tp)
	evals := float64(n * sets * alphas)
	tm.PerEval = (tp - tf) / evals
	tm.Base = tf / float64(n*sets)
	return tm, nil
}
