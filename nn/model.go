package nn

import (
	"fmt"
	"strings"

	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/weights"
)

// Unit names a population of "neurons" in a Model: the channels of one
// ReLU, under the paper's name for the layer that feeds it ("conv1_1",
// "conv5_3", "fc7"). Recording reads the ReLU's output; gain and lesion
// act on the ReLU's Gain.
type Unit struct {
	Name     string // paper name: "conv3_2", "fc7"
	Conv     bool   // true for a convolutional unit, false for a fully connected one
	Layer    int    // child index of the Conv2d or Linear feeding the ReLU
	ReLU     int    // child index of the ReLU
	Channels int    // number of neurons (output channels)
}

// Model is a flat Sequential with torchvision key names plus the paper's
// names for its recordable units. vgg and alexnet build them.
type Model struct {
	Arch  string // "vgg16", "alexnet", ...
	Net   *Sequential
	Units []Unit // in forward order

	// Graph, when not nil, is the network (a DAG read from ONNX), and
	// Net is a Sequential whose one child, "graph", runs it; see Graph.
	Graph Graph

	// Notices are what LoadFile adapted in the file it loaded, one line
	// each (a DataParallel "module." prefix stripped), for a CLI to show.
	Notices []string
}

// Unit returns the unit with the given paper name.
func (m *Model) Unit(name string) (Unit, bool) {
	for _, u := range m.Units {
		if u.Name == name {
			return u, true
		}
	}
	return Unit{}, false
}

// ConvUnits returns the convolutional units in forward order.
func (m *Model) ConvUnits() []Unit {
	var out []Unit
	for _, u := range m.Units {
		if u.Conv {
			out = append(out, u)
		}
	}
	return out
}

// ReLUOf returns the ReLU of the named unit; it panics if there is none.
func (m *Model) ReLUOf(name string) *ReLU {
	u, ok := m.Unit(name)
	if !ok {
		panic(fmt.Sprintf("nn: %s has no unit %q", m.Arch, name))
	}
	return m.relu(u)
}

// relu returns u's ReLU.
func (m *Model) relu(u Unit) *ReLU {
	if m.Graph != nil {
		return m.Graph.ReLU(u.ReLU)
	}
	return m.Net.Layer(u.ReLU).(*ReLU)
}

// SetGain installs a per-channel gain vector α ([Channels], nil for a
// plain ReLU) on the named unit's ReLU: y = (1+α_c)·max(0, x).
func (m *Model) SetGain(name string, alpha []float32) {
	u, ok := m.Unit(name)
	if !ok {
		panic(fmt.Sprintf("nn: %s has no unit %q", m.Arch, name))
	}
	if alpha != nil && len(alpha) != u.Channels {
		panic(fmt.Sprintf("nn: gain for %s has %d values, unit has %d channels", name, len(alpha), u.Channels))
	}
	m.relu(u).Gain = alpha
}

// ClearGains removes every unit's gain.
func (m *Model) ClearGains() {
	for _, u := range m.Units {
		m.relu(u).Gain = nil
	}
}

// Record installs fn as the recording hook on every unit (nil removes
// them): after each Forward, fn receives each unit's [N, Channels] spatial
// means of its post-ReLU output (Eq 2 of the paper), in forward order.
// Conv units are recorded in the fused GEMM epilogue, at no extra pass.
func (m *Model) Record(fn func(unit string, means *tensor.Tensor)) {
	for _, u := range m.Units {
		r := m.relu(u)
		if fn == nil {
			r.Record = nil
			continue
		}
		name := u.Name
		r.Record = func(means *tensor.Tensor) { fn(name, means) }
	}
}

// Forward runs the whole network: [N,3,H,W] -> [N, classes].
func (m *Model) Forward(x *tensor.Tensor) *tensor.Tensor { return m.Net.Forward(x) }

// StateDict returns the parameters under torchvision's keys (a Graph's
// under its file's names).
func (m *Model) StateDict() StateDict {
	if m.Graph != nil {
		return m.Graph.StateDict()
	}
	return m.Net.StateDict()
}

// LoadStateDict loads parameters under torchvision's keys (see
// Sequential.LoadStateDict for the checks). A Graph's parameters come
// with its file: it returns an error.
func (m *Model) LoadStateDict(sd StateDict) error {
	if m.Graph != nil {
		return fmt.Errorf("nn: %s is a graph: its parameters are loaded with its file", m.Arch)
	}
	return m.Net.LoadStateDict(sd)
}

// AddUnits scans net for Conv2d/Linear layers directly followed by a ReLU
// and names them in order with names[i]; it panics if the counts differ.
// Model builders use it.
func (m *Model) AddUnits(names ...string) {
	k := 0
	for i := 0; i+1 < m.Net.Len(); i++ {
		if _, ok := m.Net.Layer(i + 1).(*ReLU); !ok {
			continue
		}
		var u Unit
		switch l := m.Net.Layer(i).(type) {
		case *Conv2d:
			u = Unit{Conv: true, Channels: l.Weight().Dim(0)}
		case *Linear:
			u = Unit{Conv: false, Channels: l.Weight().Dim(0)}
		default:
			continue
		}
		if k >= len(names) {
			panic(fmt.Sprintf("nn: %s has more than %d units", m.Arch, len(names)))
		}
		u.Name, u.Layer, u.ReLU = names[k], i, i+1
		m.Units = append(m.Units, u)
		k++
	}
	if k != len(names) {
		panic(fmt.Sprintf("nn: %s has %d units, %d names given", m.Arch, k, len(names)))
	}
}

// LoadFile loads the weight file at path (any format package weights
// reads) into m. adapt, when non-nil, may rename keys first (vgg uses it
// for timm's names). On a mismatch the error names the file, the first
// offending key with both shapes, and how many other problems there are,
// on one line; errors.Is still finds ErrMissingKey, ErrUnexpectedKey or
// ErrShape. Nothing is loaded unless everything fits.
func (m *Model) LoadFile(path string, adapt func(weights.StateDict) (weights.StateDict, error)) error {
	if m.Graph != nil {
		return fmt.Errorf("nn: %s is a graph: its parameters are loaded with its file", m.Arch)
	}
	sd, err := weights.LoadFile(path)
	if err != nil {
		return err
	}
	if trimmed, ok := trimPrefix(sd, "module."); ok {
		sd = trimmed
		m.Notices = append(m.Notices, fmt.Sprintf("%s: stripped the prefix \"module.\" (nn.DataParallel) from its %d keys", path, len(sd)))
	}
	if adapt != nil {
		if sd, err = adapt(sd); err != nil {
			return fmt.Errorf("nn: %s: %w", path, err)
		}
	}
	if err := m.Net.load(StateDict(sd), true); err != nil {
		var errs []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap()
		}
		if len(errs) > 1 {
			return fmt.Errorf("nn: %s does not hold %s weights: %w (and %d more problems)", path, m.Arch, errs[0], len(errs)-1)
		}
		return fmt.Errorf("nn: %s does not hold %s weights: %w", path, m.Arch, err)
	}
	return nil
}

// trimPrefix returns sd with prefix removed from every key, if every key
// has it (as nn.DataParallel and DistributedDataParallel save them).
func trimPrefix(sd weights.StateDict, prefix string) (weights.StateDict, bool) {
	if len(sd) == 0 {
		return sd, false
	}
	for k := range sd {
		if !strings.HasPrefix(k, prefix) {
			return sd, false
		}
	}
	out := make(weights.StateDict, len(sd))
	for k, v := range sd {
		out[strings.TrimPrefix(k, prefix)] = v
	}
	return out, true
}
