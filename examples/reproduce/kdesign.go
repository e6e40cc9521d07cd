package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	manstudy "github.com/emosel/emosel/manipulate/study"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// A K-category design (-rating, -label, -synthetic-classes) or another
// criterion (-select) runs the same stages as the paper's design: the
// stimuli, the selectivity stage (selectivity/study.RunK: its K tables
// and figures in OUT/selectivity) and the manipulation (a one-vs-rest
// readout per class, lesion and attention against count-matched random
// draws, a K-row Table 1, in OUT/manipulate) and a report of its own
// (reportK: OUT/report.md and report.html).

// classes returns the manipulation's classes under a K design (nil for
// the paper's): the sets' categories.
func classes(p *plan, sets []*stimuli.Set) []string {
	if !p.k || len(sets) == 0 {
		return nil
	}
	return sets[0].Classes
}

// design describes a K design for the manipulation's fingerprint.
func design(p *plan) string {
	if !p.k {
		return ""
	}
	return fmt.Sprintf("%v, %v selection", p.design, p.crit)
}

// bannerK describes the demonstration of -synthetic-classes.
func bannerK(p *plan) string {
	return fmt.Sprintf("DEMONSTRATION of a K-category design on synthetic stimuli: two sets generated in code (%d images each)\n"+
		"of the categories %s, which differ only in mean luminance, a randomly initialised %s and reduced settings.\n"+
		"Its numbers say nothing about any real category.\n\n", p.o.images, strings.Join(p.classes, ", "), p.o.model)
}

// doneK ends a K-design run: it writes the K report (reportK) and says
// what each stage wrote.
func (r *runner) doneK() error {
	sel, man := r.path(selectivityDir), r.path(manipulateDir)
	if err := r.reportK(); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "design %v, %v selection; wrote\n", r.sets[0].Design, r.p.crit)
	fmt.Fprintf(r.log, "  %s: %s, %s, %s, %s and the figures %s\n", sel,
		selstudy.KSelectivityFile, selstudy.KSelectiveFile, selstudy.KOverlapFile, selstudy.KTopFile, strings.Join(selstudy.KFigures, ", "))
	fmt.Fprintf(r.log, "  %s: %s (a row per set and category), %s, %s, %s, %s and the figures fig6, fig4_<set>\n", man,
		manstudy.Table1File, manstudy.ReadoutFile, manstudy.LesionFile, manstudy.SweepFile, manstudy.StatsFile)
	fmt.Fprintf(r.log, "  %s: the K-design report (Table 1 with a row per set and category, the readouts, the figures)\n",
		r.path("report.md"))
	return nil
}

// reportK writes report.md and report.html for a K design: the design,
// Table 1 with a row per set and category, the readouts, the tests
// across layers, and the figures of both stages.
func (r *runner) reportK() error {
	p, o := r.p, r.p.o
	var b []block
	if p.demo {
		b = append(b, note(strings.TrimSpace(bannerK(p))))
	}
	ver, _ := version()
	b = append(b, para(fmt.Sprintf("The analysis of Liu, Bo, Ding & Fang (2024), PLoS Comput Biol 20(3): e1011943, under the K-category design %v (%v selection), by emosel %s on %s (%s, %s).",
		r.sets[0].Design, p.crit, ver, cpuName(), o.model, r.input)))
	rest := fmt.Sprintf("the other %d categories", len(r.sets[0].Classes)-1)
	if len(r.sets[0].Classes) == 2 {
		rest = "the other category"
	}
	b = append(b, para(fmt.Sprintf("Each category's readout tells it from %s on %s (one-vs-rest; %s). Its selective channels are lesioned and enhanced against %d count-matched random draws per layer.",
		rest, o.features, balanceText(p.train.Balanced), p.draws)))
	t1, err := table1(r.path(manipulateDir, manstudy.Table1File), p.stages)
	if err != nil {
		return err
	}
	t1.(table).head[1] = "category"
	b = append(b, heading{2, "Table 1: a row per set and category"}, t1)
	ro, err := readoutTable(r.path(manipulateDir, manstudy.ReadoutFile))
	if err != nil {
		return err
	}
	b = append(b, heading{2, "Readouts of the intact network (test split)"}, ro)
	if w, err := wilcoxon(r.path(manipulateDir, manstudy.StatsFile)); err == nil {
		w.(table).head[1] = "category"
		b = append(b, heading{2, "Selective against random neurons, across layers"}, w)
	} else if !os.IsNotExist(err) {
		return err
	}
	b = append(b, heading{2, "Figures"})
	figs := []figure{
		{"selectivity/tuning_k.png", "Tuning: each category's exemplar neuron, its d′ of every category against the rest, per set."},
		{"selectivity/si_k.png", "Mean SI of each category's channels, layer by layer, per set."},
		{"selectivity/overlap_k.png", "Channels selective for each category in every set, against the chance model (dashed)."},
		{"manipulate/fig6.png", "Fig 6 per category: % change of test F1 after lesioning its selective channels (colour) against random draws (gray)."},
	}
	for _, s := range r.sets {
		figs = append(figs, figure{"manipulate/fig4_" + s.Name + ".png", "Figs 4–5 for " + s.Name + ": per category, the change of test F1 at each layer's best gain, and F1 against the gain."})
	}
	for _, f := range figs {
		if _, err := os.Stat(r.path(filepath.FromSlash(f.file))); err == nil {
			b = append(b, f)
		}
	}
	b = append(b, heading{2, "Files"}, list{
		"`selectivity/`: `selectivity_k.csv` (every channel's class means, d′, SI, preferred category, ANOVA F, p, BH q, selected), `selective_k.csv`, `overlap_k.csv`, `top_k.csv`, the figures `tuning_k`, `si_k`, `overlap_k`",
		"`manipulate/`: `table1.csv`, `readout.csv`, `lesion.csv`, `sweep.csv`, `stats.csv`, `fig6`, `fig4_<set>`",
		"Every file and column: [docs/OUTPUTS.md](" + outputsDoc + "#k-category-designs--rating--label--select) in the emosel repository",
	})
	return render(o.out, "K-category study: "+r.sets[0].Design.String(), b)
}

// balanceText describes the readout's loss.
func balanceText(balanced bool) string {
	if balanced {
		return "cross-entropy weighted by n/(k·n_c) of the training images, -balance"
	}
	return "plain cross-entropy, -balance off"
}

// readoutTable lists readout.csv's test rows.
func readoutTable(path string) (block, error) {
	c, rows, err := readColumns(path, "set", "emotion", "split", "n", "positives", "f1", "macro_f1", "accuracy")
	if err != nil {
		return nil, err
	}
	t := table{head: []string{"set", "category", "images", "of the category", "F1", "macro-F1", "accuracy"}}
	for _, r := range rows {
		if r[c("split")] != "test" {
			continue
		}
		t.rows = append(t.rows, []string{r[c("set")], r[c("emotion")], r[c("n")], r[c("positives")],
			num(r[c("f1")], 3), num(r[c("macro_f1")], 3), num(r[c("accuracy")], 3)})
	}
	return t, nil
}
