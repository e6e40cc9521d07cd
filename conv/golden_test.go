package conv

import (
	"path/filepath"
	"testing"

	"github.com/emosel/emosel/internal/golden"
)

// The cases below mirror the tables in testdata/gen/ops.py.

func TestGoldenConv(t *testing.T) {
	cases := []struct {
		name string
		p    Params
	}{
		{"alexnet1", Square(4, 2, 1)},
		{"vgg3x3", Square(1, 1, 1)},
		{"dilated", Params{Stride: [2]int{2, 3}, Pad: [2]int{2, 1}, Dilation: [2]int{2, 3}}},
		{"pointwise", Params{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			load := func(k string) string { return filepath.Join("testdata", "conv_"+c.name+"."+k+".npy") }
			x, w, b, y := golden.Load(t, load("x")), golden.Load(t, load("w")), golden.Load(t, load("b")), golden.Load(t, load("y"))
			got := NewFilter(w, c.p).Forward(x, Epilogue{Bias: b.Data()})
			golden.Require(t, c.name, got, y, 1e-5)
		})
	}
}

func TestGoldenMaxPool(t *testing.T) {
	cases := []struct {
		name string
		p    Pool
	}{
		{"alexnet3s2", Pool{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}},
		{"vgg2s2", Pool{Kernel: [2]int{2, 2}}},
		{"ceil3s2p1", Pool{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [2]int{1, 1}, Ceil: true}},
		{"ceil2s2", Pool{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Ceil: true}},
		{"ceil3s3p1", Pool{Kernel: [2]int{3, 3}, Stride: [2]int{3, 3}, Pad: [2]int{1, 1}, Ceil: true}},
		{"dilated", Pool{Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Pad: [2]int{1, 1}, Dilation: [2]int{2, 3}, Ceil: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := golden.Load(t, filepath.Join("testdata", "maxpool_"+c.name+".x.npy"))
			y := golden.Load(t, filepath.Join("testdata", "maxpool_"+c.name+".y.npy"))
			golden.Require(t, c.name, MaxPool2d(x, c.p), y, 0)
		})
	}
}

func TestGoldenAdaptiveAvgPool(t *testing.T) {
	cases := []struct {
		name   string
		oh, ow int
	}{
		{"13to7", 7, 7},
		{"13to6", 6, 6},
		{"5to7", 7, 7},
		{"13x9to6x4", 6, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := golden.Load(t, filepath.Join("testdata", "adaptive_"+c.name+".x.npy"))
			y := golden.Load(t, filepath.Join("testdata", "adaptive_"+c.name+".y.npy"))
			golden.Require(t, c.name, AdaptiveAvgPool2d(x, c.oh, c.ow), y, 1e-6)
		})
	}
}
