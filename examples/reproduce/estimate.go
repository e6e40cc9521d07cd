package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
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
	var record, perImage, timing float64
	if !selFresh {
		t := time.Now()
		perImage = timeForward(m, min(o.batch, 8), r.p.size)
		record = perImage * float64(images*nets)
		timing = time.Since(t).Seconds()
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
	dir := r.path(manipulateDir)
	if r.p.shards > 1 {
		// What this shard has finished is in its own directory.
		dir = r.path(shardsDir, fmt.Sprintf("shard-%d-of-%d", r.p.shard, r.p.shards))
	}
	s, err := manstudy.Open(dir, cfg)
	if errors.Is(err, manstudy.ErrMismatch) {
		// Another study's results: all of this one's work is pending.
		s, err = manstudy.Open(r.path(manipulateDir+".none"), cfg)
	}
	if err != nil {
		return err
	}
	// What every job of a cluster run does before its work: build or
	// load the network, read and hash the sets, prepare their images
	// (everything since the command started but the stimuli, which only
	// the first job generates, and the timing of the recording).
	startup := time.Since(r.start).Seconds() - r.ranSeconds(stageStimuli) - timing
	e, err := measureStudy(ctx, s)
	if err != nil {
		return err
	}
	j := r.jobs(m, peakBytes(), startup, record, selFresh)

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
	fmt.Fprintf(w, "(memory: peak %s measured here; predicted peaks: prepare %s, each shard %s, merge %s)\n",
		mib(j.measured), mib(j.prepareMem), mib(j.shardMem), mib(j.mergeMem))
	if len(r.p.tasks) > 0 {
		if err := r.cluster(w, s, e, j); err != nil {
			return err
		}
	}
	if record+all > 86400 {
		if err := r.propose(w, m, from, s, e, j); err != nil {
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
		sel := make([][]int, stimuli.NumEmotions)
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
// and Slurm shards. Every line is the whole study's, whatever -shard.
func (r *runner) propose(w io.Writer, m *nn.Model, from *manstudy.Selectivity, s *manstudy.Study, e *manstudy.Estimate, j jobs) error {
	record := j.record
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
		cfg.DryRun, cfg.Shard, cfg.Shards = true, 0, 1
		a.edit(&cfg)
		s, err := manstudy.Open(r.path(manipulateDir+".none"), cfg)
		if err != nil {
			return err
		}
		t, _ := s.Predict(e.Rates, e.Features).Total()
		fmt.Fprintf(tw, "%s\t%s\t%s\t\n", a.flags, hms(t), hms(record+t))
	}
	n, slow := proposeTasks(s, e, j)
	fmt.Fprintf(tw, "Slurm, examples/reproduce/slurm/submit.sh -n %d\t%s slowest task\t%s wall\t\n", n, hms(slow), hms(j.prepare+slow+j.merge))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(-bracket 1 halves the search's coarse gains; it chose another α than the exhaustive grid for\n"+
		" 11 of the fixture's 200 unit sets, against 3 of 200 for the default 0.5: see BENCHMARKS.md;\n"+
		" -n %d is the fewest tasks whose slowest is under %s, or past which more tasks do not help: -tasks %d shows it)\n",
		n, hms(taskTarget), n)
	return nil
}

// measureStudy measures a study's rates and predicts its stages
// (Study.Estimate); the tests replace it with made-up rates.
var measureStudy = func(ctx context.Context, s *manstudy.Study) (*manstudy.Estimate, error) {
	return s.Estimate(ctx)
}

// taskTarget is the predicted time the Slurm proposal keeps every array
// task under: with submit.sh's margin (1.5×) it fits a 24-hour limit.
const taskTarget = 16 * 3600

// jobs are the predicted seconds and peak memory of the jobs of a cluster
// run besides the shards' own work.
type jobs struct {
	startup  float64 // seconds every job spends loading the network and the sets
	record   float64 // seconds of the recording (0 when the selectivity stage is done)
	prepare  float64 // seconds of the prepare job: start-up and recording
	merge    float64 // seconds of the merge job: start-up (the tables and the report take seconds)
	measured int64   // peak bytes of this process
	// Predicted peak bytes: the prepare job holds the control network
	// too, a shard the manipulation's activation cache (-mem).
	prepareMem, shardMem, mergeMem int64
}

// jobs predicts the prepare and merge jobs from this process's start-up
// and peak memory: it holds what every job holds (the network, the sets'
// images, one layer's measurement).
func (r *runner) jobs(m *nn.Model, peak int64, startup, record float64, selFresh bool) jobs {
	j := jobs{startup: startup, record: record, prepare: startup + record, merge: startup, measured: peak}
	j.prepareMem, j.shardMem, j.mergeMem = peak, peak+r.p.o.mem<<20, peak
	if r.p.o.control && !selFresh {
		for _, t := range m.StateDict() {
			j.prepareMem += 4 * int64(t.Len())
		}
	}
	return j
}

// ranSeconds is the time a stage took in this process (0 if it was
// reused or did not run).
func (r *runner) ranSeconds(stage string) float64 {
	for _, t := range r.timings {
		if t.Stage == stage && !t.Reused {
			return t.Seconds
		}
	}
	return 0
}

// peakBytes returns this process's peak resident memory (VmHWM on
// Linux), or else what the Go runtime has obtained from the system.
func peakBytes() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				var kb int64
				if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil && kb > 0 {
					return kb << 10
				}
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}

// mib formats bytes as MiB, or GiB beyond 10.
func mib(b int64) string {
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", ceilMiB(b))
}

// slowest returns the slowest of n shards of s at e's rates (its time
// includes the start-up) and how many shards have any work.
func slowest(s *manstudy.Study, e *manstudy.Estimate, n int, startup float64) (manstudy.ShardEstimate, int) {
	var worst manstudy.ShardEstimate
	busy := 0
	for i, sh := range s.Shards(e, n) {
		sh.Time += startup
		if i == 0 || sh.Time > worst.Time {
			worst = sh
		}
		if len(sh.Units) > 0 {
			busy++
		}
	}
	return worst, busy
}

// proposeTasks returns the number of array tasks the Slurm proposal
// names, for the whole study (not this run's shard): the fewest whose
// slowest task is predicted under taskTarget, or, if no number is, the
// fewest at which the slowest task is the costliest unit alone (more do
// not shorten it); and that slowest task's seconds.
func proposeTasks(s *manstudy.Study, e *manstudy.Estimate, j jobs) (int, float64) {
	units := len(s.Units())
	floor, _ := slowest(s, e, units, j.startup)
	for n := 1; n <= units; n++ {
		sh, _ := slowest(s, e, n, j.startup)
		if sh.Time <= taskTarget || sh.Time <= floor.Time*(1+1e-9) {
			return n, sh.Time
		}
	}
	return units, floor.Time
}

// parseTasks reads -tasks: a comma-separated list of array task counts,
// each at least 1, only with -estimate.
func parseTasks(o options) ([]int, error) {
	if o.tasks == "" {
		return nil, nil
	}
	if !o.estimate {
		return nil, cli.Usagef("-tasks %s goes with -estimate (it predicts a cluster run of that many array tasks)", o.tasks)
	}
	var out []int
	for _, f := range splitList(o.tasks) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 100000 {
			return nil, cli.Usagef("-tasks %q: want numbers of array tasks from 1 to 100000, e.g. 16,64,256", o.tasks)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, cli.Usagef("-tasks %q: want numbers of array tasks, e.g. 16,64,256", o.tasks)
	}
	slices.Sort(out)
	return out, nil
}

// cluster prints the predicted cluster run (submit.sh -n N) for each N of
// -tasks: the slowest array task, the prepare and merge jobs, the wall
// time and what limits it; then, for submit.sh, one sizing line per N.
func (r *runner) cluster(w io.Writer, s *manstudy.Study, e *manstudy.Estimate, j jobs) error {
	units := s.Units()
	all, _ := e.Total()
	unsharded := j.startup + j.record + all
	fmt.Fprintf(w, "\nOn Slurm (examples/reproduce/slurm/submit.sh -n TASKS), every job on %d %s as here,\n"+
		"queue waits not counted; a job's start-up (the network and the sets) is %s:\n\n", e.Threads, plural(e.Threads, "thread", "threads"), hms(j.startup))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "tasks\twith work\tunits per task\tslowest task\tprepare\tmerge\twall\tspeed-up\t\n")
	type row struct {
		n    int
		slow manstudy.ShardEstimate
		wall float64
	}
	var rows []row
	for _, n := range r.p.tasks {
		sh := s.Shards(e, n)
		worst, busy := slowest(s, e, n, j.startup)
		lo, hi := len(units), 0
		for _, x := range sh {
			lo, hi = min(lo, len(x.Units)), max(hi, len(x.Units))
		}
		wall := j.prepare + worst.Time + j.merge
		rows = append(rows, row{n, worst, wall})
		per := fmt.Sprint(lo)
		if hi != lo {
			per = fmt.Sprintf("%d-%d", lo, hi)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1f×\t\n", n, busy, per, hms(worst.Time), hms(j.prepare), hms(j.merge),
			hms(wall), unsharded/wall)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(speed-up against one unsharded run, %s; the slowest task includes the readout features of its\n"+
		" sets and the start-up; the readouts' training and the report are not counted, seconds each)\n", hms(unsharded))

	// Where more tasks stop helping.
	floor, _ := slowest(s, e, len(units), j.startup)
	from := len(units)
	for n := 1; n <= len(units); n++ {
		if sh, _ := slowest(s, e, n, j.startup); sh.Time <= floor.Time*(1+1e-9) {
			from = n
			break
		}
	}
	fmt.Fprintf(w, "\nWhere more tasks stop helping:\n")
	fmt.Fprintf(w, "  - the study has %d (set, emotion, layer) units, the grain of sharding:\n    beyond %d tasks the rest have no work",
		len(units), len(units))
	if last := rows[len(rows)-1]; last.n > len(units) {
		fmt.Fprintf(w, " (%d tasks: %d idle)", last.n, last.n-len(units))
	}
	fmt.Fprintf(w, ";\n")
	if len(floor.Units) > 0 {
		fmt.Fprintf(w, "  - the costliest unit, %s, takes %s with its set's readout features and the start-up:\n"+
			"    from about %d tasks on, the slowest task is that unit alone, and more tasks do not shorten it;\n",
			s.Name(floor.Units[0]), hms(floor.Time), from)
	}
	last := rows[len(rows)-1]
	fmt.Fprintf(w, "  - the prepare job (the recording, every image through both networks, not sharded) takes %s and the\n"+
		"    merge %s: at %d tasks they are %.0f%% of the wall, and the speed-up can never pass %.1f×.\n",
		hms(j.prepare), hms(j.merge), last.n, 100*(j.prepare+j.merge)/last.wall, unsharded/(j.prepare+j.merge+floor.Time))

	fmt.Fprintf(w, "\nFor submit.sh, which adds its margin (predicted seconds and MiB per job):\n")
	for _, x := range rows {
		fmt.Fprintf(w, "sizing: tasks=%d prepare_s=%.0f prepare_mib=%d shard_s=%.0f shard_mib=%d merge_s=%.0f merge_mib=%d\n",
			x.n, math.Ceil(j.prepare), ceilMiB(j.prepareMem), math.Ceil(x.slow.Time), ceilMiB(j.shardMem), math.Ceil(j.merge), ceilMiB(j.mergeMem))
	}
	return nil
}

func ceilMiB(b int64) int64 { return (b + 1<<20 - 1) >> 20 }
