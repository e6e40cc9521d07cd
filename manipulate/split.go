package manipulate

import (
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// Split holds the image indices of a train/val/test split, each list in
// ascending order.
type Split struct {
	Train, Val, Test []int
}

// DefaultFractions are the paper's 50%/25%/25% train/val/test.
var DefaultFractions = [3]float64{0.5, 0.25, 0.25}

// Stratify splits the images of each emotion category separately into
// train, val and test with the paper's fractions (DefaultFractions);
// images labelled Unknown are left out. See StratifyFractions.
func Stratify(labels []stimuli.Category, seed uint64) Split {
	return StratifyFractions(labels, DefaultFractions, seed)
}

// StratifyFractions splits the images of each emotion category (pleasant,
// neutral, unpleasant, in that order) separately: one tensor.RNG seeded by
// seed permutes each category's indices (ascending first) with Perm, the
// first round(f0·n) go to train, the next round((f0+f1)·n) − round(f0·n) to
// val and the rest to test. Every binary e-vs-not-e task is then
// stratified too. Images labelled Unknown are in no split. It panics if
// the fractions are negative or do not sum to 1.
func StratifyFractions(labels []stimuli.Category, f [3]float64, seed uint64) Split {
	if f[0] < 0 || f[1] < 0 || f[2] < 0 || math.Abs(f[0]+f[1]+f[2]-1) > 1e-9 {
		panic(fmt.Sprintf("manipulate: split fractions %v must be non-negative and sum to 1", f))
	}
	rng := tensor.NewRNG(seed)
	var s Split
	for c := range stimuli.NumEmotions {
		var idx []int
		for i, l := range labels {
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
