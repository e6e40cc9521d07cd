package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data() {
		x.Data()[i] = float32(r.NormFloat64())
	}
	return x
}

func randGain(r *rand.Rand, c int) []float32 {
	g := randTensor(r, c).Data()
	g[0] = -1
	return g
}

// fusedNet is a small network exercising both fusions, a gain and
// recording at every ReLU.
func fusedNet(rng *tensor.RNG, r *rand.Rand) *Sequential {
	return NewSequential().
		Append("features.0", NewConv2d(rng, 3, 5, 3, 3, conv.Square(1, 1, 1))).
		Append("features.1", &ReLU{Gain: randGain(r, 5)}).
		Append("features.2", NewConv2d(rng, 5, 4, 3, 2, conv.Params{Stride: [2]int{2, 1}, Pad: [2]int{1, 0}, Dilation: [2]int{1, 2}})).
		Append("features.3", &ReLU{}).
		Append("features.4", NewMaxPool2d(2, 2)).
		Append("avgpool", &AdaptiveAvgPool2d{H: 4, W: 2}).
		Append("flatten", Flatten{}).
		Append("classifier.0", NewLinear(rng, 4*4*2, 6)).
		Append("classifier.1", &ReLU{Gain: randGain(r, 6)}).
		Append("classifier.2", NewLinear(rng, 6, 3))
}

// TestFusedMatchesUnfused runs the network whole (fusing every conv/linear
// with its ReLU) and one child at a time (no fusion), and compares the
// output and every recorded mean.
func TestFusedMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	net := fusedNet(tensor.NewRNG(1), r)
	rec := map[string][]*tensor.Tensor{}
	for i, name := range net.Names() {
		if relu, ok := net.Layer(i).(*ReLU); ok {
			relu.Record = func(m *tensor.Tensor) { rec[name] = append(rec[name], m) }
		}
	}
	x := randTensor(r, 2, 3, 17, 9)
	before := x.Clone()
	fused := net.Forward(x)
	h := x
	for i := 0; i < net.Len(); i++ {
		h = net.ForwardRange(i, i+1, h)
	}
	golden.Require(t, "output", h, fused, 1e-5)
	golden.Require(t, "input after Forward", x, before, 0)
	if len(rec) != 3 {
		t.Fatalf("recorded %d ReLUs, want 3", len(rec))
	}
	for name, ms := range rec {
		if len(ms) != 2 {
			t.Fatalf("%s recorded %d times, want 2", name, len(ms))
		}
		golden.Require(t, name+" means", ms[1], ms[0], 1e-5)
	}
	if m := rec["features.1"][0]; !m.HasShape(2, 5) || m.At(0, 0) != 0 || m.At(1, 0) != 0 {
		t.Fatalf("features.1 means %v (channel 0 lesioned): %v", m.Shape(), m.Data())
	}
}

func TestForwardCaptureAndResume(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net := fusedNet(tensor.NewRNG(2), r)
	x := randTensor(r, 1, 3, 12, 8)
	i := net.Index("features.3")
	out, at := net.ForwardCapture(x, i)
	// at is the pre-ReLU conv output.
	pre := net.ForwardRange(0, i, x)
	golden.Require(t, "capture", at, pre, 0)
	if slices.ContainsFunc(at.Data(), func(v float32) bool { return v < 0 }) == false {
		t.Fatalf("captured activation has no negative values: not pre-ReLU?")
	}
	golden.Require(t, "resume", net.ForwardFrom(i, at), out, 1e-6)
	golden.Require(t, "full", net.Forward(x), out, 1e-6)
	// Re-running the suffix with another gain leaves the cache intact.
	cached := at.Clone()
	relu := net.Layer(i).(*ReLU)
	relu.Gain = []float32{-1, -1, -1, -1}
	silenced := net.ForwardFrom(i, at)
	golden.Require(t, "cache after resume", at, cached, 0)
	relu.Gain = nil
	golden.Require(t, "resume again", net.ForwardFrom(i, at), out, 1e-6)
	// With the ReLU silenced, the classifier sees zeros: the output is
	// a function of the biases only, the same for any input.
	relu.Gain = []float32{-1, -1, -1, -1}
	golden.Require(t, "silenced", net.Forward(randTensor(r, 1, 3, 12, 8)), silenced, 1e-6)
	if got := net.ForwardRange(2, 2, x); got != x {
		t.Fatal("empty range does not return its input")
	}
}

func TestLinearMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sz := range [][3]int{{1, 1, 1}, {1, 9, 4}, {3, 20, 7}, {5, 33, 17}, {16, 8, 1}, {0, 3, 2}} {
		n, in, out := sz[0], sz[1], sz[2]
		l := NewLinear(tensor.NewRNG(uint64(n*100+in)), in, out)
		x := randTensor(r, n, in)
		want := tensor.New(n, out)
		for i := 0; i < n; i++ {
			for o := 0; o < out; o++ {
				s := float64(l.Bias().At(o))
				for k := 0; k < in; k++ {
					s += float64(x.At(i, k)) * float64(l.Weight().At(o, k))
				}
				want.Set(float32(s), i, o)
			}
		}
		golden.Require(t, fmt.Sprint(sz), l.Forward(x), want, 1e-5)
	}
}

func TestReLU(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	x := tensor.From([]float32{-1, 2, nan, 3, -inf, inf}, 1, 2, 3)
	y := (&ReLU{}).Forward(x)
	want := []float32{0, 2, nan, 3, 0, inf}
	for i, v := range y.Data() {
		if v != want[i] && !(v != v && want[i] != want[i]) {
			t.Fatalf("ReLU(%v)[%d] = %v, want %v", x.Data(), i, v, want[i])
		}
	}
	y = (&ReLU{Gain: []float32{-1, 1}}).Forward(tensor.From([]float32{5, -2, 7, 1, -3, 4}, 1, 2, 3))
	if got := y.Data(); !slices.Equal(got, []float32{0, 0, 0, 2, 0, 8}) {
		t.Fatalf("gain ReLU = %v", got)
	}
	if math.Signbit(float64(y.Data()[0])) {
		t.Fatal("lesioned channel gives -0")
	}
}

// TestReLULarge checks the gain ReLU and its recorded means on planes
// long enough for the vector path (and its tail) against a float64 loop,
// also on a tensor large enough to be split over the threads (an odd
// number of planes, with and without a gain).
func TestReLULarge(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct {
		n, c, h, w int
		gain       []float32
	}{
		{2, 3, 9, 13, []float32{0.5, -1, 2}},
		{3, 7, 61, 53, []float32{0.5, -1, 2, 0, 4.5, -0.25, 1}},
		{3, 7, 61, 53, nil},
	} {
		x := randTensor(r, tc.n, tc.c, tc.h, tc.w)
		x.Data()[40] = float32(math.NaN())
		var rec *tensor.Tensor
		y := (&ReLU{Gain: tc.gain, Record: func(m *tensor.Tensor) { rec = m }}).Forward(x)
		hw := tc.h * tc.w
		for p := 0; p < tc.n*tc.c; p++ {
			g := 0.0
			if tc.gain != nil {
				g = float64(tc.gain[p%tc.c])
			}
			var sum float64
			for j := 0; j < hw; j++ {
				v := float64(x.Data()[p*hw+j])
				want := (1 + g) * max(0, v)
				got := y.Data()[p*hw+j]
				if v != v {
					if got == got {
						t.Fatalf("%v plane %d [%d]: NaN gives %v", x.Shape(), p, j, got)
					}
					sum = math.NaN()
					continue
				}
				if math.Abs(float64(got)-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("%v plane %d [%d]: ReLU(%v) = %v, want %v", x.Shape(), p, j, v, got, want)
				}
				sum += want
			}
			want, got := sum/float64(hw), float64(rec.Data()[p])
			if want != want {
				if got == got {
					t.Fatalf("%v plane %d: mean with a NaN is %v", x.Shape(), p, got)
				}
				continue
			}
			if math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
				t.Fatalf("%v plane %d: mean %v, want %v", x.Shape(), p, got, want)
			}
		}
	}
}

func TestWeightsRepacked(t *testing.T) {
	c := NewConv2d(nil, 2, 3, 1, 1, conv.Params{})
	x := tensor.Full(1, 1, 2, 2, 2)
	if y := c.Forward(x); y.MaxAbs() != 0 {
		t.Fatalf("zero conv gives %v", y.Data())
	}
	c.SetWeights(tensor.Full(1, 3, 2, 1, 1), tensor.Full(0.5, 3))
	if y := c.Forward(x); y.At(0, 2, 1, 1) != 2.5 {
		t.Fatalf("after SetWeights conv gives %v, want 2.5", y.At(0, 2, 1, 1))
	}
	l := NewLinear(nil, 2, 2)
	if err := l.LoadStateDict(StateDict{"weight": tensor.Full(2, 2, 2), "bias": tensor.Full(1, 2)}); err != nil {
		t.Fatal(err)
	}
	if y := l.Forward(tensor.Full(1, 1, 2)); !slices.Equal(y.Data(), []float32{5, 5}) {
		t.Fatalf("after LoadStateDict linear gives %v, want [5 5]", y.Data())
	}
	// NaN weights are data, not an error.
	nanW := tensor.Full(float32(math.NaN()), 2, 2)
	if err := l.LoadStateDict(StateDict{"weight": nanW, "bias": tensor.New(2)}); err != nil {
		t.Fatal(err)
	}
	if y := l.Forward(tensor.Full(1, 1, 2)); y.Data()[0] == y.Data()[0] {
		t.Fatalf("NaN weights give %v", y.Data())
	}
}

func TestStateDict(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	src := fusedNet(tensor.NewRNG(3), r)
	dst := fusedNet(nil, r)
	sd := src.StateDict()
	want := []string{
		"classifier.0.bias", "classifier.0.weight", "classifier.2.bias", "classifier.2.weight",
		"features.0.bias", "features.0.weight", "features.2.bias", "features.2.weight",
	}
	if !slices.Equal(sd.Keys(), want) {
		t.Fatalf("keys %v, want %v", sd.Keys(), want)
	}
	if err := dst.LoadStateDict(sd); err != nil {
		t.Fatal(err)
	}
	x := randTensor(r, 1, 3, 9, 9)
	for _, n := range []*Sequential{src, dst} { // same gains for both
		for i := range n.Len() {
			if relu, ok := n.Layer(i).(*ReLU); ok {
				relu.Gain = nil
			}
		}
	}
	golden.Require(t, "loaded net", dst.Forward(x), src.Forward(x), 0)
	// Loading copies: changing the source afterwards has no effect.
	sd["features.0.weight"].Data()[0] += 1
	if dst.StateDict()["features.0.weight"].Data()[0] == sd["features.0.weight"].Data()[0] {
		t.Fatal("LoadStateDict aliases the source tensors")
	}
}

func TestLoadStateDictErrors(t *testing.T) {
	net := NewSequential().
		Append("features.0", NewConv2d(nil, 3, 64, 11, 11, conv.Square(4, 2, 1))).
		Append("features.1", &ReLU{}).
		Append("classifier.1", NewLinear(nil, 4, 2))
	sd := StateDict{
		"features.0.weight":   tensor.New(64, 3, 3, 3),
		"features.0.bias":     tensor.New(64),
		"classifier.1.weight": nil,
		"features.9.weight":   tensor.New(3),
		"avgpool.weight":      nil,
	}
	before := net.StateDict()["features.0.bias"].Clone()
	sd["features.0.bias"].Data()[0] = 7
	err := net.LoadStateDict(sd)
	if err == nil {
		t.Fatal("no error")
	}
	for _, s := range []error{ErrMissingKey, ErrUnexpectedKey, ErrShape} {
		if !errors.Is(err, s) {
			t.Errorf("error does not wrap %v", s)
		}
	}
	lines := strings.Split(err.Error(), "\n")
	wantLines := []string{
		"nn: unexpected key: avgpool.weight nil",
		"nn: missing key: classifier.1.bias, want [2]",
		"nn: wrong shape: classifier.1.weight is nil, want [2 4]",
		"nn: wrong shape: features.0.weight is [64 3 3 3], want [64 3 11 11]",
		"nn: unexpected key: features.9.weight [3]",
	}
	if !slices.Equal(lines, wantLines) {
		t.Fatalf("error:\n%v\nwant:\n%v", err, strings.Join(wantLines, "\n"))
	}
	golden.Require(t, "bias after failed load", net.StateDict()["features.0.bias"], before, 0)
	if err := NewLinear(nil, 2, 2).LoadStateDict(StateDict{"weight": tensor.New(2, 2)}); !errors.Is(err, ErrMissingKey) {
		t.Fatalf("Linear.LoadStateDict without bias: %v", err)
	}
}

func TestMisusePanics(t *testing.T) {
	c := NewConv2d(nil, 3, 8, 3, 3, conv.Params{})
	golden.Panics(t, "nn: ", []string{"[1 4 9 9]", "[8 3 3 3]", "4 channels"}, func() { c.Forward(tensor.New(1, 4, 9, 9)) })
	golden.Panics(t, "nn: ", []string{"[1 3 2 9]", "[8 3 3 3]", "too small"}, func() { c.Forward(tensor.New(1, 3, 2, 9)) })
	golden.Panics(t, "nn: ", []string{"[3 9 9]", "[8 3 3 3]"}, func() { c.Forward(tensor.New(3, 9, 9)) })
	golden.Panics(t, "nn: ", []string{"[8 3 1 1]", "[8 3 3 3]"}, func() { c.SetWeights(tensor.New(8, 3, 1, 1), tensor.New(8)) })
	l := NewLinear(nil, 4, 2)
	golden.Panics(t, "nn: ", []string{"[1 5]", "[2 4]"}, func() { l.Forward(tensor.New(1, 5)) })
	golden.Panics(t, "nn: ", []string{"[1 4 1 1]", "[2 4]"}, func() { l.Forward(tensor.New(1, 4, 1, 1)) })
	golden.Panics(t, "nn: ", []string{"gain has 3 channels", "[1 2 2 2]"}, func() {
		(&ReLU{Gain: make([]float32, 3)}).Forward(tensor.New(1, 2, 2, 2))
	})
	golden.Panics(t, "nn: ", []string{"[4]"}, func() { (&ReLU{}).Forward(tensor.New(4)) })
	// The fused paths check the gain the same way.
	net := NewSequential().Append("c", c).Append("r", &ReLU{Gain: make([]float32, 3)})
	golden.Panics(t, "nn: ", []string{"gain has 3 channels", "[1 8 7 7]"}, func() { net.Forward(tensor.New(1, 3, 9, 9)) })
	net = NewSequential().Append("l", l).Append("r", &ReLU{Gain: make([]float32, 3)})
	golden.Panics(t, "nn: ", []string{"gain has 3 channels", "[1 2]"}, func() { net.Forward(tensor.New(1, 4)) })
	golden.Panics(t, "nn: ", []string{"[1 1 1 1]", "[2 2]"}, func() { NewMaxPool2d(2, 2).Forward(tensor.New(1, 1, 1, 1)) })
	golden.Panics(t, "nn: ", []string{"[1 1 4]", "[7 7]"}, func() { (&AdaptiveAvgPool2d{H: 7, W: 7}).Forward(tensor.New(1, 1, 4)) })
	golden.Panics(t, "nn: ", []string{`"l"`, "already"}, func() { net.Append("l", &ReLU{}) })
	golden.Panics(t, "nn: ", []string{"empty name"}, func() { net.Append("", &ReLU{}) })
	golden.Panics(t, "nn: ", []string{"child 5", "[0, 2)"}, func() { net.Layer(5) })
	golden.Panics(t, "nn: ", []string{"[1, 3)", "[0, 2]"}, func() { net.ForwardRange(1, 3, nil) })
	if net.Index("nope") != -1 {
		t.Fatal("Index of a missing name is not -1")
	}
}

// TestConcurrentForward runs one network from several goroutines (run
// with -race): layers keep no per-call state.
func TestConcurrentForward(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	net := fusedNet(tensor.NewRNG(4), r)
	x := randTensor(r, 2, 3, 10, 10)
	want := net.Forward(x)
	done := make(chan *tensor.Tensor)
	for range 4 {
		go func() { done <- net.Forward(x) }()
	}
	for range 4 {
		golden.Require(t, "concurrent", <-done, want, 0)
	}
}

// keeper is a layer of another package's kind: it keeps its input and
// returns a copy, scaled, which it also keeps.
type keeper struct{ in, out []*tensor.Tensor }

func (k *keeper) Forward(x *tensor.Tensor) *tensor.Tensor {
	y := x.Clone()
	for i := range y.Data() {
		y.Data()[i] *= 2
	}
	k.in, k.out = append(k.in, x), append(k.out, y)
	return y
}

// TestRecycleKeepsWhatOthersHold runs networks that recycle their
// activations (with every size recycled and reused buffers poisoned) and
// checks that nothing anybody else holds is touched: the caller's input,
// every earlier output, a view of the input passed through (Dropout,
// Flatten) and what a layer of another kind keeps; and that the output
// does not depend on the buffers reused.
func TestRecycleKeepsWhatOthersHold(t *testing.T) {
	defer tensor.DebugScratch(tensor.DebugScratch(true))
	r := rand.New(rand.NewPCG(9, 10))
	k := &keeper{}
	rng := tensor.NewRNG(3)
	net := NewSequential().
		Append("features.0", NewConv2d(rng, 3, 4, 3, 3, conv.Square(1, 1, 1))).
		Append("features.1", &ReLU{}).
		Append("keep", k).
		Append("features.2", NewMaxPool2d(2, 2)).
		Append("features.3", &ReLU{Gain: randGain(r, 4)}).
		Append("drop", &Dropout{}).
		Append("flatten", Flatten{}).
		Append("classifier.0", NewLinear(rng, 4*4*3, 5)).
		Append("classifier.1", &ReLU{})
	var outs, copies []*tensor.Tensor
	check := func(what string) {
		t.Helper()
		for i := range outs {
			golden.Require(t, fmt.Sprintf("%s: output %d", what, i), outs[i], copies[i], 0)
		}
		for i := range k.in {
			golden.Require(t, fmt.Sprintf("%s: keeper input %d", what, i), k.in[i], k.in[0], 0)
			golden.Require(t, fmt.Sprintf("%s: keeper output %d", what, i), k.out[i], k.out[0], 0)
		}
	}
	x := randTensor(r, 2, 3, 8, 6)
	xc := x.Clone()
	for run := 0; run < 4; run++ {
		y := net.Forward(x)
		outs, copies = append(outs, y), append(copies, y.Clone())
		check(fmt.Sprintf("run %d", run))
		golden.Require(t, "input", x, xc, 0)
	}
	golden.Require(t, "second output", outs[1], outs[0], 0)
	keptIn := k.out[0].Clone()
	h := k.out[0] // the keeper's output, which it holds
	for run := 0; run < 3; run++ {
		y := net.ForwardFrom(net.Index("features.2"), h)
		golden.Require(t, "suffix", y, outs[0], 0)
		golden.Require(t, "suffix input", h, keptIn, 0)
	}
	check("after the suffix runs")
}
