package alexnet

import (
	"math"
	"slices"
	"testing"

	"github.com/emosel/emosel/internal/golden/netcheck"
	"github.com/emosel/emosel/tensor"
)

func TestKeys(t *testing.T) {
	netcheck.CheckKeys(t, NewZero(), "testdata/torchvision_keys.txt")
}

func TestUnits(t *testing.T) {
	m := NewZero()
	var got []string
	for _, u := range m.Units {
		got = append(got, m.Net.Names()[u.ReLU]+"="+u.Name)
	}
	want := []string{"features.1=conv1", "features.4=conv2", "features.7=conv3", "features.9=conv4",
		"features.11=conv5", "classifier.2=fc6", "classifier.5=fc7"}
	if !slices.Equal(got, want) {
		t.Fatalf("units %v, want %v", got, want)
	}
}

// TestRandomInit checks PyTorch's default initialisation statistically:
// weights and biases U(±1/√fan_in), so |w| <= b and var = b²/3.
func TestRandomInit(t *testing.T) {
	m := New(Config{Hidden: 1024, Classes: 100}, tensor.NewRNG(3))
	sd := m.StateDict()
	for _, c := range []struct {
		key   string
		fanIn int
	}{
		{"features.0.weight", 3 * 121},
		{"features.3.weight", 64 * 25},
		{"features.3.bias", 64 * 25},
		{"classifier.1.weight", 256 * 36},
	} {
		x := sd[c.key].Data()
		b := 1 / math.Sqrt(float64(c.fanIn))
		var sum, sq float64
		for _, v := range x {
			if math.Abs(float64(v)) > b {
				t.Fatalf("%s: %g outside ±%g", c.key, v, b)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(x))
		variance := sq/n - (sum/n)*(sum/n)
		// The sampling error of the variance of n uniforms is about
		// b²·sqrt(4/45/n); allow five of them.
		if tolVar := 5 * b * b * math.Sqrt(4.0/45/n); math.Abs(variance-b*b/3) > tolVar {
			t.Errorf("%s: variance %.4g, want %.4g ± %.2g", c.key, variance, b*b/3, tolVar)
		}
	}
}
