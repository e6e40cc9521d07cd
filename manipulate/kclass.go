package manipulate

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// StratifyK is StratifyFractions for a design of k classes: labels[i] is
// image i's class in 0..k-1, or negative to leave it out. One tensor.RNG
// seeded by seed permutes each class's indices in class order, so at k = 3
// with the emotion categories as classes it is StratifyFractions exactly.
// It panics on bad fractions or a label ≥ k.
func StratifyK(labels []int, k int, f [3]float64, seed uint64) Split {
	if f[0] < 0 || f[1] < 0 || f[2] < 0 || math.Abs(f[0]+f[1]+f[2]-1) > 1e-9 {
		panic(fmt.Sprintf("manipulate: split fractions %v must be non-negative and sum to 1", f))
	}
	rng := tensor.NewRNG(seed)
	var s Split
	for c := range k {
		var idx []int
		for i, l := range labels {
			if l >= k {
				panic(fmt.Sprintf("manipulate: label %d is class %d of %d", i, l, k))
			}
			if l == c {
				idx = append(idx, i)
			}
		}
		n := len(idx)
		perm := rng.Perm(n)
		a := int(math.Round(f[0] * float64(n)))
		b := int(math.Round((f[0] + f[1]) * float64(n)))
		for j, p := range perm {
			switch {
			case j < a:
				s.Train = append(s.Train, idx[p])
			case j < b:
				s.Val = append(s.Val, idx[p])
			default:
				s.Test = append(s.Test, idx[p])
			}
		}
	}
	slices.Sort(s.Train)
	slices.Sort(s.Val)
	slices.Sort(s.Test)
	return s
}

// OneVsRest returns the labels of the class-c-vs-rest task in the form
// every Task takes: class c as the target (stimuli.Pleasant), the other
// classes as non-targets (stimuli.Neutral), unclassified images Unknown.
func OneVsRest(labels []int, c int) []stimuli.Category {
	out := make([]stimuli.Category, len(labels))
	for i, l := range labels {
		switch {
		case l < 0:
			out[i] = stimuli.Unknown
		case l == c:
			out[i] = stimuli.Pleasant
		default:
			out[i] = stimuli.Neutral
		}
	}
	return out
}

// NewTaskK trains the one-vs-rest readout of class c of a K-class design
// (OneVsRest) on split's training images; the Task's lesion, sweep and
// threshold experiments then act on class c's selective channels and
// score that readout. name names the task in the random draws' seeds
// (give set/class so each class draws its own random channels).
func NewTaskK(ctx context.Context, name string, imgs Images, labels []int, c int, feats *tensor.Tensor, split Split, train nn.TrainConfig, seed uint64) (*Task, error) {
	return NewTask(ctx, name, imgs, OneVsRest(labels, c), feats, split, stimuli.Pleasant, train, seed)
}
