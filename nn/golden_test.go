package nn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/tensor"
)

// Fixtures are made by testdata/gen/ops.py; see testdata/gen/README.md.

func td(name string) string { return filepath.Join("testdata", name+".npy") }

func TestGoldenLinear(t *testing.T) {
	l := NewLinear(nil, 20, 7)
	err := l.LoadStateDict(StateDict{"weight": golden.Load(t, td("linear.weight")), "bias": golden.Load(t, td("linear.bias"))})
	if err != nil {
		t.Fatal(err)
	}
	golden.Require(t, "linear", l.Forward(golden.Load(t, td("linear.x"))), golden.Load(t, td("linear.y")), 1e-5)
}

func TestGoldenGainReLU(t *testing.T) {
	alpha := golden.Load(t, td("gainrelu.alpha")).Data()
	var means *tensor.Tensor
	r := &ReLU{Gain: alpha, Record: func(m *tensor.Tensor) { means = m }}
	golden.Require(t, "gainrelu4d", r.Forward(golden.Load(t, td("gainrelu4d.x"))), golden.Load(t, td("gainrelu4d.y")), 0)
	golden.Require(t, "gainrelu4d means", means, golden.Load(t, td("gainrelu4d.means")), 1e-6)
	y2 := r.Forward(golden.Load(t, td("gainrelu2d.x")))
	golden.Require(t, "gainrelu2d", y2, golden.Load(t, td("gainrelu2d.y")), 0)
	golden.Require(t, "gainrelu2d means", means, y2, 0)
}

// newTiny builds the network of testdata/gen/ops.py's Tiny class, with
// zero weights.
func newTiny() *Sequential {
	return NewSequential().
		Append("features.0", NewConv2d(nil, 3, 4, 3, 3, conv.Square(1, 1, 1))).
		Append("features.1", &ReLU{}).
		Append("features.2", NewMaxPool2d(2, 2)).
		Append("features.3", NewConv2d(nil, 4, 6, 5, 5, conv.Square(2, 2, 1))).
		Append("features.4", &ReLU{}).
		Append("features.5", &MaxPool2d{Pool: conv.Pool{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Ceil: true}}).
		Append("avgpool", &AdaptiveAvgPool2d{H: 2, W: 2}).
		Append("flatten", Flatten{}).
		Append("classifier.0", NewLinear(nil, 24, 5)).
		Append("classifier.1", &ReLU{}).
		Append("classifier.2", &Dropout{P: 0.5}).
		Append("classifier.3", NewLinear(nil, 5, 3))
}

// loadTinyState reads every parameter file of testdata/tiny (the files
// named after state-dict keys).
func loadTinyState(t *testing.T) StateDict {
	dir := filepath.Join("testdata", "tiny")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sd := StateDict{}
	for _, e := range ents {
		key := strings.TrimSuffix(e.Name(), ".npy")
		if strings.HasSuffix(key, ".weight") || strings.HasSuffix(key, ".bias") {
			sd[key] = golden.Load(t, filepath.Join(dir, e.Name()))
		}
	}
	return sd
}

func TestGoldenTinyNet(t *testing.T) {
	net := newTiny()
	if err := net.LoadStateDict(loadTinyState(t)); err != nil {
		t.Fatal(err)
	}
	rec := map[string]*tensor.Tensor{}
	for _, name := range []string{"features.1", "features.4", "classifier.1"} {
		r := net.Layer(net.Index(name)).(*ReLU)
		r.Record = func(m *tensor.Tensor) { rec[name] = m }
	}
	net.Layer(net.Index("features.4")).(*ReLU).Gain = golden.Load(t, td("tiny/gain.features.4")).Data()
	x := golden.Load(t, td("tiny/input"))
	golden.Require(t, "tiny output", net.Forward(x), golden.Load(t, td("tiny/output")), 1e-5)
	for name, m := range rec {
		golden.Require(t, "tiny means "+name, m, golden.Load(t, td("tiny/means."+name)), 1e-5)
	}
	if len(rec) != 3 {
		t.Fatalf("recorded %d layers, want 3", len(rec))
	}
}
