package vgg

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/emosel/emosel/internal/golden/netcheck"
	"github.com/emosel/emosel/tensor"
)

// TestKeys checks every depth against torchvision's state-dict keys and
// shapes (listed by testdata/gen/models.py from torchvision itself).
func TestKeys(t *testing.T) {
	for _, d := range []int{11, 13, 16, 19} {
		netcheck.CheckKeys(t, New(Config{Depth: d}, nil), "testdata/torchvision_keys.txt")
	}
}

func TestUnits(t *testing.T) {
	m := New16()
	var names []string
	for _, u := range m.Units {
		names = append(names, u.Name)
	}
	want := []string{"conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
		"conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3", "fc6", "fc7"}
	if !slices.Equal(names, want) {
		t.Fatalf("units %v, want %v", names, want)
	}
	// torchvision's VGG-16 ReLUs after convolutions sit at these indices.
	relus := []int{1, 3, 6, 8, 11, 13, 15, 18, 20, 22, 25, 27, 29}
	for i, r := range relus {
		if got := m.Net.Names()[m.Units[i].ReLU]; got != fmt.Sprintf("features.%d", r) {
			t.Errorf("%s ReLU is %s, want features.%d", want[i], got, r)
		}
	}
	if u, _ := m.Unit("fc7"); m.Net.Names()[u.ReLU] != "classifier.4" || u.Channels != 4096 {
		t.Errorf("fc7 is %+v (%s)", u, m.Net.Names()[u.ReLU])
	}
}

// moments returns the mean and population standard deviation of x.
func moments(x []float32) (mean, std float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(x)))
}

// TestRandomInit checks torchvision's VGG initialisation statistically:
// conv weights N(0, 2/fan_out), linear weights N(0, 0.01²), biases 0; and
// that a seed reproduces and another seed differs.
func TestRandomInit(t *testing.T) {
	cfg := Config{Hidden: 512, Classes: 100}
	m := New(cfg, tensor.NewRNG(1))
	sd := m.StateDict()
	for _, c := range []struct {
		key string
		std float64
	}{
		{"features.2.weight", math.Sqrt(2.0 / (64 * 9))},
		{"features.28.weight", math.Sqrt(2.0 / (512 * 9))},
		{"classifier.0.weight", 0.01},
		{"classifier.6.weight", 0.01},
	} {
		mean, std := moments(sd[c.key].Data())
		if math.Abs(std/c.std-1) > 0.02 || math.Abs(mean) > 0.02*c.std {
			t.Errorf("%s: mean %.3g std %.4g, want 0 and %.4g", c.key, mean, std, c.std)
		}
	}
	for _, k := range []string{"features.0.bias", "classifier.3.bias"} {
		if sd[k].MaxAbs() != 0 {
			t.Errorf("%s is not zero", k)
		}
	}
	again := New(cfg, tensor.NewRNG(1)).StateDict()
	other := New(cfg, tensor.NewRNG(2)).StateDict()
	w := sd["features.0.weight"].Data()
	if !slices.Equal(w, again["features.0.weight"].Data()) {
		t.Error("same seed gave different weights")
	}
	if slices.Equal(w, other["features.0.weight"].Data()) {
		t.Error("different seeds gave the same weights")
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Depth: 15}, {Width: -1}} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("New(%+v) did not panic", cfg)
				}
			}()
			New(cfg, nil)
		}()
	}
}
