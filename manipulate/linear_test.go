package manipulate

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// relDiff returns max|got−want| / max|want|.
func relDiff(got, want []float32) float64 {
	var d, m float64
	for i, w := range want {
		d = max(d, math.Abs(float64(got[i])-float64(w)))
		m = max(m, math.Abs(float64(w)))
	}
	if m == 0 {
		return d
	}
	return d / m
}

// TestLinearReuse: with a gain on a random unit set of every unit of the
// reduced VGG-16 and AlexNet, the features through the reuse of the next
// linear layer (z0 + α·d_S) match a full forward with the gain installed
// within 1e-5 of their largest value, for lesions and gains up to 5; α = 0
// gives the intact features bitwise; and every unit but fc7 (whose next
// layer is the readout's own input) has a linear step.
func TestLinearReuse(t *testing.T) {
	nets := []struct {
		name string
		m    *nn.Model
		size int
	}{
		{"vgg", tinyModel(), tinySize},
		{"alexnet", alexnet.New(alexnet.Config{Width: 1.0 / 8, Hidden: 128, Classes: 10}, tensor.NewRNG(6)), 64},
	}
	for _, net := range nets {
		m := net.m
		x := tensor.New(5, 3, net.size, net.size)
		tensor.NewRNG(8).Normal(x, 0, 1)
		fc7, _ := m.Unit("fc7")
		intact := m.Net.ForwardRange(0, fc7.ReLU+1, x)
		rng := tensor.NewRNG(10)
		worst := 0.0
		for _, u := range m.Units {
			s := NewSuffix(m, u.Name, "", []int{3, net.size, net.size})
			if s.Reuses() != (u.Name != "fc7") {
				t.Errorf("%s %s: Reuses() = %v", net.name, u.Name, s.Reuses())
			}
			k := 1 + int(rng.Float64()*float64(u.Channels-1))
			units := Draw(uint64(rng.Float64()*1e12), u.Channels, k)
			alphas := []float64{-1, 0, 0.3, 1.7, 5}
			h := s.Prefix(x)
			got := s.RunSet(h, units, alphas)
			for ai, a := range alphas {
				m.SetGain(u.Name, Gain(u.Channels, units, a))
				want := m.Net.ForwardRange(0, fc7.ReLU+1, x)
				m.ClearGains()
				g := got.Slice(ai*5, (ai+1)*5).Data()
				if a == 0 {
					if !slices.Equal(g, intact.Data()) {
						t.Errorf("%s %s: α = 0 differs from the intact features", net.name, u.Name)
					}
					continue
				}
				d := relDiff(g, want.Data())
				worst = max(worst, d)
				if d > 1e-5 {
					t.Errorf("%s %s, %d units, α %v: relative difference %.2g", net.name, u.Name, k, a, d)
				}
				// The reuse must act: a gain changes the features.
				if a == 5 && relDiff(g, intact.Data()) == 0 && u.Name != "fc7" {
					t.Errorf("%s %s: α = 5 leaves the features unchanged", net.name, u.Name)
				}
			}
		}
		t.Logf("%s: worst relative difference %.2g", net.name, worst)
	}
}

// TestLinearReuseDecisions: the lesion and sweep of the planted fixture
// through the reuse and with Direct (bitwise the full forward) reach the
// same decisions, so the same scores, at every layer.
func TestLinearReuseDecisions(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	task := newTask(t, f, f.labels, stimuli.Pleasant)
	sel := selectiveUnits(t, m, f, f.labels, 0.8)
	ctx := context.Background()
	for _, layer := range plantedLayers {
		units := sel[layer][stimuli.Pleasant]
		cfg := Config{Draws: 2, Alphas: []float64{0, 0.5, 1, 2, 4}}
		direct := cfg
		direct.Direct = true
		l1, err := task.Lesion(ctx, m, layer, units, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := task.Lesion(ctx, m, layer, units, direct, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l1.Test, l2.Test) {
			t.Errorf("%s lesion: %+v through the reuse, %+v direct", layer, l1.Test, l2.Test)
		}
		s1, err := task.Sweep(ctx, m, layer, units, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := task.Sweep(ctx, m, layer, units, direct, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s1.Curves {
			if !slices.Equal(s1.Curves[i].Val, s2.Curves[i].Val) || !slices.Equal(s1.Curves[i].Test, s2.Curves[i].Test) {
				t.Errorf("%s sweep, set %d: the curves differ through the reuse", layer, i)
			}
		}
	}
}
