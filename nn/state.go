package nn

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emosel/emosel/tensor"
)

// StateDict maps parameter keys, such as "features.0.weight", to tensors.
type StateDict map[string]*tensor.Tensor

// Keys returns the keys in sorted order.
func (sd StateDict) Keys() []string {
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Sentinel errors of LoadStateDict. The errors it returns wrap them and
// name the key and shapes, e.g.
// "nn: wrong shape: features.0.weight is [64 3 3 3], want [64 3 11 11]".
var (
	ErrMissingKey    = errors.New("nn: missing key")
	ErrUnexpectedKey = errors.New("nn: unexpected key")
	ErrShape         = errors.New("nn: wrong shape")
)

// checkState compares got against the keys and shapes of want and
// returns every problem, joined in key order, or nil.
func checkState(want, got StateDict) error {
	type problem struct {
		key string
		err error
	}
	var ps []problem
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			ps = append(ps, problem{k, fmt.Errorf("%w: %s, want %v", ErrMissingKey, k, w.Shape())})
		case g == nil:
			ps = append(ps, problem{k, fmt.Errorf("%w: %s is nil, want %v", ErrShape, k, w.Shape())})
		case !g.SameShape(w):
			ps = append(ps, problem{k, fmt.Errorf("%w: %s is %v, want %v", ErrShape, k, g.Shape(), w.Shape())})
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			var shape any = "nil"
			if g != nil {
				shape = g.Shape()
			}
			ps = append(ps, problem{k, fmt.Errorf("%w: %s %v", ErrUnexpectedKey, k, shape)})
		}
	}
	if len(ps) == 0 {
		return nil
	}
	slices.SortFunc(ps, func(a, b problem) int { return strings.Compare(a.key, b.key) })
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p.err
	}
	return errors.Join(errs...)
}

// paramState is the StateDict of a layer with a weight and a bias.
func paramState(w, b *tensor.Tensor) StateDict {
	return StateDict{"weight": w, "bias": b}
}
