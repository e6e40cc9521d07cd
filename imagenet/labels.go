package imagenet

import (
	_ "embed"
	"fmt"
	"math"
	"slices"
	"strings"
)

// NumClasses is the number of ImageNet-1k classes.
const NumClasses = 1000

// labels.txt is torchvision's _IMAGENET_CATEGORIES, one name a line in
// class-index order; testdata/gen/preprocess.py writes it.
//
//go:embed labels.txt
var labelsTxt string

var labels = func() []string {
	l := strings.Split(strings.TrimSuffix(labelsTxt, "\n"), "\n")
	if len(l) != NumClasses {
		panic(fmt.Sprintf("imagenet: labels.txt has %d lines, want %d", len(l), NumClasses))
	}
	return l
}()

// Labels returns the 1000 ImageNet class names in torchvision's class-index
// order ("tench", "goldfish", "great white shark", ...). The slice is a
// fresh copy.
func Labels() []string { return slices.Clone(labels) }

// Label returns the name of class i. It panics if i is not in [0, 1000).
func Label(i int) string {
	if i < 0 || i >= NumClasses {
		panic(fmt.Sprintf("imagenet: class %d out of range [0, %d)", i, NumClasses))
	}
	return labels[i]
}

// TopK returns the indices of the k largest logits, largest first (ties in
// index order, NaNs last), and their softmax probabilities over all the
// logits. The softmax is computed in float64 after subtracting the largest
// logit. k is capped at len(logits); TopK panics if k is negative.
func TopK(logits []float32, k int) (idx []int, prob []float32) {
	if k < 0 {
		panic(fmt.Sprintf("imagenet: TopK with k = %d", k))
	}
	k = min(k, len(logits))
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := logits[a], logits[b]
		switch {
		case x != x: // NaN
			if y != y {
				return 0
			}
			return 1
		case y != y:
			return -1
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	if k == 0 {
		return []int{}, []float32{}
	}
	top := float64(logits[order[0]])
	sum := 0.0
	for _, v := range logits {
		sum += math.Exp(float64(v) - top)
	}
	idx = order[:k:k]
	prob = make([]float32, k)
	for j, i := range idx {
		prob[j] = float32(math.Exp(float64(logits[i])-top) / sum)
	}
	return idx, prob
}
