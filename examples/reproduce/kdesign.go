package main

import (
	"fmt"
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
// draws, a K-row Table 1, in OUT/manipulate). The report is the paper's
// design only; doneK says what was written instead.

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

// doneK ends a K-design run: it says what each stage wrote.
func (r *runner) doneK() error {
	sel, man := r.path(selectivityDir), r.path(manipulateDir)
	fmt.Fprintf(r.log, "design %v, %v selection; wrote\n", r.sets[0].Design, r.p.crit)
	fmt.Fprintf(r.log, "  %s: %s, %s, %s, %s and the figures %s\n", sel,
		selstudy.KSelectivityFile, selstudy.KSelectiveFile, selstudy.KOverlapFile, selstudy.KTopFile, strings.Join(selstudy.KFigures, ", "))
	fmt.Fprintf(r.log, "  %s: %s (a row per set and category), %s, %s, %s, %s and the figures fig6, fig4_<set>\n", man,
		manstudy.Table1File, manstudy.ReadoutFile, manstudy.LesionFile, manstudy.SweepFile, manstudy.StatsFile)
	fmt.Fprintf(r.log, "The report (report.md) is written for the paper's valence design only; see %s.\n",
		filepath.Join(man, manstudy.Table1File))
	return nil
}
