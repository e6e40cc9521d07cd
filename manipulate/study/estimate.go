package study

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/tensor"
)

// Rate is the measured speed of one layer's manipulation
// (manipulate.Timing): a pass over I images with S unit sets and E
// image-suffix evaluations takes I·(Prefix + S·Base) + E·Slope seconds.
type Rate struct {
	Layer  string
	Images int     // images timed
	Slope  float64 // seconds per image-suffix evaluation, gains stacked as the experiments stack them
	Prefix float64 // seconds per image of the prefix up to the layer
	Base   float64 // seconds per image and unit set of a pass's fixed work
	FLOPs  float64 // suffix FLOPs per image
	Chunk  int     // images per chunk under the memory budget
}

// GFLOPS returns the suffix's effective throughput: its FLOPs (the whole
// suffix, as a full forward would compute it) per second of evaluation.
func (r Rate) GFLOPS() float64 { return r.FLOPs / r.Slope / 1e9 }

// StageEstimate is the predicted cost of one stage.
type StageEstimate struct {
	Stage string
	Units int     // units of the stage (features: sets)
	Evals int64   // image-suffix evaluations (features: images)
	FLOPs float64 // floating-point operations
	Time  float64 // predicted seconds for the whole study on this machine
	// Shard is the predicted seconds of this shard's pending units.
	Shard float64
	// ByLayer is Time split by layer, aligned with Estimate.Rates (nil
	// for the features stage, which runs no suffix).
	ByLayer []float64
}

// Estimate is a study's predicted wall time, from throughput measured on
// this machine and the work the study's settings imply.
type Estimate struct {
	Threads  int
	Features float64 // seconds per image of the features stage: decoding the image and the forward
	Rates    []Rate
	Stages   []StageEstimate
}

// Total returns the predicted seconds of the whole study and of this
// shard's pending work.
func (e *Estimate) Total() (all, shard float64) {
	for _, s := range e.Stages {
		all += s.Time
		shard += s.Shard
	}
	return all, shard
}

// Estimate times each layer's prefix and suffix on random images (see
// Measure) and predicts the time of every stage from the work the
// study's settings imply (see Predict).
func (s *Study) Estimate(ctx context.Context) (*Estimate, error) {
	est, err := s.Measure(ctx)
	if err != nil {
		return nil, err
	}
	return s.Predict(est.Rates, est.Features), nil
}

// Measure times each layer's experiments on random images as they run
// (manipulate.Suffix.Measure: the prefix, the fixed work of a pass, the
// cost per evaluation with the gains stacked into batches), after a
// forward of one image that prepares every layer (Winograd weights are
// transformed on first use). It takes about eight suffix passes of up to
// 64 images and two unit sets per layer, in two rounds over the layers.
func (s *Study) Measure(ctx context.Context) (*Estimate, error) {
	shape := s.cfg.Sets[0].Images.Shape()
	est := &Estimate{Threads: runtime.GOMAXPROCS(0)}
	rng := tensor.NewRNG(1)
	warm := tensor.New(append([]int{1}, shape...)...)
	rng.Normal(warm, 0, 1)
	s.cfg.Model.Forward(warm)
	// Two rounds over the layers, keeping each layer's faster one: a
	// burst of other work on the host lasts seconds, longer than one
	// layer's three passes, and once made the conv3_3 suffix look 2.3×
	// slower than it ran in the study that followed.
	for round := range 2 {
		for li, l := range s.layers {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			suf := manipulate.NewSuffix(s.cfg.Model, l.Name, s.cfg.Exp.Features, shape)
			if s.cfg.Exp.Direct {
				suf.Direct()
			}
			chunk := suf.Chunk(s.cfg.Exp.Budget)
			// About 8 GFLOP of suffix per gain, at least 4 images, at most a
			// chunk and 64.
			n := int(max(1, min(max(math.Ceil(8e9/max(s.flops[li], 1)), 4), float64(chunk), 64)))
			tm, err := suf.Measure(ctx, n, 2, 3, s.cfg.Exp.Budget)
			if err != nil {
				return nil, err
			}
			r := Rate{Layer: l.Name, Images: n, FLOPs: s.flops[li], Chunk: chunk,
				Slope: tm.PerEval, Base: tm.Base, Prefix: tm.Prefix}
			switch {
			case round == 0:
				est.Rates = append(est.Rates, r)
			case r.seconds(1, 1, 1) < est.Rates[li].seconds(1, 1, 1):
				est.Rates[li] = r
			}
		}
	}
	// The features stage: full forwards to the readout's input.
	f, _ := s.cfg.Model.Unit(s.cfg.Exp.Features)
	b := 8
	x := tensor.New(append([]int{b}, shape...)...)
	rng.Normal(x, 0, 1)
	t0 := time.Now()
	if g := s.cfg.Model.Graph; g != nil {
		g.Cut(f.Name, f.Name).Features(x)
	} else {
		tensor.Recycle(s.cfg.Model.Net.ForwardRange(0, f.ReLU+1, x))
	}
	est.Features = time.Since(t0).Seconds() / float64(b)
	// Decoding and resizing an image of the first set (once per image:
	// the study's sets keep the resized pictures).
	if imgs := s.cfg.Sets[0].Images; imgs.Len() > 0 {
		k := min(4, imgs.Len())
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		t0 = time.Now()
		if _, err := imgs.Load(ctx, idx); err != nil {
			return nil, err
		}
		est.Features += time.Since(t0).Seconds() / float64(k)
	}
	return est, nil
}

// Predict returns the predicted time of every stage of the study from
// measured rates (by layer name: the rates of another study of the same
// model and image size serve) and the seconds per image of the features
// forward: for each unit, its image-suffix evaluations at the batch size
// the suffix runs will use, plus one prefix per image and pass. Refined
// sweeps count as their expected grid, searches as their coarse gains
// (manipulate.SearchWork). It panics if a layer of the study has no rate.
func (s *Study) Predict(rates []Rate, features float64) *Estimate {
	est := &Estimate{Threads: runtime.GOMAXPROCS(0), Features: features}
	for _, l := range s.layers {
		k := slices.IndexFunc(rates, func(r Rate) bool { return r.Layer == l.Name })
		if k < 0 {
			panic("study: no measured rate for layer " + l.Name)
		}
		est.Rates = append(est.Rates, rates[k])
	}
	mine := map[Unit]bool{}
	for _, u := range s.mine {
		mine[u] = true
	}
	var images int64
	for _, sp := range s.splits {
		images += int64(labelled(sp))
	}
	fe := StageEstimate{Stage: "features", Units: len(s.cfg.Sets), Evals: images,
		FLOPs: float64(images) * s.features, Time: float64(images) * est.Features}
	fe.Shard = fe.Time // every shard computes what it needs unless cached
	est.Stages = append(est.Stages, fe)
	for _, st := range s.cfg.Stages {
		e := StageEstimate{Stage: st, ByLayer: make([]float64, len(est.Rates))}
		for _, u := range s.units {
			if s.man.InScope(st, u.Set, u.Emotion) {
				e.Units++
			}
		}
		pending := map[Unit]bool{}
		for _, u := range s.Pending(st) {
			pending[u] = true
		}
		for _, u := range s.units {
			evals, prefixes, sets := s.work(st, u)
			if evals == 0 {
				continue
			}
			t := est.Rates[u.Layer].seconds(evals, prefixes, sets)
			e.Evals += int64(evals)
			e.FLOPs += s.cost(st, u)
			e.Time += t
			e.ByLayer[u.Layer] += t
			if mine[u] && pending[u] {
				e.Shard += t
			}
		}
		est.Stages = append(est.Stages, e)
	}
	return est
}

// seconds is the predicted time of a stage's unit at this rate: its
// image-suffix evaluations, and per image of a pass the prefix and the
// fixed work of each unit set (the I·(Prefix + S·Base) + E·Slope of Rate).
func (r Rate) seconds(evals, prefixes, sets int) float64 {
	return float64(evals)*r.Slope + float64(prefixes)*(r.Prefix+float64(sets)*r.Base)
}

// ShardEstimate is the predicted time of one shard of a study split into
// n shards.
type ShardEstimate struct {
	Shard int
	Units []Unit // the (set, emotion, layer) units it is assigned, in the order of Study.Units
	// Features is the seconds of the readout features of the sets its
	// units belong to (each shard computes its own).
	Features float64
	Time     float64 // seconds: Features plus every stage of its units
}

// Shards predicts the time of each shard when the study is split into n
// shards: the units as Open with Config.Shards = n assigns them (Assign
// over the units' FLOPs; this study's own Shard and Shards do not
// matter), each unit's stages at e's rates (by layer name, as Predict),
// every unit pending and no readout features cached. Shards beyond the
// number of units get none and take 0 s. The readouts' training (a
// linear head per set and emotion) is not counted. It panics if n < 1 or
// a layer of the study has no rate.
func (s *Study) Shards(e *Estimate, n int) []ShardEstimate {
	if n < 1 {
		panic(fmt.Sprintf("study: %d shards, want at least 1", n))
	}
	rates := map[string]Rate{}
	for _, r := range e.Rates {
		rates[r.Layer] = r
	}
	for _, l := range s.layers {
		if _, ok := rates[l.Name]; !ok {
			panic("study: no measured rate for layer " + l.Name)
		}
	}
	out := make([]ShardEstimate, n)
	feats := make([]map[int]bool, n) // the sets each shard computes features of
	for i := range out {
		out[i].Shard = i
		feats[i] = map[int]bool{}
	}
	for i, k := range Assign(s.costs(), n) {
		u := s.units[i]
		sh := &out[k]
		sh.Units = append(sh.Units, u)
		r := rates[s.layers[u.Layer].Name]
		for _, st := range s.cfg.Stages {
			sh.Time += r.seconds(s.work(st, u))
		}
		if !feats[k][u.Set] {
			feats[k][u.Set] = true
			sh.Features += float64(labelled(s.splits[u.Set])) * e.Features
		}
	}
	for i := range out {
		out[i].Time += out[i].Features
	}
	return out
}

// costs returns each unit's FLOPs over the study's stages, in the order
// of s.units: what Open splits into shards with Assign
// (TestShardsPrediction checks that the two agree).
func (s *Study) costs() []float64 {
	costs := make([]float64, len(s.units))
	for i, u := range s.units {
		for _, st := range s.cfg.Stages {
			costs[i] += s.cost(st, u)
		}
	}
	return costs
}

// Write prints the estimate as three tables: per layer, the measured
// throughput; per stage, the work and the predicted time; per layer, its
// share of each stage's predicted time and of the manipulation's.
func (e *Estimate) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tsuffix GFLOP/img\ts/eval\teffective GFLOP/s\tbase s/img/set\tprefix s/img\tchunk\t\n")
	for _, r := range e.Rates {
		fmt.Fprintf(tw, "%s\t%.3f\t%.4f\t%.1f\t%.4f\t%.4f\t%d\t\n", r.Layer, r.FLOPs/1e9, r.Slope, r.GFLOPS(),
			r.Base, r.Prefix, r.Chunk)
	}
	fmt.Fprintf(tw, "\nstage\tunits\timage-suffixes\tTFLOP\tpredicted\tthis shard\t\n")
	for _, s := range e.Stages {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t\n", s.Stage, s.Units, s.Evals, s.FLOPs/1e12, duration(s.Time), duration(s.Shard))
	}
	all, shard := e.Total()
	fmt.Fprintf(tw, "total\t\t\t\t%s\t%s\t\n", duration(all), duration(shard))
	if err := e.writeShares(tw, all); err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(%d threads; features counted as not yet cached)\n", e.Threads)
	return err
}

// writeShares prints the per-layer table of Write: each layer's share of
// every suffix stage's predicted time, then its predicted time over all
// stages and its share of the whole manipulation (all, features
// included).
func (e *Estimate) writeShares(w io.Writer, all float64) error {
	var stages []StageEstimate
	for _, s := range e.Stages {
		if s.ByLayer != nil {
			stages = append(stages, s)
		}
	}
	if len(stages) == 0 || all <= 0 {
		return nil
	}
	fmt.Fprintf(w, "\nlayer")
	for _, s := range stages {
		fmt.Fprintf(w, "\t%% of %s", s.Stage)
	}
	fmt.Fprintf(w, "\tall stages\t%% of total\t\n")
	pct := func(part, whole float64) string {
		if whole <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*part/whole)
	}
	for li, r := range e.Rates {
		var sum float64
		fmt.Fprintf(w, "%s", r.Layer)
		for _, s := range stages {
			fmt.Fprintf(w, "\t%s", pct(s.ByLayer[li], s.Time))
			sum += s.ByLayer[li]
		}
		_, err := fmt.Fprintf(w, "\t%s\t%s\t\n", duration(sum), pct(sum, all))
		if err != nil {
			return err
		}
	}
	return nil
}

// duration formats seconds as h:mm:ss, or as days for long times.
func duration(sec float64) string {
	if sec > 3*86400 {
		return fmt.Sprintf("%.1f days", sec/86400)
	}
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	s := int(d.Seconds()) % 60
	return fmt.Sprintf("%d:%02d:%02d", h, m, s)
}
