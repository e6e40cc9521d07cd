package selectivity

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"

	"github.com/emosel/emosel/stimuli"
)

// formatFloat writes v in the shortest form that reads back exactly, with
// NaN as "NaN" and infinities as "Inf" and "-Inf" (as numpy and pandas
// read them).
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// SelectivityHeader is the header WriteSelectivity writes.
var SelectivityHeader = []string{"set", "layer", "channel",
	"tuning_pleasant", "tuning_neutral", "tuning_unpleasant",
	"dprime_pleasant", "dprime_neutral", "dprime_unpleasant", "si", "preferred"}

// WriteSelectivity writes every channel's statistics, set by set and layer
// by layer: the columns of SelectivityHeader, with the tuning values of
// Eq 4, d′ of Eq 5, SI and the preferred emotion ("unknown" for a channel
// without an SI, whose numbers are NaN).
func WriteSelectivity(w io.Writer, s *Study) error {
	cw := csv.NewWriter(w)
	cw.Write(SelectivityHeader)
	for k, set := range s.Names() {
		for _, l := range s.Layers {
			for c, n := range l.Results[k].Neurons {
				row := []string{set, l.Name, strconv.Itoa(c)}
				for e := range stimuli.NumEmotions {
					row = append(row, formatFloat(n.Tuning[e]))
				}
				for e := range stimuli.NumEmotions {
					row = append(row, formatFloat(n.DPrime[e]))
				}
				row = append(row, formatFloat(n.SI), n.Preferred.String())
				cw.Write(row)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSelective writes the cross-set emotion-selective neurons, the
// channels selective for the same emotion in every set: header
// layer,channel,emotion, layers in order, then emotions, then channels.
func WriteSelective(w io.Writer, s *Study) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "channel", "emotion"})
	for _, l := range s.Layers {
		for _, o := range l.Overlap {
			for _, c := range o.Channels {
				cw.Write([]string{l.Name, strconv.Itoa(c), o.Emotion.String()})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// OverlapHeader returns the header WriteOverlap writes for the named sets:
// layer,emotion,n_<set>…,channels,observed,expected,p.
func OverlapHeader(sets []string) []string {
	h := []string{"layer", "emotion"}
	for _, n := range sets {
		h = append(h, "n_"+n)
	}
	return append(h, "channels", "observed", "expected", "p")
}

// WriteOverlap writes one row per layer and emotion: the number of
// channels selective for the emotion in each set, the population of the
// chance model (channels), the observed overlap, the overlap expected by
// chance and its exact one-sided p-value.
func WriteOverlap(w io.Writer, s *Study) error {
	cw := csv.NewWriter(w)
	cw.Write(OverlapHeader(s.Names()))
	for _, l := range s.Layers {
		for _, o := range l.Overlap {
			row := []string{l.Name, o.Emotion.String()}
			for _, n := range o.N {
				row = append(row, strconv.Itoa(n))
			}
			row = append(row, strconv.Itoa(o.Population), strconv.Itoa(len(o.Channels)),
				formatFloat(o.Expected), formatFloat(o.P))
			cw.Write(row)
		}
	}
	cw.Flush()
	return cw.Error()
}

// LayersHeader is the header WriteLayers writes.
var LayersHeader = []string{"network", "set", "layer", "channels", "valid", "dead", "non_finite", "no_spread",
	"si_mean", "si_sd", "si_min", "si_q25", "si_median", "si_q75", "si_max", "si_cut",
	"selective_pleasant", "selective_neutral", "selective_unpleasant",
	"shared_pleasant", "shared_neutral", "shared_unpleasant"}

// WriteLayers writes one row per network, set and layer: the channel
// counts by Flaw, the distribution of the finite SIs (Fig 3A), the SI
// cut of the selection, the channels selective per emotion in that set and
// in every set (Fig 3B). networks names the studies (e.g. "pretrained",
// "random"); nil studies are skipped.
func WriteLayers(w io.Writer, networks []string, studies []*Study) error {
	cw := csv.NewWriter(w)
	cw.Write(LayersHeader)
	for i, s := range studies {
		if s == nil {
			continue
		}
		for k, set := range s.Names() {
			for _, l := range s.Layers {
				r, sel := l.Results[k], l.Selections[k]
				sum := r.Summary()
				row := []string{networks[i], set, l.Name, strconv.Itoa(l.Channels),
					strconv.Itoa(r.Flaws[OK]), strconv.Itoa(r.Flaws[Dead]), strconv.Itoa(r.Flaws[NonFinite]), strconv.Itoa(r.Flaws[NoSpread])}
				for _, v := range []float64{sum.Mean, sum.SD, sum.Min, sum.Q25, sum.Median, sum.Q75, sum.Max, sel.Cut} {
					row = append(row, formatFloat(v))
				}
				for e := range stimuli.NumEmotions {
					row = append(row, strconv.Itoa(len(sel.Selective[e])))
				}
				for e := range stimuli.NumEmotions {
					row = append(row, strconv.Itoa(len(l.Overlap[e].Channels)))
				}
				cw.Write(row)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteTop writes, for each exemplar with a channel, the n images of each
// set that drive it most (Study.Top): header
// layer,emotion,channel,shared,set,rank,row,file,valence,category, rank 1
// being the strongest.
func WriteTop(w io.Writer, s *Study, exemplars []Exemplar, n int) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "emotion", "channel", "shared", "set", "rank", "row", "file", "valence", "category"})
	for _, ex := range exemplars {
		if ex.Channel < 0 {
			continue
		}
		for k, r := range s.Sets {
			for rank, row := range s.Top(ex.Layer, k, ex.Channel, n) {
				im := r.Set.Images[row]
				cw.Write([]string{s.Layers[ex.Layer].Name, ex.Emotion.String(), strconv.Itoa(ex.Channel),
					strconv.FormatBool(ex.Shared), r.Set.Name, strconv.Itoa(rank + 1), strconv.Itoa(row),
					im.File, formatFloat(im.Valence), im.Category.String()})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteNull writes the permutation null of a study's overlaps: header
// layer,emotion,observed,null_mean,p_perm,permutations, one row per layer
// and emotion.
func WriteNull(w io.Writer, s *Study, null *Null) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"layer", "emotion", "observed", "null_mean", "p_perm", "permutations"})
	for j, l := range s.Layers {
		for e, o := range l.Overlap {
			cw.Write([]string{l.Name, o.Emotion.String(), strconv.Itoa(len(o.Channels)),
				formatFloat(null.Mean[j][e]), formatFloat(null.P[j][e]), strconv.Itoa(null.Permutations)})
		}
	}
	cw.Flush()
	return cw.Error()
}
