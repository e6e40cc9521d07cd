package manipulate

import "fmt"

// Score is the confusion matrix of a binary readout, the emotion being
// the positive class.
type Score struct {
	TP, FP, FN, TN int
}

// Evaluate counts the decisions pred against the truth (both true for the
// emotion). It panics if their lengths differ.
func Evaluate(pred, truth []bool) Score {
	if len(pred) != len(truth) {
		panic(fmt.Sprintf("manipulate: %d predictions for %d labels", len(pred), len(truth)))
	}
	var s Score
	for i, p := range pred {
		switch {
		case p && truth[i]:
			s.TP++
		case p:
			s.FP++
		case truth[i]:
			s.FN++
		default:
			s.TN++
		}
	}
	return s
}

// N returns the number of images scored.
func (s Score) N() int { return s.TP + s.FP + s.FN + s.TN }

// F1 returns the F1 score of the positive class, 2TP/(2TP+FP+FN): the
// paper's metric. It is 0 when there is nothing to score (no positives
// predicted or present), as scikit-learn's zero_division=0.
func (s Score) F1() float64 { return f1(s.TP, s.FP, s.FN) }

// MacroF1 returns the mean of the positive and the negative class's F1.
func (s Score) MacroF1() float64 { return (f1(s.TP, s.FP, s.FN) + f1(s.TN, s.FN, s.FP)) / 2 }

// Accuracy returns the fraction of correct decisions (0 for no images).
func (s Score) Accuracy() float64 {
	if s.N() == 0 {
		return 0
	}
	return float64(s.TP+s.TN) / float64(s.N())
}

func f1(tp, fp, fn int) float64 {
	if d := 2*tp + fp + fn; d > 0 {
		return float64(2*tp) / float64(d)
	}
	return 0
}
