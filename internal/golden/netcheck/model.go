// Package netcheck holds the whole-network golden tests shared by vgg and
// alexnet: every unit's recorded means and the logits against PyTorch's,
// and the state-dict keys against torchvision's.
package netcheck

import (
	"context"
	"fmt"
	"os"

	"path/filepath"
	"testing"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/golden"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// CheckModel runs m on x with every unit recorded and compares each unit's
// [N,C] spatial means with dir/<prefix>.means.<unit>.npy and the output
// with dir/<prefix>.logits.npy, within tol relative to each array's
// largest magnitude.
//
// The network runs twice with tensor.DebugScratch on: the second pass
// computes its activations in buffers the first recycled, filled with NaN,
// so a layer that leaves part of its output unwritten fails, and the two
// passes must give the same bits.
func CheckModel(t testing.TB, m *nn.Model, x *tensor.Tensor, dir, prefix string, tol float64) {
	t.Helper()
	defer tensor.DebugScratch(tensor.DebugScratch(true))
	got := map[string]*tensor.Tensor{}
	m.Record(func(unit string, means *tensor.Tensor) { got[unit] = means })
	defer m.Record(nil)
	first := m.Forward(x)
	logits := m.Forward(x)
	golden.Require(t, prefix+" logits, second pass against the first", logits, first, 0)
	for _, u := range m.Units {
		want := golden.Load(t, filepath.Join(dir, prefix+".means."+u.Name+".npy"))
		g, ok := got[u.Name]
		if !ok {
			t.Errorf("%s: unit %s was not recorded", prefix, u.Name)
			continue
		}
		golden.Check(t, prefix+" "+u.Name+" means", g, want, tol)
	}
	golden.Check(t, prefix+" logits", logits, golden.Load(t, filepath.Join(dir, prefix+".logits.npy")), tol)
}

// CheckFormats is the whole-network golden test shared by vgg and
// alexnet: it preprocesses dir/img*.png at size×size as emosel does
// (checking the batch against dir/input.npy), then for each of the three
// files torchvision saved (zip, legacy and safetensors) loads the network
// with load and runs CheckModel on prefix "small" within 1e-4, once with
// every convolution computed by im2col and once with every 3×3 one by
// Winograd.
func CheckFormats(t *testing.T, dir string, size int, load func(path string) (*nn.Model, error)) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "img*.png"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no images in %s: %v", dir, err)
	}
	x, err := imagenet.Config{Size: size}.LoadBatch(context.Background(), paths)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "preprocessed input", x, golden.Load(t, filepath.Join(dir, "input.npy")), 1e-6)
	for _, file := range []string{"small.pt", "small_legacy.pt", "small.safetensors"} {
		t.Run(file, func(t *testing.T) {
			m, err := load(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []conv.Algorithm{conv.Im2col, conv.Winograd} {
				t.Run(a.String(), func(t *testing.T) {
					defer conv.SetAlgorithm(conv.SetAlgorithm(a))
					CheckModel(t, m, x, dir, "small", 1e-4)
				})
			}
		})
	}
}

// CheckFull is the full-size golden test: when EMOSEL_FULL_FIXTURES names
// the directory `testdata/gen/models.py --full DIR` wrote, it loads
// DIR/<arch>.pt with load and compares with DIR/<arch>.* on DIR/input.npy.
func CheckFull(t *testing.T, arch string, load func(path string) (*nn.Model, error)) {
	dir := os.Getenv("EMOSEL_FULL_FIXTURES")
	if dir == "" {
		t.Skip("EMOSEL_FULL_FIXTURES not set")
	}
	x := golden.Load(t, filepath.Join(dir, "input.npy"))
	m, err := load(filepath.Join(dir, arch+".pt"))
	if err != nil {
		t.Fatal(err)
	}
	CheckModel(t, m, x, dir, arch, 1e-4)
}

// BenchForward is BenchmarkForward of vgg and alexnet: full inference of m
// on random 3×224×224 inputs at batch 1 and 16, reporting img/s.
func BenchForward(b *testing.B, m *nn.Model) {
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			x := tensor.New(batch, 3, 224, 224)
			tensor.NewRNG(2).Normal(x, 0, 1)
			m.Forward(x) // warm up pools and buffers
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Forward(x)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchLayers is BenchmarkLayers of vgg and alexnet: each layer of m on
// its own at batch 16 (3×224×224 inputs), as a sub-benchmark named after
// the layer, reporting ms per batch. Run alone, a ReLU is not fused into
// the layer before it as it is in a whole forward pass.
func BenchLayers(b *testing.B, m *nn.Model) {
	s := m.Net
	x := tensor.New(16, 3, 224, 224)
	tensor.NewRNG(2).Normal(x, 0, 1)
	for i := 0; i < s.Len(); i++ {
		in := x
		b.Run(fmt.Sprintf("layer=%s", s.Names()[i]), func(b *testing.B) {
			s.ForwardRange(i, i+1, in) // warm up pools and kept weights
			b.ResetTimer()
			for j := 0; j < b.N; j++ {
				s.ForwardRange(i, i+1, in)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/batch")
		})
		x = s.ForwardRange(i, i+1, x)
	}
}
