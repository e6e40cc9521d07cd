package onnx

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// meansNaive returns the [N,C] spatial means of v [N,C,...] (v itself for
// [N,C]), summed in float64 in index order: the reference for the
// features of a Cut.
func meansNaive(v *tensor.Tensor) []float32 {
	n, c := v.Dim(0), v.Dim(1)
	hw := v.Len() / (n * c)
	out := make([]float32, n*c)
	for p := range out {
		var s float64
		for _, x := range v.Data()[p*hw : (p+1)*hw] {
			s += float64(x)
		}
		out[p] = float32(s / float64(hw))
		if hw == 1 {
			out[p] = v.Data()[p]
		}
	}
	return out
}

// testGain returns a gain for c channels mixing lesions (a quarter),
// attenuation and enhancement.
func testGain(rng *tensor.RNG, c int) []float32 {
	g := make([]float32, c)
	for i := range g {
		g[i] = float32(rng.Float64()*2 - 0.5)
		if rng.IntN(4) == 0 {
			g[i] = -1
		}
	}
	return g
}

func bitsEqual(t *testing.T, what string, got *tensor.Tensor, want []float32) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%s: %d values, want %d", what, got.Len(), len(want))
	}
	for i, w := range want {
		if math.Float32bits(got.Data()[i]) != math.Float32bits(w) {
			t.Fatalf("%s: value %d is %g, want %g (bitwise)", what, i, got.Data()[i], w)
		}
	}
}

// TestCutBitwise checks, on every fixture network and several units, that
// a suffix re-run from the cut with a gain gives bitwise the features of
// a full Forward with that gain installed on the unit (the features unit's
// output from ForwardUnits, spatially averaged by a naive loop), for the
// whole batch and for one image's rows alone.
func TestCutBitwise(t *testing.T) {
	for _, name := range fixtureModels[:6] {
		t.Run(name, func(t *testing.T) {
			net, err := LoadNet(filepath.Join(fixtureDir, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			x := readNpy(t, filepath.Join(fixtureDir, name+".x.npy"))
			nu := len(net.Units)
			feat := net.Units[nu-1].Name
			rng := tensor.NewRNG(7)
			for _, k := range []int{0, 1, nu / 3, nu / 2, 2 * nu / 3, nu - 2, nu - 1} {
				u := net.Units[k]
				cut := net.NewCut(u.Name, feat)
				h := cut.Prefix(x)
				g := testGain(rng, u.Channels)

				net.SetGain(u.Name, g)
				_, units := net.ForwardUnits(x)
				net.SetGain(u.Name, nil)
				want := meansNaive(units[nu-1])

				got := cut.Rest(cut.Gain(h, g))
				bitsEqual(t, u.Module+" re-run", got, want)

				// One image's rows alone.
				row := tensor.From(h.Data()[h.Dim(1):], 1, h.Dim(1))
				f := want[len(want)/2:]
				bitsEqual(t, u.Module+" image 1 alone", cut.Rest(cut.Gain(row, g)), f)

				// No gain: the intact features, as Features gives them.
				_, units = net.ForwardUnits(x)
				intact := meansNaive(units[nu-1])
				bitsEqual(t, u.Module+" no gain", cut.Rest(cut.Gain(h, nil)), intact)
				bitsEqual(t, u.Module+" Features", cut.Features(x), intact)
				same := true
				for i := range intact {
					same = same && intact[i] == want[i]
				}
				if same {
					t.Errorf("%s: the gain did not change the features", u.Module)
				}
			}
		})
	}
}

// TestCutSkip checks what a ResNet-18 cut caches: inside a basic block
// the unit and the block's input (the skip path), at the block's output
// the unit alone; and that the prefix and suffix FLOPs add up to the
// whole network's up to the features.
func TestCutSkip(t *testing.T) {
	net, err := LoadNet(filepath.Join(fixtureDir, "resnet18.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	feat := net.Units[len(net.Units)-1].Name
	for _, c := range []struct {
		unit string
		vals int
	}{{"layer1.0.relu", 2}, {"layer1.0.relu_1", 1}, {"layer2.1.relu", 2}, {"relu", 1}} {
		cut := net.NewCut(c.unit, feat)
		if len(cut.vals) != c.vals {
			t.Errorf("cut at %s caches %d values, want %d", c.unit, len(cut.vals), c.vals)
		}
		u := cut.Unit()
		w := u.Channels
		for _, d := range net.shapes[net.uvals[net.unitIndex(c.unit)]][2:] {
			w *= d
		}
		if c.vals == 1 && cut.Width() != w {
			t.Errorf("cut at %s is %d wide, the unit has %d values per image", c.unit, cut.Width(), w)
		}
	}
	// FLOPs: every Conv and Gemm up to the last unit, by hand from the
	// initializers and the traced shapes.
	tr := net.trace()
	var total float64
	for _, st := range net.steps {
		if st.node.OpType == "Conv" {
			w := net.Model.Graph.Initializer(st.node.Inputs[1]).Shape()
			s := tr.shapes[st.out]
			total += 2 * float64(s[1]*s[2]*s[3]) * float64(w[1]*w[2]*w[3])
		}
		if st.out == net.uvals[len(net.Units)-1] {
			break
		}
	}
	p, s := net.NewCut("layer2.1.relu", feat).FLOPs()
	if p+s != total || p <= 0 || s <= 0 {
		t.Errorf("prefix %g + suffix %g FLOPs, want %g in all", p, s, total)
	}
}
