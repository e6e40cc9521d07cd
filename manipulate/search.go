package manipulate

import (
	"context"
	"math"
	"slices"
)

// DefaultBracket is the widest gap, in α, between the gains a search
// evaluates on every image (see Config.Bracket).
const DefaultBracket = 0.5

// The search for the val-best α (Config.Exhaustive false, the default).
//
// The exhaustive sweep evaluates every α of the grid on every val and
// test image. The search finds the same val-best α, the smallest α with
// the highest val F1, with far fewer image-suffix evaluations:
//
//  1. Brackets. Every image is evaluated at a coarse subset of the grid:
//     its first and last α and enough in between that consecutive ones
//     are at most Config.Bracket apart (0, 0.5, …, 5 for the paper's
//     grid).
//  2. Bound. Between two evaluated gains a < b, an image whose decision
//     is the same at a and at b is taken to keep it at every α between
//     them (the search's one assumption: no decision flips and flips
//     back within one bracket). The val F1 of any α in (a, b) is then at
//     most that of the decisions with every image that differs between a
//     and b set to its true label. A bracket whose bound is below the
//     best F1 found, or equal to it with the best at a smaller α, cannot
//     hold the val-best α and is dropped.
//  3. Bisection. Every bracket left is split at its middle grid point,
//     which is evaluated on the images whose decisions differ between a
//     and b only; the others carry theirs over. The two halves are
//     bracketed again, until no bracket with a grid point inside is left.
//  4. Verification. The best gain found is evaluated on every image, so
//     that the reported scores at the chosen α are exact; if that changes
//     them, the search resumes from step 2.
//
// Under the assumption the result is exactly the exhaustive grid's; the
// tests measure how often it fails on curves built to break it and on
// real networks (TestSearchMatchesGrid*). All brackets of all unit sets
// advance in lockstep, so a round's evaluations share their batches.

// probe asks for the decisions of images at grid index j.
type probe struct {
	j      int
	images []int // indices into the searcher's image list, ascending
}

// searcher runs the search for one unit set. Its images are a list of n
// images of which the first nv are scored (val); the rest (test, if
// any) ride along so that their decisions are known at every evaluated
// gain too.
type searcher struct {
	alphas []float64
	truth  []bool // the scored images' labels, len nv
	n      int
	known  map[int][]bool // grid index → decisions of all n images
	exact  map[int]bool   // grid indices evaluated on every image
	evals  int            // image evaluations recorded
	points int            // grid indices evaluated (α = 0 and carried-over points excluded)
	coarse []int
	done   bool
}

// coarseIndices returns the grid indices evaluated on every image: the
// first, the last, and, greedily, the farthest point at most bracket
// beyond the previous one (the next point if none is).
func coarseIndices(alphas []float64, bracket float64) []int {
	if len(alphas) == 0 {
		return nil
	}
	out := []int{0}
	for cur := 0; cur < len(alphas)-1; {
		next := cur + 1
		for k := next + 1; k < len(alphas) && alphas[k]-alphas[cur] <= bracket+1e-9; k++ {
			next = k
		}
		out = append(out, next)
		cur = next
	}
	return out
}

// newSearcher returns the search over alphas (ascending) for n images of
// which the first len(truth) are scored. base, if not nil, holds the
// decisions at α = 0 (the intact network's) for the n images; it must be
// given when the grid holds 0.
func newSearcher(alphas []float64, truth []bool, n int, base []bool, bracket float64) *searcher {
	s := &searcher{alphas: alphas, truth: truth, n: n, known: map[int][]bool{}, exact: map[int]bool{}}
	if j := slices.Index(alphas, 0); j >= 0 && base != nil {
		s.known[j] = slices.Clone(base)
		s.exact[j] = true
	}
	s.coarse = coarseIndices(alphas, bracket)
	return s
}

// all returns 0..n-1.
func all(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// next returns the probes of the next round, nil when the search is
// over. The first round evaluates the coarse gains on every image.
func (s *searcher) next() []probe {
	if s.done {
		return nil
	}
	var out []probe
	if s.coarse != nil {
		for _, j := range s.coarse {
			if s.known[j] == nil {
				out = append(out, probe{j: j, images: all(s.n)})
			}
		}
		s.coarse = nil
		if len(out) > 0 {
			return out
		}
	}
	_, bestF := s.best()
	bestA := s.alphas[s.bestIndex()]
	idx := s.indices()
	for k := 0; k+1 < len(idx); k++ {
		a, b := idx[k], idx[k+1]
		if b-a < 2 {
			continue
		}
		da, db := s.known[a], s.known[b]
		ub := s.bound(da, db)
		if ub < bestF || (ub == bestF && bestA <= s.alphas[a]) {
			continue
		}
		var diff []int
		for i := range s.n {
			if da[i] != db[i] {
				diff = append(diff, i)
			}
		}
		out = append(out, probe{j: (a + b) / 2, images: diff})
	}
	if len(out) == 0 {
		// The chosen gain is evaluated on every image, so that its
		// scores are exact; if that changes them, the search goes on.
		if b := s.bestIndex(); !s.exact[b] {
			return []probe{{j: b, images: all(s.n)}}
		}
		s.done = true
	}
	return out
}

// record stores the decisions dec of images (a probe's) at grid index j;
// the other images carry over the decision they share at j's evaluated
// neighbours (at a coarse gain, every image is evaluated).
func (s *searcher) record(j int, images []int, dec []bool) {
	var d []bool
	if len(images) == s.n {
		d = make([]bool, s.n)
		if s.known[j] == nil && s.alphas[j] != 0 {
			s.points++
		}
		s.exact[j] = true
	} else {
		idx := s.indices()
		k, _ := slices.BinarySearch(idx, j)
		d = slices.Clone(s.known[idx[k-1]]) // the lower neighbour; the upper agrees off images
	}
	for i, im := range images {
		d[im] = dec[i]
	}
	if len(images) < s.n && s.alphas[j] != 0 {
		s.points++
	}
	s.known[j] = d
	s.evals += len(images)
}

// indices returns the evaluated grid indices, ascending.
func (s *searcher) indices() []int {
	out := make([]int, 0, len(s.known))
	for j := range s.known {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}

// best returns the val score of the val-best evaluated α.
func (s *searcher) best() (Score, float64) {
	j := s.bestIndex()
	sc := Evaluate(s.known[j][:len(s.truth)], s.truth)
	return sc, sc.F1()
}

// bestIndex returns the grid index with the highest val F1 among the
// evaluated ones, the smallest α on a tie.
func (s *searcher) bestIndex() int {
	best, bf := -1, math.Inf(-1)
	for _, j := range s.indices() {
		if f := Evaluate(s.known[j][:len(s.truth)], s.truth).F1(); f > bf {
			best, bf = j, f
		}
	}
	return best
}

// bound returns the val F1 of da with every scored image on which da and
// db differ set to its true label: an upper bound on the val F1 at any
// gain between them, under the search's assumption.
func (s *searcher) bound(da, db []bool) float64 {
	var sc Score
	for i, t := range s.truth {
		p := da[i]
		if da[i] != db[i] {
			p = t
		}
		switch {
		case p && t:
			sc.TP++
		case p:
			sc.FP++
		case t:
			sc.FN++
		default:
			sc.TN++
		}
	}
	return sc.F1()
}

// search runs the search for every unit set in lockstep (see the comment
// at the top of this file) and builds the curves: the gains whose val
// decisions are known, with test scores at every one of them for the
// sets with full[i], else at the chosen α only.
func (t *Task) search(ctx context.Context, s *Suffix, sets [][]int, full []bool, cfg Config, progress func(int)) ([]Curve, error) {
	val, test := t.Split.Val, t.Split.Test
	nv := len(val)
	tv := Truth(t.Labels, t.Emotion, val)
	tt := Truth(t.Labels, t.Emotion, test)
	c := s.Unit().Channels
	// One searcher per distinct non-empty unit set; a set that needs its
	// test curve makes its searcher carry the test images.
	type variant struct {
		units []int
		full  bool
		s     *searcher
		imgs  []int // dataset indices of the searcher's images
		test  Score // at the chosen α, when not full
	}
	var vars []*variant
	of := make([]int, len(sets)) // set → variant, −1 for an empty set
	byKey := map[string]int{}
	for i, u := range sets {
		of[i] = -1
		if len(u) == 0 {
			continue
		}
		k := variantKey(u, 0)
		v, ok := byKey[k]
		if !ok {
			v = len(vars)
			byKey[k] = v
			vars = append(vars, &variant{units: u})
		}
		vars[v].full = vars[v].full || full[i]
		of[i] = v
	}
	for _, v := range vars {
		base := slices.Clone(t.BaseVal)
		v.imgs = slices.Clone(val)
		if v.full {
			v.imgs, base = append(v.imgs, test...), append(base, t.BaseTest...)
		}
		v.s = newSearcher(cfg.Alphas, tv, len(v.imgs), base, cfg.Bracket)
	}
	// The cache and the chunks share the budget: a quarter keeps the
	// prefixes of the images across rounds, the rest bounds each chunk.
	// (With half for the cache beside chunks sized from the whole budget,
	// the heap outgrew the memory limit that cli.LimitMemory derives from
	// the budget, and the GC ran every 0.1-0.5 s, emptying the scratch
	// pools: the sweep ran at half its measured speed.)
	cache := newPrefixCache(cfg.Budget / 4)
	budget := cfg.Budget - cfg.Budget/4
	for {
		type pending struct {
			v  *variant
			pr probe
			q  *request
		}
		var ps []pending
		var reqs []*request
		for _, v := range vars {
			for _, pr := range v.s.next() {
				ims := make([]int, len(pr.images))
				for i, k := range pr.images {
					ims[i] = v.imgs[k]
				}
				a := cfg.Alphas[pr.j]
				q := &request{units: v.units, alpha: a, gain: Gain(c, v.units, a), images: ims}
				ps, reqs = append(ps, pending{v, pr, q}), append(reqs, q)
			}
		}
		if len(reqs) == 0 {
			break
		}
		if err := s.run(ctx, t.Images, reqs, t.Readout, budget, cache, progress); err != nil {
			return nil, err
		}
		for _, p := range ps {
			p.v.s.record(p.pr.j, p.pr.images, p.q.out)
		}
	}
	// The test images at the chosen α of the sets without a test curve.
	var reqs []*request
	var who []*variant
	for _, v := range vars {
		if v.full {
			continue
		}
		if a := cfg.Alphas[v.s.bestIndex()]; a == 0 {
			v.test = Evaluate(t.BaseTest, tt)
		} else {
			reqs = append(reqs, &request{units: v.units, alpha: a, gain: Gain(c, v.units, a), images: test})
			who = append(who, v)
		}
	}
	if err := s.run(ctx, t.Images, reqs, t.Readout, budget, cache, progress); err != nil {
		return nil, err
	}
	for i, q := range reqs {
		who[i].test = Evaluate(q.out, tt)
	}
	out := make([]Curve, len(sets))
	for i := range sets {
		if of[i] < 0 {
			out[i] = intactCurve(cfg.Alphas, Evaluate(t.BaseVal, tv), Evaluate(t.BaseTest, tt))
			continue
		}
		v := vars[of[i]]
		cv := Curve{Points: v.s.points, Evals: v.s.evals}
		best := v.s.bestIndex()
		for _, j := range v.s.indices() {
			d := v.s.known[j]
			cv.Alphas = append(cv.Alphas, cfg.Alphas[j])
			cv.Val = append(cv.Val, Evaluate(d[:nv], tv))
			var te Score
			switch {
			case v.full:
				te = Evaluate(d[nv:], tt)
			case j == best:
				te = v.test
			}
			cv.Test = append(cv.Test, te)
			if j == best {
				cv.Best = len(cv.Alphas) - 1
			}
		}
		if !v.full {
			cv.Evals += len(test) * boolInt(cfg.Alphas[best] != 0)
		}
		out[i] = cv
	}
	return out, nil
}

// intactCurve is the curve of an empty unit set: the intact network at
// every gain.
func intactCurve(alphas []float64, val, test Score) Curve {
	cv := Curve{Alphas: slices.Clone(alphas)}
	for range alphas {
		cv.Val, cv.Test = append(cv.Val, val), append(cv.Test, test)
	}
	return cv
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// SearchWork returns the image-suffix evaluations a search of unit sets
// of the given sizes is expected to take: every non-zero coarse gain on
// every val image (and test image, for the sets with a test curve: the
// first when firstFull), and the test images once at the chosen α for
// the others. Bisection and verification evaluate only the images whose
// decisions differ between brackets; on the fixture networks they added
// −14% to +8% to this count (the chosen α is often 0 and free), which
// the estimate leaves out.
func SearchWork(vals, tests int, sizes []int, firstFull bool, alphas []float64, bracket float64) int {
	coarse := 0
	for _, j := range coarseIndices(alphas, bracket) {
		if alphas[j] != 0 {
			coarse++
		}
	}
	w := 0
	for i, s := range sizes {
		if s == 0 {
			continue
		}
		if i == 0 && firstFull {
			w += coarse * (vals + tests)
		} else {
			w += coarse*vals + tests
		}
	}
	return w
}
