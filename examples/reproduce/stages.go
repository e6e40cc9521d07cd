package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emosel/emosel/internal/atomicfile"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/manipulate"
	manstudy "github.com/emosel/emosel/manipulate/study"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// stageFormat is the version of the stage layout; bump it when a stage's
// outputs change meaning, so that old stages recompute.
const stageFormat = 1

// Directories of the output directory.
const (
	stimuliDir     = "stimuli"
	selectivityDir = "selectivity"
	manipulateDir  = "manipulate"
	shardsDir      = "shards"
	stagesDir      = "stages"
	figuresDir     = "figures"
)

// runner is the state of one run.
type runner struct {
	ctx            context.Context
	p              *plan
	stdout, stderr io.Writer
	log            io.Writer // stderr, or io.Discard with -quiet
	prog           *cli.Progress
	start          time.Time

	pre     imagenet.Config
	input   string // "Squash 64"
	sets    []*stimuli.Set
	inputs  []setInput
	model   *nn.Model // built on first need
	modelID string    // what identifies the weights: file hash or seed
	weights string    // SHA-256 of the weight file
	layers  []string  // the manipulation's layers, resolved (nil: all)
	keys    map[string]string
	timings []timing
}

// setInput identifies a set in the keys and the manifest.
type setInput struct {
	Name   string         `json:"name"`
	Dir    string         `json:"dir"`
	Hash   string         `json:"sha256"` // stimuli.Set.Hash: ratings file and image bytes
	Labels string         `json:"labels"` // SHA-256 of the categories (thresholds, band)
	Images int            `json:"images"`
	Counts stimuli.Counts `json:"counts"` // pleasant, neutral, unpleasant, unknown
}

// timing is one stage of the run, for the manifest.
type timing struct {
	Stage    string  `json:"stage"`
	Key      string  `json:"key,omitempty"`
	Reused   bool    `json:"reused"`
	Seconds  float64 `json:"seconds"`            // this run
	Computed float64 `json:"computed,omitempty"` // when reused: the seconds it took when it ran
	Note     string  `json:"note,omitempty"`
}

// stamp is stages/<stage>.json: a finished stage.
type stamp struct {
	Stage    string    `json:"stage"`
	Key      string    `json:"key"`
	Inputs   any       `json:"inputs"`
	Seconds  float64   `json:"seconds"`
	Finished time.Time `json:"finished"`
}

func keyOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

func (r *runner) path(parts ...string) string {
	return filepath.Join(append([]string{r.p.o.out}, parts...)...)
}

// fresh reports whether stage has finished with key and its outputs (files
// relative to -out) exist; it returns the stamp's seconds.
func (r *runner) fresh(stage, key string, outputs ...string) (bool, float64) {
	var s stamp
	b, err := os.ReadFile(r.path(stagesDir, stage+".json"))
	if err != nil || json.Unmarshal(b, &s) != nil || s.Key != key {
		return false, 0
	}
	for _, o := range outputs {
		if _, err := os.Stat(r.path(o)); err != nil {
			return false, 0
		}
	}
	return true, s.Seconds
}

// finish writes stage's stamp.
func (r *runner) finish(stage, key string, inputs any, took time.Duration) error {
	s := stamp{Stage: stage, Key: key, Inputs: inputs, Seconds: took.Seconds(), Finished: time.Now().UTC().Round(time.Second)}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.path(stagesDir), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteBytes(r.path(stagesDir, stage+".json"), append(b, '\n'))
}

// stage runs one stage unless it is fresh, and records its timing.
func (r *runner) stage(name, key string, inputs any, outputs []string, run func() error) error {
	t0 := time.Now()
	if ok, secs := r.fresh(name, key, outputs...); ok {
		r.timings = append(r.timings, timing{Stage: name, Key: key, Reused: true, Seconds: time.Since(t0).Seconds(), Computed: secs})
		fmt.Fprintf(r.log, "%-11s reused (key %s, computed in %s)\n", name+":", key[:12], cli.Seconds(secs))
		return nil
	}
	fmt.Fprintf(r.log, "%-11s running (key %s)\n", name+":", key[:12])
	if err := run(); err != nil {
		return err
	}
	if err := r.ctx.Err(); err != nil {
		return err // never recorded as done, whatever run made of the interruption
	}
	took := time.Since(t0)
	r.timings = append(r.timings, timing{Stage: name, Key: key, Seconds: took.Seconds()})
	fmt.Fprintf(r.log, "%-11s done in %s\n", name+":", cli.Seconds(took.Seconds()))
	return r.finish(name, key, inputs, took)
}

// run runs the study as the flags say.
func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	p, err := resolve(o)
	if err != nil {
		return err
	}
	r := &runner{ctx: ctx, p: p, stdout: stdout, stderr: stderr, log: stderr, start: time.Now(), keys: map[string]string{}}
	if o.quiet {
		r.log = io.Discard
	}
	r.prog = newProgress(ctx, stderr, o.quiet, o.stall, o.out)
	if err := r.checkEarly(); err != nil {
		return err
	}
	if o.weights != "" {
		// Load the weights first: a file for another architecture is an
		// error before anything else happens.
		if _, err := r.mainModel(); err != nil {
			return err
		}
	}
	if p.demo && !o.estimate {
		if p.classes != nil {
			fmt.Fprint(r.log, bannerK(p))
		} else {
			fmt.Fprint(r.log, banner(p))
		}
	}
	if r.pre, err = cli.Resize(o.resize); err != nil {
		return err
	}
	r.pre.Size = p.size
	r.input = fmt.Sprintf("%v %d", r.pre.Mode, p.size)
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("-out: %w", err)
	}

	// Stimuli: the demonstration's sets are generated; real sets are read.
	if p.demo {
		in := struct {
			Format       int
			Generator    string
			Sets         []string
			Images, Size int
			Seed         uint64
			Classes      []string `json:",omitempty"` // -synthetic-classes
		}{stageFormat, demoGenerator, demoSets, o.images, p.size, demoSetSeed, p.classes}
		var outputs []string
		for _, s := range p.sets {
			rel, _ := filepath.Rel(o.out, s.dir)
			outputs = append(outputs, filepath.Join(rel, stimuli.RatingsFile))
		}
		err := r.stage(stageStimuli, keyOf(in), in, outputs, func() error {
			for k, s := range p.sets {
				if err := os.RemoveAll(s.dir); err != nil {
					return err
				}
				if p.classes != nil {
					if err := stimuli.WriteSyntheticClasses(s.dir, s.name, p.classes, o.images, demoSetSeed+uint64(k), p.size); err != nil {
						return err
					}
					continue
				}
				if err := stimuli.WriteSyntheticOverlap(s.dir, s.name, o.images, demoSetSeed+uint64(k), p.size); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := r.loadSets(); err != nil {
		return err
	}
	for _, s := range r.sets {
		if w := selectivity.TopWarning(p.top, s); w != "" {
			fmt.Fprintln(r.log, w)
		}
	}
	if !p.demo && o.weights == "" && !o.estimate {
		fmt.Fprintf(r.log, "NOTE: without -weights the network under study is untrained (a random initialisation from seed %d).\n"+
			"torchvision's weights: https://download.pytorch.org/models/%s\n\n", o.seed, cli.WeightFiles[o.model])
	}
	if err := r.identifyModel(); err != nil {
		return err
	}
	if o.estimate {
		return r.estimate(ctx)
	}
	if p.until == stageStimuli {
		fmt.Fprintf(r.log, "stopped after the stimuli (-until stimuli)\n")
		return nil
	}
	if err := r.selectivity(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return cli.Interruptedf("interrupted; the finished recordings are kept in %s: run the same command to resume", o.out)
		}
		return err
	}
	if p.until == stageSelectivity {
		fmt.Fprintf(r.log, "stopped after the selectivity stage (-until selectivity)\n")
		return nil
	}
	if err := r.manipulate(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return cli.Interruptedf("interrupted; the finished work is kept in %s: run the same command to resume", o.out)
		}
		return err
	}
	if p.shards > 1 || p.until == stageManipulate {
		return nil
	}
	if p.k {
		return r.doneK()
	}
	t0 := time.Now()
	if err := r.report(); err != nil {
		return err
	}
	r.timings = append(r.timings, timing{Stage: stageReport, Seconds: time.Since(t0).Seconds()})
	if err := r.writeManifest(); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "wrote %s, %s and %s in %s\n", r.path("report.md"), r.path("report.html"), r.path("manifest.json"),
		cli.Seconds(time.Since(r.start).Seconds()))
	if p.demo {
		fmt.Fprintf(r.log, "This was a demonstration on synthetic stimuli. The real study:\n  %s\n", realCommandFor(p))
	}
	return nil
}

// realCommand is the command of the real study.
const realCommand = "go run ./examples/reproduce -model vgg16 -weights vgg16-397923af.pth -sets iaps=DIR,naps=DIR -out OUT"

// realCommandFor is the real study's command for the model of the run.
func realCommandFor(p *plan) string {
	w := p.o.weights
	if w == "" {
		w = cli.WeightFiles[p.o.model]
	}
	return fmt.Sprintf("go run ./examples/reproduce -model %s -weights %s -sets iaps=DIR,naps=DIR -out OUT", p.o.model, w)
}

func banner(p *plan) string {
	if p.o.paper {
		return fmt.Sprintf("DEMONSTRATION with the paper's settings on two synthetic stimulus sets (%d images each)\n"+
			"and an untrained, randomly initialised %s. The real study:\n  %s\n\n", p.o.images, p.o.model, realCommandFor(p))
	}
	if p.o.weights != "" {
		return fmt.Sprintf(`DEMONSTRATION on synthetic stimuli: two stimulus sets generated in code (%d images each;
their categories differ only in brightness and texture, and overlap), %s with weights %s, and
reduced settings (%d px, α %s, %d random draws, layers: %s). Its numbers say nothing about emotion.
The real study needs the IAPS and NAPS sets:
  %s

`, p.o.images, p.o.model, p.o.weights, p.size, floats(p.alphas, 1), p.draws, layersText(p), realCommandFor(p))
	}
	return fmt.Sprintf(`DEMONSTRATION on synthetic stimuli with an untrained network: two stimulus sets generated
in code (%d images each; their categories differ only in brightness and texture, and overlap),
a randomly initialised %s, and reduced settings (%d px, α %s, %d random draws, layers: %s).
Its numbers say nothing about emotion; it shows every stage of the study and its effects.
The real study needs torchvision's weights and the IAPS and NAPS sets:
  %s

`, p.o.images, p.o.model, p.size, floats(p.alphas, 1), p.draws, layersText(p), realCommandFor(p))
}

// demoDesign explains, in the report, how the demonstration's sets and
// settings make every figure show its effect.
func demoDesign(p *plan) string {
	return fmt.Sprintf("How the demonstration works. Its sets come from stimuli.SyntheticOverlap: each category is a "+
		"prototype (pleasant: brighter, with smooth blobs; neutral: mid-gray with a high-contrast medium-frequency grating; "+
		"unpleasant: darker, with fine stripes and jagged lines), and each image blends its own category's prototype (50-100%%, "+
		"more for more extreme valences) with another category's, under clutter common to all. The prototypes have comparable "+
		"contrast energy, so that the random network, whose responses scale with the input, has channels preferring each "+
		"category, neutral included. Because the categories overlap, the readouts (Adam, lr %g, %d epochs on %d training "+
		"images per set) stay below ceiling, and their errors are borderline images. The selective channels carry the "+
		"category signal the readout relies on: a small gain on them (α up to %s) pushes borderline images of their "+
		"category over the threshold, and silencing them removes the signal, so the lesion hurts more than silencing as many "+
		"random channels. Large gains overshoot, hence the short α grid. Fig 2's histograms use each neuron's top %d images "+
		"(%d%% of each set), whose valences lean to the extremes of the neuron's category.",
		p.train.LR, p.epochs, p.o.images/2, floats(p.alphas[len(p.alphas)-1:], 1), p.top, 100*p.top/p.o.images)
}

func layersText(p *plan) string {
	switch {
	case p.paperLayers:
		return "paper (early, middle, deep)"
	case p.layers == nil:
		return "all"
	}
	return strings.Join(p.layers, ",")
}

// loadSets loads the sets and computes their content hashes.
func (r *runner) loadSets() error {
	for _, s := range r.p.sets {
		set, err := selstudy.LoadDesign(s.name, s.dir, r.p.design, r.p.th, r.p.o.skipBad)
		if err != nil {
			return err
		}
		h, err := set.Hash()
		if err != nil {
			return fmt.Errorf("set %s: %w", s.name, err)
		}
		lh := sha256.New()
		if r.p.k {
			for _, c := range set.ClassLabels() {
				lh.Write([]byte{byte(c + 1)})
			}
			lh.Write([]byte(strings.Join(set.Classes, "\x00")))
		} else {
			for _, l := range set.Labels() {
				lh.Write([]byte{byte(l)})
			}
		}
		r.sets = append(r.sets, set)
		r.inputs = append(r.inputs, setInput{Name: s.name, Dir: s.dir, Hash: h, Labels: hex.EncodeToString(lh.Sum(nil))[:24],
			Images: len(set.Images), Counts: set.Counts()})
	}
	return nil
}

// identifyModel hashes the weight file (or names the random network)
// without building the model.
func (r *runner) identifyModel() error {
	o := r.p.o
	if o.weights == "" {
		r.modelID = fmt.Sprintf("%s random seed %d", o.model, o.seed)
		if o.width != 1 || o.hidden != 4096 {
			r.modelID += fmt.Sprintf(" width %g hidden %d", o.width, o.hidden)
		}
		return nil
	}
	f, err := os.Open(o.weights)
	if err != nil {
		return fmt.Errorf("-weights: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("-weights %s: %w", o.weights, err)
	}
	r.weights = hex.EncodeToString(h.Sum(nil))
	r.modelID = fmt.Sprintf("%s weights sha256:%s", o.model, r.weights)
	return nil
}

// build returns a network: the weights when weights is set, else a random
// initialisation from seed (with -width and -hidden for VGG).
func (r *runner) build(weights string, seed uint64) (*nn.Model, error) {
	o := r.p.o
	if o.model == "onnx" {
		// The graph is always o.weights; without weights, its random
		// control.
		m, err := cli.ONNX(o.weights, weights == "", seed)
		if err != nil {
			return nil, fmt.Errorf("-model onnx -weights %s: %w", o.weights, err)
		}
		return m, nil
	}
	if weights == "" && (o.width != 1 || o.hidden != 4096) {
		if o.model == "alexnet" {
			return alexnet.New(alexnet.Config{Width: o.width, Hidden: o.hidden}, tensor.NewRNG(seed)), nil
		}
		var depth int
		fmt.Sscanf(o.model, "vgg%d", &depth)
		return vgg.New(vgg.Config{Depth: depth, Width: o.width, Hidden: o.hidden}, tensor.NewRNG(seed)), nil
	}
	m, err := cli.Model(o.model, weights, seed)
	if err != nil {
		return nil, fmt.Errorf("-model %s -weights %s: %w", o.model, weights, err)
	}
	return m, nil
}

// mainModel builds the network under study once.
func (r *runner) mainModel() (*nn.Model, error) {
	if r.model == nil {
		m, err := r.build(r.p.o.weights, r.p.o.seed)
		if err != nil {
			return nil, err
		}
		r.model = m
		r.limitMemory()
	}
	return r.model, nil
}

// limitMemory sets the runtime's soft memory limit to the models held,
// the manipulation's activation budget and a headroom.
func (r *runner) limitMemory(extra ...*nn.Model) {
	cli.LimitMemory(r.p.o.mem<<20, append([]*nn.Model{r.model}, extra...)...)
}

// cacheKey names a network's recordings under selectivity/cache.
func (r *runner) cacheKey(weights string, seed uint64) string {
	o := r.p.o
	k := fmt.Sprintf("%s-random%d", o.model, seed)
	if weights != "" {
		k = fmt.Sprintf("%s-%s", o.model, r.weights[:12])
	} else if o.width != 1 || o.hidden != 4096 {
		k += fmt.Sprintf("-w%g-h%d", o.width, o.hidden)
	}
	return fmt.Sprintf("%s-%s%d", k, o.resize, r.p.size)
}

// selectivityInputs are what the selectivity stage depends on.
type selectivityInputs struct {
	Format       int
	Model        string
	Control      string
	Sets         []setInput
	Input        string
	Keep         float64
	Top          int
	Batch        int
	Permutations int
	Seed         uint64
	// Empty for the paper's analysis, so that its key stays the same.
	Chance   string   `json:",omitempty"`
	Variance string   `json:",omitempty"`
	Fig2     []string `json:",omitempty"`
	// A K-category design's and criterion's, empty for the paper's.
	Design    string  `json:",omitempty"`
	Criterion string  `json:",omitempty"`
	Alpha     float64 `json:",omitempty"`
}

func (r *runner) selectivityInputs() selectivityInputs {
	o := r.p.o
	in := selectivityInputs{Format: stageFormat, Model: r.modelID, Sets: slices.Clone(r.inputs), Input: r.input,
		Keep: r.p.analysis.Keep, Top: r.p.top, Batch: o.batch, Permutations: o.permutations, Seed: o.seed}
	if o.an.Chance != "all" {
		in.Chance = o.an.Chance
	}
	if o.an.Variance != "population" {
		in.Variance = o.an.Variance
	}
	if o.fig2 != "" {
		in.Fig2 = splitList(o.fig2)
	}
	if r.p.k {
		in.Design, in.Criterion, in.Alpha = r.p.design.String(), r.p.crit.String(), o.design.Alpha
	}
	for i := range in.Sets {
		in.Sets[i].Dir = "" // where the set lives does not matter
	}
	if o.control {
		in.Control = fmt.Sprintf("%s random seed %d", o.model, r.p.controlSeed)
		if o.width != 1 || o.hidden != 4096 {
			in.Control += fmt.Sprintf(" width %g hidden %d", o.width, o.hidden)
		}
	}
	return in
}

// selectivity runs the selectivity stage into OUT/selectivity.
func (r *runner) selectivity(ctx context.Context) error {
	o := r.p.o
	in := r.selectivityInputs()
	key := keyOf(in)
	r.keys[stageSelectivity] = key
	outputs := []string{filepath.Join(selectivityDir, selstudy.SelectivityFile), filepath.Join(selectivityDir, selstudy.SelectiveFile),
		filepath.Join(selectivityDir, selstudy.OverlapFile)}
	if r.p.k {
		outputs = []string{filepath.Join(selectivityDir, selstudy.KSelectivityFile), filepath.Join(selectivityDir, selstudy.KSelectiveFile),
			filepath.Join(selectivityDir, selstudy.KOverlapFile)}
	}
	return r.stage(stageSelectivity, key, in, outputs, func() error {
		if r.p.shards > 1 {
			return cli.Usagef("-shard: the selectivity stage is not done (or its settings changed): run the same command\n" +
				"with -until selectivity instead of -shard once, then the shards")
		}
		m, nets, err := r.networks()
		if err != nil {
			return err
		}
		if r.p.k {
			err := selstudy.RunK(ctx, r.path(selectivityDir), selstudy.KConfig{
				Sets: r.sets, Networks: nets, Input: r.pre, Index: r.p.analysis.Index, Criterion: r.p.crit,
				Keep: r.p.analysis.Keep, Alpha: o.design.Alpha, Chance: r.p.analysis.Chance, Top: r.p.top, Batch: o.batch,
				Log: indent{r.log}, Progress: r.prog,
			})
			r.limitMemory()
			return err
		}
		cfg := selstudy.Config{Sets: r.sets, Networks: nets, Input: r.pre, Resize: o.resize, Analysis: r.p.analysis,
			Top: r.p.top, Batch: o.batch, Permutations: o.permutations, Seed: o.seed, Progress: r.prog, Log: indent{r.log}}
		if o.fig2 != "" {
			if cfg.Fig2, err = selstudy.Layers(m, splitList(o.fig2)); err != nil {
				return cli.Usagef("-fig2 %v", err)
			}
		}
		res, err := selstudy.Run(ctx, r.path(selectivityDir), cfg)
		if err != nil {
			return err
		}
		r.limitMemory()
		fmt.Fprint(indent{r.log}, res.Summary())
		return nil
	})
}

// networks builds the selectivity stage's networks: the one under study
// (returned first, also alone), then the random control if asked.
func (r *runner) networks() (*nn.Model, []selstudy.Network, error) {
	o := r.p.o
	m, err := r.mainModel()
	if err != nil {
		return nil, nil, err
	}
	main := selstudy.Network{Label: "pretrained", Model: m, Key: r.cacheKey(o.weights, o.seed)}
	if o.weights != "" {
		main.About = fmt.Sprintf("%s with weights %s (sha256 %s)", o.model, o.weights, r.weights[:16])
		main.Record = selectivity.RecordConfig{Weights: filepath.Base(o.weights)}
	} else {
		main.Label = fmt.Sprintf("random init (seed %d)", o.seed)
		main.About = fmt.Sprintf("%s WITHOUT trained weights: a random initialisation from seed %d stands in for the pretrained network", o.model, o.seed)
		main.Record = selectivity.RecordConfig{Seed: o.seed}
	}
	nets := []selstudy.Network{main}
	if o.control {
		c, err := r.build("", r.p.controlSeed)
		if err != nil {
			return nil, nil, err
		}
		r.limitMemory(c)
		nets = append(nets, selstudy.Network{
			Label:  fmt.Sprintf("random (seed %d)", r.p.controlSeed),
			About:  fmt.Sprintf("%s random initialisation from seed %d (control)", o.model, r.p.controlSeed),
			Key:    r.cacheKey("", r.p.controlSeed),
			Model:  c,
			Record: selectivity.RecordConfig{Seed: r.p.controlSeed},
		})
	}
	return m, nets, nil
}

// indent prefixes every line written with two spaces.
type indent struct{ w io.Writer }

func (in indent) Write(b []byte) (int, error) {
	s := strings.TrimSuffix(string(b), "\n")
	_, err := io.WriteString(in.w, "  "+strings.ReplaceAll(s, "\n", "\n  ")+"\n")
	return len(b), err
}

// manipulateInputs are what the manipulation stage depends on.
type manipulateInputs struct {
	Format      int
	Selectivity string // the selectivity stage's key
	Model       string
	Input       string
	Sets        []setInput
	Alphas      []float64
	Removed     []float64
	Refine      float64
	Search      string
	Direct      bool
	Threshold   string
	Draws       int
	Epochs      int
	Layers      []string
	Stages      []string
	Seed        uint64
	// Empty for the paper's readout, so that its key stays the same.
	Readout  string `json:",omitempty"`
	Balanced bool   `json:",omitempty"` // -balance (on for a K design by default)
	Features string `json:",omitempty"`
}

// resolveLayers fixes the manipulation's layer names for the model's
// architecture, without building it.
func (r *runner) resolveLayers() ([]string, error) {
	if !r.p.paperLayers {
		return r.p.layers, nil
	}
	m, err := r.shape()
	if err != nil {
		return nil, err
	}
	units := m.ConvUnits()
	var out []string
	for _, i := range selectivity.PaperLayers(len(units)) {
		out = append(out, units[i].Name)
	}
	return out, nil
}

// shape returns a model of the right architecture, parameters unset (for
// names and shapes only) unless the real one is built already.
func (r *runner) shape() (*nn.Model, error) {
	if r.model != nil {
		return r.model, nil
	}
	return shapeOnly(r.p.o.model, r.p.o.weights)
}

func (r *runner) manipulateInputs() (manipulateInputs, error) {
	layers, err := r.resolveLayers()
	if err != nil {
		return manipulateInputs{}, err
	}
	r.layers = layers
	in := manipulateInputs{Format: stageFormat, Selectivity: r.keys[stageSelectivity], Model: r.modelID, Input: r.input,
		Sets: slices.Clone(r.inputs), Alphas: r.p.alphas, Removed: r.p.removed, Refine: r.p.o.refine, Draws: r.p.draws,
		Search: r.searchText(), Direct: r.p.o.direct, Threshold: r.p.o.threshold, Epochs: r.p.epochs, Layers: layers, Stages: r.p.stages, Seed: r.p.o.seed}
	if !r.p.o.readout.IsDefault() {
		t := r.p.train
		in.Readout = fmt.Sprintf("%s lr %g momentum %g batch %d", r.p.o.readout.Optimizer, t.LR, t.Momentum, t.Batch)
	}
	in.Balanced = r.p.train.Balanced
	if r.p.o.features != manipulate.DefaultFeatures {
		in.Features = r.p.o.features
	}
	for i := range in.Sets {
		in.Sets[i].Dir = ""
	}
	return in, nil
}

// config returns the manipulation study's configuration.
func (r *runner) config(m *nn.Model, from *manstudy.Selectivity) (manstudy.Config, error) {
	var sets []manstudy.Set
	for _, s := range r.sets {
		ms, err := manstudy.FromSet(s, r.pre)
		if err != nil {
			return manstudy.Config{}, err
		}
		sets = append(sets, ms)
	}
	return manstudy.Config{
		Model: m, ModelID: r.modelID, Input: r.input, Sets: sets, From: from,
		Layers: r.layers, Stages: r.p.stages, Removed: r.p.removed, Seed: r.p.o.seed,
		Exp: manipulate.Config{Draws: r.p.draws, Alphas: r.p.alphas, Refine: r.p.o.refine,
			Exhaustive: r.p.o.exhaustive, Bracket: r.p.o.bracket, Direct: r.p.o.direct,
			Budget: r.p.o.mem << 20, Features: r.p.o.features},
		Readout: r.p.train,
		Shard:   r.p.shard, Shards: r.p.shards,
		ThresholdAll: r.p.o.threshold == "all",
		Classes:      classes(r.p, r.sets), Design: design(r.p),
	}, nil
}

// searchText says how the sweeps find the best α.
func (r *runner) searchText() string {
	if r.p.o.exhaustive || r.p.o.refine > 0 {
		return "grid"
	}
	return fmt.Sprintf("search, bracket %g", r.p.o.bracket)
}

// open opens the manipulation study in dir, starting it over if the
// directory holds a study with other settings.
func (r *runner) open(dir string, cfg manstudy.Config) (*manstudy.Study, error) {
	s, err := manstudy.Open(dir, cfg)
	if errors.Is(err, manstudy.ErrMismatch) {
		fmt.Fprintf(r.log, "  %s holds results of other settings; starting it over\n", dir)
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		s, err = manstudy.Open(dir, cfg)
	}
	return s, err
}

// manipulate runs the manipulation stage (readouts, lesion, sweep,
// threshold) into OUT/manipulate, or one shard of it, or merges the
// shards.
func (r *runner) manipulate(ctx context.Context) error {
	in, err := r.manipulateInputs()
	if err != nil {
		return err
	}
	key := keyOf(in)
	r.keys[stageManipulate] = key
	outputs := []string{filepath.Join(manipulateDir, manstudy.Table1File)}
	work := func() error {
		m, err := r.mainModel()
		if err != nil {
			return err
		}
		read := manstudy.ReadSelectivity
		if r.p.k {
			read = manstudy.ReadSelectivityK
		}
		from, err := read(r.path(selectivityDir))
		if err != nil {
			return err
		}
		cfg, err := r.config(m, from)
		if err != nil {
			return err
		}
		switch {
		case r.p.shards > 1:
			dir := r.path(shardsDir, fmt.Sprintf("shard-%d-of-%d", r.p.shard, r.p.shards))
			s, err := r.open(dir, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.log, "  shard %d/%d: %d of %d (set, emotion, layer) units\n", r.p.shard, r.p.shards, len(s.Mine()), len(s.Units()))
			if err := s.Run(ctx, r.prog); err != nil {
				return err
			}
			fmt.Fprintf(r.log, "shard %d/%d done; when every shard is done, run the same command with -merge instead of -shard\n",
				r.p.shard, r.p.shards)
			return nil
		case r.p.o.merge:
			dirs, err := r.checkShards(cfg)
			if err != nil {
				return err
			}
			if _, err := r.open(r.path(manipulateDir), cfg); err != nil {
				return err
			}
			fmt.Fprintf(r.log, "  merging %d shard directories\n", len(dirs))
			return manstudy.Merge(r.path(manipulateDir), dirs...)
		}
		s, err := r.open(r.path(manipulateDir), cfg)
		if err != nil {
			return err
		}
		if re := s.Reused(); re != "" {
			fmt.Fprintf(r.log, "  resuming, reusing what is done: %s\n", re)
		}
		return s.Run(ctx, r.prog)
	}
	if r.p.shards > 1 {
		// A shard is never the finished stage.
		t0 := time.Now()
		if err := work(); err != nil {
			return err
		}
		r.timings = append(r.timings, timing{Stage: stageManipulate, Seconds: time.Since(t0).Seconds(), Note: "shard " + r.p.o.shard})
		return nil
	}
	return r.stage(stageManipulate, key, in, outputs, work)
}

// shapeOnly returns the architecture with zero parameters and tiny fully
// connected layers: its conv units only. For onnx it is the graph of
// weights, with its parameters.
func shapeOnly(arch, weights string) (*nn.Model, error) {
	if arch == "onnx" {
		return cli.ONNX(weights, false, 0)
	}
	if arch == "alexnet" {
		return alexnet.New(alexnet.Config{Hidden: 1, Classes: 1}, nil), nil
	}
	var depth int
	fmt.Sscanf(arch, "vgg%d", &depth)
	return vgg.New(vgg.Config{Depth: depth, Hidden: 1, Classes: 1}, nil), nil
}

// copyFile copies src to dst atomically.
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(dst, b)
}

// checkEarly refuses, before anything is computed, what would otherwise
// fail only after the recording and the selectivity analysis: a -layers,
// -fig2 or -features name the model does not have, and -merge with no
// shards to merge.
func (r *runner) checkEarly() error {
	o := r.p.o
	if r.p.k && o.estimate {
		return cli.Usagef("-estimate times the paper's valence design only; under a K-category design, time a run with fewer -images")
	}
	if r.p.layers != nil || o.fig2 != "" || o.features != manipulate.DefaultFeatures {
		m, err := shapeOnly(o.model, o.weights)
		if err != nil {
			return err
		}
		var conv, all []string
		for _, u := range m.Units {
			all = append(all, u.Name)
			if u.Conv {
				conv = append(conv, u.Name)
			}
		}
		for flag, names := range map[string][]string{"-layers": r.p.layers, "-fig2": splitList(o.fig2)} {
			for _, l := range names {
				if !slices.Contains(conv, l) {
					return cli.Usagef("%s: %s has no conv layer %q (it has %s)", flag, o.model, l, strings.Join(conv, ", "))
				}
			}
		}
		if !slices.Contains(all, o.features) {
			return cli.Usagef("-features: %s has no unit %q (it has %s)", o.model, o.features, strings.Join(all, ", "))
		}
	}
	if r.p.o.merge {
		if dirs, _ := filepath.Glob(r.path(shardsDir, "shard-*-of-*")); len(dirs) == 0 {
			return cli.Usagef("-merge: no shard directories in %s: run the shards first (-shard i/n after -until selectivity)", r.path(shardsDir))
		}
	}
	return nil
}
