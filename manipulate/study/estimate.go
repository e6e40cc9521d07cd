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

// Rate is the measured speed of one layer's manipulation. A suffix
// re-run of a batch of B images takes Fixed + B·Slope seconds: Fixed is
// mostly the fully connected layers' weights streaming from memory once
// per batch, Slope the per-image arithmetic.
type Rate struct {
	Layer  string
	Images int     // the larger timed batch
	Slope  float64 // seconds per image of a suffix re-run
	Fixed  float64 // seconds per batch of a suffix re-run
	Prefix float64 // seconds per image of the prefix up to the layer
	FLOPs  float64 // suffix FLOPs per image
	Chunk  int     // images per chunk under the memory budget
}

// PerImage returns the seconds per image of a suffix re-run in batches
// of b images.
func (r Rate) PerImage(b int) float64 { return r.Slope + r.Fixed/float64(max(b, 1)) }

// GFLOPS returns the suffix's throughput in batches of b images.
func (r Rate) GFLOPS(b int) float64 { return r.FLOPs / r.PerImage(b) / 1e9 }

// StageEstimate is the predicted cost of one stage.
type StageEstimate struct {
	Stage string
	Units int     // units of the stage (features: sets)
	Evals int64   // image-suffix evaluations (features: images)
	FLOPs float64 // floating-point operations
	Time  float64 // predicted seconds for the whole study on this machine
	// Shard is the predicted seconds of this shard's pending units.
	Shard float64
}

// Estimate is a study's predicted wall time, from throughput measured on
// this machine and the work the study's settings imply.
type Estimate struct {
	Threads  int
	Features float64 // seconds per image of the features forward
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

// Measure times each layer's prefix and suffix on random images, at two
// batch sizes (b and 2b, b worth about 8 GFLOP of suffix, at least 8
// images and within the memory budget) to separate the per-batch and the per-image cost. A
// forward of one image first prepares every layer (Winograd weights are
// transformed on first use), and each suffix time is the median of three
// runs. It takes about ten suffix re-runs of b images per layer.
func (s *Study) Measure(ctx context.Context) (*Estimate, error) {
	shape := s.cfg.Sets[0].Images.Shape()
	est := &Estimate{Threads: runtime.GOMAXPROCS(0)}
	rng := tensor.NewRNG(1)
	warm := tensor.New(append([]int{1}, shape...)...)
	rng.Normal(warm, 0, 1)
	s.cfg.Model.Forward(warm)
	for li, l := range s.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		suf := manipulate.NewSuffix(s.cfg.Model, l.Name, s.cfg.Exp.Features, shape)
		chunk := suf.Chunk(s.cfg.Exp.Budget)
		// At least 8 images, so that the per-image cost of the light
		// layers is not lost in the per-batch one.
		b := int(max(1, min(max(math.Ceil(8e9/max(s.flops[li], 1)), 8), float64(max(1, chunk/2)), 64)))
		x := tensor.New(append([]int{2 * b}, shape...)...)
		rng.Normal(x, 0, 1)
		t0 := time.Now()
		h := suf.Prefix(x)
		prefix := time.Since(t0).Seconds() / float64(2*b)
		suf.Run(h.Slice(0, 1), nil)
		time1 := func(n int) float64 {
			var ts []float64
			for range 3 {
				t := time.Now()
				suf.Run(h.Slice(0, n), nil)
				ts = append(ts, time.Since(t).Seconds())
			}
			slices.Sort(ts)
			return ts[1]
		}
		t1, t2 := time1(b), time1(2*b)
		slope := (t2 - t1) / float64(b)
		if slope <= 0 || slope > t2/float64(b) {
			slope = t2 / float64(2*b) // noise: no separable fixed cost
		}
		fixed := max(0, t2-2*float64(b)*slope)
		est.Rates = append(est.Rates, Rate{Layer: l.Name, Images: 2 * b, FLOPs: s.flops[li], Chunk: chunk,
			Slope: slope, Fixed: fixed, Prefix: prefix})
	}
	// A full forward is the first layer's prefix and suffix, rescaled by
	// FLOPs when that layer is not the network's first.
	r0 := est.Rates[0]
	est.Features = (r0.Prefix + r0.PerImage(r0.Chunk)) * s.features / max(s.prefix[0]+s.flops[0], 1)
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
		e := StageEstimate{Stage: st}
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
			evals, prefixes := s.work(st, u)
			if evals == 0 {
				continue
			}
			r := est.Rates[u.Layer]
			// Predict's batches: a chunk of the pass's images, stacked
			// over gains up to the chunk size.
			batch := min(r.Chunk, evals)
			t := float64(evals)*r.PerImage(batch) + float64(prefixes)*r.Prefix
			e.Evals += int64(evals)
			e.FLOPs += s.cost(st, u)
			e.Time += t
			if mine[u] && pending[u] {
				e.Shard += t
			}
		}
		est.Stages = append(est.Stages, e)
	}
	return est
}

// Write prints the estimate as two tables: per layer, the measured
// throughput; per stage, the work and the predicted time.
func (e *Estimate) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "layer\tsuffix GFLOP/img\ts/img\ts/batch\tchunk\tGFLOP/s at chunk\tprefix s/img\t\n")
	for _, r := range e.Rates {
		fmt.Fprintf(tw, "%s\t%.3f\t%.4f\t%.3f\t%d\t%.1f\t%.4f\t\n", r.Layer, r.FLOPs/1e9, r.Slope, r.Fixed,
			r.Chunk, r.GFLOPS(r.Chunk), r.Prefix)
	}
	fmt.Fprintf(tw, "\nstage\tunits\timage-suffixes\tTFLOP\tpredicted\tthis shard\t\n")
	for _, s := range e.Stages {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t\n", s.Stage, s.Units, s.Evals, s.FLOPs/1e12, duration(s.Time), duration(s.Shard))
	}
	all, shard := e.Total()
	fmt.Fprintf(tw, "total\t\t\t\t%s\t%s\t\n", duration(all), duration(shard))
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "(%d threads; features counted as not yet cached)\n", e.Threads)
	return err
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
