package selectivity

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

const (
	P = stimuli.Pleasant
	N = stimuli.Neutral
	U = stimuli.Unpleasant
	X = stimuli.Unknown
)

// column returns channel j of resp as float64, split by label.
func column(resp *tensor.Tensor, labels []stimuli.Category, j int) (byEmotion [3][]float64, all []float64) {
	c := resp.Dim(1)
	for i, l := range labels {
		if l == X {
			continue
		}
		v := float64(resp.Data()[i*c+j])
		byEmotion[l] = append(byEmotion[l], v)
		all = append(all, v)
	}
	return
}

// naive recomputes one channel's statistics plainly, with gonum for the
// means and variances and the formulas of Eq 4 and Eq 5 spelled out.
func naive(resp *tensor.Tensor, labels []stimuli.Category, j int, sample bool) (mean, vr, tuning, dprime [3]float64) {
	by, all := column(resp, labels, j)
	for e := range 3 {
		mean[e] = stat.Mean(by[e], nil)
		if sample {
			vr[e] = stat.Variance(by[e], nil)
		} else {
			vr[e] = stat.PopVariance(by[e], nil)
		}
	}
	mAll := stat.Mean(all, nil)
	ss := 0.0
	for _, v := range all {
		ss += (v - mAll) * (v - mAll)
	}
	sd := math.Sqrt(ss / float64(len(all)))
	for e := range 3 {
		tuning[e] = (mean[e] - mAll) / sd
	}
	den := math.Sqrt((vr[0] + vr[1] + vr[2]) / 2)
	dprime[P] = (mean[P] - (mean[N]+mean[U])/2) / den
	dprime[N] = (mean[N] - (mean[P]+mean[U])/2) / den
	dprime[U] = (mean[U] - (mean[P]+mean[N])/2) / den
	return
}

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

func closeAll(got, want [3]float64, tol float64) bool {
	for i := range got {
		if !near(got[i], want[i], tol) {
			return false
		}
	}
	return true
}

func TestIndexMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, c = 157, 41
	labels := make([]stimuli.Category, n)
	for i := range labels {
		labels[i] = stimuli.Category(rng.IntN(4))
	}
	resp := tensor.New(n, c)
	for i := range n {
		for j := range c {
			// Channel-specific offset, scale and a small category effect.
			v := 100*float64(j%5) + float64(1+j%3)*rng.NormFloat64() + 0.3*float64(labels[i]%3)*float64(j%4)
			if j%7 == 0 {
				v = max(v-100*float64(j%5), 0) // ReLU-like, mostly positive
			}
			resp.Data()[i*c+j] = float32(v)
		}
	}
	for _, sample := range []bool{false, true} {
		r, err := Index(resp, labels, Config{SampleVariance: sample})
		if err != nil {
			t.Fatal(err)
		}
		if r.Flaws[OK] != c || r.Invalid() != 0 {
			t.Fatalf("flaws %v", r.Flaws)
		}
		for j, nr := range r.Neurons {
			mean, vr, tuning, dprime := naive(resp, labels, j, sample)
			if !closeAll(nr.Mean, mean, 1e-12) || !closeAll(nr.Var, vr, 1e-10) ||
				!closeAll(nr.Tuning, tuning, 1e-10) || !closeAll(nr.DPrime, dprime, 1e-10) {
				t.Errorf("sample %v channel %d:\n got mean %v var %v tuning %v d' %v\nwant mean %v var %v tuning %v d' %v",
					sample, j, nr.Mean, nr.Var, nr.Tuning, nr.DPrime, mean, vr, tuning, dprime)
			}
			best := slices.Index(dprime[:], slices.Max(dprime[:]))
			if nr.SI != dprime[best] || nr.Preferred != stimuli.Category(best) {
				t.Errorf("channel %d: SI %v preferred %v, want %v %v", j, nr.SI, nr.Preferred, dprime[best], stimuli.Category(best))
			}
			// Preferred by d′ is also preferred by tuning and by mean.
			if bt := slices.Index(nr.Tuning[:], slices.Max(nr.Tuning[:])); stimuli.Category(bt) != nr.Preferred {
				t.Errorf("channel %d: tuning prefers %v, d′ %v", j, stimuli.Category(bt), nr.Preferred)
			}
		}
	}
	if !slices.Contains(labels, X) {
		t.Fatal("test labels have no Unknown")
	}
}

// The planted channels of TestIndexPlanted, one row per image.
var (
	plantLabels = []stimuli.Category{P, P, N, N, U, U, X}
	plantRows   = [][5]float32{
		// pleasant-preferring, dead, NaN, no spread, unpleasant-preferring
		{3, 0, 1, 2, 0},
		{5, 0, 2, 2, 2},
		{0, 0, 3, 1, 1},
		{2, 0, float32(math.NaN()), 1, 3},
		{1, 0, 5, 0, 3},
		{3, 0, 6, 0, 5},
		{1000, 7, 0, float32(math.NaN()), -1}, // Unknown: ignored, NaN included
	}
)

func plantResp() *tensor.Tensor {
	resp := tensor.New(len(plantRows), 5)
	for i, row := range plantRows {
		copy(resp.Data()[i*5:], row[:])
	}
	return resp
}

func TestIndexPlanted(t *testing.T) {
	resp := plantResp()
	r, err := Index(resp, plantLabels, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != [3]int{2, 2, 2} || r.Unknown != 1 {
		t.Errorf("N %v unknown %d", r.N, r.Unknown)
	}
	// Channel 0: means (4, 1, 2), population variances 1 each, so the
	// common denominator is sqrt(3/2).
	s := math.Sqrt(1.5)
	ch := r.Neurons[0]
	if !closeAll(ch.DPrime, [3]float64{2.5 / s, -2 / s, -0.5 / s}, 1e-15) || ch.Preferred != P || !near(ch.SI, 2.5/s, 1e-15) || ch.Flaw != OK {
		t.Errorf("pleasant channel: %+v", ch)
	}
	// Eq 4 over {3,5,0,2,1,3}: mean 7/3, population SD sqrt(23)/3.
	r23 := math.Sqrt(23)
	if !closeAll(ch.Tuning, [3]float64{5 / r23, -4 / r23, -1 / r23}, 1e-15) {
		t.Errorf("pleasant channel tuning %v", ch.Tuning)
	}
	if ch := r.Neurons[4]; ch.Preferred != U || !near(ch.SI, 2.5/s, 1e-15) {
		t.Errorf("unpleasant channel: %+v", ch)
	}
	for j, want := range []Flaw{1: Dead, 2: NonFinite, 3: NoSpread} {
		if j == 0 {
			continue
		}
		ch := r.Neurons[j]
		if ch.Flaw != want || !math.IsNaN(ch.SI) || ch.Preferred != X || !math.IsNaN(ch.DPrime[0]) {
			t.Errorf("channel %d: %+v, want flaw %v with NaN SI", j, ch, want)
		}
	}
	if ch := r.Neurons[3]; !closeAll(ch.Tuning, [3]float64{math.Sqrt(1.5), 0, -math.Sqrt(1.5)}, 1e-15) {
		t.Errorf("no-spread channel keeps its tuning curve: %v", ch.Tuning)
	}
	if r.Flaws != [4]int{2, 1, 1, 1} || r.Invalid() != 3 {
		t.Errorf("flaws %v invalid %d", r.Flaws, r.Invalid())
	}
	if s := r.Summary(); s.N != 2 || s.Invalid != 3 || !near(s.Mean, 2.5/math.Sqrt(1.5), 1e-15) {
		t.Errorf("summary %+v", s)
	}

	// Sample variance doubles each σ² here, so d′ shrinks by sqrt(2).
	r, _ = Index(resp, plantLabels, Config{SampleVariance: true})
	if ch := r.Neurons[0]; !near(ch.SI, 2.5/math.Sqrt(3), 1e-15) || ch.Var != [3]float64{2, 2, 2} {
		t.Errorf("sample variance: %+v", ch)
	}

	curves, err := Tuning(resp, plantLabels)
	if err != nil || len(curves) != 5 || curves[0] != r.Neurons[0].Tuning || !math.IsNaN(curves[1][0]) {
		t.Errorf("Tuning: %v %v", curves, err)
	}
}

func TestIndexLabelErrors(t *testing.T) {
	resp := tensor.New(4, 2)
	resp.Data()[0] = 1
	_, err := Index(resp, []stimuli.Category{P, P, U, X}, Config{})
	if !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), "0 neutral images (labels: 2 pleasant, 0 neutral, 1 unpleasant, 1 unknown)") {
		t.Errorf("no neutral: %v", err)
	}
	_, err = Index(resp, []stimuli.Category{P, N, U, U}, Config{SampleVariance: true})
	if !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), "1 pleasant images") || !strings.Contains(err.Error(), "need at least 2") {
		t.Errorf("sample variance with one image: %v", err)
	}
	if _, err := Tuning(resp, []stimuli.Category{X, X, X, X}); !errors.Is(err, ErrLabels) {
		t.Errorf("all unknown: %v", err)
	}
}

func mustPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), want) {
			t.Errorf("panic %v, want one containing %q", r, want)
		}
	}()
	f()
}

func TestMisusePanics(t *testing.T) {
	three := []stimuli.Category{P, N, U}
	mustPanic(t, "selectivity: 3 labels for 4 images (responses [4 2])", func() { Index(tensor.New(4, 2), three, Config{}) })
	mustPanic(t, "responses have shape [3 2 2], want [N C]", func() { Index(tensor.New(3, 2, 2), three, Config{}) })
	mustPanic(t, "label 1 is Category(9)", func() { Index(tensor.New(3, 2), []stimuli.Category{P, 9, U}, Config{}) })
	mustPanic(t, "nil labels", func() { Index(tensor.New(3, 2), nil, Config{}) })
	mustPanic(t, "keep fraction 1.5", func() { (&Result{}).Select(1.5) })
	mustPanic(t, "keep fraction NaN", func() { (&Result{}).Select(math.NaN()) })
	mustPanic(t, "Compare of selections with 2 and 3 channels", func() {
		Compare(&Selection{Kept: make([]bool, 2)}, &Selection{Kept: make([]bool, 3)})
	})
	mustPanic(t, "population 5, 6 marked", func() { UpperTail(5, 6, 1, 0) })
	mustPanic(t, "channel 2 out of range", func() { Top(tensor.New(3, 2), nil, 2, 1) })
	mustPanic(t, "Top of -1 images", func() { Top(tensor.New(3, 2), nil, 0, -1) })
	mustPanic(t, "2 labels for 3 images", func() { Top(tensor.New(3, 2), three[:2], 0, 1) })
	mustPanic(t, "probability 2", func() { Quantiles([]float64{1}, 2) })
	mustPanic(t, "not strictly increasing", func() { Histogram(nil, []float64{0, 1, 1}) })
	mustPanic(t, "needs lo < hi", func() { Edges(1, 1, 3) })
}

// resultWith builds a Result whose channels have the given SIs (NaN means
// a flawed channel) and preferred emotions cycling P, N, U.
func resultWith(si ...float64) *Result {
	r := &Result{Neurons: make([]Neuron, len(si))}
	for i, s := range si {
		nr := &r.Neurons[i]
		nr.SI, nr.Preferred = s, stimuli.Category(i%3)
		if math.IsNaN(s) {
			nr.Flaw, nr.Preferred = Dead, X
		}
		r.Flaws[nr.Flaw]++
	}
	return r
}

func kept(s *Selection) []int {
	var out []int
	for i, k := range s.Kept {
		if k {
			out = append(out, i)
		}
	}
	return out
}

func TestSelect(t *testing.T) {
	nan := math.NaN()
	r := resultWith(0.5, 0.1, nan, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 1.0, nan)
	s := r.Select(DefaultKeep)
	if got := kept(s); !slices.Equal(got, []int{0, 3, 4, 5, 7, 8, 9, 10}) || s.Cut != 0.3 || s.Eligible != 10 || s.Invalid != 2 {
		t.Errorf("keep 0.8: kept %v cut %v eligible %d invalid %d", got, s.Cut, s.Eligible, s.Invalid)
	}
	// Selective for e: kept and preferring e (preferences cycle P, N, U).
	want := [3][]int{{0, 3, 9}, {4, 7, 10}, {5, 8}}
	if !slices.EqualFunc(s.Selective[:], want[:], slices.Equal) {
		t.Errorf("selective %v, want %v", s.Selective, want)
	}
	// Every tenth from 0 to 1, written both ways, keeps exactly that many of
	// 10 channels despite 0.1·3 = 0.30000000000000004.
	for i := range 11 {
		for _, keep := range []float64{float64(i) / 10, 0.1 * float64(i)} {
			if keep > 1 {
				keep = 1
			}
			if got := len(kept(r.Select(keep))); got != i {
				t.Errorf("keep %v: %d kept, want %d", keep, got, i)
			}
		}
	}
	if s := r.Select(0); !math.IsInf(s.Cut, 1) || len(kept(s)) != 0 {
		t.Errorf("keep 0: cut %v", s.Cut)
	}
	// Ties at the cut are all kept.
	if got := kept(resultWith(0.5, 0.5, 0.5, 0.5, 0.5).Select(0.8)); len(got) != 5 {
		t.Errorf("ties: kept %v", got)
	}
	if got := kept(resultWith(0.1, 0.5, 0.5, 0.2, 0.9).Select(0.6)); !slices.Equal(got, []int{1, 2, 4}) {
		t.Errorf("keep 0.6 of 5: kept %v", got)
	}
	if got := kept(resultWith(0.1, 0.5, 0.5, 0.2, 0.9).Select(0.4)); !slices.Equal(got, []int{1, 2, 4}) {
		t.Errorf("keep 0.4 of 5 with a tie at the cut: kept %v", got)
	}
}

// bruteTail counts, over every drawn-subset of pop items whose first marked
// items are marked, those holding at least k marked items.
func bruteTail(pop, marked, drawn, k int) float64 {
	markedMask := uint(1)<<marked - 1
	hits, all := 0, 0
	for m := uint(0); m < 1<<pop; m++ {
		if bits.OnesCount(m) != drawn {
			continue
		}
		all++
		if bits.OnesCount(m&markedMask) >= k {
			hits++
		}
	}
	return float64(hits) / float64(all)
}

// exactTail sums the hypergeometric tail with big integers, stepping the
// binomials C(marked, x) and C(pop-marked, drawn-x) by exact recurrences.
func exactTail(pop, marked, drawn, k int) float64 {
	rest := pop - marked
	lo, hi := max(k, 0, drawn-rest), min(marked, drawn)
	num := new(big.Int)
	if lo <= hi {
		a := new(big.Int).Binomial(int64(marked), int64(lo))
		b := new(big.Int).Binomial(int64(rest), int64(drawn-lo))
		t := new(big.Int)
		for x := lo; ; x++ {
			num.Add(num, t.Mul(a, b))
			if x == hi {
				break
			}
			// C(m, x+1) = C(m, x)·(m-x)/(x+1); C(r, d-x-1) = C(r, d-x)·(d-x)/(r-d+x+1).
			a.Mul(a, big.NewInt(int64(marked-x))).Quo(a, big.NewInt(int64(x+1)))
			b.Mul(b, big.NewInt(int64(drawn-x))).Quo(b, big.NewInt(int64(rest-drawn+x+1)))
		}
	}
	f, _ := new(big.Rat).SetFrac(num, new(big.Int).Binomial(int64(pop), int64(drawn))).Float64()
	return f
}

func TestUpperTailBruteForce(t *testing.T) {
	for pop := range 11 {
		for marked := 0; marked <= pop; marked++ {
			for drawn := 0; drawn <= pop; drawn++ {
				for k := -1; k <= drawn+1; k++ {
					got, want := UpperTail(pop, marked, drawn, k), bruteTail(pop, marked, drawn, k)
					if math.Abs(got-want) > 1e-13 {
						t.Errorf("UpperTail(%d, %d, %d, %d) = %v, brute force %v", pop, marked, drawn, k, got, want)
					}
					if ex := exactTail(pop, marked, drawn, k); math.Abs(ex-want) > 1e-15 {
						t.Errorf("oracle exactTail(%d, %d, %d, %d) = %v, brute force %v", pop, marked, drawn, k, ex, want)
					}
				}
			}
		}
	}
	if got := UpperTail(10, 3, 2, 1); math.Abs(got-(1-21.0/45)) > 1e-13 {
		t.Errorf("P(X>=1) for 10/3/2 = %v, want 1-21/45", got)
	}
}

func TestUpperTailBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := [][4]int{{512, 100, 100, 60}, {4096, 800, 700, 200}, {4096, 800, 700, 137}, {4096, 3000, 3500, 2600}, {64, 32, 32, 32}}
	for range 200 {
		pop := 1 + rng.IntN(600)
		marked, drawn := rng.IntN(pop+1), rng.IntN(pop+1)
		cases = append(cases, [4]int{pop, marked, drawn, rng.IntN(min(marked, drawn) + 2)})
	}
	for _, c := range cases {
		got, want := UpperTail(c[0], c[1], c[2], c[3]), exactTail(c[0], c[1], c[2], c[3])
		if !(math.Abs(got-want) <= 1e-9*want) && !(want == 0 && got < 1e-300) {
			t.Errorf("UpperTail%v = %g, exact %g (rel err %.2g)", c, got, want, math.Abs(got-want)/want)
		}
	}
}

func TestCompare(t *testing.T) {
	all := func(c int, except int) []bool {
		v := make([]bool, c)
		for i := range v {
			v[i] = i != except
		}
		return v
	}
	a := &Selection{Kept: make([]bool, 10), Valid: all(10, 9)}
	a.Selective = [3][]int{{0, 1, 2, 3, 8}, {4, 5}, {6}}
	b := &Selection{Kept: make([]bool, 10), Valid: all(10, 8)}
	b.Selective = [3][]int{{0, 1, 5, 9}, {4, 6, 7}, {}}
	ov := Compare(a, b)
	p := ov[P]
	// Population excludes 8 (invalid in b) and 9 (invalid in a): 8 channels.
	// Set 1 has {0,1,2,3}, set 2 {0,1,5}; the overlap {0,1}.
	if p.Emotion != P || p.Population != 8 || p.N1 != 4 || p.N2 != 3 || !slices.Equal(p.Channels, []int{0, 1}) || p.Expected != 1.5 {
		t.Errorf("pleasant overlap %+v", p)
	}
	// P(X>=2) = (C(4,2)C(4,1) + C(4,3)C(4,0)) / C(8,3) = 28/56.
	if math.Abs(p.P-0.5) > 1e-14 {
		t.Errorf("pleasant p = %v, want 0.5", p.P)
	}
	if n := ov[N]; !slices.Equal(n.Channels, []int{4}) || n.N1 != 2 || n.N2 != 3 || math.Abs(n.Expected-0.75) > 1e-15 {
		t.Errorf("neutral overlap %+v", n)
	}
	if u := ov[U]; len(u.Channels) != 0 || u.P != 1 || u.N2 != 0 || u.Expected != 0 {
		t.Errorf("unpleasant overlap %+v", u)
	}
	if got := Shared([][3]Overlap{ov, ov}); !slices.Equal(got, [][3]int{{2, 1, 0}, {2, 1, 0}}) {
		t.Errorf("Shared %v", got)
	}
	if got := Counts([]*Selection{a, b}); !slices.Equal(got, [][3]int{{5, 2, 1}, {4, 3, 0}}) {
		t.Errorf("Counts %v", got)
	}
}

func TestDescribeQuantilesHistogram(t *testing.T) {
	x := []float64{math.NaN(), 3, 1, 2, 4, math.Inf(1)}
	s := Describe(x)
	// numpy: np.quantile([1,2,3,4], [.25,.5,.75]) = [1.75, 2.5, 3.25].
	want := Summary{N: 4, Invalid: 2, Mean: 2.5, SD: math.Sqrt(1.25), Min: 1, Q25: 1.75, Median: 2.5, Q75: 3.25, Max: 4}
	if s != want {
		t.Errorf("Describe = %+v, want %+v", s, want)
	}
	f := []float64{3, 1, 2, 4}
	if !near(s.Mean, stat.Mean(f, nil), 1e-15) || !near(s.SD, stat.PopStdDev(f, nil), 1e-15) {
		t.Errorf("Describe disagrees with gonum")
	}
	if got := Quantiles(x, 0, 0.1, 1); got[0] != 1 || math.Abs(got[1]-1.3) > 1e-15 || got[2] != 4 {
		t.Errorf("Quantiles = %v", got)
	}
	if e := Describe([]float64{math.NaN()}); e.N != 0 || e.Invalid != 1 || !math.IsNaN(e.Median) {
		t.Errorf("empty Describe %+v", e)
	}
	if q := Quantiles(nil, 0.5); !math.IsNaN(q[0]) {
		t.Errorf("empty quantile %v", q)
	}
	h := Histogram([]float64{0, 0.5, 1, 2.999, 3, 3.1, -0.1, math.NaN()}, []float64{0, 1, 2, 3})
	if !slices.Equal(h, []int{2, 1, 2}) {
		t.Errorf("Histogram = %v, want [2 1 2]", h)
	}
	if e := Edges(1, 9, 8); !slices.Equal(e, []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("Edges = %v", e)
	}
	rs := []*Result{resultWith(1, 2, math.NaN()), resultWith(3)}
	if got := Summaries(rs); got[0].N != 2 || got[0].Invalid != 1 || got[1].Median != 3 {
		t.Errorf("Summaries %+v", got)
	}
}

func TestTop(t *testing.T) {
	ch0 := []float32{5, 7, 7, float32(math.NaN()), 1, 7, 9}
	resp := tensor.New(len(ch0), 2)
	for i, v := range ch0 {
		resp.Set(v, i, 0)
		resp.Set(float32(-i), i, 1)
	}
	labels := []stimuli.Category{P, N, U, P, N, X, U}
	if got := Top(resp, labels, 0, 3); !slices.Equal(got, []int{6, 1, 2}) {
		t.Errorf("top 3 = %v", got)
	}
	if got := Top(resp, labels, 0, 100); !slices.Equal(got, []int{6, 1, 2, 0, 4}) {
		t.Errorf("top 100 (clamped) = %v", got)
	}
	if got := Top(resp, nil, 0, 0); !slices.Equal(got, []int{6, 1, 2, 5, 0, 4}) {
		t.Errorf("top default, no labels = %v", got)
	}
	if got := Top(resp, nil, 1, 2); !slices.Equal(got, []int{0, 1}) {
		t.Errorf("channel 1 top 2 = %v", got)
	}
	val := []float64{7.1, 5.0, 2.2, 0, 5.5, 0, 1.9}
	if got := Gather(val, []int{6, 1, 2}); !slices.Equal(got, []float64{1.9, 5.0, 2.2}) {
		t.Errorf("Gather = %v", got)
	}
}

// TestTopWarning: a warning exactly when the top images are not fewer
// than the set's, naming the count, the set's size and its name.
func TestTopWarning(t *testing.T) {
	set := stimuli.Synthetic("beta", 18, 1, 8)
	if w := TopWarning(17, set); w != "" {
		t.Errorf("top 17 of 18: warning %q", w)
	}
	for _, top := range []int{18, 100} {
		want := fmt.Sprintf("-top %d is not below the 18 images of set beta", top)
		if w := TopWarning(top, set); !strings.Contains(w, want) {
			t.Errorf("top %d of 18: warning %q, want it to contain %q", top, w, want)
		}
	}
}
