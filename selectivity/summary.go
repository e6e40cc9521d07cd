package selectivity

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// Summary describes a sample of values, such as one layer's SIs or the
// valences of a neuron's top images. Non-finite values are not part of it;
// they are counted in Invalid. With N == 0 every statistic is NaN.
type Summary struct {
	N, Invalid                 int
	Mean, SD                   float64 // SD is the population SD (divide by N)
	Min, Q25, Median, Q75, Max float64 // quantiles as numpy's default (linear)
}

// Describe summarises the finite values of x.
func Describe(x []float64) Summary {
	v := finiteSorted(x)
	s := Summary{N: len(v), Invalid: len(x) - len(v)}
	if len(v) == 0 {
		nan := math.NaN()
		s.Mean, s.SD, s.Min, s.Q25, s.Median, s.Q75, s.Max = nan, nan, nan, nan, nan, nan, nan
		return s
	}
	sum := 0.0
	for _, a := range v {
		sum += a
	}
	s.Mean = sum / float64(len(v))
	ss := 0.0
	for _, a := range v {
		ss += (a - s.Mean) * (a - s.Mean)
	}
	s.SD = math.Sqrt(ss / float64(len(v)))
	s.Min, s.Max = v[0], v[len(v)-1]
	s.Q25, s.Median, s.Q75 = quantile(v, 0.25), quantile(v, 0.5), quantile(v, 0.75)
	return s
}

// Summary describes the layer's finite SIs; Invalid counts the channels
// without one.
func (r *Result) Summary() Summary { return Describe(r.SI()) }

// Quantiles returns the quantiles of the finite values of x at the
// probabilities ps (each in [0, 1]), interpolating linearly between order
// statistics as numpy.quantile does by default: position p·(n-1). With no
// finite values every quantile is NaN. It panics on a probability outside
// [0, 1].
func Quantiles(x []float64, ps ...float64) []float64 {
	v := finiteSorted(x)
	out := make([]float64, len(ps))
	for i, p := range ps {
		if !(p >= 0 && p <= 1) {
			panic(fmt.Sprintf("selectivity: quantile probability %v is outside [0, 1]", p))
		}
		if len(v) == 0 {
			out[i] = math.NaN()
			continue
		}
		out[i] = quantile(v, p)
	}
	return out
}

func finiteSorted(x []float64) []float64 {
	v := make([]float64, 0, len(x))
	for _, a := range x {
		if !math.IsNaN(a) && !math.IsInf(a, 0) {
			v = append(v, a)
		}
	}
	slices.Sort(v)
	return v
}

// quantile interpolates sorted v (non-empty) at position p·(len-1).
func quantile(v []float64, p float64) float64 {
	h := p * float64(len(v)-1)
	i := int(math.Floor(h))
	if i >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[i] + (h-float64(i))*(v[i+1]-v[i])
}

// Edges returns bins+1 equally spaced histogram edges from lo to hi, e.g.
// Edges(1, 9, 8) for whole valence points. It panics unless bins >= 1 and
// lo < hi.
func Edges(lo, hi float64, bins int) []float64 {
	if bins < 1 || !(lo < hi) {
		panic(fmt.Sprintf("selectivity: Edges(%v, %v, %d) needs lo < hi and bins >= 1", lo, hi, bins))
	}
	e := make([]float64, bins+1)
	for i := range e {
		e[i] = lo + (hi-lo)*float64(i)/float64(bins)
	}
	e[bins] = hi
	return e
}

// Histogram counts the values of x in the bins given by ascending edges,
// as numpy.histogram does: bin i is [edges[i], edges[i+1]), the last bin
// also includes its right edge, and values outside the edges or not finite
// are not counted. Use the same edges for every layer and network being
// compared (e.g. pretrained vs random weights). It panics if edges has
// fewer than two values or is not strictly increasing.
func Histogram(x []float64, edges []float64) []int {
	if len(edges) < 2 {
		panic(fmt.Sprintf("selectivity: Histogram needs at least 2 edges, got %d", len(edges)))
	}
	for i := 1; i < len(edges); i++ {
		if !(edges[i] > edges[i-1]) {
			panic(fmt.Sprintf("selectivity: histogram edges %v are not strictly increasing", edges))
		}
	}
	counts := make([]int, len(edges)-1)
	last := edges[len(edges)-1]
	for _, a := range x {
		if !(a >= edges[0] && a <= last) {
			continue
		}
		if a == last {
			counts[len(counts)-1]++
			continue
		}
		// The first edge greater than a closes a's bin.
		i, _ := slices.BinarySearch(edges, a)
		if i < len(edges) && edges[i] == a {
			i++
		}
		counts[i-1]++
	}
	return counts
}

// Summaries returns Result.Summary for each layer, in order.
func Summaries(layers []*Result) []Summary {
	out := make([]Summary, len(layers))
	for i, r := range layers {
		out[i] = r.Summary()
	}
	return out
}

// Counts returns, for each layer's selection, the number of channels
// selective for each emotion ([layer][emotion]).
func Counts(layers []*Selection) [][stimuli.NumEmotions]int {
	out := make([][stimuli.NumEmotions]int, len(layers))
	for i, s := range layers {
		for e := range stimuli.NumEmotions {
			out[i][e] = len(s.Selective[e])
		}
	}
	return out
}

// Shared returns, for each layer's Compare result, the number of channels
// selective for each emotion in both sets ([layer][emotion]): the counts
// the paper plots for pretrained against randomly initialised networks.
func Shared(layers [][stimuli.NumEmotions]Overlap) [][stimuli.NumEmotions]int {
	out := make([][stimuli.NumEmotions]int, len(layers))
	for i, ov := range layers {
		for e := range stimuli.NumEmotions {
			out[i][e] = len(ov[e].Channels)
		}
	}
	return out
}

// DefaultTop is the paper's number of top images per neuron (Fig 2).
const DefaultTop = 100

// TopWarning returns a warning when top images per neuron are not fewer
// than set's images, so that Fig 2's histograms would show the whole set
// rather than a neuron's top images, and "" otherwise.
func TopWarning(top int, set *stimuli.Set) string {
	if top < len(set.Images) {
		return ""
	}
	return fmt.Sprintf("WARNING: -top %d is not below the %d images of set %s: Fig 2's histograms show the whole set, not a neuron's top images",
		top, len(set.Images), set.Name)
}

// Top returns the indices of the n images that drive channel most, the
// strongest first, from responses resp [N, C]. Equal responses are ordered
// by image index. Images labelled Unknown (when labels is not nil) and
// NaN responses are left out. n == 0 means DefaultTop; n larger than the
// number of eligible images returns them all. It panics on a negative n,
// a channel out of range, or labels of the wrong length.
func Top(resp *tensor.Tensor, labels []stimuli.Category, channel, n int) []int {
	rows, c := checkInput(resp, labels)
	if channel < 0 || channel >= c {
		panic(fmt.Sprintf("selectivity: channel %d out of range for responses %v", channel, resp.Shape()))
	}
	if n < 0 {
		panic(fmt.Sprintf("selectivity: Top of %d images", n))
	}
	if n == 0 {
		n = DefaultTop
	}
	data := resp.Data()
	idx := make([]int, 0, rows)
	for i := range rows {
		if (labels == nil || labels[i] != stimuli.Unknown) && !math.IsNaN(float64(data[i*c+channel])) {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		if r := cmp.Compare(data[b*c+channel], data[a*c+channel]); r != 0 {
			return r
		}
		return cmp.Compare(a, b)
	})
	return idx[:min(n, len(idx))]
}

// Gather returns values[idx[0]], values[idx[1]], …: for example the
// valences (stimuli.Set.Valences) of the images Top chose, ready for
// Describe and Histogram(…, Edges(1, 9, 8)).
func Gather(values []float64, idx []int) []float64 {
	out := make([]float64, len(idx))
	for i, j := range idx {
		out[i] = values[j]
	}
	return out
}
