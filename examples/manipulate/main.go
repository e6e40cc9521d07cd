// Command manipulate runs the functional half of Liu et al. (2024): it
// trains the 2-unit emotion readouts on the frozen network's fc7 features,
// then lesions (α = −1) or enhances (α > 0) the emotion-selective neurons
// found by the selectivity stage, layer by layer, against R count-matched
// random draws of neurons, and writes Table 1 and Figs 3C, 4–6.
//
//	go run ./examples/manipulate -from sel -sets iaps=sets/iaps,naps=sets/naps \
//		-model vgg16 -weights vgg16-397923af.pth -out manip
//
// It writes, in -out:
//
//	table1.csv     per set and emotion: original test F1, best enhanced F1 (layer, α, signed % change),
//	               worst lesioned F1 (layer, signed % change, negative: a fall; see docs/OUTPUTS.md)
//	lesion.csv     set,emotion,layer,units,draw,n_units,f1_test (units = selective | random)
//	sweep.csv      set,emotion,layer,units,draw,alpha,f1_val,f1_test
//	threshold.csv  Fig 3C: F1 after enhancing what is left when the lowest x% by SI are removed
//	stats.csv      per layer, the rank test of the selective set among the random draws
//	               ((1+#)/(R+1)); across layers, Wilcoxon's signed-rank test
//	readout.csv    the readouts' val and test F1, macro-F1 and accuracy
//	fig6, fig4_<set>, fig3c (.svg and .png)
//
// Under a K-category design (-rating/-thresholds, -label, -categories or
// -select as given to the selectivity stage) it reads that stage's K
// tables (selectivity_k.csv, selective_k.csv) and runs, per set and
// category, the one-vs-rest readout, the lesion and the attention sweep
// on the category's selective channels against as many random ones:
// table1.csv has a row per set and category (its emotion column holds the
// category), and fig6 a row of panels per category. The threshold search
// is the paper's design only.
//
// Every file is written atomically, and each finished (stage, set,
// emotion, layer) is kept under -out/units, so an interrupted run resumes
// where it stopped. -shard i/n (or SLURM_ARRAY_TASK_ID and
// SLURM_ARRAY_TASK_COUNT) runs a deterministic part of the work; -merge
// then combines the shards' files into the outputs an unsharded run
// writes. -estimate measures this machine's throughput and prints the
// predicted wall time of the study, without running it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/stimuli"
)

type options struct {
	from, model, weights, resize, sets, out string
	seed                                    uint64
	size                                    int
	alphas, removed, layers, stages, shard  string
	refine, bracket                         float64
	exhaustive, direct                      bool
	threshold                               string
	draws                                   int
	features                                string
	merge, estimate, quiet                  bool
	mem                                     int64
	readout                                 cli.ReadoutFlags
	design                                  cli.DesignFlags
	epochs                                  int
	args                                    []string
}

func main() {
	if err := cli.CheckEnv(); err != nil {
		cli.Fatal(err)
	}
	fs := flag.NewFlagSet("manipulate", flag.ExitOnError)
	var o options
	fs.StringVar(&o.from, "from", "", "output directory of the selectivity stage (selectivity.csv, selective.csv); required")
	fs.StringVar(&o.sets, "sets", "", "stimulus sets as NAME=DIR[,NAME=DIR...] (a bare DIR is named after its base name); required")
	fs.StringVar(&o.out, "out", "", "output directory (required); a rerun with the same settings resumes it")
	fs.StringVar(&o.model, "model", "vgg16", "architecture: "+strings.Join(cli.Models, ", "))
	fs.StringVar(&o.weights, "weights", "", "torchvision .pth or safetensors weight file (default: random init from -seed); for -model onnx,\nthe .onnx file (graph and weights)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random initialisation (without -weights), the splits, the readouts and the random draws")
	fs.StringVar(&o.resize, "resize", "squash", "squash: resize to SIZExSIZE; crop: shorter side 256/224*SIZE, centre crop SIZE")
	fs.IntVar(&o.size, "size", 224, "side of the network's input in pixels")
	fs.StringVar(&o.alphas, "alphas", "0:5:0.1", "attention gains alpha: LO:HI:STEP or a comma-separated list, each >= -1")
	fs.Float64Var(&o.refine, "refine", 0, "coarse to fine: if > 0, -alphas is the coarse grid, refined at this step around each best alpha")
	fs.BoolVar(&o.exhaustive, "exhaustive", false, "evaluate every alpha on every val and test image instead of searching for the val-best alpha")
	fs.BoolVar(&o.direct, "direct", false, "re-run the whole rest of the network for every gain (features bitwise those of a full\nforward) instead of reusing the next layer's unmanipulated part (equal up to float rounding)")
	fs.Float64Var(&o.bracket, "bracket", manipulate.DefaultBracket, "the search's widest gap in alpha between gains evaluated on every image")
	fs.StringVar(&o.threshold, "threshold", "paper", "scope of the threshold search: paper (first set, pleasant, every layer) or all")
	fs.IntVar(&o.draws, "draws", manipulate.DefaultDraws, "random draws R of as many neurons as the selective set, per layer")
	fs.StringVar(&o.layers, "layers", "", "comma-separated layers to manipulate (default: every conv layer)")
	fs.StringVar(&o.stages, "stages", strings.Join(study.Stages, ","), "experiments to run: lesion (Fig 6), sweep (Figs 4-5), threshold (Fig 3C; the paper's design only:\nthe default means lesion,sweep under a K-category design)")
	fs.StringVar(&o.removed, "removed", "0:90:10", "threshold search: percentages of lowest-SI neurons removed, LO:HI:STEP or a list")
	fs.StringVar(&o.features, "features", manipulate.DefaultFeatures, "the readout's input: a unit's post-ReLU output")
	fs.StringVar(&o.shard, "shard", "", "run shard i of n (0 <= i < n) of the (set, emotion, layer) work, as i/n; default from SLURM_ARRAY_TASK_ID/COUNT")
	fs.BoolVar(&o.merge, "merge", false, "combine finished shards into the outputs: -merge -out DIR [OTHER_SHARD_DIR...]")
	fs.BoolVar(&o.estimate, "estimate", false, "measure throughput, print the predicted wall time of the study and exit")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress output (without a terminal, a line per stage replaces the bars)")
	fs.Int64Var(&o.mem, "mem", 1024, "memory for cached activations, in MiB")
	o.readout.Register(fs)
	o.design.Register(fs)
	fs.IntVar(&o.epochs, "epochs", 10, "readout training epochs")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: manipulate -from SELDIR -sets NAME=DIR,... -out DIR [flags]\n"+
			"       manipulate -merge -out DIR [SHARD_DIR...]\n\n"+
			"Trains the emotion readouts, lesions and enhances the emotion-selective neurons layer\n"+
			"by layer against random neurons, and writes Table 1 and Figs 3C, 4-6.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	o.args = fs.Args()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr, os.Getenv); err != nil {
		cli.Fatal(err)
	}
}

func run(ctx context.Context, o options, stdout, stderr io.Writer, getenv func(string) string) error {
	if o.out == "" {
		return cli.Usagef("-out is required")
	}
	if o.merge {
		if err := study.Merge(o.out, o.args...); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "merged into %s\n", o.out)
		return nil
	}
	if len(o.args) > 0 {
		return cli.Usagef("unexpected arguments %q (shard directories go with -merge)", o.args)
	}
	if o.from == "" || o.sets == "" {
		return cli.Usagef("-from and -sets are required")
	}
	if o.model == "onnx" {
		// The graph fixes the image size; its last unit is the default
		// readout input.
		var err error
		if o.size, o.features, err = cli.ONNXFlags(o.weights, o.size, 224, o.features); err != nil {
			return err
		}
	}
	cfg, err := config(o, getenv)
	if err != nil {
		return err
	}
	// A K-category design (or another criterion) reads the K tables of
	// the selectivity stage (selectivity_k.csv, selective_k.csv).
	if o.design.Select == "" {
		o.design.Select = "si" // the flag's default
	}
	k := !o.design.IsDefault()
	des, _, err := o.design.Design()
	if err != nil {
		return err
	}
	read := study.ReadSelectivity
	if k {
		read = study.ReadSelectivityK
		if o.stages == strings.Join(study.Stages, ",") {
			cfg.Stages = study.KStages // the flag's default
		}
		if slices.Contains(cfg.Stages, study.Threshold) {
			return cli.Usagef("-stages threshold: the threshold search is for the paper's valence design only")
		}
	}
	from, err := read(o.from)
	if err != nil {
		return err
	}
	pre, err := cli.Resize(o.resize)
	if err != nil {
		return err
	}
	if o.size < 32 {
		return cli.Usagef("-size %d, want at least 32", o.size)
	}
	pre.Size = o.size
	m, err := cli.Model(o.model, o.weights, o.seed)
	if err != nil {
		return err
	}
	// The suffix re-runs hold up to -mem of activations beyond the weights.
	cli.LimitMemory(o.mem<<20, m)
	for _, sh := range manipulate.TraceNet(m.Net, []int{3, o.size, o.size}).Shapes {
		for _, d := range sh {
			if d < 1 {
				return cli.Usagef("-size %d is too small for %s", o.size, m.Arch)
			}
		}
	}
	sets, classes, err := loadSets(o.sets, pre, des)
	if err != nil {
		return err
	}
	if k {
		cfg.Classes, cfg.Design = classes, fmt.Sprintf("%v, %s selection", des, o.design.Select)
	}
	cfg.Model, cfg.From, cfg.Sets = m, from, sets
	cfg.ModelID = study.ParamsID(m)
	cfg.Input = fmt.Sprintf("%v %d", pre.Mode, o.size)
	cfg.DryRun = o.estimate
	s, err := study.Open(o.out, cfg)
	if err != nil {
		return err
	}
	if o.estimate {
		e, err := s.Estimate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s, %d units of (set, emotion, layer); this is shard %d/%d with %d of them\n",
			m.Arch, len(s.Units()), cfg.Shard, max(cfg.Shards, 1), len(s.Mine()))
		return e.Write(stdout)
	}
	p := newProgress(ctx, stderr, o.quiet)
	if re := s.Reused(); re != "" && !o.quiet {
		fmt.Fprintf(stderr, "resuming %s, reusing what is done: %s\n", o.out, re)
	}
	t0 := time.Now()
	if err := s.Run(ctx, p); err != nil {
		if errors.Is(err, context.Canceled) {
			return cli.Interruptedf("interrupted; the finished units are kept in %s: run the same command to resume", o.out)
		}
		return err
	}
	if cfg.Shards > 1 {
		fmt.Fprintf(stderr, "shard %d/%d done in %v; when every shard is done: manipulate -merge -out %s\n",
			cfg.Shard, cfg.Shards, time.Since(t0).Round(time.Second), o.out)
		return nil
	}
	fmt.Fprintf(stderr, "wrote %s, the stages' CSVs, %s and the figures to %s in %v\n", study.Table1File,
		study.StatsFile, o.out, time.Since(t0).Round(time.Second))
	return nil
}

// config turns the flags into a study configuration (model, sets and
// selectivity are filled in by the caller).
func config(o options, getenv func(string) string) (study.Config, error) {
	var cfg study.Config
	alphas, err := cli.ParseList("-alphas", o.alphas, 1)
	if err != nil {
		return cfg, err
	}
	for _, a := range alphas {
		if err := manipulate.CheckAlpha(a); err != nil {
			return cfg, cli.Usagef("-alphas: gain alpha = %v is outside [-1, inf)", a)
		}
	}
	removed, err := cli.ParseList("-removed", o.removed, 100)
	if err != nil {
		return cfg, err
	}
	if o.draws < 1 {
		return cfg, cli.Usagef("-draws %d: the random control needs at least one draw", o.draws)
	}
	if o.refine < 0 {
		return cfg, cli.Usagef("-refine %v, want >= 0", o.refine)
	}
	if o.mem < 1 {
		return cfg, cli.Usagef("-mem %d, want at least 1 MiB", o.mem)
	}
	if o.bracket < 0 || o.bracket != o.bracket || o.bracket > 1e6 { // 0: the default
		return cfg, cli.Usagef("-bracket %v, want > 0", o.bracket)
	}
	if o.threshold != "" && o.threshold != "paper" && o.threshold != "all" { // "": paper
		return cfg, cli.Usagef("-threshold %q, want paper or all", o.threshold)
	}
	des := o.design
	if des.Select == "" {
		des.Select = "si" // the flag's default
	}
	readout, err := o.readout.Config(o.epochs, !des.IsDefault())
	if err != nil {
		return cfg, err
	}
	for _, st := range splitList(o.stages) {
		if !slices.Contains(study.Stages, st) {
			return cfg, cli.Usagef("-stages: unknown stage %q (want %s)", st, strings.Join(study.Stages, ", "))
		}
	}
	shard, shards, err := parseShard(o.shard, getenv)
	if err != nil {
		return cfg, err
	}
	cfg = study.Config{
		Stages:  splitList(o.stages),
		Layers:  splitList(o.layers),
		Removed: removed,
		Seed:    o.seed,
		Shard:   shard,
		Shards:  shards,
		Readout: readout,
		Exp: manipulate.Config{Draws: o.draws, Alphas: alphas, Refine: o.refine, Budget: o.mem << 20,
			Features: o.features, Exhaustive: o.exhaustive, Bracket: o.bracket, Direct: o.direct},
		ThresholdAll: o.threshold == "all",
	}
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseShard parses -shard "i/n"; without it, SLURM_ARRAY_TASK_ID (minus
// SLURM_ARRAY_TASK_MIN, if set) of SLURM_ARRAY_TASK_COUNT; otherwise 0/1.
func parseShard(s string, getenv func(string) string) (int, int, error) {
	src := "-shard"
	if s == "" {
		count := getenv("SLURM_ARRAY_TASK_COUNT")
		if count == "" {
			return 0, 1, nil
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			return 0, 0, cli.Usagef("SLURM_ARRAY_TASK_COUNT %q is not an integer", count)
		}
		id, err := strconv.Atoi(getenv("SLURM_ARRAY_TASK_ID"))
		if err != nil {
			return 0, 0, cli.Usagef("SLURM_ARRAY_TASK_ID %q is not an integer", getenv("SLURM_ARRAY_TASK_ID"))
		}
		if lo := getenv("SLURM_ARRAY_TASK_MIN"); lo != "" {
			m, err := strconv.Atoi(lo)
			if err != nil {
				return 0, 0, cli.Usagef("SLURM_ARRAY_TASK_MIN %q is not an integer", lo)
			}
			id -= m
		}
		s, src = fmt.Sprintf("%d/%d", id, n), "SLURM_ARRAY_TASK_ID/COUNT"
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, cli.Usagef("%s %q: want i/n", src, s)
	}
	if n < 1 || i < 0 || i >= n {
		return 0, 0, cli.Usagef("%s %s: want 0 <= i < n", src, s)
	}
	return i, n, nil
}

// loadSets loads -sets NAME=DIR,... under the design and prepares them
// for the network; it returns the sets' categories too (the same in every
// set).
func loadSets(spec string, pre imagenet.Config, des stimuli.Design) ([]study.Set, []string, error) {
	var out []study.Set
	var raw []*stimuli.Set
	for _, item := range splitList(spec) {
		name, dir, ok := strings.Cut(item, "=")
		if !ok {
			name, dir = filepath.Base(filepath.Clean(item)), item
		}
		if name == "" || dir == "" {
			return nil, nil, cli.Usagef("-sets item %q: want NAME=DIR", item)
		}
		set, err := stimuli.Load(dir, stimuli.Config{Name: name, Design: des})
		if err != nil {
			return nil, nil, err
		}
		s, err := study.FromSet(set, pre)
		if err != nil {
			return nil, nil, err
		}
		out, raw = append(out, s), append(raw, set)
	}
	if len(out) == 0 {
		return nil, nil, cli.Usagef("-sets names no set")
	}
	if err := stimuli.SameClasses(raw); err != nil {
		return nil, nil, err
	}
	return out, raw[0].Classes, nil
}

// newProgress returns the stage reporter: cli.Progress counting images
// (the readout features) or GFLOP of suffix re-runs.
func newProgress(ctx context.Context, w io.Writer, quiet bool) *cli.Progress {
	return cli.NewProgress(w, quiet, cli.ProgressOptions{Context: ctx, Unit: func(step string) string {
		if step == "features" {
			return "images"
		}
		return "GFLOP of suffix re-runs"
	}})
}
