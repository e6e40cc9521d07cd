package lowlevel

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/stimuli"
)

// DefaultLambdas is the grid of L2 penalties OneVsRest chooses from on the
// validation images (features standardised, loss averaged over images).
var DefaultLambdas = []float64{1e-4, 1e-3, 1e-2, 1e-1, 1}

// Standardize returns x with every feature centred and scaled by the mean
// and population SD of the rows in train (a feature constant on train
// becomes 0 everywhere), so no statistic of the val or test images leaks
// into the classifier. x is not modified.
func Standardize(x [][]float64, train []int) [][]float64 {
	if len(train) == 0 {
		panic("lowlevel: Standardize with no training rows")
	}
	p := len(x[train[0]])
	mean := make([]float64, p)
	sd := make([]float64, p)
	for _, i := range train {
		for j, v := range x[i] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(train))
	}
	for _, i := range train {
		for j, v := range x[i] {
			d := v - mean[j]
			sd[j] += d * d
		}
	}
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / float64(len(train)))
	}
	out := make([][]float64, len(x))
	for i, r := range x {
		if r == nil {
			continue
		}
		o := make([]float64, p)
		for j, v := range r {
			if sd[j] > 0 {
				o[j] = (v - mean[j]) / sd[j]
			}
		}
		out[i] = o
	}
	return out
}

// Confusion is a binary confusion matrix, the category being the positive
// class.
type Confusion struct{ TP, FP, FN, TN int }

// F1 returns 2TP/(2TP+FP+FN), 0 when there is nothing to score (as the
// readout's F1).
func (c Confusion) F1() float64 {
	if d := 2*c.TP + c.FP + c.FN; d > 0 {
		return float64(2*c.TP) / float64(d)
	}
	return 0
}

// Task is one category-vs-rest classification of OneVsRest.
type Task struct {
	Category stimuli.Category
	Lambda   float64   // penalty chosen on val
	Val      Confusion // at that penalty
	Test     Confusion
	ValF1    []float64 // val F1 per penalty of the grid
	Model    *Logistic
}

// OneVsRest trains, for each category present in labels among the train
// rows (ascending; stimuli.Unknown excluded), an L2 logistic regression of
// that category against the rest on the standardised rows train of x,
// for each penalty of lambdas (nil means DefaultLambdas); picks the
// penalty with the highest F1 on val (ties to the later one in the grid:
// with an ascending grid, the larger penalty, the simpler model) and
// scores it on test. Rows are feature vectors of equal
// length; rows in no split may be nil. It panics if a split is empty or
// names a row labelled Unknown.
func OneVsRest(x [][]float64, labels []stimuli.Category, train, val, test []int, lambdas []float64) ([]Task, error) {
	if len(train) == 0 || len(val) == 0 || len(test) == 0 {
		panic(fmt.Sprintf("lowlevel: split sizes %d/%d/%d, want all non-empty", len(train), len(val), len(test)))
	}
	if len(labels) != len(x) {
		panic(fmt.Sprintf("lowlevel: %d labels for %d rows", len(labels), len(x)))
	}
	for _, part := range [][]int{train, val, test} {
		for _, i := range part {
			if labels[i] == stimuli.Unknown {
				panic(fmt.Sprintf("lowlevel: row %d of a split is labelled unknown", i))
			}
		}
	}
	if lambdas == nil {
		lambdas = DefaultLambdas
	}
	z := Standardize(x, train)
	var cats []stimuli.Category
	for _, i := range train {
		if !slices.Contains(cats, labels[i]) {
			cats = append(cats, labels[i])
		}
	}
	slices.Sort(cats)
	rows := func(idx []int) [][]float64 {
		out := make([][]float64, len(idx))
		for k, i := range idx {
			out[k] = z[i]
		}
		return out
	}
	xt, xv, xs := rows(train), rows(val), rows(test)
	var out []Task
	for _, c := range cats {
		yt := make([]bool, len(train))
		for k, i := range train {
			yt[k] = labels[i] == c
		}
		task := Task{Category: c}
		best := -1.0
		var lastErr error
		for _, lam := range lambdas {
			m, err := FitLogistic(xt, yt, lam)
			if errors.Is(err, ErrNotConverged) {
				// Tiny penalties on separable data converge slowly:
				// skip this one, the grid has others.
				task.ValF1 = append(task.ValF1, math.NaN())
				lastErr = err
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("lowlevel: %v vs rest: %w", c, err)
			}
			cv := confusion(m, xv, val, labels, c)
			f := cv.F1()
			task.ValF1 = append(task.ValF1, f)
			if f >= best {
				best, task.Lambda, task.Val, task.Model = f, lam, cv, m
			}
		}
		if task.Model == nil {
			return nil, fmt.Errorf("lowlevel: %v vs rest: no penalty of %v converged: %w", c, lambdas, lastErr)
		}
		task.Test = confusion(task.Model, xs, test, labels, c)
		out = append(out, task)
	}
	return out, nil
}

func confusion(m *Logistic, x [][]float64, idx []int, labels []stimuli.Category, c stimuli.Category) Confusion {
	var s Confusion
	for k, i := range idx {
		p, t := m.Predict(x[k]), labels[i] == c
		switch {
		case p && t:
			s.TP++
		case p:
			s.FP++
		case t:
			s.FN++
		default:
			s.TN++
		}
	}
	return s
}
