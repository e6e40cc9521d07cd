package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/internal/simd"
	manstudy "github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// estimate measures this machine and prints the predicted time of every
// stage that is not finished, without running them.
func (r *runner) estimate(ctx context.Context) error {
	o, w := r.p.o, r.stdout
	t0 := time.Now()
	m, err := r.mainModel()
	if err != nil {
		return err
	}
	in := r.selectivityInputs()
	key := keyOf(in)
	r.keys[stageSelectivity] = key
	selFresh, _ := r.fresh(stageSelectivity, key, filepath.Join(selectivityDir, selstudy.SelectivityFile),
		filepath.Join(selectivityDir, selstudy.SelectiveFile))
	images := 0
	for _, s := range r.sets {
		images += len(s.Images)
	}
	nets := 1
	if o.control {
		nets = 2
	}
	var record, perImage float64
	if !selFresh {
		perImage = timeForward(m, min(o.batch, 8), r.p.size)
		record = perImage * float64(images*nets)
	}

	// The manipulation: from the selectivity stage's output if it is
	// there, else from a stand-in with selective neurons in every layer
	// (the work depends on whether a layer has any, not on how many).
	var from *manstudy.Selectivity
	if selFresh {
		if from, err = manstudy.ReadSelectivity(r.path(selectivityDir)); err != nil {
			return err
		}
	} else {
		from = standIn(m, r.sets)
	}
	mi, err := r.manipulateInputs()
	if err != nil {
		return err
	}
	r.keys[stageManipulate] = keyOf(mi)
	if ok, _ := r.fresh(stageManipulate, r.keys[stageManipulate], filepath.Join(manipulateDir, manstudy.Table1File)); ok && selFresh {
		fmt.Fprintf(w, "Every stage of this study is finished in %s: a run takes only the report (under a second).\n", o.out)
		return nil
	}
	cfg, err := r.config(m, from)
	if err != nil {
		return err
	}
	cfg.DryRun = true
	s, err := manstudy.Open(r.path(manipulateDir), cfg)
	if errors.Is(err, manstudy.ErrMismatch) {
		// Another study's results: all of this one's work is pending.
		s, err = manstudy.Open(r.path(manipulateDir+".none"), cfg)
	}
	if err != nil {
		return err
	}
	e, err := s.Estimate(ctx)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "Predicted time on this machine (%s, %d threads, %s kernels):\n\n", cpuName(), e.Threads, simd.Active())
	fmt.Fprintf(w, "%s, %s; %d sets, %d images; %d of %d (set, emotion, layer) units", o.model, modelText(o.weights, o.seed),
		len(r.sets), images, len(s.Mine()), len(s.Units()))
	if r.p.shards > 1 {
		fmt.Fprintf(w, " in shard %d/%d", r.p.shard, r.p.shards)
	}
	fmt.Fprintf(w, "\n\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "stage\twork (whole study)\tpredicted (this run)\t\n")
	if selFresh {
		fmt.Fprintf(tw, "recording (selectivity)\tdone\t0:00:00\t\n")
	} else {
		fmt.Fprintf(tw, "recording (selectivity)\t%d forward passes × %.3f s\t%s\t\n", images*nets, perImage, hms(record))
	}
	all, shard := e.Total()
	for _, st := range e.Stages {
		fmt.Fprintf(tw, "%s\t%.1f TFLOP\t%s\t\n", st.Stage, st.FLOPs/1e12, hms(st.Shard))
	}
	fmt.Fprintf(tw, "total\t\t%s\t\n", hms(record+shard))
	if err := tw.Flush(); err != nil {
		return err
	}
	if shard < all {
		fmt.Fprintf(w, "(this run does this shard's unfinished units; the whole manipulation takes %s)\n", hms(all))
	}
	if !selFresh {
		fmt.Fprintf(w, "(the selectivity stage has not run: the manipulation assumes selective neurons in every layer;\n"+
			" its work depends on whether a layer has any, not on how many)\n")
	}
	if record+all > 86400 {
		if err := r.propose(w, m, from, e, record); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\nPer layer and stage (manipulate/study's estimate):\n\n")
	if err := e.Write(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nmeasured in %s\n", cli.Seconds(time.Since(t0).Seconds()))
	return nil
}

func modelText(weights string, seed uint64) string {
	if weights == "" {
		return fmt.Sprintf("random init (seed %d)", seed)
	}
	return "weights " + filepath.Base(weights)
}

// timeForward returns the seconds per image of a forward pass of m in
// batches of b images of side size, after one warm-up image.
func timeForward(m *nn.Model, b, size int) float64 {
	x := tensor.New(b, 3, size, size)
	tensor.NewRNG(1).Normal(x, 0, 1)
	m.Forward(x.Slice(0, 1))
	t := time.Now()
	m.Forward(x)
	return time.Since(t).Seconds() / float64(b)
}

// standIn is a selectivity output for m and the sets in which every
// layer has neurons of every emotion: a third of the channels prefer each
// emotion, with distinct SIs, and one in fifteen is selective in every
// set (about what chance gives for 80% kept, (0.8/3)²).
func standIn(m *nn.Model, sets []*stimuli.Set) *manstudy.Selectivity {
	s := &manstudy.Selectivity{Dir: "(stand-in for the estimate)", Hash: "estimate"}
	units := m.ConvUnits()
	for _, u := range units {
		s.Layers = append(s.Layers, manstudy.Layer{Name: u.Name, Channels: u.Channels})
		var sel [stimuli.NumEmotions][]int
		for c := range u.Channels {
			if (c/3)%15 == 0 {
				sel[c%3] = append(sel[c%3], c)
			}
		}
		s.Selective = append(s.Selective, sel)
	}
	for _, set := range sets {
		s.Sets = append(s.Sets, set.Name)
		var si [][]float64
		var pref [][]stimuli.Category
		for _, u := range units {
			x := make([]float64, u.Channels)
			p := make([]stimuli.Category, u.Channels)
			for c := range x {
				x[c] = 1 + float64((c*7919)%1009)/1009
				p[c] = stimuli.Category(c % 3)
			}
			si, pref = append(si, x), append(pref, p)
		}
		s.SI, s.Preferred = append(s.SI, si), append(s.Preferred, pref)
	}
	return s
}

// hms formats seconds as h:mm:ss, or in days beyond three.
func hms(sec float64) string {
	if sec > 3*86400 {
		return fmt.Sprintf("%.1f days", sec/86400)
	}
	d := time.Duration(sec * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// propose prints, for a study predicted to take more than a day, the
// settings that shorten it, each with its predicted time from the rates
// just measured: a wider search bracket, the paper's three layers, both,
// and Slurm shards.
func (r *runner) propose(w io.Writer, m *nn.Model, from *manstudy.Selectivity, e *manstudy.Estimate, record float64) error {
	_, total := e.Total()
	type alt struct {
		flags string
		edit  func(*manstudy.Config)
	}
	units := m.ConvUnits()
	var paper []string
	for _, i := range selectivity.PaperLayers(len(units)) {
		paper = append(paper, units[i].Name)
	}
	alts := []alt{
		{"-bracket 1", func(c *manstudy.Config) { c.Exp.Bracket = 1 }},
		{"-layers paper (" + strings.Join(paper, ",") + ")", func(c *manstudy.Config) { c.Layers = paper }},
		{"-layers paper -bracket 1", func(c *manstudy.Config) { c.Layers = paper; c.Exp.Bracket = 1 }},
	}
	if r.p.o.exhaustive || r.p.o.refine > 0 {
		alts = append([]alt{{"without -exhaustive/-refine (the search)", func(c *manstudy.Config) {
			c.Exp.Exhaustive, c.Exp.Refine = false, 0
		}}}, alts...)
	}
	fmt.Fprintf(w, "\nThat is more than a day. Predicted with the rates just measured:\n\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "change\tmanipulation\ttotal\t\n")
	for _, a := range alts {
		cfg, err := r.config(m, from)
		if err != nil {
			return err
		}
		cfg.DryRun = true
		a.edit(&cfg)
		s, err := manstudy.Open(r.path(manipulateDir+".none"), cfg)
		if err != nil {
			return err
		}
		_, t := s.Predict(e.Rates, e.Features).Total()
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", a.flags, hms(t), hms(record+t))
	}
	n := int(math.Ceil(total / (20 * 3600)))
	fmt.Fprintf(tw, "Slurm, examples/reproduce/slurm/submit.sh -n %d\t%s per task\t%s wall\t\n", n, hms(total/float64(n)), hms(record+total/float64(n)))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(-bracket 1 halves the search's coarse gains; it chose another α than the exhaustive grid for\n"+
		" 11 of the fixture's 200 unit sets, against 3 of 200 for the default 0.5: see BENCHMARKS.md)\n")
	return nil
}
