package selectivity

import (
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/tensor"
	"gonum.org/v1/gonum/mathext"
)

// NeuronK holds one channel's statistics on one set under a K-category
// design; slices have length K, indexed by class.
type NeuronK struct {
	Mean   []float64 // mean response per class
	Var    []float64 // σ² per class, population or sample per Config
	Tuning []float64 // S_c of Eq 4; NaN if Dead or NonFinite
	// DPrime is Eq 5 generalised: (X̄_c − mean of the other classes' X̄) /
	// sqrt(Σ_c σ²_c / (K−1)). At K = 3 it is Eq 5 bit for bit. NaN if
	// Flaw != OK.
	DPrime []float64
	// SI is max_c d′(c) and Preferred its argmax (the earlier class on an
	// exact tie); NaN and -1 when Flaw != OK. SI ≥ 0 since the numerators
	// sum to zero.
	SI        float64
	Preferred int
	Flaw      Flaw
	// F and P are the one-way ANOVA of the responses by class (F with K−1
	// and N−K degrees of freedom, P its upper tail). Both are NaN unless
	// Flaw == OK (a channel constant within classes has no finite F).
	F, P float64
}

// ResultK is IndexK's result for every channel of one layer on one set.
type ResultK struct {
	K       int
	Neurons []NeuronK     // [C]
	N       []int         // [K] images per class in the statistics
	Unknown int           // images with a negative class, excluded
	Flaws   [NumFlaws]int // channels per Flaw
	Config  Config
}

// SI returns every channel's SI ([C], NaN where invalid).
func (r *ResultK) SI() []float64 {
	out := make([]float64, len(r.Neurons))
	for i, n := range r.Neurons {
		out[i] = n.SI
	}
	return out
}

// P returns every channel's ANOVA p-value ([C], NaN where invalid).
func (r *ResultK) P() []float64 {
	out := make([]float64, len(r.Neurons))
	for i, n := range r.Neurons {
		out[i] = n.P
	}
	return out
}

// IndexK is Index for a design of k ≥ 2 classes: labels[i] is image i's
// class in 0..k-1, or negative (stimuli.Unclassified) to exclude it. It
// computes per channel the tuning values (Eq 4), the generalised d′
// (NeuronK.DPrime), SI, preferred class and the one-way ANOVA across
// classes. The two passes and the float64 accumulation are Index's, so at
// k = 3 with the emotion categories as classes every Mean, Var, Tuning,
// DPrime and SI equals Index's bit for bit.
//
// It returns an error wrapping ErrLabels if a class has fewer than
// MinImages images, and panics if resp is not [N, C], len(labels) != N, k
// < 2 or a label is ≥ k.
func IndexK(resp *tensor.Tensor, labels []int, k int, cfg Config) (*ResultK, error) {
	if k < 2 {
		panic(fmt.Sprintf("selectivity: IndexK of %d classes, want at least 2", k))
	}
	n, c := checkInput(resp, nil)
	if len(labels) != n {
		panic(fmt.Sprintf("selectivity: %d labels for %d images (responses %v)", len(labels), n, resp.Shape()))
	}
	res := &ResultK{K: k, Neurons: make([]NeuronK, c), N: make([]int, k), Config: cfg}
	for i, l := range labels {
		switch {
		case l >= k:
			panic(fmt.Sprintf("selectivity: label %d is class %d of %d", i, l, k))
		case l < 0:
			res.Unknown++
		default:
			res.N[l]++
		}
	}
	for e := range k {
		if res.N[e] < MinImages {
			return nil, fmt.Errorf("%w: %d images of class %d (per class %v, %d unknown), need at least %d",
				ErrLabels, res.N[e], e, res.N, res.Unknown, MinImages)
		}
	}
	total := 0
	for _, v := range res.N {
		total += v
	}
	ne := k
	data := resp.Data()

	sum := make([]float64, c*ne)
	lo := make([]float32, c*ne)
	hi := make([]float32, c*ne)
	for i := range lo {
		lo[i], hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	bad := make([]bool, c)
	for i, e := range labels {
		if e < 0 {
			continue
		}
		for j, v := range data[i*c : (i+1)*c] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad[j] = true
			}
			q := j*ne + e
			sum[q] += float64(v)
			lo[q] = min(lo[q], v)
			hi[q] = max(hi[q], v)
		}
	}
	mean := make([]float64, c*ne)
	all := make([]float64, c)
	for j := range c {
		s := 0.0
		for e := range ne {
			mean[j*ne+e] = sum[j*ne+e] / float64(res.N[e])
			s += sum[j*ne+e]
		}
		all[j] = s / float64(total)
	}
	ss := make([]float64, c*ne)
	ssAll := make([]float64, c)
	for i, e := range labels {
		if e < 0 {
			continue
		}
		for j, v := range data[i*c : (i+1)*c] {
			d := float64(v) - mean[j*ne+e]
			ss[j*ne+e] += d * d
			a := float64(v) - all[j]
			ssAll[j] += a * a
		}
	}

	nan := math.NaN()
	dfB, dfW := float64(k-1), float64(total-k)
	for j := range c {
		nr := &res.Neurons[j]
		nr.Mean, nr.Var = make([]float64, ne), make([]float64, ne)
		nr.Tuning, nr.DPrime = make([]float64, ne), make([]float64, ne)
		constAll, constEach := true, true
		for e := range ne {
			q := j*ne + e
			nr.Mean[e] = mean[q]
			div := float64(res.N[e])
			if cfg.SampleVariance {
				div--
			}
			nr.Var[e] = ss[q] / div
			if lo[q] != hi[q] {
				constEach = false
			}
			if lo[q] != lo[j*ne] || hi[q] != lo[j*ne] {
				constAll = false
			}
			nr.Tuning[e], nr.DPrime[e] = nan, nan
		}
		nr.SI, nr.Preferred, nr.F, nr.P = nan, -1, nan, nan
		switch {
		case bad[j]:
			nr.Flaw = NonFinite
		case constAll:
			nr.Flaw = Dead
		default:
			sd := math.Sqrt(ssAll[j] / float64(total))
			for e := range ne {
				nr.Tuning[e] = (nr.Mean[e] - all[j]) / sd
			}
			vs := 0.0
			for e := range ne {
				vs += nr.Var[e]
			}
			den := math.Sqrt(vs / float64(k-1))
			if constEach || den == 0 {
				nr.Flaw = NoSpread
				break
			}
			for e := range ne {
				// The other classes in cyclic order from e+1, as Index
				// adds them (for K = 3 the same two terms).
				o := 0.0
				for d := 1; d < ne; d++ {
					o += nr.Mean[(e+d)%ne]
				}
				nr.DPrime[e] = (nr.Mean[e] - o/float64(k-1)) / den
			}
			best := 0
			for e := 1; e < ne; e++ {
				if nr.DPrime[e] > nr.DPrime[best] {
					best = e
				}
			}
			nr.SI, nr.Preferred = nr.DPrime[best], best
			// One-way ANOVA: between-class and within-class sums of squares.
			ssb, ssw := 0.0, 0.0
			for e := range ne {
				d := mean[j*ne+e] - all[j]
				ssb += float64(res.N[e]) * d * d
				ssw += ss[j*ne+e]
			}
			if ssw > 0 && dfW > 0 {
				nr.F = (ssb / dfB) / (ssw / dfW)
				nr.P = FTail(nr.F, dfB, dfW)
			}
		}
		res.Flaws[nr.Flaw]++
	}
	return res, nil
}

// FTail returns P(X ≥ f) for X ~ F(d1, d2): the regularised incomplete beta
// I_{d2/(d2+d1·f)}(d2/2, d1/2). It is 1 for f ≤ 0 and NaN for NaN f.
func FTail(f, d1, d2 float64) float64 {
	switch {
	case math.IsNaN(f):
		return math.NaN()
	case f <= 0:
		return 1
	case math.IsInf(f, 1):
		return 0
	}
	return mathext.RegIncBeta(d2/2, d1/2, d2/(d2+d1*f))
}

// Criterion chooses the channels a SelectionK calls selective.
type Criterion uint8

const (
	// BySI keeps the fraction Keep of channels with the largest SI (the
	// paper's criterion, Result.Select).
	BySI Criterion = iota
	// ByANOVA keeps the channels whose ANOVA survives Benjamini–Hochberg
	// correction across the layer's channels at FDR Alpha (default 0.05).
	ByANOVA
	// ByNasr keeps the channels with a significant uncorrected ANOVA,
	// p < Alpha (default 0.01), as Nasr, Dehaene & Dayan (2019) defined
	// number-selective units; each is selective for its preferred class.
	ByNasr
)

var criterionNames = []string{"si", "anova", "nasr"}

func (c Criterion) String() string {
	if int(c) < len(criterionNames) {
		return criterionNames[c]
	}
	return fmt.Sprintf("Criterion(%d)", uint8(c))
}

// ParseCriterion parses "si", "anova" or "nasr" (the -select flag).
func ParseCriterion(s string) (Criterion, error) {
	for i, n := range criterionNames {
		if s == n {
			return Criterion(i), nil
		}
	}
	return 0, fmt.Errorf("selectivity: -select %q is not si, anova or nasr", s)
}

// SelectionK is the outcome of a Criterion on one ResultK.
type SelectionK struct {
	Criterion Criterion
	Keep      float64   // BySI: the fraction kept
	Alpha     float64   // ByANOVA, ByNasr: the level
	Cut       float64   // BySI: the SI threshold (+Inf when none kept)
	Q         []float64 // [C] BH q-values of the ANOVA p-values (NaN where invalid)
	Valid     []bool    // [C] Flaw == OK
	Kept      []bool    // [C]
	Preferred []int     // [C]
	Selective [][]int   // [K] kept channels preferring each class, ascending
	Eligible  int
}

// DefaultAlpha returns the default level of a criterion: 0.05 FDR for
// ByANOVA, 0.01 for ByNasr, 0 for BySI.
func DefaultAlpha(c Criterion) float64 {
	switch c {
	case ByANOVA:
		return 0.05
	case ByNasr:
		return 0.01
	}
	return 0
}

// Select applies the criterion: for BySI it keeps the fraction keep of the
// channels with a finite SI exactly as Result.Select does; for ByANOVA and
// ByNasr it uses alpha (0 means DefaultAlpha) and ignores keep. It panics
// if keep is outside [0, 1] or alpha outside [0, 1).
func (r *ResultK) Select(crit Criterion, keep, alpha float64) *SelectionK {
	if !(keep >= 0 && keep <= 1) {
		panic(fmt.Sprintf("selectivity: keep fraction %v is outside [0, 1]", keep))
	}
	if alpha == 0 {
		alpha = DefaultAlpha(crit)
	}
	if !(alpha >= 0 && alpha < 1) {
		panic(fmt.Sprintf("selectivity: alpha %v is outside [0, 1)", alpha))
	}
	c := len(r.Neurons)
	s := &SelectionK{Criterion: crit, Keep: keep, Alpha: alpha, Cut: math.Inf(1),
		Q: BH(r.P()), Valid: make([]bool, c), Kept: make([]bool, c),
		Preferred: make([]int, c), Selective: make([][]int, r.K)}
	var finite []float64
	for i, n := range r.Neurons {
		s.Preferred[i] = n.Preferred
		if n.Flaw == OK && !math.IsNaN(n.SI) {
			s.Valid[i] = true
			finite = append(finite, n.SI)
		}
	}
	s.Eligible = len(finite)
	if crit == BySI {
		k := int(math.Ceil(keep*float64(len(finite)) - 1e-9))
		k = min(max(k, 0), len(finite))
		if k > 0 {
			slices.Sort(finite)
			s.Cut = finite[len(finite)-k]
		}
	}
	for i, n := range r.Neurons {
		if !s.Valid[i] {
			continue
		}
		switch crit {
		case BySI:
			s.Kept[i] = n.SI >= s.Cut
		case ByANOVA:
			s.Kept[i] = s.Q[i] <= alpha
		case ByNasr:
			s.Kept[i] = n.P < alpha
		default:
			panic(fmt.Sprintf("selectivity: unknown %v", crit))
		}
		if s.Kept[i] {
			s.Selective[n.Preferred] = append(s.Selective[n.Preferred], i)
		}
	}
	return s
}

// OverlapK compares the channels selective for one class in two or more
// sets, with the exact chance model of Overlaps (UpperTail for two sets,
// IntersectTail for more).
type OverlapK struct {
	Class      int
	Channels   []int // selective for Class in every set
	Population int
	N          []int // per set, channels of Population selective for Class
	Expected   float64
	P          float64
}

// OverlapsK is Overlaps for K-class selections: per class, the channels
// selective in every set, and the chance overlap of independent random
// subsets of the same sizes from the population chance chooses. It panics
// if fewer than two selections are given or their widths or K differ.
func OverlapsK(chance Chance, sels ...*SelectionK) []OverlapK {
	if len(sels) < 2 {
		panic(fmt.Sprintf("selectivity: OverlapsK of %d selections, want at least 2", len(sels)))
	}
	c, k := len(sels[0].Kept), len(sels[0].Selective)
	for _, s := range sels[1:] {
		if len(s.Kept) != c || len(s.Selective) != k {
			panic(fmt.Sprintf("selectivity: OverlapsK of selections with %d/%d and %d/%d channels/classes", c, k, len(s.Kept), len(s.Selective)))
		}
	}
	views := make([]selView, len(sels))
	for q, s := range sels {
		views[q] = selView{valid: s.Valid, selective: s.Selective}
	}
	return overlaps(chance, c, k, views)
}
