// Command controls runs the paper's supplementary controls (S1 Text) on a
// finished study (an examples/reproduce output directory):
//
//   - a two-way ANOVA per channel, category (emotion) × a second factor
//     given by a column of each set's ratings file (e.g. object, scene or
//     people content), Type II sums of squares, Benjamini–Hochberg
//     correction per layer and term; per layer, how many channels keep a
//     main effect of emotion once the second factor is accounted for;
//   - a low-level-feature baseline: GIST-like Gabor energies on a 4×4 grid,
//     luminance, RMS contrast and spatial-frequency statistics of the same
//     preprocessed grey images the network sees, an L2 logistic regression
//     per emotion (one vs rest) under the readout's own 50/25/25 split, and
//     its test F1 beside the readout's.
//
// Run the study first, then the controls on its directory:
//
//	go run ./examples/reproduce -out study ...
//	go run ./examples/controls -study study -factor content
//
// It reuses the study's recordings (selectivity/activations/<set>/), its
// sets, thresholds, preprocessing and seed (manifest.json) and its readout
// scores (manipulate/readout.csv); nothing runs through the network again.
// It writes, in -out (default STUDY/controls):
//
//	twoway.csv          set,layer,channel and df, SS, F, p, q, partial eta^2 of each term
//	twoway_layers.csv   per set and layer, channels with each effect at -fdr
//	twoway_cells.csv    the design: images per set, category and level
//	lowlevel.csv        per set and emotion, the baseline's val/test F1 beside the readout's
//	features/<set>.npy  the low-level features, float64 [images, features] (unknown rows 0)
//	features/names.csv  column,name of those arrays
//	controls.md         a short report of both
//
// For the demonstration's synthetic sets, which have no content column,
// the default factor is random:3, a null factor (three random levels per
// image): the emotion effects should all survive it and the factor's own
// effect should sit at the FDR level.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emosel/emosel/internal/atomicfile"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/lowlevel"
	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/selectivity"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// options are the parsed flags.
type options struct {
	study, out, factor, factorFiles string
	fdr                             float64
	scales, orientations, grid      int
	quiet                           bool
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
	if err := run(ctx, o, os.Stdout); err != nil {
		cli.Fatal(err)
	}
}

const defaultStudy = "emosel-out"

// parse reads the command line.
func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("controls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.study, "study", defaultStudy, "output directory of examples/reproduce: its manifest.json, recordings and readout scores are used")
	fs.StringVar(&o.out, "out", "", "output directory; empty means STUDY/controls")
	fs.StringVar(&o.factor, "factor", "", "second factor of the two-way ANOVA: a column of each set's ratings file (or of\n-factor-file), matched case-insensitively, e.g. content; or random:K, K random\nlevels per image (a null factor). Default content, or random:3 for the\ndemonstration's synthetic sets")
	fs.StringVar(&o.factorFiles, "factor-file", "", "NAME=CSV[,NAME=CSV...]: read set NAME's factor from CSV (columns file and the\n-factor column, joined on file) instead of its ratings file")
	fs.Float64Var(&o.fdr, "fdr", 0.05, "false discovery rate of the Benjamini-Hochberg correction (per set, layer and term)")
	fs.IntVar(&o.scales, "scales", 4, "Gabor scales of the low-level features (finest 0.25 cycles/pixel, octave steps)")
	fs.IntVar(&o.orientations, "orientations", 8, "Gabor orientations of the low-level features")
	fs.IntVar(&o.grid, "grid", 4, "cells per side of the grid the Gabor energies are averaged on")
	fs.BoolVar(&o.quiet, "quiet", false, "print only the report's path")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: controls [flags]\n\n"+
			"The paper's supplementary controls on a finished examples/reproduce study:\n"+
			"a two-way ANOVA per channel (emotion x a second factor from a ratings column,\n"+
			"Type II, BH-corrected), and a low-level-feature baseline (GIST-like Gabor\n"+
			"energies, luminance, contrast, spatial frequency; L2 logistic regression per\n"+
			"emotion under the readout's split) beside the readout's F1. Writes CSV tables\n"+
			"and controls.md to -out.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return o, cli.Usagef("unexpected arguments %q", fs.Args())
	}
	if !(o.fdr > 0 && o.fdr < 1) {
		return o, cli.Usagef("-fdr %v, want a rate between 0 and 1", o.fdr)
	}
	if o.scales < 1 || o.orientations < 1 || o.grid < 1 {
		return o, cli.Usagef("-scales, -orientations and -grid must be at least 1")
	}
	if o.out == "" {
		o.out = filepath.Join(o.study, "controls")
	}
	return o, nil
}

// manifest is what controls reads of reproduce's manifest.json.
type manifest struct {
	Demo       bool `json:"demo"`
	Parameters struct {
		Seed       uint64             `json:"seed"`
		Size       int                `json:"size"`
		Resize     string             `json:"resize"`
		SkipBad    bool               `json:"skip_bad"`
		Thresholds stimuli.Thresholds `json:"thresholds"`
	} `json:"parameters"`
	Inputs struct {
		Sets []struct {
			Name string `json:"name"`
			Dir  string `json:"dir"`
		} `json:"sets"`
	} `json:"inputs"`
}

// studySet is one set with everything the controls need.
type studySet struct {
	set     *stimuli.Set
	labels  []stimuli.Category
	levels  []string
	missing int
	layers  []string
	resp    []*tensor.Tensor // per layer, [images, channels]
}

func run(ctx context.Context, o options, stdout io.Writer) error {
	mpath := filepath.Join(o.study, "manifest.json")
	raw, err := os.ReadFile(mpath)
	if err != nil {
		return fmt.Errorf("%w (run examples/reproduce -out %s first)", err, o.study)
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: %w", mpath, err)
	}
	if len(m.Inputs.Sets) == 0 {
		return fmt.Errorf("%s lists no stimulus sets", mpath)
	}
	factor := o.factor
	if factor == "" {
		factor = "content"
		if m.Demo {
			factor = "random:3"
		}
	}
	files, err := parseFactorFiles(o.factorFiles, m)
	if err != nil {
		return err
	}
	pre, err := cli.Resize(m.Parameters.Resize)
	if err != nil {
		return fmt.Errorf("%s: %w", mpath, err)
	}
	pre.Size = m.Parameters.Size
	layers, err := readLayers(filepath.Join(o.study, "selectivity", "layers.csv"))
	if err != nil {
		return err
	}
	var sets []*studySet
	for _, in := range m.Inputs.Sets {
		s, err := loadSet(o.study, in.Name, in.Dir, m, layers)
		if err != nil {
			return err
		}
		s.levels, s.missing, err = factorLevels(s.set, factor, files[in.Name], m.Parameters.Seed)
		if err != nil {
			return fmt.Errorf("set %s: %w", in.Name, err)
		}
		sets = append(sets, s)
	}
	if err := os.MkdirAll(filepath.Join(o.out, "features"), 0o755); err != nil {
		return err
	}

	// Two-way ANOVA, per set and layer.
	tables := make([][]*selectivity.TwoWayTable, len(sets))
	for i, s := range sets {
		for j := range s.layers {
			t, err := selectivity.TwoWayANOVA(s.resp[j], s.labels, s.levels)
			if err != nil {
				return fmt.Errorf("set %s, layer %s: %w", s.set.Name, s.layers[j], err)
			}
			tables[i] = append(tables[i], t)
		}
	}
	if err := atomicfile.Write(filepath.Join(o.out, "twoway.csv"), func(w io.Writer) error { return writeTwoWay(w, sets, tables) }); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(o.out, "twoway_layers.csv"), func(w io.Writer) error { return writeTwoWayLayers(w, sets, tables, o.fdr) }); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(o.out, "twoway_cells.csv"), func(w io.Writer) error { return writeCells(w, sets, tables) }); err != nil {
		return err
	}

	// Low-level baseline.
	cfg := lowlevel.Config{Scales: o.scales, Orientations: o.orientations, Grid: o.grid}
	readout, readoutErr := readReadout(filepath.Join(o.study, "manipulate", "readout.csv"))
	var base []baseline
	for _, s := range sets {
		x, err := lowlevel.Extract(ctx, s.set, pre, cfg, false)
		if err != nil {
			return err
		}
		if err := writeFeatures(filepath.Join(o.out, "features", s.set.Name+".npy"), x, cfg.Len(pre.Size)); err != nil {
			return err
		}
		split := manipulate.Stratify(s.labels, manipulate.Derive(m.Parameters.Seed, "split", s.set.Name))
		if len(split.Train) == 0 || len(split.Val) == 0 || len(split.Test) == 0 {
			return fmt.Errorf("set %s is too small: a train, val or test split is empty", s.set.Name)
		}
		tasks, err := lowlevel.OneVsRest(x, s.labels, split.Train, split.Val, split.Test, nil)
		if err != nil {
			return fmt.Errorf("set %s: %w", s.set.Name, err)
		}
		for _, t := range tasks {
			r, ok := readout[s.set.Name+"/"+t.Category.String()]
			if !ok {
				r = [2]float64{math.NaN(), math.NaN()}
			}
			base = append(base, baseline{set: s.set.Name, task: t, readoutVal: r[0], readoutTest: r[1]})
		}
	}
	if err := atomicfile.Write(filepath.Join(o.out, "features", "names.csv"), func(w io.Writer) error {
		fmt.Fprintln(w, "column,name")
		for i, n := range cfg.Names(pre.Size) {
			fmt.Fprintf(w, "%d,%s\n", i, n)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(o.out, "lowlevel.csv"), func(w io.Writer) error { return writeBaseline(w, base) }); err != nil {
		return err
	}
	rep := filepath.Join(o.out, "controls.md")
	if err := atomicfile.Write(rep, func(w io.Writer) error {
		return report(w, reportInput{o: o, m: m, factor: factor, sets: sets, tables: tables, base: base, readoutErr: readoutErr, pre: pre, cfg: cfg})
	}); err != nil {
		return err
	}
	if o.quiet {
		fmt.Fprintln(stdout, rep)
		return nil
	}
	return report(stdout, reportInput{o: o, m: m, factor: factor, sets: sets, tables: tables, base: base, readoutErr: readoutErr, pre: pre, cfg: cfg, brief: true})
}

// parseFactorFiles parses -factor-file against the study's set names.
func parseFactorFiles(s string, m manifest) (map[string]string, error) {
	out := map[string]string{}
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, path, ok := strings.Cut(part, "=")
		if !ok || name == "" || path == "" {
			return nil, cli.Usagef("-factor-file %q: want NAME=CSV", part)
		}
		known := false
		for _, in := range m.Inputs.Sets {
			known = known || in.Name == name
		}
		if !known {
			return nil, cli.Usagef("-factor-file: the study has no set %q", name)
		}
		out[name] = path
	}
	return out, nil
}

// readLayers returns the layers of selectivity/layers.csv in file order
// (forward order), for the first network.
func readLayers(path string) ([]string, error) {
	rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	var layers []string
	seen := map[string]bool{}
	for _, r := range rows {
		if r["network"] != rows[0]["network"] || seen[r["layer"]] {
			continue
		}
		seen[r["layer"]] = true
		layers = append(layers, r["layer"])
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("%s lists no layers", path)
	}
	return layers, nil
}

// loadSet loads a study's set and its recorded responses, checking that
// the recording's rows are the set's images with the same categories.
func loadSet(study, name, dir string, m manifest, layers []string) (*studySet, error) {
	th := m.Parameters.Thresholds
	if th == (stimuli.Thresholds{}) {
		th = stimuli.DefaultThresholds
	}
	set, err := selstudy.LoadSet(name, dir, th, m.Parameters.SkipBad)
	if err != nil {
		return nil, err
	}
	s := &studySet{set: set, labels: set.Labels()}
	act := filepath.Join(study, "selectivity", "activations", name)
	rows, err := readCSV(filepath.Join(act, selectivity.ImagesFile))
	if err != nil {
		return nil, err
	}
	if len(rows) != len(set.Images) {
		return nil, fmt.Errorf("%s has %d rows, set %s has %d images: the set changed since the study ran", filepath.Join(act, selectivity.ImagesFile), len(rows), name, len(set.Images))
	}
	for i, r := range rows {
		if r["file"] != set.Images[i].File || r["category"] != set.Images[i].Category.String() {
			return nil, fmt.Errorf("%s:%d: %s %s, the set has %s %s: the set changed since the study ran",
				filepath.Join(act, selectivity.ImagesFile), i+2, r["file"], r["category"], set.Images[i].File, set.Images[i].Category)
		}
	}
	for _, l := range layers {
		p := filepath.Join(act, l+".npy")
		t, err := npy.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if t.Rank() != 2 || t.Dim(0) != len(set.Images) {
			return nil, fmt.Errorf("%s has shape %v, want [%d channels]", p, t.Shape(), len(set.Images))
		}
		s.layers = append(s.layers, l)
		s.resp = append(s.resp, t)
	}
	return s, nil
}

// readCSV reads a CSV file with a header into one map per row.
func readCSV(path string) ([]map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		r := map[string]string{}
		for i, h := range recs[0] {
			if i < len(rec) {
				r[h] = rec[i]
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// readReadout returns the readout's F1 per "set/emotion": [val, test].
func readReadout(path string) (map[string][2]float64, error) {
	out := map[string][2]float64{}
	rows, err := readCSV(path)
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		f, err := strconv.ParseFloat(r["f1"], 64)
		if err != nil {
			return out, fmt.Errorf("%s: f1 %q: %w", path, r["f1"], err)
		}
		k := r["set"] + "/" + r["emotion"]
		v, ok := out[k]
		if !ok {
			v = [2]float64{math.NaN(), math.NaN()}
		}
		switch r["split"] {
		case "val":
			v[0] = f
		case "test":
			v[1] = f
		}
		out[k] = v
	}
	return out, nil
}

// writeFeatures writes the feature rows as a float64 [images, p] array,
// rows in no split as zeros.
func writeFeatures(path string, x [][]float64, p int) error {
	data := make([]float64, len(x)*p)
	for i, r := range x {
		copy(data[i*p:(i+1)*p], r)
	}
	return atomicfile.Write(path, func(w io.Writer) error { return npy.WriteFloat64(w, data, len(x), p) })
}
