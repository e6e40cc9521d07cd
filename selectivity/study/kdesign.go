package study

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/atomicfile"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/plots"
	"github.com/emosel/emosel/stimuli"
)

// KConfig is a selectivity study under any design of K ≥ 2 categories
// (stimuli.Design), selecting channels by a selectivity.Criterion.
type KConfig struct {
	Sets      []*stimuli.Set // two or more, with the same Classes
	Networks  []Network      // the network under study first, then controls
	Input     imagenet.Config
	Index     selectivity.Config
	Criterion selectivity.Criterion
	Keep      float64 // BySI
	Alpha     float64 // ByANOVA, ByNasr; 0 means the criterion's default
	Chance    selectivity.Chance
	Top       int // images per exemplar neuron in top_k.csv
	Batch     int
	Log       io.Writer
	Progress  Progress // follows each recording that runs a forward, if not nil
}

// K-design output files, in the output directory.
const (
	KSelectivityFile = "selectivity_k.csv"
	KSelectiveFile   = "selective_k.csv"
	KOverlapFile     = "overlap_k.csv"
	KTopFile         = "top_k.csv"
)

// KFigures are the figures RunK draws (SVG and PNG) for the network under
// study: each class's exemplar tuning (plots.TuningK), the mean SI per
// layer and class (plots.SIK) and the cross-set overlap counts against
// chance (plots.CountsK).
var KFigures = []string{"tuning_k", "si_k", "overlap_k"}

// RunK records every set on every network (cached in out/cache as Run
// does), computes IndexK per set and layer, selects by cfg.Criterion and
// compares the selections across sets per class. It writes
//
//	selectivity_k.csv network,set,layer,channel,mean_<c>…,dprime_<c>…,si,preferred,flaw,f,p,q,selected
//	selective_k.csv   network,layer,channel,class: selective for the same class in every set
//	overlap_k.csv     network,layer,class,n_<set>…,channels,observed,expected,p
//	top_k.csv         network,set,layer,class,channel,rank,image,file,class_of_image,rating:
//	                  the Top images of each class's exemplar (highest-SI) neuron and their ratings
//
// and the KFigures of the network under study (the first).
func RunK(ctx context.Context, out string, cfg KConfig) error {
	if len(cfg.Sets) < 2 || len(cfg.Networks) < 1 {
		return fmt.Errorf("study: a K-category study needs at least two sets and a network, got %d and %d", len(cfg.Sets), len(cfg.Networks))
	}
	if err := stimuli.SameClasses(cfg.Sets); err != nil {
		return err
	}
	classes := cfg.Sets[0].Classes
	k := len(classes)
	for _, s := range cfg.Sets {
		counts := s.ClassCounts()
		for c, n := range counts[:k] {
			if n < selectivity.MinImages {
				return fmt.Errorf("%w: set %s (%s) has %d %s images (%v); every category needs at least %d",
					selectivity.ErrLabels, s.Name, s.Ratings, n, classes[c], counts, selectivity.MinImages)
			}
		}
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format, args...)
		}
	}
	var selRows, selectiveRows, overlapRows, topRows [][]string
	fig := plots.K{Classes: classes, Exemplars: make([]plots.KExemplar, k)}
	for _, s := range cfg.Sets {
		fig.Sets = append(fig.Sets, s.Name)
	}
	fig.SI, fig.Preferred = make([][][]float64, len(cfg.Sets)), make([][][]int, len(cfg.Sets))
	bestSI := make([]float64, k) // of each class's exemplar so far
	for c := range fig.Exemplars {
		fig.Exemplars[c].Layer = -1
	}
	for ni, net := range cfg.Networks {
		var resp []*selectivity.Responses
		for _, s := range cfg.Sets {
			rec, line, err := record(ctx, out, net, s, Config{Input: cfg.Input, Batch: cfg.Batch, Progress: cfg.Progress})
			if err != nil {
				return fmt.Errorf("set %s on %s: %w", s.Name, net.Label, err)
			}
			r, err := rec.Responses()
			if err != nil {
				return err
			}
			logf("  %s\n", line)
			resp = append(resp, r)
		}
		for u, unit := range resp[0].Units {
			sels := make([]*selectivity.SelectionK, len(resp))
			results := make([]*selectivity.ResultK, len(resp))
			for si, r := range resp {
				set := r.Set
				labels := set.ClassLabels()
				res, err := selectivity.IndexK(r.Resp[u], labels, k, cfg.Index)
				if err != nil {
					return fmt.Errorf("set %s layer %s: %w", set.Name, unit, err)
				}
				sel := res.Select(cfg.Criterion, cfg.Keep, cfg.Alpha)
				sels[si], results[si] = sel, res
				if ni == 0 {
					sis, prefs := make([]float64, len(res.Neurons)), make([]int, len(res.Neurons))
					for j, n := range res.Neurons {
						sis[j], prefs[j] = n.SI, n.Preferred
					}
					fig.SI[si], fig.Preferred[si] = append(fig.SI[si], sis), append(fig.Preferred[si], prefs)
				}
				for j, n := range res.Neurons {
					row := []string{net.Key, set.Name, unit, strconv.Itoa(j)}
					for _, v := range n.Mean {
						row = append(row, num(v))
					}
					for _, v := range n.DPrime {
						row = append(row, num(v))
					}
					pref := "none"
					if n.Preferred >= 0 {
						pref = classes[n.Preferred]
					}
					row = append(row, num(n.SI), pref, n.Flaw.String(), num(n.F), num(n.P), num(sel.Q[j]), strconv.FormatBool(sel.Kept[j]))
					selRows = append(selRows, row)
				}
				// The exemplar neuron of each class: the highest SI among
				// the selected channels preferring it.
				data, c := r.Resp[u].Data(), r.Resp[u].Dim(1)
				for cl := range k {
					best := -1
					for _, j := range sel.Selective[cl] {
						if best < 0 || res.Neurons[j].SI > res.Neurons[best].SI {
							best = j
						}
					}
					if best < 0 {
						continue
					}
					var idx []int
					for i, l := range labels {
						if l >= 0 && !math.IsNaN(float64(data[i*c+best])) {
							idx = append(idx, i)
						}
					}
					slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(data[b*c+best], data[a*c+best]) })
					for rank, i := range idx[:min(cfg.Top, len(idx))] {
						im := set.Images[i]
						topRows = append(topRows, []string{net.Key, set.Name, unit, classes[cl], strconv.Itoa(best), strconv.Itoa(rank + 1),
							strconv.Itoa(i), im.File, classes[im.Class], num(im.Rating)})
					}
				}
			}
			overlaps := selectivity.OverlapsK(cfg.Chance, sels...)
			if ni == 0 {
				fig.Layers = append(fig.Layers, unit)
				obs, exp := make([]int, k), make([]float64, k)
				for _, o := range overlaps {
					obs[o.Class], exp[o.Class] = len(o.Channels), o.Expected
					// The class's exemplar: its cross-set channel of highest
					// mean SI over the sets, in any layer.
					for _, ch := range o.Channels {
						var si float64
						for _, r := range results {
							si += r.Neurons[ch].SI / float64(len(results))
						}
						if ex := &fig.Exemplars[o.Class]; ex.Layer < 0 || si > bestSI[o.Class] {
							bestSI[o.Class] = si
							ex.Layer, ex.Channel, ex.DPrime = len(fig.Layers)-1, ch, nil
							for _, r := range results {
								ex.DPrime = append(ex.DPrime, slices.Clone(r.Neurons[ch].DPrime))
							}
						}
					}
				}
				fig.Observed, fig.Expected = append(fig.Observed, obs), append(fig.Expected, exp)
			}
			for _, o := range overlaps {
				row := []string{net.Key, unit, classes[o.Class]}
				for _, n := range o.N {
					row = append(row, strconv.Itoa(n))
				}
				row = append(row, strconv.Itoa(o.Population), strconv.Itoa(len(o.Channels)), num(o.Expected), num(o.P))
				overlapRows = append(overlapRows, row)
				for _, ch := range o.Channels {
					selectiveRows = append(selectiveRows, []string{net.Key, unit, strconv.Itoa(ch), classes[o.Class]})
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	head := []string{"network", "set", "layer", "channel"}
	for _, c := range classes {
		head = append(head, "mean_"+c)
	}
	for _, c := range classes {
		head = append(head, "dprime_"+c)
	}
	head = append(head, "si", "preferred", "flaw", "f", "p", "q", "selected")
	ohead := []string{"network", "layer", "class"}
	for _, s := range cfg.Sets {
		ohead = append(ohead, "n_"+s.Name)
	}
	ohead = append(ohead, "channels", "observed", "expected", "p")
	for _, f := range []struct {
		name string
		head []string
		rows [][]string
	}{
		{KSelectivityFile, head, selRows},
		{KSelectiveFile, []string{"network", "layer", "channel", "class"}, selectiveRows},
		{KOverlapFile, ohead, overlapRows},
		{KTopFile, []string{"network", "set", "layer", "class", "channel", "rank", "image", "file", "class_of_image", "rating"}, topRows},
	} {
		err := atomicfile.Write(filepath.Join(out, f.name), func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Write(f.head)
			cw.WriteAll(f.rows)
			return cw.Error()
		})
		if err != nil {
			return err
		}
	}
	for i, draw := range []func(plots.K, string) error{plots.TuningK, plots.SIK, plots.CountsK} {
		if err := draw(fig, filepath.Join(out, KFigures[i])); err != nil {
			return err
		}
	}
	sets := make([]string, len(cfg.Sets))
	for i, s := range cfg.Sets {
		sets[i] = s.Report()
	}
	logf("design %v, %v selection; sets:\n  %s\n", cfg.Sets[0].Design, cfg.Criterion, strings.Join(sets, "\n  "))
	return nil
}

// num formats a float for the K-design CSVs: shortest round-trip form,
// NaN as NaN.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
