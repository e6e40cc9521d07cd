package selectivity

import (
	"errors"
	"fmt"
	"math"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// ErrLabels is wrapped by the errors Index and Tuning return when the
// labels leave an emotion without enough images to compute its statistics.
var ErrLabels = errors.New("selectivity: not enough labelled images")

// Config adjusts Index. The zero value follows the paper.
type Config struct {
	// SampleVariance makes the σ² of Eq 5 the unbiased sample variance
	// (divide by N_e-1) instead of the population variance (divide by
	// N_e). The tuning value of Eq 4 always uses the population SD, as
	// written.
	SampleVariance bool
}

// Flaw says why a channel has no selectivity index.
type Flaw uint8

const (
	// OK channels have a finite SI.
	OK Flaw = iota
	// NonFinite channels have a NaN or ±Inf response to a labelled image.
	NonFinite
	// Dead channels respond identically to every labelled image, such as a
	// ReLU that never fires. Their tuning values are NaN too.
	Dead
	// NoSpread channels are constant within each emotion but not overall,
	// so every d′ denominator is 0. Their tuning values are finite.
	NoSpread

	// NumFlaws is the number of Flaw values, the length of Result.Flaws.
	NumFlaws
)

var flawNames = [NumFlaws]string{"ok", "non-finite", "dead", "no-spread"}

func (f Flaw) String() string {
	if f < NumFlaws {
		return flawNames[f]
	}
	return fmt.Sprintf("Flaw(%d)", uint8(f))
}

// Neuron holds one channel's statistics on one stimulus set. Arrays are
// indexed by stimuli.Category (Pleasant, Neutral, Unpleasant).
type Neuron struct {
	Mean   [stimuli.NumEmotions]float64 // mean response X̄_e
	Var    [stimuli.NumEmotions]float64 // σ²_e, population or sample per Config
	Tuning [stimuli.NumEmotions]float64 // S_e of Eq 4; NaN if Dead or NonFinite
	DPrime [stimuli.NumEmotions]float64 // d′(e) of Eq 5; NaN if Flaw != OK
	// SI is max_e d′(e), NaN if Flaw != OK. Because the d′ share one
	// denominator and their numerators (3X̄_e - ΣX̄)/2 sum to zero, SI ≥ 0.
	SI float64
	// Preferred is argmax_e d′(e), which is also argmax_e X̄_e and argmax_e
	// S_e; exact ties go to the earlier category (pleasant, neutral,
	// unpleasant). It is stimuli.Unknown when Flaw != OK.
	Preferred stimuli.Category
	Flaw      Flaw
}

// Result is the selectivity of every channel of one layer on one set.
type Result struct {
	Neurons []Neuron                 // [C]
	N       [stimuli.NumEmotions]int // images per emotion that entered the statistics
	Unknown int                      // images labelled Unknown and excluded
	Flaws   [NumFlaws]int            // channels per Flaw; Flaws[OK] have a finite SI
	Config  Config                   // as passed to Index
}

// Invalid returns the number of channels without a finite SI.
func (r *Result) Invalid() int { return len(r.Neurons) - r.Flaws[OK] }

// SI returns every channel's SI ([C], NaN where invalid).
func (r *Result) SI() []float64 {
	out := make([]float64, len(r.Neurons))
	for i, n := range r.Neurons {
		out[i] = n.SI
	}
	return out
}

// Preferred returns every channel's preferred emotion ([C], Unknown where
// invalid).
func (r *Result) Preferred() []stimuli.Category {
	out := make([]stimuli.Category, len(r.Neurons))
	for i, n := range r.Neurons {
		out[i] = n.Preferred
	}
	return out
}

// checkInput panics on programmer misuse and returns N and C.
func checkInput(resp *tensor.Tensor, labels []stimuli.Category) (int, int) {
	if resp == nil {
		panic("selectivity: nil responses")
	}
	if resp.Rank() != 2 {
		panic(fmt.Sprintf("selectivity: responses have shape %v, want [N C] (images × channels)", resp.Shape()))
	}
	n, c := resp.Dim(0), resp.Dim(1)
	if labels != nil && len(labels) != n {
		panic(fmt.Sprintf("selectivity: %d labels for %d images (responses %v)", len(labels), n, resp.Shape()))
	}
	for i, l := range labels {
		if l > stimuli.Unknown {
			panic(fmt.Sprintf("selectivity: label %d is %v, not a stimuli category", i, l))
		}
	}
	return n, c
}

// Index computes, for responses resp [N, C] (one row per image, e.g. the
// spatially averaged feature maps of Eq 2) and one label per row, every
// channel's tuning values (Eq 4), d′ per emotion (Eq 5), SI and preferred
// emotion. Rows labelled Unknown are excluded from every statistic.
// Channels that have no SI are marked with a Flaw and counted in
// Result.Flaws instead of carrying a silent NaN.
//
// Statistics accumulate in float64 in two passes (means, then centred sums
// of squares). Index returns an error wrapping ErrLabels if an emotion has
// fewer than MinImages (2) images. It panics if resp
// is not [N, C], if len(labels) != N, or on a label beyond Unknown.
func Index(resp *tensor.Tensor, labels []stimuli.Category, cfg Config) (*Result, error) {
	if labels == nil {
		panic("selectivity: nil labels")
	}
	_, c := checkInput(resp, labels)
	res := &Result{Neurons: make([]Neuron, c), Config: cfg}
	for _, l := range labels {
		if l == stimuli.Unknown {
			res.Unknown++
		} else {
			res.N[l]++
		}
	}
	need := MinImages
	for e := range stimuli.NumEmotions {
		if res.N[e] < need {
			return nil, fmt.Errorf("%w: %d %v images (labels: %d pleasant, %d neutral, %d unpleasant, %d unknown), need at least %d",
				ErrLabels, res.N[e], e, res.N[stimuli.Pleasant], res.N[stimuli.Neutral], res.N[stimuli.Unpleasant], res.Unknown, need)
		}
	}
	total := res.N[0] + res.N[1] + res.N[2]
	const ne = int(stimuli.NumEmotions)
	data := resp.Data()

	// Pass 1: sums, extremes and non-finite values per channel and emotion.
	sum := make([]float64, c*ne)
	lo := make([]float32, c*ne)
	hi := make([]float32, c*ne)
	for i := range lo {
		lo[i], hi[i] = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	bad := make([]bool, c)
	for i, l := range labels {
		if l == stimuli.Unknown {
			continue
		}
		e := int(l)
		for j, v := range data[i*c : (i+1)*c] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad[j] = true
			}
			k := j*ne + e
			sum[k] += float64(v)
			lo[k] = min(lo[k], v)
			hi[k] = max(hi[k], v)
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

	// Pass 2: centred sums of squares, per emotion and over all images.
	ss := make([]float64, c*ne)
	ssAll := make([]float64, c)
	for i, l := range labels {
		if l == stimuli.Unknown {
			continue
		}
		e := int(l)
		for j, v := range data[i*c : (i+1)*c] {
			d := float64(v) - mean[j*ne+e]
			ss[j*ne+e] += d * d
			a := float64(v) - all[j]
			ssAll[j] += a * a
		}
	}

	nan := math.NaN()
	for j := range c {
		nr := &res.Neurons[j]
		constAll, constEach := true, true
		for e := range ne {
			k := j*ne + e
			nr.Mean[e] = mean[k]
			div := float64(res.N[e])
			if cfg.SampleVariance {
				div--
			}
			nr.Var[e] = ss[k] / div
			if lo[k] != hi[k] {
				constEach = false
			}
			if lo[k] != lo[j*ne] || hi[k] != lo[j*ne] {
				constAll = false
			}
		}
		nr.Tuning = [ne]float64{nan, nan, nan}
		nr.DPrime = [ne]float64{nan, nan, nan}
		nr.SI = nan
		nr.Preferred = stimuli.Unknown
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
			den := math.Sqrt((nr.Var[0] + nr.Var[1] + nr.Var[2]) / 2)
			if constEach || den == 0 {
				nr.Flaw = NoSpread
				break
			}
			for e := range ne {
				o1, o2 := (e+1)%ne, (e+2)%ne
				nr.DPrime[e] = (nr.Mean[e] - (nr.Mean[o1]+nr.Mean[o2])/2) / den
			}
			best := 0
			for e := 1; e < ne; e++ {
				if nr.DPrime[e] > nr.DPrime[best] {
					best = e
				}
			}
			nr.SI = nr.DPrime[best]
			nr.Preferred = stimuli.Category(best)
		}
		res.Flaws[nr.Flaw]++
	}
	return res, nil
}

// Tuning returns each channel's tuning curve ([C][3], indexed by emotion):
// the normalised mean response of Eq 4,
//
//	S_e = (mean over images of e - mean over all images) / SD over all images,
//
// with the population SD (divide by N), Unknown images excluded. Channels
// that are Dead or NonFinite get NaN curves; use Index to count them. The
// errors and panics are those of Index.
func Tuning(resp *tensor.Tensor, labels []stimuli.Category) ([][stimuli.NumEmotions]float64, error) {
	r, err := Index(resp, labels, Config{})
	if err != nil {
		return nil, err
	}
	out := make([][stimuli.NumEmotions]float64, len(r.Neurons))
	for i, n := range r.Neurons {
		out[i] = n.Tuning
	}
	return out, nil
}
