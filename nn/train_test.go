package nn

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/tensor"
)

// Fixtures are made by testdata/gen/readout.py; see
// testdata/readout/README.md.

func readoutFixture(t *testing.T, name, key string) *tensor.Tensor {
	t.Helper()
	return golden.Load(t, filepath.Join("testdata", "readout", name+"."+key+".npy"))
}

func ints(x *tensor.Tensor) []int {
	out := make([]int, x.Len())
	for i, v := range x.Data() {
		out[i] = int(v)
	}
	return out
}

// TestTrainerGolden replays the batch order of each PyTorch run and
// compares every step's loss and the final parameters.
func TestTrainerGolden(t *testing.T) {
	cases := []struct {
		name  string
		batch int
		cfg   TrainConfig
	}{
		{"adam2", 8, TrainConfig{}},
		{"adam3", 6, TrainConfig{LR: 5e-2}},
		{"adamwd", 7, TrainConfig{LR: 1e-2, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.01}},
		{"sgdm", 8, TrainConfig{Optimizer: SGD, LR: 5e-2, Momentum: 0.9}},
		{"sgd", 10, TrainConfig{Optimizer: SGD, LR: 1e-1}},
		{"adamcw", 8, TrainConfig{LR: 1e-2}}, // ClassWeight from the fixture
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := readoutFixture(t, c.name, "x")
			y := ints(readoutFixture(t, c.name, "y"))
			order := readoutFixture(t, c.name, "order")
			w0, b0 := readoutFixture(t, c.name, "w0"), readoutFixture(t, c.name, "b0")
			l := NewLinear(nil, w0.Dim(1), w0.Dim(0))
			l.SetWeights(w0, b0)
			c.cfg.Batch = c.batch
			if c.name == "adamcw" {
				cw := readoutFixture(t, c.name, "cw")
				for _, v := range cw.Data() {
					c.cfg.ClassWeight = append(c.cfg.ClassWeight, float64(v))
				}
				// torch's weights are the balanced ones of the labels.
				for i, w := range BalancedWeights(y, 2) {
					if math.Abs(w-c.cfg.ClassWeight[i]) > 1e-6 {
						t.Errorf("BalancedWeights %v, torch's %v", BalancedWeights(y, 2), c.cfg.ClassWeight)
					}
				}
			}
			tr := NewTrainer(l, c.cfg)
			epochs, n := order.Dim(0), order.Dim(1)
			var losses []float32
			for e := range epochs {
				perm := ints(order.Slice(e, e+1))
				for s := 0; s < n; s += c.batch {
					losses = append(losses, float32(tr.Step(x, y, perm[s:min(s+c.batch, n)])))
				}
			}
			want := readoutFixture(t, c.name, "loss")
			golden.Require(t, c.name+" losses", tensor.From(losses, len(losses)), want, 1e-5)
			golden.Require(t, c.name+" weight", l.Weight(), readoutFixture(t, c.name, "w"), 1e-5)
			golden.Require(t, c.name+" bias", l.Bias(), readoutFixture(t, c.name, "b"), 1e-5)
			// The weights really moved: the comparison is not vacuous.
			var moved float64
			for i, v := range l.Weight().Data() {
				moved = max(moved, math.Abs(float64(v-w0.Data()[i])))
			}
			if moved < 1e-3 {
				t.Errorf("%s: weights moved by at most %g", c.name, moved)
			}
		})
	}
}

// separable returns n rows of d features whose class (of k) is
// recoverable linearly: feature c is large for class c.
func separable(n, d, k int, seed uint64) (*tensor.Tensor, []int) {
	rng := tensor.NewRNG(seed)
	x := tensor.New(n, d)
	rng.Uniform(x, 0, 1)
	y := make([]int, n)
	for i := range y {
		y[i] = rng.IntN(k)
		x.Data()[i*d+y[i]] += 3
	}
	return x, y
}

func TestTrainDeterministicAndLearns(t *testing.T) {
	x, y := separable(300, 16, 3, 7)
	run := func(seed uint64) (*Linear, []float64) {
		l := NewLinear(tensor.NewRNG(1), 16, 3)
		losses, err := Train(context.Background(), l, x, y, TrainConfig{Seed: seed, LR: 1e-2, Batch: 32})
		if err != nil {
			t.Fatal(err)
		}
		return l, losses
	}
	a, la := run(5)
	b, lb := run(5)
	if !slices.Equal(a.Weight().Data(), b.Weight().Data()) || !slices.Equal(a.Bias().Data(), b.Bias().Data()) || !slices.Equal(la, lb) {
		t.Fatal("same seed gave different weights or losses")
	}
	c, _ := run(6)
	if slices.Equal(a.Weight().Data(), c.Weight().Data()) {
		t.Error("another shuffle seed gave identical weights")
	}
	if len(la) != 10 || !(la[9] < la[0]) {
		t.Errorf("losses %v: want 10 epochs, decreasing", la)
	}
	// Training accuracy of the head.
	out := a.Forward(x)
	right := 0
	for i := range y {
		row := out.Data()[i*3 : i*3+3]
		arg := 0
		for j := range row {
			if row[j] > row[arg] {
				arg = j
			}
		}
		if arg == y[i] {
			right++
		}
	}
	if right < 290 {
		t.Errorf("trained head gets %d/300 right, want at least 290", right)
	}
}

func TestTrainSGDDefaultsAndCancel(t *testing.T) {
	x, y := separable(50, 4, 2, 3)
	l := NewLinear(tensor.NewRNG(2), 4, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	losses, err := Train(ctx, l, x, y, TrainConfig{Optimizer: SGD, Momentum: 0.5})
	if !errors.Is(err, context.Canceled) || len(losses) != 0 {
		t.Errorf("cancelled Train: losses %v, err %v", losses, err)
	}
	tr := NewTrainer(l, TrainConfig{})
	if c := tr.Config(); c.LR != 1e-3 || c.Epochs != 10 || c.Batch != 128 || c.Beta1 != 0.9 || c.Beta2 != 0.999 || c.Eps != 1e-8 {
		t.Errorf("defaults %+v", c)
	}
	if Adam.String() != "adam" || SGD.String() != "sgd" || Optimizer(9).String() != "Optimizer(9)" {
		t.Error("Optimizer.String")
	}
}

func TestTrainerPanics(t *testing.T) {
	x, y := separable(10, 4, 2, 3)
	cases := map[string]func(){
		"label":  func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{}).Step(x, append([]int{5}, y[1:]...), []int{0}) },
		"row":    func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{}).Step(x, y, []int{10}) },
		"empty":  func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{}).Step(x, y, nil) },
		"shape":  func() { NewTrainer(NewLinear(nil, 5, 2), TrainConfig{}).Step(x, y, []int{0}) },
		"labels": func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{}).Step(x, y[:3], []int{0}) },
		"lr":     func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{LR: -1}) },
		"beta":   func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{Beta2: 1}) },
		"opt":    func() { NewTrainer(NewLinear(nil, 4, 2), TrainConfig{Optimizer: 7}) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, ok := r.(string); !ok || !strings.HasPrefix(s, "nn: ") {
					t.Errorf("panic %v, want an nn: message", r)
				}
			}()
			f()
		})
	}
}

// TestTrainBalanced: Balanced trains with BalancedWeights of the labels
// (the same bits as passing them as ClassWeight), which differ from the
// unweighted run on unbalanced labels; weights of 1 are the unweighted
// run to the bit.
func TestTrainBalanced(t *testing.T) {
	x, y := separable(90, 6, 3, 11)
	for i := range y {
		if i%3 != 0 {
			y[i] = 0 // class 0 is the large majority
		}
	}
	run := func(cfg TrainConfig) []float32 {
		l := NewLinear(tensor.NewRNG(1), 6, 3)
		cfg.Seed, cfg.LR, cfg.Batch, cfg.Epochs = 3, 1e-2, 16, 4
		if _, err := Train(context.Background(), l, x, y, cfg); err != nil {
			t.Fatal(err)
		}
		return slices.Concat(l.Weight().Data(), l.Bias().Data())
	}
	w := BalancedWeights(y, 3)
	n := [3]float64{}
	for _, c := range y {
		n[c]++
	}
	for c := range 3 {
		if math.Abs(w[c]*3*n[c]-90) > 1e-9 {
			t.Errorf("BalancedWeights %v for counts %v, want 90/(3·n_c)", w, n)
		}
	}
	bal, cw, plain := run(TrainConfig{Balanced: true}), run(TrainConfig{ClassWeight: w}), run(TrainConfig{})
	if !slices.Equal(bal, cw) {
		t.Error("Balanced differs from ClassWeight = BalancedWeights")
	}
	if slices.Equal(bal, plain) {
		t.Error("balanced weights trained the same head as none")
	}
	if ones := run(TrainConfig{ClassWeight: []float64{1, 1, 1}}); !slices.Equal(ones, plain) {
		t.Error("class weights of 1 differ from the unweighted loss")
	}
	for _, cfg := range []TrainConfig{{Balanced: true, ClassWeight: w}, {ClassWeight: []float64{1, 1}}, {ClassWeight: []float64{1, -1, 1}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Train accepted %+v", cfg)
				}
			}()
			run(cfg)
		}()
	}
}
