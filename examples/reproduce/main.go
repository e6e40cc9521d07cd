// Command reproduce runs the whole study of Liu, Bo, Ding & Fang (2024),
// "Emergence of emotion selectivity in deep neural networks trained to
// recognize visual objects", in one command: stimuli → recording →
// selectivity → readouts → lesion → attention → Table 1 and every figure,
// with a report.
//
// With no flags it runs a demonstration that finishes in under a minute on
// two cores: a seeded random-init VGG-16 (the full network, untrained) on
// two synthetic stimulus sets of 150 images generated in code
// (stimuli.SyntheticOverlap), whose categories differ in low-level
// statistics (brightness, spatial frequency) and overlap, with reduced
// settings (32-pixel images, a short α grid of small gains, two random
// draws, three layers, a readout learning rate of 2e-3, Fig 2's top
// quarter of each set). The sets are designed so that every figure shows
// its effect: readouts below ceiling, channels selective for every
// emotion, an attention gain and a lesion drop (report.md explains why).
// Its numbers say nothing about emotion. The real study needs
// torchvision's weights and the licensed IAPS and NAPS sets:
//
//	go run ./examples/reproduce -model vgg16 -weights vgg16-397923af.pth \
//		-sets iaps=DIR,naps=DIR -out OUT
//
// which uses the paper's settings (224 px, α 0…5 by 0.1, 10 random draws,
// every conv layer).
//
// Each stage is chained through the library (package selectivity/study,
// package manipulate/study). It writes, in -out:
//
//	report.md, report.html  Table 1, the overlap table, every figure, the parameters, what was skipped
//	manifest.json           version, parameters, input hashes, per-stage timings, the CPU path
//	table1.csv, overlap.csv Table 1 and the cross-set overlaps (copies from the stage directories)
//	figures/                Figs 2, 3A-C, 4-5 and 6 as PNG and SVG
//	stimuli/<set>/          the demonstration's generated sets (images and ratings.csv)
//	selectivity/            the selectivity stage's tables, recorded activations, figures, report.txt
//	manipulate/             the manipulation stage's tables (readouts, lesion, sweep, threshold, stats)
//	stages/<stage>.json     the stage cache: each finished stage's key, inputs and time
//
// A stage is reused when its key — a hash of everything it depends on:
// model, weights file, stimulus contents and labels, parameters, and the
// key of the stage before — matches its stages/<stage>.json, so a rerun
// reuses everything, a changed -alphas recomputes only the manipulation,
// and a changed -sets everything after the stimuli. Inside a stage,
// finished recordings and finished (stage, set, emotion, layer) units are
// kept, so a killed run resumes where it stopped.
//
// On a cluster, -until selectivity runs the first stages once, then
// -shard i/n runs a deterministic part of the manipulation (an
// sbatch --array job; see slurm/), and -merge combines the shards and
// writes the report. -estimate measures this machine and prints the
// predicted time of every stage without running them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/manipulate"
	manstudy "github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// The demonstration's settings, used when -sets is empty unless -paper
// or the flag itself says otherwise.
const (
	demoImages  = 150                // images per synthetic set
	demoSize    = 32                 // input side in pixels (64 for AlexNet)
	demoAlphas  = "0,0.125,0.25,0.5" // attention gains
	demoDraws   = 2                  // random draws per layer
	demoRemoved = "0,50"             // threshold search: percentages removed
	demoEpochs  = 300                // readout training epochs
	demoTopPart = 4                  // Fig 2's top images: this part of each set's images
	demoLR      = 2e-3               // readout learning rate
	demoSetSeed = 20240301           // seed of the first synthetic set (+1 for the second)
	defaultOut  = "emosel-out"
	// demoGenerator names the sets' generator in the stimuli stage's key.
	demoGenerator = "stimuli.SyntheticOverlap"
)

// demoSets are the demonstration's two synthetic sets.
var demoSets = []string{"synth1", "synth2"}

// The paper's settings.
const (
	paperSize    = 224
	paperAlphas  = "0:5:0.1"
	paperRemoved = "0:90:10"
	paperTop     = 100
)

// The stages, in order.
const (
	stageStimuli     = "stimuli"
	stageSelectivity = "selectivity"
	stageManipulate  = "manipulate"
	stageReport      = "report"
)

var stageNames = []string{stageStimuli, stageSelectivity, stageManipulate, stageReport}

// options are the parsed flags.
type options struct {
	model, weights, sets, out, resize string
	seed                              uint64
	size, images                      int
	alphas, removed, layers, stages   string
	shard, until, tasks               string
	draws, permutations, batch, top   int
	epochs                            int
	refine, width, bracket            float64
	exhaustive, direct                bool
	threshold                         string
	hidden                            int
	low, high, band                   float64
	control, skipBad, merge, estimate bool
	quiet, paper                      bool
	controlSeed                       uint64
	fig2, features                    string
	mem                               int64
	an                                cli.AnalysisFlags
	readout                           cli.ReadoutFlags
	design                            cli.DesignFlags
	synthetic                         string
	set                               map[string]bool // flags given on the command line
	args                              []string        // the command line, for the report
	stall                             string          // EMOSEL_REPRODUCE_STALL, for the tests
}

func main() {
	if err := cli.CheckEnv(); err != nil {
		cli.Fatal(err)
	}
	o, err := parse(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		cli.Fatal(err)
	}
	o.stall = os.Getenv("EMOSEL_REPRODUCE_STALL")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout, os.Stderr); err != nil {
		cli.Fatal(err)
	}
}

// parse reads the command line.
func parse(args []string, stderr io.Writer) (options, error) {
	o := options{args: args, set: map[string]bool{}}
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.model, "model", "vgg16", "architecture: "+strings.Join(cli.Models, ", "))
	fs.StringVar(&o.weights, "weights", "", "torchvision .pth or safetensors weight file of -model, used as downloaded (default: a random\ninitialisation from -seed stands in for the pretrained network); for -model onnx, the .onnx file\n(graph and weights; its random control re-initialises them from -control-seed)")
	fs.StringVar(&o.sets, "sets", "", "stimulus sets, NAME=DIR[,NAME=DIR...], at least two; each DIR holds ratings.csv (file,valence[,category])\nor OASIS.csv and the images (default: two synthetic sets generated into OUT/stimuli, a demonstration)")
	fs.StringVar(&o.out, "out", defaultOut, "output directory; a rerun reuses its finished stages")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random network (without -weights), the splits, the readouts and the random draws")
	fs.StringVar(&o.resize, "resize", "squash", "squash: resize to SIZExSIZE (the paper's); crop: shorter side 256/224*SIZE, centre crop SIZE")
	fs.IntVar(&o.size, "size", 0, fmt.Sprintf("side of the network's input in pixels (default %d, or %d for the demonstration, 64 with AlexNet)", paperSize, demoSize))
	fs.IntVar(&o.images, "images", demoImages, "images per synthetic set of the demonstration (ignored with -sets)")
	fs.StringVar(&o.alphas, "alphas", "", fmt.Sprintf("attention gains alpha, LO:HI:STEP or a comma-separated list, each >= -1 (default %s, the paper's,\nor %s for the demonstration)", paperAlphas, demoAlphas))
	fs.IntVar(&o.draws, "draws", 0, fmt.Sprintf("random draws R of as many neurons as the selective set, per layer (default %d, or %d for the\ndemonstration)", manipulate.DefaultDraws, demoDraws))
	fs.StringVar(&o.layers, "layers", "", "conv layers to lesion and enhance: all, paper (the paper's early, middle and deep layer, e.g.\nconv2_1,conv3_2,conv5_3 of VGG-16) or a comma-separated list (default all, or paper for the\ndemonstration); every layer is recorded and analysed for selectivity regardless")
	fs.StringVar(&o.removed, "removed", "", fmt.Sprintf("threshold search (Fig 3C): percentages of lowest-SI neurons removed, LO:HI:STEP or a list\n(default %s, or %s for the demonstration)", paperRemoved, demoRemoved))
	fs.Float64Var(&o.refine, "refine", 0, "coarse to fine: if > 0, -alphas is a coarse grid refined at this step around each best alpha\n(implies the grid: no search)")
	fs.BoolVar(&o.exhaustive, "exhaustive", false, "evaluate every alpha of -alphas on every val and test image, as the paper did, instead of\nsearching for the val-best alpha (the same alpha unless a decision flips twice within a bracket)")
	fs.BoolVar(&o.direct, "direct", false, "re-run the whole rest of the network for every gain (features bitwise those of a full\nforward) instead of reusing the next layer's unmanipulated part (equal up to float rounding)")
	fs.Float64Var(&o.bracket, "bracket", manipulate.DefaultBracket, "the search's widest gap in alpha between gains evaluated on every image")
	fs.StringVar(&o.threshold, "threshold", "paper", "scope of the threshold search (Fig 3C): paper (the first set, pleasant, every layer: the\npaper's example) or all (every set, emotion and layer)")
	fs.StringVar(&o.stages, "stages", "lesion,sweep,threshold", "manipulations to run: lesion (Fig 6), sweep (attention, Figs 4-5), threshold (Fig 3C)")
	fs.IntVar(&o.epochs, "epochs", 0, fmt.Sprintf("readout training epochs (default 10, or %d for the demonstration's small sets)", demoEpochs))
	fs.BoolVar(&o.control, "control", true, "also analyse a randomly initialised network (-control-seed), the paper's control (Fig 3)")
	fs.Uint64Var(&o.controlSeed, "control-seed", 0, "seed of the random control network (default -seed + 1)")
	o.an.Register(fs)
	fs.StringVar(&o.fig2, "fig2", "", "layers shown in Fig 2, comma-separated (default: the paper's early, middle and deep layer)")
	o.readout.Register(fs)
	o.design.Register(fs)
	fs.StringVar(&o.synthetic, "synthetic-classes", "", "instead of -sets, draw two synthetic sets (stimuli.SyntheticClasses, -images each) of these comma-separated\ncategories into -out/stimuli, differing in mean luminance; their ratings.csv has the columns file, category\nand arousal; without -rating or -label the design is -label category")
	fs.StringVar(&o.features, "features", manipulate.DefaultFeatures, "the readout's input: a unit's post-ReLU output")
	fs.Int64Var(&o.mem, "mem", manipulate.DefaultBudget>>20, "memory for cached activations of the manipulation, in MiB")
	fs.IntVar(&o.permutations, "permutations", 0, "also test each cross-set overlap against this many label shuffles (e.g. 1000)")
	fs.IntVar(&o.top, "top", paperTop, fmt.Sprintf("top images per exemplar neuron (Fig 2; the paper's %d, or 1/%d of each set's images for the\ndemonstration); below the set's size, or the histograms show the whole set", paperTop, demoTopPart))
	fs.IntVar(&o.batch, "batch", selectivity.DefaultBatch, "images per forward pass when recording")
	fs.Float64Var(&o.low, "low", stimuli.DefaultThresholds.Low, "valence below which an image is unpleasant (1-9 scale; rescaled to 1-7 for OASIS)")
	fs.Float64Var(&o.high, "high", stimuli.DefaultThresholds.High, "valence above which an image is pleasant (1-9 scale; rescaled to 1-7 for OASIS)")
	fs.Float64Var(&o.band, "band", 0, "leave out as unknown the valences within this distance of either threshold (the paper's\nsoft thresholds: 0.5)")
	fs.BoolVar(&o.skipBad, "skip-bad", false, "skip bad ratings rows (listed in the report) instead of stopping")
	fs.BoolVar(&o.paper, "paper", false, "use the paper's settings (size, alpha grid, draws, layers, threshold search, readout epochs) even for\nthe demonstration's synthetic sets, e.g. with -images 1100 -estimate to time the full study")
	fs.Float64Var(&o.width, "width", 1, "channel width multiplier of a random network (quick trials and tests only; 1 is the real network)")
	fs.IntVar(&o.hidden, "hidden", 4096, "width of fc6 and fc7 of a random network (quick trials and tests only; 4096 is the real network)")
	fs.StringVar(&o.until, "until", "", "stop after this stage: stimuli, selectivity or manipulate (e.g. -until selectivity before\nsharding)")
	fs.StringVar(&o.shard, "shard", "", "run only shard i of n (0 <= i < n) of the manipulation, as i/n, into OUT/shards; needs\n-until selectivity first, then -merge")
	fs.BoolVar(&o.merge, "merge", false, "combine the finished shards in OUT/shards into OUT/manipulate and write the report")
	fs.BoolVar(&o.estimate, "estimate", false, "measure this machine and print the predicted time of every stage, without running them")
	fs.StringVar(&o.tasks, "tasks", "", "with -estimate: also predict the study on Slurm split into this many array tasks\n(slurm/submit.sh -n), a comma-separated list, e.g. 16,64,256: the slowest task, the prepare and\nmerge jobs, the wall time, and where more tasks stop helping")
	fs.BoolVar(&o.quiet, "quiet", false, "print only errors (progress bars are drawn only when stderr is a terminal anyway)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: reproduce [flags]

Runs the whole study of Liu et al. (2024) in one command: stimuli, recording,
selectivity (Figs 2, 3A-B), readouts, lesion (Fig 6), attention (Figs 4-5),
threshold search (Fig 3C), Table 1, and a report (OUT/report.md, OUT/report.html).

Without -sets it is a DEMONSTRATION on two synthetic stimulus sets with reduced
settings (and, without -weights, an untrained, randomly initialised VGG-16); it
takes about a minute. The real study:

  go run ./examples/reproduce -model vgg16 -weights vgg16-397923af.pth \
      -sets iaps=DIR,naps=DIR -out OUT

A rerun reuses every finished stage; an interrupted run resumes.

Flags:
`)
		fs.PrintDefaults()
	}
	// Parse quietly: -h prints the usage, a bad flag one line.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		fs.Usage()
		return o, err
	}
	if err != nil {
		return o, fmt.Errorf("%w: %v (see -h)", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, cli.Usagef("unexpected arguments %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	return o, nil
}

// setSpec is one NAME=DIR of -sets.
type setSpec struct{ name, dir string }

func validName(name string) bool {
	return name != "" && name != "." && name != ".." &&
		strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
}

func parseSets(s string) ([]setSpec, error) {
	var out []setSpec
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name, dir, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			dir = name
			name = filepath.Base(filepath.Clean(dir))
		}
		if dir == "" || !validName(name) {
			return nil, cli.Usagef("-sets entry %q: want NAME=DIR with NAME made of letters, digits, '.', '_' or '-'", part)
		}
		if seen[name] {
			return nil, cli.Usagef("-sets names set %q twice", name)
		}
		seen[name] = true
		out = append(out, setSpec{name, dir})
	}
	if len(out) < 2 {
		return nil, cli.Usagef("-sets %q: the cross-set analysis needs at least two sets", s)
	}
	return out, nil
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

// parseShard parses -shard i/n.
func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, cli.Usagef("-shard %q: want i/n", s)
	}
	if n < 1 || i < 0 || i >= n {
		return 0, 0, cli.Usagef("-shard %s: want 0 <= i < n", s)
	}
	return i, n, nil
}

// plan is the resolved configuration of a run.
type plan struct {
	o       options
	demo    bool // the synthetic sets
	sets    []setSpec
	size    int
	alphas  []float64
	removed []float64
	draws   int
	epochs  int
	top     int      // top images per exemplar neuron (Fig 2)
	layers  []string // nil: every conv layer (or the paper's three)
	// paperLayers selects the paper's early, middle and deep layer
	// (selectivity.PaperLayers).
	paperLayers bool
	stages      []string
	shard       int
	shards      int
	tasks       []int // -tasks
	th          stimuli.Thresholds
	until       string
	analysis    selectivity.StudyConfig
	train       nn.TrainConfig
	controlSeed uint64 // the random control's seed
	// k is a K-category design (-rating, -label, -synthetic-classes) or
	// another criterion (-select): the selectivity stage is
	// selectivity/study.RunK and the manipulation has a task per class.
	k       bool
	design  stimuli.Design
	crit    selectivity.Criterion
	classes []string // -synthetic-classes
}

// resolveDesign reads the design flags: a K-category design, or
// -synthetic-classes (a label design of those names, unless -rating or
// -label says otherwise).
func (p *plan) resolveDesign() error {
	o := p.o
	if o.design.IsDefault() && o.synthetic == "" {
		return nil
	}
	p.k = true
	var err error
	if p.design, p.crit, err = o.design.Design(); err != nil {
		return err
	}
	if o.synthetic != "" {
		if o.sets != "" {
			return cli.Usagef("-synthetic-classes and -sets are exclusive")
		}
		p.classes = splitList(o.synthetic)
		des, err := stimuli.ParseDesign("", "", "category", strings.Join(p.classes, ","))
		if err != nil || len(p.classes) < 2 {
			return cli.Usagef("-synthetic-classes %q: want two or more category names (%v)", o.synthetic, err)
		}
		if p.design.IsDefault() {
			p.design = des
		}
	}
	if !o.set["stages"] {
		p.stages = manstudy.KStages
	}
	if slices.Contains(p.stages, manstudy.Threshold) {
		return cli.Usagef("-stages threshold: the threshold search is for the paper's valence design only")
	}
	return nil
}

// resolve checks the flags and fills in the defaults.
func resolve(o options) (*plan, error) {
	p := &plan{o: o, demo: o.sets == ""}
	reduced := p.demo && !o.paper
	pick := func(flagName string, demo, paper string, given string) string {
		if o.set[flagName] {
			return given
		}
		if reduced {
			return demo
		}
		return paper
	}
	if o.out == "" {
		return nil, cli.Usagef("-out is empty")
	}
	if st, err := os.Stat(o.out); err == nil && !st.IsDir() {
		return nil, cli.Usagef("-out %s is a file, want a directory", o.out)
	}
	if _, err := cli.Resize(o.resize); err != nil {
		return nil, err
	}
	if !slices.Contains(cli.Models, o.model) {
		return nil, cli.Usagef("-model %q, want one of %s", o.model, strings.Join(cli.Models, ", "))
	}
	if o.weights != "" {
		st, err := os.Stat(o.weights)
		if err != nil {
			return nil, cli.Usagef("-weights: %v", err)
		}
		if st.IsDir() {
			return nil, cli.Usagef("-weights %s is a directory, want a weight file", o.weights)
		}
		if o.set["width"] || o.set["hidden"] {
			return nil, cli.Usagef("-width and -hidden shape a random network; they cannot go with -weights")
		}
	}
	var onnxSize int
	if o.model == "onnx" {
		// The graph fixes the image size; its last unit is the default
		// readout input.
		if o.weights == "" {
			return nil, cli.Usagef("-model onnx needs -weights FILE.onnx (the exported graph and its weights)")
		}
		size, feat, err := cli.ONNXShape(o.weights)
		if err != nil {
			return nil, fmt.Errorf("-weights: %w", err)
		}
		if o.set["size"] && o.size != size {
			return nil, cli.Usagef("-size %d: the graph in %s takes %d-pixel images", o.size, o.weights, size)
		}
		onnxSize = size
		if !o.set["features"] {
			p.o.features = feat
		}
	}
	if !(o.width > 0 && o.width <= 1) || o.hidden < 1 {
		return nil, cli.Usagef("-width %v must be in (0, 1] and -hidden %d at least 1", o.width, o.hidden)
	}
	if p.demo {
		if o.images < 3*4 {
			return nil, cli.Usagef("-images %d: the demonstration needs at least 12 images per set", o.images)
		}
		for _, name := range demoSets {
			p.sets = append(p.sets, setSpec{name, filepath.Join(o.out, "stimuli", name)})
		}
	} else {
		sets, err := parseSets(o.sets)
		if err != nil {
			return nil, err
		}
		for _, s := range sets {
			st, err := os.Stat(s.dir)
			if err != nil {
				return nil, cli.Usagef("-sets: set %s: directory %s does not exist", s.name, s.dir)
			}
			if !st.IsDir() {
				return nil, cli.Usagef("-sets: set %s: %s is not a directory", s.name, s.dir)
			}
		}
		p.sets = sets
	}
	p.size = o.size
	if !o.set["size"] {
		p.size = paperSize
		if reduced {
			p.size = demoSize
			if o.model == "alexnet" {
				p.size = 64 // its smallest input is 63 pixels
			}
		}
	}
	if onnxSize > 0 {
		p.size = onnxSize
	}
	if p.size < 32 || p.size > 4096 {
		return nil, cli.Usagef("-size %d, want 32 to 4096 pixels", p.size)
	}
	shape, err := shapeOnly(o.model, o.weights)
	if err != nil {
		return nil, err
	}
	for _, sh := range manipulate.TraceNet(shape.Net, []int{3, p.size, p.size}).Shapes {
		for _, d := range sh {
			if d < 1 {
				return nil, cli.Usagef("-size %d is too small for %s", p.size, o.model)
			}
		}
	}
	if p.alphas, err = cli.ParseList("-alphas", pick("alphas", demoAlphas, paperAlphas, o.alphas), 1); err != nil {
		return nil, err
	}
	for _, a := range p.alphas {
		if manipulate.CheckAlpha(a) != nil {
			return nil, cli.Usagef("-alphas: gain alpha = %v is outside [-1, inf)", a)
		}
	}
	if p.removed, err = cli.ParseList("-removed", pick("removed", demoRemoved, paperRemoved, o.removed), 100); err != nil {
		return nil, err
	}
	for _, r := range p.removed {
		if !(r >= 0 && r < 1) {
			return nil, cli.Usagef("-removed: %v%% is outside [0, 100)", r*100)
		}
	}
	p.draws = o.draws
	if !o.set["draws"] {
		p.draws = manipulate.DefaultDraws
		if reduced {
			p.draws = demoDraws
		}
	}
	if p.draws < 1 {
		return nil, cli.Usagef("-draws %d: the random control needs at least one draw", p.draws)
	}
	p.epochs = o.epochs
	if !o.set["epochs"] {
		p.epochs = 10
		if reduced {
			p.epochs = demoEpochs
		}
	}
	if p.epochs < 1 {
		return nil, cli.Usagef("-epochs %d, want at least 1", p.epochs)
	}
	if p.analysis, err = o.an.Config(); err != nil {
		return nil, err
	}
	if o.mem < 1 || o.mem > 1<<30 {
		return nil, cli.Usagef("-mem %d, want at least 1 MiB", o.mem)
	}
	if o.refine < 0 || o.refine != o.refine {
		return nil, cli.Usagef("-refine %v, want >= 0", o.refine)
	}
	if !(o.bracket > 0) || math.IsInf(o.bracket, 0) {
		return nil, cli.Usagef("-bracket %v, want > 0", o.bracket)
	}
	if o.threshold != "paper" && o.threshold != "all" {
		return nil, cli.Usagef("-threshold %q, want paper or all", o.threshold)
	}
	switch l := pick("layers", "paper", "all", o.layers); l {
	case "all", "":
	case "paper":
		p.paperLayers = true // resolved once the model is known
	default:
		p.layers = splitList(l)
	}
	p.stages = splitList(o.stages)
	if len(p.stages) == 0 {
		return nil, cli.Usagef("-stages is empty")
	}
	for _, st := range p.stages {
		if !slices.Contains([]string{"lesion", "sweep", "threshold"}, st) {
			return nil, cli.Usagef("-stages: unknown stage %q (want lesion, sweep, threshold)", st)
		}
	}
	if p.shard, p.shards, err = parseShard(o.shard); err != nil {
		return nil, err
	}
	if p.tasks, err = parseTasks(o); err != nil {
		return nil, err
	}
	if o.merge && o.shard != "" {
		return nil, cli.Usagef("-merge and -shard exclude each other: run the shards, then -merge")
	}
	p.until = o.until
	if p.until != "" && !slices.Contains(stageNames[:3], p.until) {
		return nil, cli.Usagef("-until %q, want stimuli, selectivity or manipulate", p.until)
	}
	if o.permutations < 0 || o.top < 1 || o.batch < 1 {
		return nil, cli.Usagef("-permutations %d must be >= 0, -top %d and -batch %d >= 1", o.permutations, o.top, o.batch)
	}
	p.top = o.top
	if reduced && !o.set["top"] {
		p.top = max(1, o.images/demoTopPart)
	}
	p.th = stimuli.Thresholds{Low: o.low, High: o.high, Band: o.band}
	if err := p.resolveDesign(); err != nil {
		return nil, err
	}
	if p.train, err = o.readout.Config(p.epochs, p.k); err != nil {
		return nil, err
	}
	if reduced && !o.set["lr"] {
		p.train.LR = demoLR
	}
	p.controlSeed = o.seed + 1
	if o.set["control-seed"] {
		p.controlSeed = o.controlSeed
	}
	if o.control && o.weights == "" && p.controlSeed == o.seed {
		return nil, cli.Usagef("-control-seed %d equals -seed: the random control would be the same network", p.controlSeed)
	}
	return p, nil
}
