package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// runK runs the study under a design other than the paper's valence one,
// or with a criterion other than the SI percentile (study.RunK): CSV
// tables, no figures.
func runK(ctx context.Context, o options, specs []setSpec, stderr io.Writer) error {
	acfg, pre, err := o.config()
	if err != nil {
		return err
	}
	des, crit, err := o.design.Design()
	if err != nil {
		return err
	}
	if des.IsDefault() {
		// The valence design under another criterion: its categories as
		// classes, from the -low/-high thresholds.
		des = stimuli.Design{}
	}
	var sets []*stimuli.Set
	for _, sp := range specs {
		set, err := study.LoadDesign(sp.name, sp.dir, des, stimuli.Thresholds{Low: o.low, High: o.high, Band: o.band}, o.skipBad)
		if err != nil {
			return err
		}
		sets = append(sets, set)
	}
	if err := stimuli.SameClasses(sets); err != nil {
		return fmt.Errorf("%w (use -categories to name them)", err)
	}
	build := o.newModel
	if build == nil {
		build = cli.Model
	}
	resize := fmt.Sprintf("%s%d", o.resize, o.size)
	net := study.Network{Label: "network", Key: fmt.Sprintf("%s-random%d-%s", o.model, o.seed, resize), Record: selectivity.RecordConfig{Seed: o.seed}}
	if o.weights != "" {
		net.Key = fmt.Sprintf("%s-%s-%s", o.model, safe(o.weights), resize)
		net.Record = selectivity.RecordConfig{Weights: o.weights}
	}
	if net.Model, err = build(o.model, o.weights, o.seed); err != nil {
		return err
	}
	nets := []study.Network{net}
	if o.control {
		c := study.Network{Label: "control", Key: fmt.Sprintf("%s-random%d-%s", o.model, o.controlSeed, resize), Record: selectivity.RecordConfig{Seed: o.controlSeed}}
		if c.Model, err = build(o.model, "", o.controlSeed); err != nil {
			return err
		}
		nets = append(nets, c)
	}
	err = study.RunK(ctx, o.out, study.KConfig{
		Sets: sets, Networks: nets, Input: pre, Index: acfg.Index, Criterion: crit,
		Keep: acfg.Keep, Alpha: o.design.Alpha, Chance: acfg.Chance, Top: o.top, Batch: o.batch, Log: stderr,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s to %s\n", strings.Join([]string{study.KSelectivityFile, study.KSelectiveFile, study.KOverlapFile, study.KTopFile}, ", "), o.out)
	return nil
}
