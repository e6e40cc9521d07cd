package manipulate

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// TestStratifyK: at K = 3 with the emotions as classes (Unknown left out)
// StratifyK is StratifyFractions, which now calls it, so the first check
// guards the label mapping; the bits of the default split are held by
// TestDemo's golden outputs and TestStratify. At K = 4 each class is split
// 50/25/25.
func TestStratifyK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cats := make([]stimuli.Category, 101)
	labels := make([]int, len(cats))
	for i := range cats {
		cats[i] = stimuli.Category(rng.IntN(4))
		labels[i] = int(cats[i])
		if cats[i] == stimuli.Unknown {
			labels[i] = -1
		}
	}
	a, b := StratifyFractions(cats, DefaultFractions, 7), StratifyK(labels, 3, DefaultFractions, 7)
	if !slices.Equal(a.Train, b.Train) || !slices.Equal(a.Val, b.Val) || !slices.Equal(a.Test, b.Test) {
		t.Error("StratifyK at K = 3 differs from StratifyFractions")
	}
	k4 := make([]int, 80)
	for i := range k4 {
		k4[i] = i % 4
	}
	s := StratifyK(k4, 4, DefaultFractions, 3)
	for c := range 4 {
		n := [3]int{}
		for j, part := range [][]int{s.Train, s.Val, s.Test} {
			for _, i := range part {
				if k4[i] == c {
					n[j]++
				}
			}
		}
		if n != [3]int{10, 5, 5} {
			t.Errorf("class %d split %v, want 10/5/5", c, n)
		}
	}
}

var (
	kfixOnce sync.Once
	kfix     fixture
	kclasses []int
)

// kFixture is SyntheticClasses with K = 4 (160 images, 32 px) and
// tinyModel's fc7 features.
func kFixture(t testing.TB) (fixture, []int) {
	t.Helper()
	kfixOnce.Do(func() {
		set := stimuli.SyntheticClasses("k4", []string{"dark", "dim", "light", "bright"}, 160, 12, tinySize)
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
		kfix, kclasses = fixture{set: set, images: images, feats: feats}, set.ClassLabels()
	})
	return kfix, kclasses
}

// TestPlantedKReadouts is the readout half of the K = 4 planted test
// (categories differing in mean luminance): the one-vs-rest readouts of
// the extreme classes (darkest, brightest) find them, with test F1 >= 0.8
// and true positives far beyond the chance model of guessing
// (hypergeometric given the readout's number of positive decisions);
// lesioning the brightest class's selective channels at conv3_2 hurts its
// readout more than count-matched random channels; with the labels
// shuffled the readouts' true positives sit at that chance model.
func TestPlantedKReadouts(t *testing.T) {
	f, labels := kFixture(t)
	ctx := context.Background()
	split := StratifyK(labels, 4, DefaultFractions, 1)
	const chance = 0.4 // F1 of deciding "yes" for every image, p = 1/4
	for _, c := range []int{0, 3} {
		task, err := NewTaskK(ctx, "k4/"+f.set.Classes[c], f.images, labels, c, f.feats, split, kReadout, 9)
		if err != nil {
			t.Fatal(err)
		}
		_, test := task.Original()
		t.Logf("%s: test F1 %.3f", f.set.Classes[c], test.F1())
		if p := selectivity.UpperTail(test.N(), test.TP+test.FN, test.TP+test.FP, test.TP); test.F1() < 0.8 || p > 1e-6 {
			t.Errorf("%s readout: test F1 %.3f (chance p %.2g), want >= 0.8 and p <= 1e-6", f.set.Classes[c], test.F1(), p)
		}
		if c != 3 {
			continue
		}
		m := tinyModel()
		flat, err := Features(ctx, m, "conv3_2", f.images, allIndices(len(labels)), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The channels' spatial means (Eq 2), from the [N, C·H·W] output.
		u, _ := m.Unit("conv3_2")
		nc, per := u.Channels, flat.Dim(1)/u.Channels
		resp := tensor.New(flat.Dim(0), nc)
		for i := range flat.Dim(0) {
			for ch := range nc {
				s := float32(0)
				for _, v := range flat.Data()[i*flat.Dim(1)+ch*per : i*flat.Dim(1)+(ch+1)*per] {
					s += v
				}
				resp.Data()[i*nc+ch] = s / float32(per)
			}
		}
		r, err := selectivity.IndexK(resp, labels, 4, selectivity.Config{})
		if err != nil {
			t.Fatal(err)
		}
		sel := r.Select(selectivity.BySI, selectivity.DefaultKeep, 0).Selective[c]
		les, err := task.Lesion(ctx, m, "conv3_2", sel, Config{Draws: 5, Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rnd := 0.0
		for _, s := range les.Test[1:] {
			rnd += s.F1() / 5
		}
		t.Logf("bright: %d selective at conv3_2, lesion F1 %.3f, random draws' mean %.3f", len(sel), les.Test[0].F1(), rnd)
		if !(les.Test[0].F1() < rnd) {
			t.Errorf("bright lesion F1 %.3f, random %.3f: want lower", les.Test[0].F1(), rnd)
		}
	}
	// With shuffled labels a readout's true positives follow the chance
	// model of guessing: given its m positive decisions among the n test
	// images, n1 of them in the class, TP is hypergeometric with mean
	// m·n1/n. Over all readouts the observed TP stays near that mean and
	// no single readout rejects it at p < 0.01.
	rng := rand.New(rand.NewPCG(3, 4))
	var obs, exp, sumF1 float64
	for s := range 3 {
		sh := slices.Clone(labels)
		rng.Shuffle(len(sh), func(i, j int) { sh[i], sh[j] = sh[j], sh[i] })
		split := StratifyK(sh, 4, DefaultFractions, uint64(s))
		for c := range 4 {
			task, err := NewTaskK(ctx, "shuffled", f.images, sh, c, f.feats, split, kReadout, 9)
			if err != nil {
				t.Fatal(err)
			}
			_, test := task.Original()
			n, n1, m := test.N(), test.TP+test.FN, test.TP+test.FP
			e := float64(m) * float64(n1) / float64(n)
			p := selectivity.UpperTail(n, n1, m, test.TP)
			obs, exp, sumF1 = obs+float64(test.TP), exp+e, sumF1+test.F1()
			t.Logf("shuffle %d class %d: F1 %.3f, TP %d of %d positive decisions, chance %.2f, p %.3f", s, c, test.F1(), test.TP, m, e, p)
			if p < 0.01 {
				t.Errorf("shuffled labels, class %d: TP %d against chance %.2f, p %.4f", c, test.TP, e, p)
			}
		}
	}
	t.Logf("shuffled labels: %.0f true positives, %.1f expected by chance", obs, exp)
	// Without signal a one-vs-rest readout mostly answers "no" (the 3:1
	// majority), so few decisions are positive; their F1 then stays below
	// the all-"yes" guess. The ratio is tested once there are enough.
	if mean := sumF1 / 12; mean > chance {
		t.Errorf("shuffled labels: mean test F1 %.3f above the guessing F1 %.2f", mean, chance)
	}
	if r := obs / exp; exp >= 5 && (r < 0.5 || r > 1.5) {
		t.Errorf("shuffled labels: TP %.0f, chance %.1f: ratio %.2f, want near 1", obs, exp, r)
	}
}

// kReadout trains the K-class fixture's one-vs-rest readouts.
var kReadout = nn.TrainConfig{LR: 3e-2, Epochs: 200, Batch: 32}
