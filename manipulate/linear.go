package manipulate

import (
	"strconv"
	"strings"
	"sync"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// The linear reuse of the next layer.
//
// A gain α on a set S of the unit's channels reaches the next Conv2d or
// Linear through layers that commute with a non-negative per-channel
// scale (max and average pooling, dropout, flatten), so its
// pre-activation is linear in α:
//
//	z(α) = W∗u0 + b + α·(W_S∗u0_S) = z0 + α·d_S
//
// with u0 the next layer's input without gain. A suffix re-run computes
// z0 once per chunk of images, d_S once per unit set (a convolution or
// product over |S| input channels instead of all), and per α only
// z0 + α·d_S before running the rest of the network from the next
// layer's ReLU. The features differ from a full forward with the gain
// installed by float reassociation only (TestLinearReuse bounds it).

// linearStep is the next linear layer after a Suffix's unit.
type linearStep struct {
	next int // child index of the Conv2d or Linear
	// hw is the number of input columns per channel of a Linear after a
	// flatten (1 for a Linear fed [N,C] directly); 0 for a Conv2d.
	hw  int
	mu  sync.Mutex
	sub map[string]nn.Layer // the layer restricted to a unit set's inputs, without bias
}

// findLinear returns the linear step of s, nil if the child after its
// unit's ReLU, past commuting layers, is not a Conv2d or Linear followed
// by a ReLU inside the suffix.
func findLinear(m *nn.Model, u nn.Unit, end int, tr Trace) *linearStep {
	for k := u.ReLU + 1; k < end; k++ {
		switch l := m.Net.Layer(k).(type) {
		case *nn.MaxPool2d, *nn.AdaptiveAvgPool2d, *nn.Dropout, nn.Flatten, *nn.Flatten:
			continue
		case *nn.Conv2d, *nn.Linear:
			if k+1 >= end {
				return nil
			}
			if _, ok := m.Net.Layer(k + 1).(*nn.ReLU); !ok {
				return nil
			}
			st := &linearStep{next: k, sub: map[string]nn.Layer{}}
			if lin, ok := l.(*nn.Linear); ok {
				in := lin.Weight().Dim(1)
				if in%u.Channels != 0 {
					return nil
				}
				st.hw = in / u.Channels
			}
			return st
		default:
			return nil
		}
	}
	return nil
}

// subLayer returns the next layer restricted to the inputs of units,
// with a zero bias, built once per unit set.
func (s *Suffix) subLayer(units []int) nn.Layer {
	st := s.linear
	key := unitsKey(units)
	st.mu.Lock()
	defer st.mu.Unlock()
	if l := st.sub[key]; l != nil {
		return l
	}
	var out nn.Layer
	switch l := s.m.Net.Layer(st.next).(type) {
	case *nn.Conv2d:
		w := l.Weight()
		o, c, kh, kw := w.Dim(0), w.Dim(1), w.Dim(2), w.Dim(3)
		per := kh * kw
		sw := tensor.New(o, len(units), kh, kw)
		for i := range o {
			for j, u := range units {
				copy(sw.Data()[(i*len(units)+j)*per:][:per], w.Data()[(i*c+u)*per:][:per])
			}
		}
		cv := nn.NewConv2d(nil, len(units), o, kh, kw, l.Params())
		cv.SetWeights(sw, tensor.New(o))
		out = cv
	case *nn.Linear:
		w := l.Weight()
		o, in, hw := w.Dim(0), w.Dim(1), st.hw
		sw := tensor.New(o, len(units)*hw)
		for i := range o {
			for j, u := range units {
				copy(sw.Data()[(i*len(units)+j)*hw:][:hw], w.Data()[i*in+u*hw:][:hw])
			}
		}
		li := nn.NewLinear(nil, len(units)*hw, o)
		li.SetWeights(sw, tensor.New(o))
		out = li
	}
	st.sub[key] = out
	return out
}

func unitsKey(units []int) string {
	var b strings.Builder
	for _, u := range units {
		b.WriteString(strconv.Itoa(u))
		b.WriteByte(',')
	}
	return b.String()
}

// base is a chunk's unmanipulated state at the next linear layer: its
// input u0 and pre-activation z0.
type base struct {
	u0, z0 *tensor.Tensor
}

// baseOf computes the base of a batch of pre-gain activations h.
// [N,C,...] -> u0 [N,...], z0 [N,...]
func (s *Suffix) baseOf(h *tensor.Tensor) base {
	y := (&nn.ReLU{}).Forward(h)
	u0 := s.m.Net.ForwardRange(s.unit.ReLU+1, s.linear.next, y)
	if !u0.SharesData(y) {
		tensor.Recycle(y)
	}
	return base{u0: u0, z0: s.m.Net.Layer(s.linear.next).Forward(u0)}
}

// delta returns d_S for rows of the base (ascending, nil for all): the
// next layer over the unit set's input channels only, without bias.
// [len(rows),...]
func (s *Suffix) delta(b base, units []int, rows []int) *tensor.Tensor {
	u0 := b.u0
	n := u0.Dim(0)
	if rows == nil {
		rows = all(n)
	}
	c := s.unit.Channels
	row := u0.Len() / max(n, 1)
	per := row / c                              // values per channel in u0's layout
	shape := []int{len(rows), len(units) * per} // a flat input: per-channel column blocks
	if u0.Rank() > 2 {
		shape = shapeOf(len(rows), u0.Shape()[1:])
		shape[1] = len(units)
	}
	g := tensor.Scratch(shape...) // every value is written
	k := len(units) * per
	for i, r := range rows {
		src := u0.Data()[r*row:]
		dst := g.Data()[i*k:]
		for j, u := range units {
			copy(dst[j*per:(j+1)*per], src[u*per:(u+1)*per])
		}
	}
	d := s.subLayer(units).Forward(g)
	tensor.Recycle(g)
	return d
}
