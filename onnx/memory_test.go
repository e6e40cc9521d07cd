package onnx

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// TestForwardRecycles checks that Forward, which hands dead buffers back
// to tensor.Scratch and lets Add write over a dead input, gives the bits
// of ForwardUnits (which keeps every unit's buffer) on every fixture
// network, twice in a row, with reused buffers filled with NaN first (so
// that a step reading a recycled buffer, or leaving part of its output
// unwritten, shows).
func TestForwardRecycles(t *testing.T) {
	defer tensor.DebugScratch(tensor.DebugScratch(true))
	for _, name := range fixtureModels {
		t.Run(name, func(t *testing.T) {
			net, err := LoadNet(filepath.Join(fixtureDir, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			x := readNpy(t, filepath.Join(fixtureDir, name+".x.npy"))
			x0 := x.Clone()
			want, _ := net.ForwardUnits(x)
			for pass := 0; pass < 2; pass++ {
				got := net.Forward(x)
				requireBits(t, name, got, want)
			}
			requireBits(t, name+" input", x, x0)
		})
	}
}

// requireBits fails unless got and want have the same shape and bits.
func requireBits(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if !got.SameShape(want) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape(), want.Shape())
	}
	for i, v := range got.Data() {
		if math.Float32bits(v) != math.Float32bits(want.Data()[i]) {
			t.Fatalf("%s: %v at %d, want %v", what, v, i, want.Data()[i])
		}
	}
}

// TestAddReLU checks the fused Add (+ gain ReLU) against an Add loop
// followed by nn.ReLU (the same bits, and the same recorded means), in a
// new buffer and written over either input, on both sides of the
// threading threshold.
func TestAddReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, shape := range [][]int{{2, 3, 5, 7}, {3, 16, 40, 41}, {4, 10}} {
		for _, gain := range []bool{false, true} {
			for _, into := range []int{-1, 0, 1} {
				a, b := tensor.New(shape...), tensor.New(shape...)
				for i := range a.Data() {
					a.Data()[i], b.Data()[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
				}
				a.Data()[1] = float32(math.NaN())
				sum := tensor.New(shape...)
				for i := range sum.Data() {
					sum.Data()[i] = a.Data()[i] + b.Data()[i]
				}
				ref := &nn.ReLU{}
				var wantMeans, gotMeans *tensor.Tensor
				ref.Record = func(m *tensor.Tensor) { wantMeans = m }
				r2 := &nn.ReLU{Record: func(m *tensor.Tensor) { gotMeans = m }}
				if gain {
					g := make([]float32, shape[1])
					for i := range g {
						g[i] = float32(r.Float64()*2 - 1)
					}
					g[0] = -1
					ref.Gain, r2.Gain = g, g
				}
				want := ref.Forward(sum)
				dst := tensor.New(shape...)
				switch into {
				case 0:
					dst = a
				case 1:
					dst = b
				}
				got := addReLU(dst, a, b, r2)
				requireBits(t, "addReLU", got, want)
				requireBits(t, "addReLU means", gotMeans, wantMeans)
				if into >= 0 && !got.SharesData(dst) {
					t.Fatalf("in place into input %d: output has its own buffer", into)
				}
			}
		}
	}
	// Without a ReLU: the sum alone.
	a, b := tensor.Full(1.5, 2, 70000), tensor.Full(-4, 2, 70000)
	requireBits(t, "add", addReLU(tensor.New(2, 70000), a, b, nil), tensor.Full(-2.5, 2, 70000))
}

// TestLoadNetReleases checks that LoadNet drops the decoded Conv and Gemm
// weights from its Model (and nothing else), that its Net computes the
// bits of NewNet on a Model that keeps them, and that NewNet does not
// change the Model's weights.
func TestLoadNetReleases(t *testing.T) {
	path := filepath.Join(fixtureDir, "resnet18.onnx")
	net, err := LoadNet(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	weights := map[string]bool{}
	for _, n := range m.Graph.Nodes {
		if n.OpType == "Conv" || n.OpType == "Gemm" {
			weights[n.Inputs[1]] = true
		}
	}
	released := 0
	for _, init := range net.Model.Graph.Initializers {
		switch {
		case weights[init.Name] && init.Floats != nil:
			t.Errorf("weight %s is still held", init.Name)
		case weights[init.Name]:
			released++
		case init.Floats == nil && init.Ints == nil && init.Len() > 0:
			t.Errorf("initializer %s was released", init.Name)
		}
	}
	if released == 0 {
		t.Fatal("no weights released")
	}
	// LoadNet folds and packs its weights in place; NewNet must leave
	// the caller's model as it was decoded.
	m0, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, init := range m.Graph.Initializers {
		if init.Floats == nil && init.Ints == nil && init.Len() > 0 {
			t.Errorf("NewNet released %s", init.Name)
		}
		for j, v := range init.Floats {
			if math.Float32bits(v) != math.Float32bits(m0.Graph.Initializers[i].Floats[j]) {
				t.Fatalf("NewNet changed %s[%d] from %v to %v", init.Name, j, m0.Graph.Initializers[i].Floats[j], v)
			}
		}
	}
	x := readNpy(t, filepath.Join(fixtureDir, "resnet18.x.npy"))
	requireBits(t, "LoadNet vs NewNet", net.Forward(x), ref.Forward(x))
}
