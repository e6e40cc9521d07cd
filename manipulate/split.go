package manipulate

import "github.com/emosel/emosel/stimuli"

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
	classes := make([]int, len(labels))
	for i, l := range labels {
		classes[i] = int(l)
		if l >= stimuli.NumEmotions {
			classes[i] = -1 // Unknown: in no split
		}
	}
	return StratifyK(classes, int(stimuli.NumEmotions), f, seed)
}
