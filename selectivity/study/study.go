package study

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// Network is one network of a study.
type Network struct {
	// Label names the network in layers.csv and the figures, e.g.
	// "pretrained" or "random (seed 2)".
	Label string
	// About describes it in one line of the report.
	About string
	// Key names its recordings' cache directory, DIR/cache/<set>/<Key>;
	// it should change with the weights and the preprocessing (the cache
	// checks both anyway, but a shared name makes two networks overwrite
	// each other's cache). It must be a plain file name.
	Key   string
	Model *nn.Model
	// Record labels the weights in the cache key (Weights, or Seed for a
	// random network); Run sets its Batch and Progress.
	Record selectivity.RecordConfig
}

// Config describes a selectivity study. Sets and Networks are required.
type Config struct {
	// Sets are the stimulus sets, two or more, each checked with
	// selectivity.CheckSet.
	Sets []*stimuli.Set
	// Networks are the networks to analyse: the one the tables describe
	// first, then optionally the random control.
	Networks []Network
	// Input is the preprocessing; Resize names it in the report
	// ("squash" or "crop").
	Input  imagenet.Config
	Resize string
	// Analysis configures selectivity.Analyze.
	Analysis selectivity.StudyConfig
	// Top is the number of top images per exemplar neuron (Fig 2, top.csv);
	// 0 means selectivity.DefaultTop.
	Top int
	// Batch is the number of images per forward pass; 0 means
	// selectivity.DefaultBatch.
	Batch int
	// Permutations > 0 also tests each overlap against that many label
	// shuffles, seeded by Seed (null.csv).
	Permutations int
	Seed         uint64
	// Fig2 are the indices among the conv units of the layers Fig 2 shows;
	// nil means selectivity.PaperLayers. Layers turns names into indices.
	Fig2 []int
	// Progress, if not nil, follows each recording that runs a forward
	// pass: a stage "<set> on <key>" counted in images.
	Progress Progress
	// Log, if not nil, receives one line per recording (recorded or
	// reused) as it finishes.
	Log io.Writer
}

// Progress follows the long steps of a run. It has the method set of
// manipulate/study.Progress, so one implementation serves both stages.
type Progress interface {
	Start(stage string, total int64)
	Add(n int64)
	Finish()
}

// Analysed is one network of a finished study.
type Analysed struct {
	Network
	Study      *selectivity.Study
	Null       *selectivity.Null // with Permutations > 0
	Recordings []*selectivity.Recording
}

// Result is a finished study.
type Result struct {
	Dir      string
	Sets     []*stimuli.Set
	Networks []*Analysed
	// Recorded counts the recordings that ran a forward pass; the others
	// were reused from the cache.
	Recorded int
}

// Run records every set on every network (reusing DIR/cache), analyses
// each network across the sets and writes into dir:
//
//	selectivity.csv      set,layer,channel,tuning_*,dprime_*,si,preferred: every channel (NaN as NaN)
//	selective.csv        layer,channel,emotion: channels selective for the same emotion in every set
//	overlap.csv          layer,emotion,n_<set>…,channels,observed,expected,p: overlap vs chance
//	layers.csv           per network, set and layer: channel counts by flaw, SI distribution, counts
//	top.csv              the Top images driving each layer's exemplar neuron per emotion
//	null.csv             with Permutations: each overlap's permutation null and p-value
//	control/*.csv        selectivity, selective, overlap (and null) for the second network
//	activations/<set>/   <layer>.npy [n_images, channels] and images.csv of the first network
//	fig2_tuning.svg/png  tuning curves of the most selective neurons of the Fig2 layers (Fig 2, top)
//	fig2_top.svg/png     valence histograms of their top images (Fig 2, bottom)
//	fig3a_si.svg/png     SI by layer, per network and set (Fig 3A)
//	fig3b_counts.svg/png selective neurons vs chance and across networks (Fig 3B)
//	report.txt           the run: networks, settings, sets, recordings, flaws and overlaps per layer
//	cache/<set>/<key>/   the recordings, reused by later runs with the same cache key
//
// Errors name the set and file at fault; see the package documentation
// for what panics.
func Run(ctx context.Context, dir string, cfg Config) (*Result, error) {
	if len(cfg.Sets) < 2 {
		panic(fmt.Sprintf("study: Run needs at least two sets, got %d", len(cfg.Sets)))
	}
	if len(cfg.Networks) == 0 {
		panic("study: Run needs at least one network")
	}
	var keys []string
	for _, n := range cfg.Networks {
		if n.Model == nil || n.Key == "" || n.Key != filepath.Base(n.Key) || n.Key == "." || n.Key == ".." {
			panic(fmt.Sprintf("study: network %q has no model or a bad key %q", n.Label, n.Key))
		}
		if slices.Contains(keys, n.Key) {
			panic(fmt.Sprintf("study: two networks with the cache key %q", n.Key))
		}
		keys = append(keys, n.Key)
	}
	for _, set := range cfg.Sets {
		if err := selectivity.CheckSet(set); err != nil {
			return nil, err
		}
	}
	if cfg.Top == 0 {
		cfg.Top = selectivity.DefaultTop
	}
	if cfg.Fig2 == nil {
		l := selectivity.PaperLayers(len(cfg.Networks[0].Model.ConvUnits()))
		cfg.Fig2 = l[:]
	}
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	res := &Result{Dir: dir, Sets: cfg.Sets}
	var lines strings.Builder
	for _, n := range cfg.Networks {
		a := &Analysed{Network: n}
		var resp []*selectivity.Responses
		for _, set := range cfg.Sets {
			rec, line, err := record(ctx, dir, n, set, cfg)
			if err != nil {
				return nil, err
			}
			if !rec.Cached {
				res.Recorded++
			}
			fmt.Fprintln(log, line)
			fmt.Fprintln(&lines, "  "+line)
			r, err := rec.Responses()
			if err != nil {
				return nil, err
			}
			a.Recordings = append(a.Recordings, rec)
			resp = append(resp, r)
		}
		var err error
		if a.Study, err = selectivity.Analyze(resp, cfg.Analysis); err != nil {
			return nil, err
		}
		if cfg.Permutations > 0 {
			if a.Null, err = selectivity.Permute(ctx, a.Study, cfg.Permutations, cfg.Seed); err != nil {
				return nil, err
			}
		}
		res.Networks = append(res.Networks, a)
	}
	if err := write(dir, cfg, res, lines.String()); err != nil {
		return nil, err
	}
	return res, nil
}

// record runs one set on one network into its cache directory and returns
// the recording and a line describing it.
func record(ctx context.Context, dir string, n Network, set *stimuli.Set, cfg Config) (*selectivity.Recording, string, error) {
	cache := filepath.Join(dir, "cache", set.Name, n.Key)
	rc := n.Record
	rc.Batch = cfg.Batch
	p := cfg.Progress
	started, last := false, 0
	if p != nil {
		rc.Progress = func(done, total int) {
			if !started {
				p.Start(fmt.Sprintf("%s on %s", set.Name, n.Key), int64(total))
				started = true
			}
			p.Add(int64(done - last))
			last = done
		}
	}
	start := time.Now()
	rec, err := selectivity.Record(ctx, n.Model, set, cfg.Input, cache, rc)
	if started {
		p.Finish()
	}
	if err != nil {
		return nil, "", err
	}
	line := fmt.Sprintf("%s on %s: %d images recorded in %s", set.Name, n.Key, len(set.Images), time.Since(start).Round(time.Millisecond))
	if rec.Cached {
		line = fmt.Sprintf("%s on %s: reused the cache in %s", set.Name, n.Key, cache)
	}
	return rec, line, nil
}

// LoadSet loads the set in dir named name (see stimuli.Load) with the
// thresholds th, given on the 1–9 scale and rescaled to 1–7 when dir has
// the OASIS layout (OASIS.csv and no ratings.csv), and checks that every
// emotion has enough images (selectivity.CheckSet). Errors name the set.
func LoadSet(name, dir string, th stimuli.Thresholds, skipBad bool) (*stimuli.Set, error) {
	if !exists(filepath.Join(dir, stimuli.RatingsFile)) && exists(filepath.Join(dir, stimuli.OASISFile)) {
		th = th.Rescale(1, 9, 1, 7)
	}
	set, err := stimuli.Load(dir, stimuli.Config{Name: name, Thresholds: th, SkipBad: skipBad})
	if err != nil {
		return nil, fmt.Errorf("set %s: %w", name, err)
	}
	if err := selectivity.CheckSet(set); err != nil {
		return nil, err
	}
	return set, nil
}

// LoadDesign loads the set in dir named name under design des: the
// paper's valence design (des.IsDefault) through LoadSet with th, any
// other through stimuli.Load. Errors name the set.
func LoadDesign(name, dir string, des stimuli.Design, th stimuli.Thresholds, skipBad bool) (*stimuli.Set, error) {
	if des.IsDefault() {
		return LoadSet(name, dir, th, skipBad)
	}
	set, err := stimuli.Load(dir, stimuli.Config{Name: name, Design: des, SkipBad: skipBad})
	if err != nil {
		return nil, fmt.Errorf("set %s: %w", name, err)
	}
	return set, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Layers returns the indices among m's conv units of the named layers, in
// the order given; the error names the first unknown layer and lists the
// known ones.
func Layers(m *nn.Model, names []string) ([]int, error) {
	units := m.ConvUnits()
	var out []int
	for _, name := range names {
		i := slices.IndexFunc(units, func(u nn.Unit) bool { return u.Name == name })
		if i < 0 {
			var all []string
			for _, u := range units {
				all = append(all, u.Name)
			}
			return nil, fmt.Errorf("layer %q is not a conv layer of %s (%s)", name, m.Arch, strings.Join(all, ", "))
		}
		out = append(out, i)
	}
	return out, nil
}

// Exemplars picks the exemplar neuron of each emotion in each of the given
// layers (indices into s.Layers), layer by layer.
func Exemplars(s *selectivity.Study, layers []int) []selectivity.Exemplar {
	var out []selectivity.Exemplar
	for _, l := range layers {
		for e := range stimuli.NumEmotions {
			out = append(out, s.Exemplar(l, e))
		}
	}
	return out
}

// Summary is a short account of the result: per network, the neurons
// selective in every set by emotion and the overlaps with p < 0.01.
func (r *Result) Summary() string {
	var b strings.Builder
	for _, n := range r.Networks {
		s := n.Study
		var shared [stimuli.NumEmotions]int
		sig := 0
		for _, l := range s.Layers {
			for e, ov := range l.Overlap {
				shared[e] += len(ov.Channels)
				if ov.P < 0.01 {
					sig++
				}
			}
		}
		fmt.Fprintf(&b, "%s: selective in every set: pleasant %d, neutral %d, unpleasant %d; %d of %d layer×emotion overlaps with p < 0.01\n",
			n.Label, shared[0], shared[1], shared[2], sig, len(s.Layers)*int(stimuli.NumEmotions))
	}
	return b.String()
}
