package manipulate

import (
	"context"
	"fmt"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// Readout is a 2-unit linear layer trained on a frozen network's features
// to tell one emotion from the other two (the paper's replacement of fc8).
// Class 1 is the emotion.
type Readout struct {
	Emotion stimuli.Category
	Head    *nn.Linear // [2,F]
	Losses  []float64  // mean training loss per epoch
}

// Targets returns the binary labels of the e-vs-not-e task: 1 where
// labels[i] == e, else 0.
func Targets(labels []stimuli.Category, e stimuli.Category) []int {
	y := make([]int, len(labels))
	for i, l := range labels {
		if l == e {
			y[i] = 1
		}
	}
	return y
}

// Truth returns, for images idx, whether each is labelled e.
func Truth(labels []stimuli.Category, e stimuli.Category, idx []int) []bool {
	t := make([]bool, len(idx))
	for i, k := range idx {
		t[i] = labels[k] == e
	}
	return t
}

// TrainReadout trains a readout for emotion e on rows train of feats
// [N,F] (labels has N entries). The head is initialised as PyTorch's
// Linear from tensor.NewRNG(seed) and trained with cfg, whose Seed is
// replaced by one derived from seed (Derive(seed, "shuffle")). Same
// inputs, same bits. It panics if e is not an emotion or the sizes
// disagree, and returns ctx's error if it is cancelled.
func TrainReadout(ctx context.Context, feats *tensor.Tensor, labels []stimuli.Category, e stimuli.Category, train []int, cfg nn.TrainConfig, seed uint64) (*Readout, error) {
	if e >= stimuli.NumEmotions {
		panic(fmt.Sprintf("manipulate: readout for %v, want an emotion", e))
	}
	if feats.Rank() != 2 || feats.Dim(0) != len(labels) {
		panic(fmt.Sprintf("manipulate: features %v for %d labels", feats.Shape(), len(labels)))
	}
	if len(train) == 0 {
		panic("manipulate: readout with no training images")
	}
	x := gatherRows(feats, train)
	y := make([]int, len(train))
	for i, k := range train {
		if labels[k] == e {
			y[i] = 1
		}
	}
	head := nn.NewLinear(tensor.NewRNG(seed), feats.Dim(1), 2)
	cfg.Seed = Derive(seed, "shuffle")
	losses, err := nn.Train(ctx, head, x, y, cfg)
	if err != nil {
		return nil, err
	}
	return &Readout{Emotion: e, Head: head, Losses: losses}, nil
}

// Predict returns the readout's decisions on feats [N,F]: true where the
// emotion's logit is the larger (a tie goes to "not e", as torch.argmax
// takes the first maximum). Logits are summed in float64 in feature
// order, so decisions do not depend on the batch.
func (r *Readout) Predict(feats *tensor.Tensor) []bool {
	w, b := r.Head.Weight(), r.Head.Bias().Data()
	f := w.Dim(1)
	if feats.Rank() != 2 || feats.Dim(1) != f {
		panic(fmt.Sprintf("manipulate: features %v for a readout of %d inputs", feats.Shape(), f))
	}
	wd, x := w.Data(), feats.Data()
	out := make([]bool, feats.Dim(0))
	for i := range out {
		row := x[i*f : (i+1)*f]
		z0, z1 := float64(b[0]), float64(b[1])
		for j, v := range row {
			z0 += float64(wd[j]) * float64(v)
			z1 += float64(wd[f+j]) * float64(v)
		}
		out[i] = z1 > z0
	}
	return out
}
