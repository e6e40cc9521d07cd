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
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// options are the parsed flags.
type options struct {
	model, weights, sets, out, resize string
	seed, controlSeed                 uint64
	control, skipBad                  bool
	keep, low, high, band             float64
	top, batch, permutations          int
	chance, variance, fig2            string

	// For tests: the input side (0 means 224) and the model builder
	// (nil means cli.Model).
	size     int
	newModel func(arch, weights string, seed uint64) (*nn.Model, error)
}

func main() {
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
	fs.StringVar(&o.weights, "weights", "", "torchvision .pth or safetensors weight file (default: random init from -seed)")
	fs.StringVar(&o.sets, "sets", "", "stimulus sets, NAME=DIR[,NAME=DIR...] (a bare DIR is named after its base name), at least two (required)")
	fs.StringVar(&o.out, "out", "", "output directory (required)")
	fs.StringVar(&o.resize, "resize", "squash", "squash: resize to 224x224 (the paper's); crop: shorter side 256, centre crop 224")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the network's random initialisation when -weights is empty")
	fs.Uint64Var(&o.controlSeed, "control-seed", 0, "seed of the random control network (default -seed + 1)")
	fs.BoolVar(&o.control, "control", true, "also analyse a randomly initialised network (Fig 3)")
	fs.Float64Var(&o.keep, "keep", selectivity.DefaultKeep, "fraction of channels with a finite SI kept per set and layer (the paper's 0.8)")
	fs.Float64Var(&o.low, "low", stimuli.DefaultThresholds.Low, "valence below which an image is unpleasant (1-9 scale; rescaled to 1-7 for OASIS)")
	fs.Float64Var(&o.high, "high", stimuli.DefaultThresholds.High, "valence above which an image is pleasant (1-9 scale; rescaled for OASIS)")
	fs.Float64Var(&o.band, "band", 0, "exclude valences within this distance of either threshold as unknown (the paper's soft thresholds: 0.5)")
	fs.BoolVar(&o.skipBad, "skip-bad", false, "skip bad ratings rows (listed in report.txt) instead of stopping")
	fs.IntVar(&o.top, "top", selectivity.DefaultTop, "number of top images per exemplar neuron (Fig 2)")
	fs.IntVar(&o.batch, "batch", selectivity.DefaultBatch, "images per forward pass")
	fs.IntVar(&o.permutations, "permutations", 0, "also test each overlap against this many label shuffles (e.g. 1000; writes null.csv)")
	fs.StringVar(&o.chance, "chance", "all", "chance model of the overlap: all (the layer's channels, the paper's) or valid (channels with a finite SI in every set)")
	fs.StringVar(&o.variance, "variance", "population", "variance in d′ (Eq 5): population (divide by N) or sample (N-1)")
	fs.StringVar(&o.fig2, "fig2", "", "layers shown in Fig 2, comma-separated (default: the paper's early, middle and deep layer)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: selectivity [flags] -sets NAME=DIR,NAME=DIR -out DIR\n\n"+
			"Records every conv channel of the network on each picture set, computes tuning\n"+
			"values, d′ and SI (Liu et al. 2024, Eqs 2-5), keeps the top -keep fraction by SI,\n"+
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
	if !(o.keep > 0 && o.keep <= 1) {
		return cfg, imagenet.Config{}, bad("-keep %v, want a fraction in (0, 1]", o.keep)
	}
	if o.top < 1 || o.batch < 1 || o.permutations < 0 {
		return cfg, imagenet.Config{}, bad("-top %d and -batch %d must be at least 1, -permutations %d at least 0", o.top, o.batch, o.permutations)
	}
	if o.control && o.weights == "" && o.controlSeed == o.seed {
		return cfg, imagenet.Config{}, bad("-control-seed %d equals -seed: the random control would be the same network", o.seed)
	}
	cfg.Keep = o.keep
	switch o.chance {
	case "all":
		cfg.Chance = selectivity.ChanceAll
	case "valid":
		cfg.Chance = selectivity.ChanceValid
	default:
		return cfg, imagenet.Config{}, bad("-chance %q, want all or valid", o.chance)
	}
	switch o.variance {
	case "population":
	case "sample":
		cfg.Index.SampleVariance = true
	default:
		return cfg, imagenet.Config{}, bad("-variance %q, want population or sample", o.variance)
	}
	pre, err := cli.Resize(o.resize)
	if err != nil {
		return cfg, pre, err
	}
	pre.Size = o.size
	return cfg, pre, nil
}

// loadSet loads one set with the thresholds of the flags, rescaled to the
// 1–7 scale for the OASIS layout.
func (o options) loadSet(sp setSpec) (*stimuli.Set, error) {
	th := stimuli.Thresholds{Low: o.low, High: o.high, Band: o.band}
	if !exists(filepath.Join(sp.dir, stimuli.RatingsFile)) && exists(filepath.Join(sp.dir, stimuli.OASISFile)) {
		th = th.Rescale(1, 9, 1, 7)
	}
	set, err := stimuli.Load(sp.dir, stimuli.Config{Name: sp.name, Thresholds: th, SkipBad: o.skipBad})
	if err != nil {
		return nil, fmt.Errorf("set %s: %w", sp.name, err)
	}
	if err := selectivity.CheckSet(set); err != nil {
		return nil, err
	}
	return set, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// network is one analysed network: its model, names and study.
type network struct {
	label string // "pretrained", "random"
	about string // one line for the report
	key   string // cache directory name
	cfg   selectivity.RecordConfig
	model *nn.Model
	study *selectivity.Study
	null  *selectivity.Null // with -permutations
	recs  []*selectivity.Recording
}

func run(ctx context.Context, o options, stderr io.Writer) error {
	specs, err := parseSets(o.sets)
	if err != nil {
		return err
	}
	cfg, pre, err := o.config()
	if err != nil {
		return err
	}
	var sets []*stimuli.Set
	for _, sp := range specs {
		set, err := o.loadSet(sp)
		if err != nil {
			return err
		}
		sets = append(sets, set)
	}
	build := o.newModel
	if build == nil {
		build = cli.Model
	}
	resize := fmt.Sprintf("%s%d", o.resize, max(o.size, 0))
	if o.size == 0 {
		resize = fmt.Sprintf("%s%d", o.resize, imagenet.DefaultSize)
	}

	trained := &network{label: "pretrained"}
	if o.weights != "" {
		w := filepath.Base(o.weights)
		trained.about = fmt.Sprintf("%s with weights %s", o.model, o.weights)
		trained.key = fmt.Sprintf("%s-%s-%s", o.model, safe(strings.TrimSuffix(w, filepath.Ext(w))), resize)
		trained.cfg = selectivity.RecordConfig{Weights: w}
	} else {
		trained.label = fmt.Sprintf("random init (seed %d)", o.seed)
		trained.about = fmt.Sprintf("%s WITHOUT trained weights: a random initialisation from seed %d stands in for the pretrained network", o.model, o.seed)
		trained.key = fmt.Sprintf("%s-random%d-%s", o.model, o.seed, resize)
		trained.cfg = selectivity.RecordConfig{Seed: o.seed}
	}
	if trained.model, err = build(o.model, o.weights, o.seed); err != nil {
		return err
	}
	fig2, err := fig2Layers(o.fig2, trained.model)
	if err != nil {
		return err
	}
	nets := []*network{trained}
	if o.control {
		c := &network{
			label: fmt.Sprintf("random (seed %d)", o.controlSeed),
			about: fmt.Sprintf("%s random initialisation from seed %d (control)", o.model, o.controlSeed),
			key:   fmt.Sprintf("%s-random%d-%s", o.model, o.controlSeed, resize),
			cfg:   selectivity.RecordConfig{Seed: o.controlSeed},
		}
		if c.model, err = build(o.model, "", o.controlSeed); err != nil {
			return err
		}
		nets = append(nets, c)
	}

	// Record (or reuse) every set on every network, then analyse.
	var log strings.Builder
	for _, n := range nets {
		var resp []*selectivity.Responses
		for _, set := range sets {
			rec, err := record(ctx, n, set, pre, o, stderr, &log)
			if err != nil {
				return err
			}
			r, err := rec.Responses()
			if err != nil {
				return err
			}
			n.recs = append(n.recs, rec)
			resp = append(resp, r)
		}
		if n.study, err = selectivity.Analyze(resp, cfg); err != nil {
			return err
		}
		if o.permutations > 0 {
			if n.null, err = selectivity.Permute(ctx, n.study, o.permutations, o.seed); err != nil {
				return err
			}
		}
	}
	if err := write(o, nets, sets, fig2, log.String()); err != nil {
		return err
	}
	fmt.Fprint(stderr, summary(o, nets))
	return nil
}

// fig2Layers returns the indices among m's conv units of the layers named
// in the comma-separated list s, or the paper's three for "".
func fig2Layers(s string, m *nn.Model) ([]int, error) {
	units := m.ConvUnits()
	if s == "" {
		l := selectivity.PaperLayers(len(units))
		return l[:], nil
	}
	var out []int
	for _, name := range strings.Split(s, ",") {
		i := slices.IndexFunc(units, func(u nn.Unit) bool { return u.Name == name })
		if i < 0 {
			var names []string
			for _, u := range units {
				names = append(names, u.Name)
			}
			return nil, fmt.Errorf("%w: -fig2 layer %q is not a conv layer of %s (%s)", cli.ErrUsage, name, m.Arch, strings.Join(names, ", "))
		}
		out = append(out, i)
	}
	return out, nil
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

// record runs one set on one network into its cache directory, with a
// progress bar on a terminal.
func record(ctx context.Context, n *network, set *stimuli.Set, pre imagenet.Config, o options, stderr io.Writer, log *strings.Builder) (*selectivity.Recording, error) {
	dir := filepath.Join(o.out, "cache", set.Name, n.key)
	cfg := n.cfg
	cfg.Batch = o.batch
	var bar *progressbar.ProgressBar
	if isTerminal(stderr) {
		bar = progressbar.NewOptions(len(set.Images),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(fmt.Sprintf("%s on %s", set.Name, n.key)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
		cfg.Progress = func(done, total int) {
			if done == 0 {
				bar.RenderBlank() // starts the clock for the rate and ETA
				return
			}
			bar.Set(done)
		}
	}
	start := time.Now()
	rec, err := selectivity.Record(ctx, n.model, set, pre, dir, cfg)
	if bar != nil {
		bar.Exit()
	}
	if err != nil {
		return nil, err
	}
	line := fmt.Sprintf("%s on %s: %d images recorded in %s", set.Name, n.key, len(set.Images), time.Since(start).Round(time.Millisecond))
	if rec.Cached {
		line = fmt.Sprintf("%s on %s: reused the cache in %s", set.Name, n.key, dir)
	}
	fmt.Fprintln(stderr, line)
	fmt.Fprintln(log, "  "+line)
	return rec, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
