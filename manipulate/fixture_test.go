package manipulate

import (
	"context"
	"sync"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// tinyConfig is a reduced-width VGG-16 (8…64 channels, fc6/fc7 of 128)
// that runs the whole pipeline in seconds on 32×32 images.
var tinyConfig = vgg.Config{Width: 1.0 / 8, Hidden: 128, Classes: 10}

const tinySize = 32

// tinyModel returns the tiny VGG with torchvision's random initialisation
// of the convolutions and PyTorch's default initialisation of fc6 and fc7
// (torchvision's N(0, 0.01²) would leave a narrow fc7 with outputs near
// 1e-3, too small for a readout to learn from in a few epochs).
func tinyModel() *nn.Model {
	m := vgg.New(tinyConfig, tensor.NewRNG(3))
	rng := tensor.NewRNG(4)
	for _, name := range []string{"fc6", "fc7"} {
		u, _ := m.Unit(name)
		l := m.Net.Layer(u.Layer).(*nn.Linear)
		w, b := tensor.New(l.Weight().Shape()...), tensor.New(l.Bias().Shape()...)
		rng.KaimingUniformDefault(w)
		rng.BiasUniformDefault(b, w.Shape())
		l.SetWeights(w, b)
	}
	return m
}

// fixture is a synthetic stimulus set (categories differing in
// luminance and spatial frequency) and its images as a tensor.
type fixture struct {
	set    *stimuli.Set
	labels []stimuli.Category
	images Images
	feats  *tensor.Tensor // tinyModel's fc7 features of every image
}

var (
	fixOnce sync.Once
	fix     fixture
)

// synthetic returns the shared fixture: 300 images of 32×32.
func synthetic(t testing.TB) fixture {
	t.Helper()
	fixOnce.Do(func() {
		set := stimuli.Synthetic("planted", 300, 11, tinySize)
		x := tensor.New(len(set.Images), 3, tinySize, tinySize)
		per := 3 * tinySize * tinySize
		pre := imagenet.Config{Size: tinySize}
		for i := range set.Images {
			r, err := set.Open(i)
			if err != nil {
				panic(err)
			}
			im, err := pre.Read(r)
			r.Close()
			if err != nil {
				panic(err)
			}
			copy(x.Data()[i*per:(i+1)*per], im.Data())
		}
		images := Tensor(x)
		feats, err := Features(context.Background(), tinyModel(), "", images, allIndices(len(set.Images)), 0, nil)
		if err != nil {
			panic(err)
		}
		fix = fixture{set: set, labels: set.Labels(), images: images, feats: feats}
	})
	return fix
}

func allIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// newTask builds a task of the fixture for emotion e on tinyModel.
func newTask(t testing.TB, f fixture, labels []stimuli.Category, e stimuli.Category) *Task {
	t.Helper()
	split := Stratify(labels, 1)
	task, err := NewTask(context.Background(), "planted", f.images, labels, f.feats, split, e, readoutConfig, 9)
	if err != nil {
		t.Fatal(err)
	}
	return task
}

// readoutConfig trains the tiny net's readout: its random-init fc7
// features are small, so the rate is larger than the paper's.
var readoutConfig = nn.TrainConfig{LR: 1e-2, Epochs: 60, Batch: 32}
