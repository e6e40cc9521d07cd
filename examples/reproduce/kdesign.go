package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/emosel/emosel/alexnet"
	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// runK runs the study under a design of K categories (-rating/-label) or
// another criterion (-select): so far the selectivity stage only
// (study.RunK, CSV tables in OUT/selectivity); the manipulation stage and
// the figures for K categories are not implemented, and the command says
// so.
func runK(ctx context.Context, o options, stderr io.Writer) error {
	if o.out == "" {
		return cli.Usagef("-out is empty")
	}
	des, crit, err := o.design.Design()
	if err != nil {
		return err
	}
	acfg, err := o.an.Config()
	if err != nil {
		return err
	}
	if o.synthetic != "" {
		if o.sets != "" {
			return cli.Usagef("-synthetic-classes and -sets are exclusive")
		}
		names := strings.Split(o.synthetic, ",")
		if _, err := stimuli.ParseDesign("", "", "category", o.synthetic); err != nil || len(names) < 2 {
			return cli.Usagef("-synthetic-classes %q: want two or more category names (%v)", o.synthetic, err)
		}
		var dirs []string
		for i, name := range demoSets {
			dir := filepath.Join(o.out, "stimuli", name)
			if err := stimuli.WriteSyntheticClasses(dir, name, names, 96, uint64(20240301+i), max(o.size, 32)); err != nil {
				return err
			}
			dirs = append(dirs, name+"="+dir)
		}
		o.sets = strings.Join(dirs, ",")
	}
	if o.sets == "" {
		return cli.Usagef("-rating, -label and -select need -sets or -synthetic-classes")
	}
	specs, err := parseSets(o.sets)
	if err != nil {
		return err
	}
	var sets []*stimuli.Set
	for _, sp := range specs {
		var set *stimuli.Set
		if des.IsDefault() {
			set, err = study.LoadSet(sp.name, sp.dir, stimuli.Thresholds{Low: o.low, High: o.high, Band: o.band}, o.skipBad)
		} else {
			set, err = stimuli.Load(sp.dir, stimuli.Config{Name: sp.name, Design: des, SkipBad: o.skipBad})
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", sp.name, err)
		}
		sets = append(sets, set)
	}
	size := o.size
	if size == 0 {
		size = paperSize
		if o.synthetic != "" {
			size = demoSize
		}
	}
	pre, err := cli.Resize(o.resize)
	if err != nil {
		return err
	}
	pre.Size = size
	build := func(weights string, seed uint64) (*nn.Model, error) {
		if weights == "" && (o.width != 1 || o.hidden != 4096) {
			if o.model == "alexnet" {
				return alexnet.New(alexnet.Config{Width: o.width, Hidden: o.hidden}, tensor.NewRNG(seed)), nil
			}
			var depth int
			fmt.Sscanf(o.model, "vgg%d", &depth)
			return vgg.New(vgg.Config{Depth: depth, Width: o.width, Hidden: o.hidden}, tensor.NewRNG(seed)), nil
		}
		return cli.Model(o.model, weights, seed)
	}
	resize := fmt.Sprintf("%s%d", o.resize, size)
	net := study.Network{Label: "network", Key: fmt.Sprintf("%s-random%d-%s", o.model, o.seed, resize), Record: selectivity.RecordConfig{Seed: o.seed}}
	if o.weights != "" {
		net.Key = fmt.Sprintf("%s-%s-%s", o.model, strings.TrimSuffix(filepath.Base(o.weights), filepath.Ext(o.weights)), resize)
		net.Record = selectivity.RecordConfig{Weights: filepath.Base(o.weights)}
	}
	if net.Model, err = build(o.weights, o.seed); err != nil {
		return err
	}
	nets := []study.Network{net}
	if o.control {
		cs := o.seed + 1
		if o.set["control-seed"] {
			cs = o.controlSeed
		}
		c := study.Network{Label: "control", Key: fmt.Sprintf("%s-random%d-%s", o.model, cs, resize), Record: selectivity.RecordConfig{Seed: cs}}
		if c.Model, err = build("", cs); err != nil {
			return err
		}
		nets = append(nets, c)
	}
	out := filepath.Join(o.out, "selectivity")
	err = study.RunK(ctx, out, study.KConfig{
		Sets: sets, Networks: nets, Input: imagenet.Config(pre), Index: acfg.Index, Criterion: crit,
		Keep: acfg.Keep, Alpha: o.design.Alpha, Chance: acfg.Chance, Top: o.top, Batch: o.batch, Log: stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s, %s, %s and %s to %s\n", study.KSelectivityFile, study.KSelectiveFile, study.KOverlapFile, study.KTopFile, out)
	fmt.Fprintln(stderr, "NOTE: for designs other than the paper's valence design, or with -select anova|nasr, reproduce runs the\nselectivity stage only; the K-category manipulation (readouts, lesion, attention, Table 1) and figures are not implemented yet.")
	return nil
}
