package manipulate

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// TestSuffixEqualsFullForward: the suffix re-run from a cached pre-gain
// activation gives bitwise the features of a full forward with the gain
// installed on the model, for lesions, attention and mixed per-channel
// vectors, whatever the batch.
func TestSuffixEqualsFullForward(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	ctx := context.Background()
	x, _ := f.images.Load(ctx, []int{3, 1, 4, 1, 5, 9, 2})
	fc7, _ := m.Unit("fc7")
	for _, layer := range []string{"conv1_1", "conv2_2", "conv3_3", "conv5_3", "fc6"} {
		s := NewSuffix(m, layer, "", f.images.Shape())
		c := s.Unit().Channels
		rng := tensor.NewRNG(5)
		mixed := make([]float32, c)
		for i := range mixed {
			mixed[i] = float32(rng.Float64()*3 - 1)
		}
		h := s.Prefix(x)
		for name, g := range map[string][]float32{
			"none":      nil,
			"zero":      make([]float32, c),
			"lesion":    Lesion(c, []int{0, c / 2}),
			"attention": Gain(c, []int{1, c - 1}, 2.5),
			"mixed":     mixed,
		} {
			got := s.Run(h, g)
			m.SetGain(layer, g)
			want := m.Net.ForwardRange(0, fc7.ReLU+1, x)
			m.ClearGains()
			if !slices.Equal(got.Data(), want.Data()) {
				t.Errorf("%s %s: suffix features differ from the full forward", layer, name)
			}
			// Another batch: image 4 alone.
			one := s.Run(s.Prefix(x.Slice(2, 3)), g)
			if !slices.Equal(one.Data(), got.Slice(2, 3).Data()) {
				t.Errorf("%s %s: features of an image depend on its batch", layer, name)
			}
		}
	}
}

// TestAlphaZeroExact: α = 0 through the suffix machinery reproduces the
// intact network's decisions, hence its F1, exactly, at every layer.
func TestAlphaZeroExact(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	task := newTask(t, f, f.labels, stimuli.Unpleasant)
	_, orig := task.Original()
	truth := Truth(task.Labels, task.Emotion, task.Split.Test)
	for _, u := range m.Units {
		s := NewSuffix(m, u.Name, "", f.images.Shape())
		preds, err := s.Predict(context.Background(), f.images, task.Split.Test,
			[][]float32{make([]float32, u.Channels), Gain(u.Channels, allIndices(u.Channels), 0)}, task.Readout, 1<<20, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range preds {
			if got := Evaluate(p, truth); got != orig || got.F1() != orig.F1() {
				t.Errorf("%s: α = 0 gives %+v, intact %+v", u.Name, got, orig)
			}
		}
	}
	// The sweep's α = 0 point is the intact score too, and with a grid
	// of {0} nothing beats it.
	res, err := task.Sweep(context.Background(), m, "conv3_1", []int{0, 1, 2}, Config{Draws: 2, Alphas: []float64{0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, cv := range res.Curves {
		if cv.BestTest() != orig || cv.BestAlpha() != 0 {
			t.Errorf("sweep at α = 0: %+v, intact %+v", cv, orig)
		}
	}
	if orig.F1() < 0.5 {
		t.Errorf("intact readout F1 %.3f: the fixture is too hard to be useful", orig.F1())
	}
}

// TestLesionAllIsChance: silencing every channel of a layer makes the
// features constant, so the readout gives every image the same answer,
// and its accuracy is the base rate of that answer.
func TestLesionAllIsChance(t *testing.T) {
	f := synthetic(t)
	m := tinyModel()
	task := newTask(t, f, f.labels, stimuli.Unpleasant)
	truth := Truth(task.Labels, task.Emotion, task.Split.Test)
	pos := 0
	for _, v := range truth {
		if v {
			pos++
		}
	}
	for _, layer := range []string{"conv1_1", "conv3_2", "conv5_3"} {
		u, _ := m.Unit(layer)
		res, err := task.Lesion(context.Background(), m, layer, allIndices(u.Channels), Config{Draws: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		sc := res.Test[0]
		if sc.TP+sc.FP != 0 && sc.TN+sc.FN != 0 {
			t.Errorf("%s lesioned: decisions %+v are not constant", layer, sc)
		}
		want := float64(pos) / float64(len(truth))
		if sc.TP+sc.FP == 0 {
			want = 1 - want
		}
		if math.Abs(sc.Accuracy()-want) > 1e-12 {
			t.Errorf("%s lesioned: accuracy %v, base rate %v", layer, sc.Accuracy(), want)
		}
		// The only random draw of all channels is all channels too.
		if res.Test[1] != sc || res.Count != 1 || res.P != 1 {
			t.Errorf("%s: random draw of every channel %+v, count %d, p %v", layer, res.Test[1], res.Count, res.P)
		}
	}
}
