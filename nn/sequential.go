package nn

import (
	"fmt"
	"strings"

	"github.com/emosel/emosel/tensor"
)

// Sequential runs named children in order. Models are flat: child names
// are torchvision key prefixes ("features.0", "avgpool", "classifier.6"),
// and a child's parameter keys are its name, a dot and the child's own key.
//
// When a Conv2d or Linear is directly followed by a *ReLU within the
// children being run, the two run as one fused GEMM pass: bias, gain-ReLU
// and (for Record) the spatial sums happen in the GEMM epilogue. The result
// and the recorded means equal running them one at a time, to float32
// rounding.
//
// To cache a layer's pre-gain activation and re-run the rest of the
// network with other gains, stop before the ReLU and resume from it:
//
//	i := net.Index("features.29") // a ReLU after a Conv2d
//	h := net.ForwardRange(0, i, x) // conv output, pre-ReLU
//	for _, g := range gains {
//		relu.Gain = g
//		y := net.ForwardFrom(i, h) // h is not modified
//	}
//
// ForwardCapture does the first step as part of a full Forward.
//
// Within a call, an activation that one of this package's layers made
// is recycled (tensor.Recycle) as soon as the next such layer has read
// it, so that a forward pass reuses its buffers from batch to batch.
// What the caller can hold is never recycled: the input, the result, a
// view of either, and the input and output of a layer of another type
// (which may keep them).
type Sequential struct {
	names  []string
	layers []Layer
	index  map[string]int
}

// NewSequential returns an empty Sequential.
func NewSequential() *Sequential {
	return &Sequential{index: map[string]int{}}
}

// Append adds a child named name (unique, non-empty) and returns s.
func (s *Sequential) Append(name string, l Layer) *Sequential {
	if name == "" || l == nil {
		panic(fmt.Sprintf("nn: Append(%q, %v): empty name or nil layer", name, l))
	}
	if i, ok := s.index[name]; ok {
		panic(fmt.Sprintf("nn: Append(%q): name already used by child %d", name, i))
	}
	if s.index == nil {
		s.index = map[string]int{}
	}
	s.index[name] = len(s.layers)
	s.names = append(s.names, name)
	s.layers = append(s.layers, l)
	return s
}

// Len returns the number of children.
func (s *Sequential) Len() int { return len(s.layers) }

// Names returns the children's names in order.
func (s *Sequential) Names() []string { return append([]string(nil), s.names...) }

// Index returns the position of the child named name, or −1.
func (s *Sequential) Index(name string) int {
	if i, ok := s.index[name]; ok {
		return i
	}
	return -1
}

// Layer returns child i.
func (s *Sequential) Layer(i int) Layer {
	if i < 0 || i >= len(s.layers) {
		panic(fmt.Sprintf("nn: child %d out of range [0, %d)", i, len(s.layers)))
	}
	return s.layers[i]
}

// Forward implements Layer by running every child.
func (s *Sequential) Forward(x *tensor.Tensor) *tensor.Tensor {
	return s.ForwardRange(0, len(s.layers), x)
}

// ForwardFrom runs children i..Len()-1 on x, the input of child i.
func (s *Sequential) ForwardFrom(i int, x *tensor.Tensor) *tensor.Tensor {
	return s.ForwardRange(i, len(s.layers), x)
}

// ForwardRange runs children i..j-1 on x, the input of child i, and
// returns the output of child j-1 (x itself when i == j). Fusion happens
// only within the range, so with child j a ReLU after a Conv2d, the result
// is the convolution's pre-ReLU output.
func (s *Sequential) ForwardRange(i, j int, x *tensor.Tensor) *tensor.Tensor {
	if i < 0 || i > j || j > len(s.layers) {
		panic(fmt.Sprintf("nn: child range [%d, %d) out of range [0, %d]", i, j, len(s.layers)))
	}
	// ours: x is an activation this call made with built-in layers (or a
	// view of one), which nothing outside the call holds. Once the next
	// built-in layer has consumed it, its buffer is recycled for the
	// activations of later layers and calls (tensor.Scratch), unless the
	// output is a view of it. A layer of another type may keep its input
	// or output, so neither is recycled.
	ours := false
	for k := i; k < j; k++ {
		prev, wasOurs := x, ours
		if f, ok := s.layers[k].(fuser); ok && k+1 < j {
			if r, ok := s.layers[k+1].(*ReLU); ok {
				x = f.forwardReLU(x, r)
				k++
				ours = true // a fuser's output is fresh
				if wasOurs && !prev.SharesData(x) {
					tensor.Recycle(prev)
				}
				continue
			}
		}
		x = s.layers[k].Forward(x)
		if !builtin(s.layers[k]) {
			ours = false
			continue
		}
		if prev.SharesData(x) {
			continue // a view (Flatten, Dropout): ours as its input was
		}
		ours = true
		if wasOurs {
			tensor.Recycle(prev)
		}
	}
	return x
}

// builtin reports whether l is one of this package's layers, which keep
// neither their input nor their output after Forward.
func builtin(l Layer) bool {
	switch l.(type) {
	case *Conv2d, *ReLU, *MaxPool2d, *AdaptiveAvgPool2d, *Linear, *Dropout, Flatten, *Flatten:
		return true
	}
	return false
}

// ForwardCapture runs the whole network and also returns at, the input of
// child i (the output of child i−1, before any fusion with child i).
// ForwardFrom(i, at) reproduces out.
func (s *Sequential) ForwardCapture(x *tensor.Tensor, i int) (out, at *tensor.Tensor) {
	at = s.ForwardRange(0, i, x)
	return s.ForwardFrom(i, at), at
}

// fuser is a layer that can apply a following ReLU in its GEMM epilogue.
type fuser interface {
	forwardReLU(x *tensor.Tensor, r *ReLU) *tensor.Tensor
}

// StateDict implements Stateful: the union of the Stateful children's
// state dicts, each key prefixed by the child's name and a dot.
func (s *Sequential) StateDict() StateDict {
	sd := StateDict{}
	for i, l := range s.layers {
		if st, ok := l.(Stateful); ok {
			for k, t := range st.StateDict() {
				sd[s.names[i]+"."+k] = t
			}
		}
	}
	return sd
}

// LoadStateDict implements Stateful. It checks every key and shape first
// and loads nothing if any is wrong; otherwise it copies each tensor in
// and repacks the weights.
func (s *Sequential) LoadStateDict(sd StateDict) error {
	return s.load(sd, false)
}

// adopter is a layer that can take a checked state dict's tensors as its
// own instead of copying them.
type adopter interface{ adopt(sd StateDict) }

// load is LoadStateDict; with adopt, layers keep sd's tensors themselves
// (no copy, so loading VGG-16 holds its 528 MB once), and the caller must
// not use sd afterwards.
func (s *Sequential) load(sd StateDict, adopt bool) error {
	if err := checkState(s.StateDict(), sd); err != nil {
		return err
	}
	for i, l := range s.layers {
		st, ok := l.(Stateful)
		if !ok {
			continue
		}
		sub := StateDict{}
		for k := range st.StateDict() {
			sub[k] = sd[s.names[i]+"."+k]
		}
		if a, ok := l.(adopter); ok && adopt {
			a.adopt(sub)
			continue
		}
		if err := st.LoadStateDict(sub); err != nil {
			return fmt.Errorf("nn: loading %s: %w", s.names[i], err) // unreachable: checked above
		}
	}
	return nil
}

// String lists the children, one per line, as "name: layer".
func (s *Sequential) String() string {
	var b strings.Builder
	b.WriteString("Sequential(\n")
	for i, l := range s.layers {
		fmt.Fprintf(&b, "  %s: %v\n", s.names[i], l)
	}
	b.WriteString(")")
	return b.String()
}
