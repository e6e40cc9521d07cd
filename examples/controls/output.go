package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/lowlevel"
	"github.com/emosel/emosel/selectivity"
)

// num writes v in the shortest form that reads back exactly, NaN as "NaN"
// and infinities as "Inf"/"-Inf" (as the study's other CSV files).
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var terms = []string{"category", "factor", "interaction"}

func writeTwoWay(w io.Writer, sets []*studySet, tables [][]*selectivity.TwoWayTable) error {
	cw := csv.NewWriter(w)
	head := []string{"set", "layer", "channel"}
	for _, t := range terms {
		head = append(head, "df_"+t, "ss_"+t, "f_"+t, "p_"+t, "q_"+t, "eta2_"+t)
	}
	cw.Write(append(head, "df_residual", "ss_residual"))
	for i, s := range sets {
		for j, t := range tables[i] {
			qa, qb, qab := t.Q()
			for c, ch := range t.Channels {
				row := []string{s.set.Name, s.layers[j], strconv.Itoa(c)}
				for k, e := range []selectivity.TwoWayEffect{ch.Category, ch.Factor, ch.Interaction} {
					q := [][]float64{qa, qb, qab}[k][c]
					row = append(row, strconv.Itoa(e.DF), num(e.SS), num(e.F), num(e.P), num(q), num(e.Eta2))
				}
				cw.Write(append(row, strconv.Itoa(ch.DFE), num(ch.SSE)))
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeTwoWayLayers(w io.Writer, sets []*studySet, tables [][]*selectivity.TwoWayTable, fdr float64) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"set", "layer", "images", "categories", "levels", "fdr", "channels", "valid",
		"category", "factor", "interaction", "category_only", "category_stronger"})
	for i, s := range sets {
		for j, t := range tables[i] {
			n := t.Count(fdr)
			cw.Write([]string{s.set.Name, s.layers[j], strconv.Itoa(t.N), strconv.Itoa(len(t.Categories)), strconv.Itoa(len(t.Levels)),
				num(fdr), strconv.Itoa(n.Channels), strconv.Itoa(n.Valid), strconv.Itoa(n.Category), strconv.Itoa(n.Factor),
				strconv.Itoa(n.Interaction), strconv.Itoa(n.CategoryOnly), strconv.Itoa(n.Stronger)})
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeCells(w io.Writer, sets []*studySet, tables [][]*selectivity.TwoWayTable) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"set", "category", "level", "images"})
	for i, s := range sets {
		t := tables[i][0] // the design is the same in every layer
		for a, c := range t.Categories {
			for b, l := range t.Levels {
				cw.Write([]string{s.set.Name, c.String(), l, strconv.Itoa(t.Cells[a][b])})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// baseline is one set and emotion of the low-level control.
type baseline struct {
	set                     string
	task                    lowlevel.Task
	readoutVal, readoutTest float64
}

func writeBaseline(w io.Writer, base []baseline) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"set", "emotion", "split", "n", "positives", "f1", "lambda", "readout_f1"})
	for _, b := range base {
		for _, sp := range []struct {
			name string
			c    lowlevel.Confusion
			r    float64
		}{{"val", b.task.Val, b.readoutVal}, {"test", b.task.Test, b.readoutTest}} {
			c := sp.c
			cw.Write([]string{b.set, b.task.Category.String(), sp.name, strconv.Itoa(c.TP + c.FP + c.FN + c.TN),
				strconv.Itoa(c.TP + c.FN), num(c.F1()), num(b.task.Lambda), num(sp.r)})
		}
	}
	cw.Flush()
	return cw.Error()
}

type reportInput struct {
	o          options
	m          manifest
	factor     string
	sets       []*studySet
	tables     [][]*selectivity.TwoWayTable
	base       []baseline
	readoutErr error
	pre        imagenet.Config
	cfg        lowlevel.Config
	brief      bool // the terminal's version: no design tables
}

func f3(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// report writes controls.md (or, brief, its summary for the terminal).
func report(w io.Writer, in reportInput) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Supplementary controls\n\n")
	fmt.Fprintf(&b, "Study: `%s`", in.o.study)
	if in.m.Demo {
		fmt.Fprintf(&b, " (the demonstration: a random network and synthetic sets, so these numbers show the machinery, not the paper's result)")
	}
	fmt.Fprintf(&b, ". Sets: ")
	for i, s := range in.sets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%d images)", s.set.Name, len(s.set.Images))
	}
	b.WriteString(".\n\n")

	fmt.Fprintf(&b, "## Two-way ANOVA: emotion × %s\n\n", in.factor)
	if _, ok, _ := randomFactor(in.factor); ok {
		b.WriteString("The second factor is random (a null factor, `-factor " + in.factor + "`): every image gets one of its levels at random, so the emotion effects should survive it and its own effect should be found in about the FDR's share of channels or fewer.\n\n")
	}
	fmt.Fprintf(&b, "Per channel, responses (Eq 2) on emotion, %s and their interaction; Type II sums of squares (each main effect adjusted for the other), F tests, Benjamini–Hochberg q ≤ %g over each layer's channels, per term. "+
		"**emotion** counts channels whose main effect of emotion survives the second factor; *emotion only*, those with neither a %s effect nor an interaction; *emotion > %s*, those whose emotion effect is also the larger (partial η²).\n\n", in.factor, in.o.fdr, in.factor, in.factor)
	for i, s := range in.sets {
		t0 := in.tables[i][0]
		fmt.Fprintf(&b, "### %s\n\n", s.set.Name)
		fmt.Fprintf(&b, "%d images in the ANOVA, %d emotions × %d levels (%s)", t0.N, len(t0.Categories), len(t0.Levels), strings.Join(t0.Levels, ", "))
		if s.missing > 0 {
			fmt.Fprintf(&b, "; %d labelled images have no level and are left out", s.missing)
		}
		b.WriteString(".\n\n")
		if !in.brief {
			b.WriteString("| emotion |")
			for _, l := range t0.Levels {
				fmt.Fprintf(&b, " %s |", l)
			}
			b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(t0.Levels)) + "\n")
			for a, c := range t0.Categories {
				fmt.Fprintf(&b, "| %s |", c)
				for bb := range t0.Levels {
					fmt.Fprintf(&b, " %d |", t0.Cells[a][bb])
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "| layer | channels | emotion | %s | interaction | emotion only | emotion > %s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n", in.factor, in.factor)
		for j, t := range in.tables[i] {
			n := t.Count(in.o.fdr)
			fmt.Fprintf(&b, "| %s | %d | %d (%.0f%%) | %d | %d | %d | %d |\n", s.layers[j], n.Channels, n.Category,
				100*float64(n.Category)/float64(max(n.Channels, 1)), n.Factor, n.Interaction, n.CategoryOnly, n.Stronger)
		}
		b.WriteString("\n")
	}

	b.WriteString("## Low-level features\n\n")
	c := in.cfg
	fmt.Fprintf(&b, "Features of the network's input images before normalisation (%d px, %s): %d × %d log-Gabor energies pooled on a %d × %d grid, mean luminance, RMS contrast, the power spectrum's log-log slope and intercept and its octave-band shares (%d features). "+
		"An L2 logistic regression per emotion against the rest, features standardised on the training images, penalty chosen on val by F1, on the readout's own 50/25/25 split (seed %d). F1 on the test split, beside the network readout's (`manipulate/readout.csv`).\n\n",
		in.pre.Size, in.m.Parameters.Resize, c.Scales, c.Orientations, c.Grid, c.Grid, c.Len(in.pre.Size), in.m.Parameters.Seed)
	if in.readoutErr != nil {
		fmt.Fprintf(&b, "No readout scores: %v.\n\n", in.readoutErr)
	}
	b.WriteString("| set | emotion | test images | low-level F1 | readout F1 | λ |\n| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, r := range in.base {
		t := r.task.Test
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %s | %g |\n", r.set, r.task.Category, t.TP+t.FP+t.FN+t.TN, f3(t.F1()), f3(r.readoutTest), r.task.Lambda)
	}
	b.WriteString("\nAn F1 near the readout's means image statistics alone carry the category; chance for a category of share π is about 2π/(1+π) for a classifier that always says yes (0.5 at π = 1/3) and lower for one that guesses.\n")
	if !in.brief {
		b.WriteString("\n## Files\n\n`twoway.csv` (every channel), `twoway_layers.csv` (the counts above), `twoway_cells.csv` (the design), `lowlevel.csv` (val and test F1), `features/<set>.npy` and `features/names.csv` (the low-level features).\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
