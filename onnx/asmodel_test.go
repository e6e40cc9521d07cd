package onnx_test

import (
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/onnx"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/tensor"
)

const dir = "../testdata/onnx"

func load(t *testing.T, name string) (*onnx.Net, *tensor.Tensor) {
	t.Helper()
	net, err := onnx.LoadNet(filepath.Join(dir, name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := npy.ReadFile(filepath.Join(dir, name+".x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	return net, x
}

// means is the [N,C] spatial means of v, by a naive float64 loop.
func means(v *tensor.Tensor) []float32 {
	n, c := v.Dim(0), v.Dim(1)
	hw := v.Len() / (n * c)
	out := make([]float32, n*c)
	for p := range out {
		var s float64
		for _, x := range v.Data()[p*hw : (p+1)*hw] {
			s += float64(x)
		}
		out[p] = float32(s / float64(hw))
	}
	return out
}

func sameBits(a []float32, b []float32) bool {
	return len(a) == len(b) && slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestAsModelNames checks the model's unit names on every fixture: one
// per graph ReLU, unique, safe in a file name, torchvision's module paths
// where the export keeps them.
func TestAsModelNames(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)
	want := map[string][]string{
		"resnet18":     {"relu", "layer1.0.relu", "layer1.0.relu_1", "layer3.1.relu", "layer4.1.relu_1"},
		"vgg16_bn":     {"features.2", "features.42", "classifier.1", "classifier.4"},
		"densenet121":  {"features.denseblock1.denselayer1.relu1"},
		"mobilenet_v2": {"features.0.2"},
	}
	for _, name := range []string{"resnet18", "resnet50", "squeezenet1_1", "mobilenet_v2", "densenet121", "vgg16_bn"} {
		net, _ := load(t, name)
		m := net.AsModel(name)
		if len(m.Units) != len(net.Units) {
			t.Fatalf("%s: %d model units for %d graph ReLUs", name, len(m.Units), len(net.Units))
		}
		seen := map[string]bool{}
		for i, u := range m.Units {
			if !safe.MatchString(u.Name) || seen[u.Name] {
				t.Errorf("%s: unit %d name %q is not safe or not unique", name, i, u.Name)
			}
			seen[u.Name] = true
			if u.Channels != net.Units[i].Channels || u.Conv != net.Units[i].Conv {
				t.Errorf("%s: unit %s is %d channels conv %v, graph says %d %v", name, u.Name, u.Channels, u.Conv, net.Units[i].Channels, net.Units[i].Conv)
			}
		}
		for _, w := range want[name] {
			if !seen[w] {
				t.Errorf("%s: no unit %q", name, w)
			}
		}
	}
}

// TestAsModel checks, on ResNet-18, that the nn.Model view records,
// gains and manipulates the graph: recorded means against a naive mean
// of ForwardUnits, manipulate's suffix and features bitwise against a
// full forward of the graph with the gain, and ParamsHash seeing gains.
func TestAsModel(t *testing.T) {
	net, x := load(t, "resnet18")
	m := net.AsModel("resnet18")
	_, units := net.ForwardUnits(x)

	got := map[string][]float32{}
	m.Record(func(unit string, mm *tensor.Tensor) { got[unit] = mm.Data() })
	m.Forward(x)
	m.Record(nil)
	for i, u := range m.Units {
		want := means(units[i])
		g := got[u.Name]
		if len(g) != len(want) {
			t.Fatalf("unit %s: recorded %d means, want %d", u.Name, len(g), len(want))
		}
		for j := range want {
			if d := math.Abs(float64(g[j] - want[j])); d > 1e-6*(1+math.Abs(float64(want[j]))) {
				t.Fatalf("unit %s mean %d: recorded %g, forward gives %g", u.Name, j, g[j], want[j])
			}
		}
	}

	feat := m.Units[len(m.Units)-1].Name
	image := x.Shape()[1:]
	h0 := selectivity.ParamsHash(m)
	for _, layer := range []string{"layer1.0.relu", "layer2.0.relu_1", "layer3.1.relu"} {
		u, _ := m.Unit(layer)
		g := manipulate.Gain(u.Channels, []int{0, 2, 3, 5}, -1)
		g[1] = 0.5
		s := manipulate.NewSuffix(m, layer, feat, image)
		out := s.Run(s.Prefix(x), g)

		m.SetGain(layer, g)
		if selectivity.ParamsHash(m) == h0 {
			t.Errorf("%s: ParamsHash does not see the gain", layer)
		}
		_, gained := net.ForwardUnits(x)
		m.ClearGains()
		if want := means(gained[len(gained)-1]); !sameBits(out.Data(), want) {
			t.Errorf("%s: suffix re-run differs from a full forward with the gain", layer)
		}
		c := manipulate.UnitCost(m, layer, feat, image)
		if !(c.Prefix > 0 && c.Suffix > 0 && c.Full == c.Prefix+c.Suffix) || s.FLOPs() != c.Suffix {
			t.Errorf("%s: cost %+v, suffix FLOPs %g", layer, c, s.FLOPs())
		}
	}
	if selectivity.ParamsHash(m) != h0 {
		t.Error("ParamsHash changed after ClearGains")
	}
	f, err := manipulate.Features(t.Context(), m, feat, manipulate.Tensor(x), []int{1, 0}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := means(units[len(units)-1])
	c := len(want) / 2
	if !sameBits(f.Data(), append(want[c:], want[:c]...)) {
		t.Error("manipulate.Features differs from the intact forward's means")
	}
}

// TestRandomize checks the untrained control: every Conv weight drawn
// with kaiming_normal_'s std (within 10%), BatchNormalization reset to
// identity, the same bits for a seed, others for another seed.
func TestRandomize(t *testing.T) {
	path := filepath.Join(dir, "resnet18.onnx")
	a, err := onnx.LoadRandom(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	trained, x := load(t, "resnet18")
	for _, init := range a.Model.Graph.Initializers {
		s := init.Shape()
		if len(s) != 4 || init.Floats == nil {
			continue
		}
		var ss float64
		for _, v := range init.Floats {
			ss += float64(v) * float64(v)
		}
		std := math.Sqrt(ss / float64(len(init.Floats)))
		want := math.Sqrt(2 / float64(s[0]*s[2]*s[3]))
		if len(init.Floats) >= 500 && math.Abs(std/want-1) > 0.1 {
			t.Errorf("%s %v: std %.4g, want kaiming fan_out %.4g", init.Name, s, std, want)
		}
	}
	ya := a.Forward(x)
	b, _ := onnx.LoadRandom(path, 3)
	c, _ := onnx.LoadRandom(path, 4)
	if !sameBits(ya.Data(), b.Forward(x).Data()) {
		t.Error("two loads with seed 3 differ")
	}
	if sameBits(ya.Data(), c.Forward(x).Data()) || sameBits(ya.Data(), trained.Forward(x).Data()) {
		t.Error("seed 4 or the trained weights give seed 3's output")
	}
	if selectivity.ParamsHash(a.AsModel("r")) == selectivity.ParamsHash(c.AsModel("r")) {
		t.Error("ParamsHash does not tell seeds apart")
	}
	// BatchNormalization is reset to the identity (ResNet-18's export
	// folded it into the convolutions; ResNet-50's keeps it).
	r50, err := onnx.LoadRandom(filepath.Join(dir, "resnet50.onnx"), 3)
	if err != nil {
		t.Fatal(err)
	}
	bns := 0
	for _, n := range r50.Model.Graph.Nodes {
		if n.OpType != "BatchNormalization" {
			continue
		}
		bns++
		for i, v := range []float32{1, 0, 0, 1} {
			for _, f := range r50.Model.Graph.Initializer(n.Inputs[i+1]).Floats {
				if f != v {
					t.Fatalf("%s input %d holds %g, want %g", n.Name, i+1, f, v)
				}
			}
		}
	}
	if bns == 0 {
		t.Fatal("resnet50.onnx has no BatchNormalization")
	}
}
