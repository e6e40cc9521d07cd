// Command selectivity runs the emotion-selectivity analysis of Liu, Bo,
// Ding & Fang (2024), Figs 2 and 3, on two or more affective picture sets:
// which conv channels respond selectively to pleasant, neutral or
// unpleasant images, whether that selectivity generalises across the sets
// beyond chance, and how a randomly initialised network compares.
//
//	go run ./examples/selectivity -model vgg16 -weights vgg16-397923af.pth \
//		-sets iaps=sets/iaps,naps=sets/naps -out results
//
// Each set is a directory with ratings.csv (file,valence[,category]) or
// OASIS.csv (see package stimuli). It writes, in -out:
//
//	selectivity.csv      set,layer,channel,tuning_*,dprime_*,si,preferred: every channel (NaN as NaN)
//	selective.csv        layer,channel,emotion: channels selective for the same emotion in every set
//	overlap.csv          layer,emotion,n_<set>…,channels,observed,expected,p: overlap vs chance
//	layers.csv           per network, set and layer: channel counts by flaw, SI distribution, counts
//	top.csv              the -top images driving each layer's exemplar neuron per emotion
//	null.csv             with -permutations: each overlap's permutation null and p-value
//	control/*.csv        selectivity, selective, overlap (and null) for the random network
//	activations/<set>/   <layer>.npy [n_images, channels] and images.csv (row,file,valence,category)
//	fig2_tuning.svg/png  tuning curves of the most selective neurons, early/middle/deep (Fig 2, top)
//	fig2_top.svg/png     valence histograms of their top images (Fig 2, bottom)
//	fig3a_si.svg/png     SI by layer, pretrained vs random, per set (Fig 3A)
//	fig3b_counts.svg/png selective neurons vs chance and vs random (Fig 3B)
//	report.txt           the run: settings, category counts, skipped rows, flaws per layer
//	cache/<set>/<net>/   the recordings, reused by later runs with the same key
//
// The work is done by package selectivity/study (study.Run); this command
// parses the flags and builds the networks. examples/reproduce runs the
// same stage as part of the whole study.
//
// Without -weights the "pretrained" network is itself a random
// initialisation (from -seed), and the report says so. The random control
// network is initialised from -control-seed (default -seed + 1). Every
// file is written atomically; bad input stops the run with one line
// naming the set and the file.
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
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// options are the parsed flags.
type options struct {
	model, weights, sets, out, resize string
	seed, controlSeed                 uint64
	control, skipBad                  bool
	low, high, band                   float64
	top, batch, permutations, size    int
	fig2                              string
	an                                cli.AnalysisFlags
	design                            cli.DesignFlags
	synthetic                         string

	// For tests: the model builder (nil means cli.Model).
	newModel func(arch, weights string, seed uint64) (*nn.Model, error)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stderr); err != nil {
		cli.Fatal(err)
	}
}

// parse reads the command line.
func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("selectivity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.model, "model", "vgg16", "architecture: "+strings.Join(cli.Models, ", "))
	fs.StringVar(&o.weights, "weights", "", "torchvision .pth or safetensors weight file (default: random init from -seed); for -model onnx,\nthe .onnx file (graph and weights; its random control re-initialises them from -control-seed)")
	fs.StringVar(&o.sets, "sets", "", "stimulus sets, NAME=DIR[,NAME=DIR...] (a bare DIR is named after its base name), at least two (required)")
	fs.StringVar(&o.out, "out", "", "output directory (required)")
	fs.StringVar(&o.resize, "resize", "squash", "squash: resize to SIZExSIZE (the paper's); crop: shorter side 256/224*SIZE, centre crop SIZE")
	fs.IntVar(&o.size, "size", imagenet.DefaultSize, "side of the network's input in pixels")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the network's random initialisation when -weights is empty")
	fs.Uint64Var(&o.controlSeed, "control-seed", 0, "seed of the random control network (default -seed + 1)")
	fs.BoolVar(&o.control, "control", true, "also analyse a randomly initialised network (Fig 3)")
	o.an.Register(fs)
	o.design.Register(fs)
	fs.StringVar(&o.synthetic, "synthetic-classes", "", "instead of -sets, draw two synthetic sets (stimuli.SyntheticClasses, 96 images) of these comma-separated\ncategories into -out/stimuli; their ratings.csv has the columns file, category and arousal")
	fs.Float64Var(&o.low, "low", stimuli.DefaultThresholds.Low, "valence below which an image is unpleasant (1-9 scale; rescaled to 1-7 for OASIS)")
	fs.Float64Var(&o.high, "high", stimuli.DefaultThresholds.High, "valence above which an image is pleasant (1-9 scale; rescaled for OASIS)")
	fs.Float64Var(&o.band, "band", 0, "exclude valences within this distance of either threshold as unknown (the paper's soft thresholds: 0.5)")
	fs.BoolVar(&o.skipBad, "skip-bad", false, "skip bad ratings rows (listed in report.txt) instead of stopping")
	fs.IntVar(&o.top, "top", selectivity.DefaultTop, "number of top images per exemplar neuron (Fig 2)")
	fs.IntVar(&o.batch, "batch", selectivity.DefaultBatch, "images per forward pass")
	fs.IntVar(&o.permutations, "permutations", 0, "also test each overlap against this many label shuffles (e.g. 1000; writes null.csv)")
	fs.StringVar(&o.fig2, "fig2", "", "layers shown in Fig 2, comma-separated (default: the paper's early, middle and deep layer)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: selectivity [flags] -sets NAME=DIR,NAME=DIR -out DIR\n\n"+
			"Records every conv channel of the network on each picture set, computes tuning\n"+
			"values, d' and SI (Liu et al. 2024, Eqs 2-5), keeps the top -keep fraction by SI,\n"+
			"and tests whether channels selective for the same emotion in every set exceed\n"+
			"chance (hypergeometric); the same for a random network. Writes CSV tables,\n"+
			"the recorded .npy arrays, Figs 2 and 3 (SVG and PNG) and report.txt to -out.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("%w: unexpected arguments %q", cli.ErrUsage, fs.Args())
	}
	seen := false
	fs.Visit(func(f *flag.Flag) { seen = seen || f.Name == "control-seed" })
	if !seen {
		o.controlSeed = o.seed + 1
	}
	return o, nil
}

// setSpec is one NAME=DIR of -sets.
type setSpec struct{ name, dir string }

func parseSets(s string) ([]setSpec, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: -sets is required (NAME=DIR,NAME=DIR)", cli.ErrUsage)
	}
	var out []setSpec
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name, dir, ok := strings.Cut(part, "=")
		if !ok {
			dir = part
			name = filepath.Base(filepath.Clean(dir))
		}
		if dir == "" || name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" ||
			name == "." || name == ".." {
			return nil, fmt.Errorf("%w: -sets entry %q: want NAME=DIR with NAME made of letters, digits, '.', '_' or '-'", cli.ErrUsage, part)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: -sets names set %q twice", cli.ErrUsage, name)
		}
		seen[name] = true
		out = append(out, setSpec{name, dir})
	}
	if len(out) < 2 {
		return nil, fmt.Errorf("%w: -sets %q: the cross-set analysis needs at least two sets", cli.ErrUsage, s)
	}
	return out, nil
}

// config checks the numeric flags and returns the analysis settings.
func (o options) config() (selectivity.StudyConfig, imagenet.Config, error) {
	var cfg selectivity.StudyConfig
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{cli.ErrUsage}, args...)...)
	}
	if o.out == "" {
		return cfg, imagenet.Config{}, bad("-out is required")
	}
	if o.top < 1 || o.batch < 1 || o.permutations < 0 {
		return cfg, imagenet.Config{}, bad("-top %d and -batch %d must be at least 1, -permutations %d at least 0", o.top, o.batch, o.permutations)
	}
	if o.control && o.weights == "" && o.controlSeed == o.seed {
		return cfg, imagenet.Config{}, bad("-control-seed %d equals -seed: the random control would be the same network", o.seed)
	}
	cfg, err := o.an.Config()
	if err != nil {
		return cfg, imagenet.Config{}, err
	}
	if o.size < 32 || o.size > 4096 {
		return cfg, imagenet.Config{}, bad("-size %d, want 32 to 4096 pixels", o.size)
	}
	pre, err := cli.Resize(o.resize)
	if err != nil {
		return cfg, pre, err
	}
	pre.Size = o.size
	return cfg, pre, nil
}

func run(ctx context.Context, o options, stderr io.Writer) error {
	if o.synthetic != "" {
		if o.sets != "" {
			return fmt.Errorf("%w: -synthetic-classes and -sets are exclusive", cli.ErrUsage)
		}
		if o.out == "" {
			return fmt.Errorf("%w: -out is required", cli.ErrUsage)
		}
		names := strings.Split(o.synthetic, ",")
		if _, err := stimuli.ParseDesign("", "", "category", o.synthetic); err != nil || len(names) < 2 {
			return fmt.Errorf("%w: -synthetic-classes %q: want two or more category names (%v)", cli.ErrUsage, o.synthetic, err)
		}
		var dirs []string
		for i, name := range []string{"synth1", "synth2"} {
			dir := filepath.Join(o.out, "stimuli", name)
			if err := stimuli.WriteSyntheticClasses(dir, name, names, 96, uint64(20240301+i), max(o.size, 32)); err != nil {
				return err
			}
			dirs = append(dirs, name+"="+dir)
		}
		o.sets = strings.Join(dirs, ",")
	}
	specs, err := parseSets(o.sets)
	if err != nil {
		return err
	}
	if o.model == "onnx" {
		// The graph fixes the image size.
		if o.size, _, err = cli.ONNXFlags(o.weights, o.size, imagenet.DefaultSize, ""); err != nil {
			return err
		}
	}
	if !o.design.IsDefault() {
		return runK(ctx, o, specs, stderr)
	}
	acfg, pre, err := o.config()
	if err != nil {
		return err
	}
	th := stimuli.Thresholds{Low: o.low, High: o.high, Band: o.band}
	var sets []*stimuli.Set
	for _, sp := range specs {
		set, err := study.LoadSet(sp.name, sp.dir, th, o.skipBad)
		if err != nil {
			return err
		}
		sets = append(sets, set)
		if w := selectivity.TopWarning(o.top, set); w != "" {
			fmt.Fprintln(stderr, w)
		}
	}
	build := o.newModel
	if build == nil {
		build = cli.Model
	}
	resize := fmt.Sprintf("%s%d", o.resize, max(o.size, 0))
	if o.size == 0 {
		resize = fmt.Sprintf("%s%d", o.resize, imagenet.DefaultSize)
	}

	trained := study.Network{Label: "pretrained"}
	if o.weights != "" {
		w := filepath.Base(o.weights)
		trained.About = fmt.Sprintf("%s with weights %s", o.model, o.weights)
		trained.Key = fmt.Sprintf("%s-%s-%s", o.model, safe(strings.TrimSuffix(w, filepath.Ext(w))), resize)
		trained.Record = selectivity.RecordConfig{Weights: w}
	} else {
		trained.Label = fmt.Sprintf("random init (seed %d)", o.seed)
		trained.About = fmt.Sprintf("%s WITHOUT trained weights: a random initialisation from seed %d stands in for the pretrained network", o.model, o.seed)
		trained.Key = fmt.Sprintf("%s-random%d-%s", o.model, o.seed, resize)
		trained.Record = selectivity.RecordConfig{Seed: o.seed}
	}
	if trained.Model, err = build(o.model, o.weights, o.seed); err != nil {
		return err
	}
	var fig2 []int
	if o.fig2 != "" {
		if fig2, err = study.Layers(trained.Model, strings.Split(o.fig2, ",")); err != nil {
			return fmt.Errorf("%w: -fig2 %v", cli.ErrUsage, err)
		}
	}
	nets := []study.Network{trained}
	if o.control {
		c := study.Network{
			Label:  fmt.Sprintf("random (seed %d)", o.controlSeed),
			About:  fmt.Sprintf("%s random initialisation from seed %d (control)", o.model, o.controlSeed),
			Key:    fmt.Sprintf("%s-random%d-%s", o.model, o.controlSeed, resize),
			Record: selectivity.RecordConfig{Seed: o.controlSeed},
		}
		control := build
		if o.model == "onnx" {
			// The graph's own parameters, re-initialised.
			control = func(arch, _ string, seed uint64) (*nn.Model, error) { return cli.Control(arch, o.weights, seed) }
		}
		if c.Model, err = control(o.model, "", o.controlSeed); err != nil {
			return err
		}
		nets = append(nets, c)
	}
	cfg := study.Config{
		Sets: sets, Networks: nets, Input: pre, Resize: o.resize, Analysis: acfg,
		Top: o.top, Batch: o.batch, Permutations: o.permutations, Seed: o.seed, Fig2: fig2,
		Log: stderr,
	}
	if isTerminal(stderr) {
		cfg.Progress = &bar{w: stderr}
	}
	res, err := study.Run(ctx, o.out, cfg)
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, res.Summary())
	fmt.Fprintf(stderr, "wrote selectivity.csv, selective.csv, overlap.csv, layers.csv, top.csv, figures and report.txt to %s\n", o.out)
	return nil
}

// safe keeps letters, digits, '.', '_' and '-' of s, replacing the rest.
func safe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return r
		}
		return '_'
	}, s)
}

// bar draws a progress bar with an ETA for each recording.
type bar struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (b *bar) Start(stage string, total int64) {
	b.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(b.w),
		progressbar.OptionSetDescription(stage),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish())
	b.bar.RenderBlank() // starts the clock for the rate and ETA
}

func (b *bar) Add(n int64) {
	if n > 0 {
		b.bar.Add64(n)
	}
}

func (b *bar) Finish() { b.bar.Exit() }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
