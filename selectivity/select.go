package selectivity

import (
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/stimuli"
)

// DefaultKeep is the paper's threshold: keep the 80% of channels with the
// largest SI, dropping the lowest 20%.
const DefaultKeep = 0.8

// Selection is the outcome of thresholding one Result by SI.
type Selection struct {
	Keep float64 // fraction of finite-SI channels requested
	// Cut is the SI threshold: a channel is kept iff its SI is finite and
	// SI >= Cut. It is +Inf when nothing is kept.
	Cut       float64
	Valid     []bool             // [C] finite SI (Flaw == OK)
	Kept      []bool             // [C]
	Preferred []stimuli.Category // [C] copied from the Result
	// Selective lists, per emotion, the channels that are kept and prefer
	// that emotion, in ascending order: the channels "selective for e".
	Selective [stimuli.NumEmotions][]int
	Eligible  int // channels with a finite SI
	Invalid   int // channels without one (never kept)
}

// Select keeps the fraction keep (0..1) of the channels with a finite SI
// that have the largest SIs; use DefaultKeep for the paper's 80%.
//
// The cut is made as follows. Let M be the number of finite SIs and
// k = ⌈keep·M⌉, computed as ⌈keep·M - 1e-9⌉ so that 0.8·10 gives 8 and not
// 9 through rounding; equivalently the lowest ⌊(1-keep)·M⌋ are dropped.
// Cut is the k-th largest SI, and every channel with SI >= Cut is kept.
// Channels tied with the k-th are therefore all kept (more than k survive
// only through exact ties), so the selection depends on SI values alone,
// never on channel order. Channels without an SI are never kept and are
// counted in Invalid.
//
// Select panics if keep is outside [0, 1].
func (r *Result) Select(keep float64) *Selection {
	if !(keep >= 0 && keep <= 1) {
		panic(fmt.Sprintf("selectivity: keep fraction %v is outside [0, 1]", keep))
	}
	c := len(r.Neurons)
	s := &Selection{
		Keep:      keep,
		Valid:     make([]bool, c),
		Kept:      make([]bool, c),
		Preferred: r.Preferred(),
	}
	var finite []float64
	for i, n := range r.Neurons {
		if n.Flaw == OK && !math.IsNaN(n.SI) {
			s.Valid[i] = true
			finite = append(finite, n.SI)
		}
	}
	s.Eligible = len(finite)
	s.Invalid = c - s.Eligible
	k := int(math.Ceil(keep*float64(len(finite)) - 1e-9))
	k = min(max(k, 0), len(finite))
	s.Cut = math.Inf(1)
	if k > 0 {
		slices.Sort(finite)
		s.Cut = finite[len(finite)-k]
	}
	for i, n := range r.Neurons {
		if s.Valid[i] && n.SI >= s.Cut {
			s.Kept[i] = true
			s.Selective[n.Preferred] = append(s.Selective[n.Preferred], i)
		}
	}
	return s
}

// Overlap compares the channels selective for one emotion in two or more
// sets.
type Overlap struct {
	Emotion stimuli.Category
	// Channels are selective for Emotion in every set, ascending: the
	// paper's emotion-selective neurons.
	Channels []int
	// Population is the number of channels the chance model draws from:
	// the layer's channel count (ChanceAll), or the channels with a
	// finite SI in every set (ChanceValid, and always for Compare).
	Population int
	// N counts, per set, the channels of Population selective for
	// Emotion; N1 and N2 are N[0] and N[1].
	N      []int
	N1, N2 int
	// Expected is the size of the intersection of independent random
	// subsets of sizes N drawn from Population: N1·N2/Population for two
	// sets (0 if Population is 0).
	Expected float64
	// P is the exact one-sided p-value P(X >= len(Channels)) of that
	// chance model (hypergeometric for two sets).
	P float64
}

// Compare finds, per emotion, the channels selective for it in both a and
// b, and the overlap expected by chance among the channels with a finite
// SI in both sets: Overlaps(ChanceValid, a, b). Dead channels are left out
// of that population since they can never be selective; counting them
// (ChanceAll, the paper's choice) shrinks the chance overlap. It panics if
// a and b have different channel counts.
func Compare(a, b *Selection) [stimuli.NumEmotions]Overlap {
	if len(a.Kept) != len(b.Kept) {
		panic(fmt.Sprintf("selectivity: Compare of selections with %d and %d channels", len(a.Kept), len(b.Kept)))
	}
	return Overlaps(ChanceValid, a, b)
}

// UpperTail returns P(X >= k) for X hypergeometric: the number of marked
// items among drawn items taken without replacement from pop items of
// which marked are marked. It sums the exact probabilities
// C(marked,x)·C(pop-marked,drawn-x)/C(pop,drawn) for x from k to
// min(marked, drawn), each through math.Lgamma, smallest terms first. It
// panics on counts that describe no urn (negative, or marked or drawn
// above pop).
func UpperTail(pop, marked, drawn, k int) float64 {
	if pop < 0 || marked < 0 || drawn < 0 || marked > pop || drawn > pop {
		panic(fmt.Sprintf("selectivity: hypergeometric with population %d, %d marked, %d drawn", pop, marked, drawn))
	}
	lo, hi := max(0, drawn+marked-pop), min(marked, drawn)
	if k <= lo {
		return 1
	}
	if k > hi {
		return 0
	}
	den := logChoose(pop, drawn)
	p := 0.0
	for x := hi; x >= k; x-- {
		p += math.Exp(logChoose(marked, x) + logChoose(pop-marked, drawn-x) - den)
	}
	return min(p, 1)
}

// logChoose returns log C(n, k) for 0 <= k <= n.
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
