package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/internal/atomicfile"
	"github.com/emosel/emosel/internal/cli"
	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/manipulate"
	manstudy "github.com/emosel/emosel/manipulate/study"
	selstudy "github.com/emosel/emosel/selectivity/study"
	"github.com/emosel/emosel/stimuli"
)

// A report is a list of blocks, rendered as Markdown and as HTML.
type block interface {
	md(w *bytes.Buffer)
	html(w *bytes.Buffer, dir string) error
}

type heading struct {
	level int
	text  string
}

func (h heading) md(w *bytes.Buffer) {
	fmt.Fprintf(w, "%s %s\n\n", strings.Repeat("#", h.level), h.text)
}
func (h heading) html(w *bytes.Buffer, _ string) error {
	fmt.Fprintf(w, "<h%d>%s</h%d>\n", h.level, html.EscapeString(h.text), h.level)
	return nil
}

// para is a paragraph; text between backticks is code.
type para string

func (p para) md(w *bytes.Buffer) { fmt.Fprintf(w, "%s\n\n", p) }
func (p para) html(w *bytes.Buffer, _ string) error {
	fmt.Fprintf(w, "<p>%s</p>\n", inline(string(p)))
	return nil
}

// note is a highlighted paragraph.
type note string

func (n note) md(w *bytes.Buffer) {
	fmt.Fprintf(w, "> %s\n\n", strings.ReplaceAll(string(n), "\n", "\n> "))
}
func (n note) html(w *bytes.Buffer, _ string) error {
	fmt.Fprintf(w, "<div class=\"note\">%s</div>\n", strings.ReplaceAll(inline(string(n)), "\n", "<br>"))
	return nil
}

// inline escapes text for HTML and turns `code` into <code>.
func inline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + html.EscapeString(p) + "</code>")
			continue
		}
		if i%2 == 1 {
			b.WriteString("`")
		}
		b.WriteString(html.EscapeString(p))
	}
	return b.String()
}

type list []string

func (l list) md(w *bytes.Buffer) {
	for _, s := range l {
		fmt.Fprintf(w, "- %s\n", s)
	}
	w.WriteString("\n")
}
func (l list) html(w *bytes.Buffer, _ string) error {
	w.WriteString("<ul>\n")
	for _, s := range l {
		fmt.Fprintf(w, "<li>%s</li>\n", inline(s))
	}
	w.WriteString("</ul>\n")
	return nil
}

type table struct {
	head []string
	rows [][]string
}

func (t table) md(w *bytes.Buffer) {
	cell := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	row := func(r []string) {
		w.WriteString("|")
		for _, c := range r {
			w.WriteString(" " + cell(c) + " |")
		}
		w.WriteString("\n")
	}
	row(t.head)
	w.WriteString("|")
	for range t.head {
		w.WriteString(" --- |")
	}
	w.WriteString("\n")
	for _, r := range t.rows {
		row(r)
	}
	w.WriteString("\n")
}
func (t table) html(w *bytes.Buffer, _ string) error {
	w.WriteString("<table>\n<tr>")
	for _, h := range t.head {
		fmt.Fprintf(w, "<th>%s</th>", inline(h))
	}
	w.WriteString("</tr>\n")
	for _, r := range t.rows {
		w.WriteString("<tr>")
		for _, c := range r {
			fmt.Fprintf(w, "<td>%s</td>", inline(c))
		}
		w.WriteString("</tr>\n")
	}
	w.WriteString("</table>\n")
	return nil
}

// figure is a PNG under the output directory, linked from Markdown and
// inlined in HTML.
type figure struct {
	file    string // relative to the output directory, '/'-separated
	caption string
}

func (f figure) md(w *bytes.Buffer) {
	fmt.Fprintf(w, "![%s](%s)\n\n*%s*\n\n", filepath.Base(f.file), f.file, f.caption)
}
func (f figure) html(w *bytes.Buffer, dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.file)))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "<figure><img alt=\"%s\" src=\"data:image/png;base64,%s\"><figcaption>%s</figcaption></figure>\n",
		html.EscapeString(filepath.Base(f.file)), base64.StdEncoding.EncodeToString(b), inline(f.caption))
	return nil
}

const style = `body{font-family:system-ui,sans-serif;max-width:62em;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left}
th{background:#f3f3f3}code,pre{background:#f5f5f5;font-size:.9em}pre{padding:.6em;overflow-x:auto}
.note{border-left:4px solid #d9822b;background:#fff6ec;padding:.6em 1em;margin:1em 0}
figure{margin:1em 0 2em}img{max-width:100%;border:1px solid #eee}figcaption{font-style:italic;font-size:.9em}`

// render writes report.md and report.html.
func render(dir, title string, blocks []block) error {
	var md, ht bytes.Buffer
	fmt.Fprintf(&md, "# %s\n\n", title)
	fmt.Fprintf(&ht, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title>\n<style>%s</style></head><body>\n<h1>%s</h1>\n",
		html.EscapeString(title), style, html.EscapeString(title))
	for _, b := range blocks {
		b.md(&md)
		if err := b.html(&ht, dir); err != nil {
			return err
		}
	}
	ht.WriteString("</body></html>\n")
	if err := atomicfile.WriteBytes(filepath.Join(dir, "report.md"), md.Bytes()); err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, "report.html"), ht.Bytes())
}

// readCSV reads a whole CSV file: header and rows.
func readCSV(path string) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("%s: empty", path)
	}
	return rows[0], rows[1:], nil
}

// column returns the index of name in head, or -1.
func column(head []string, name string) int { return slices.Index(head, name) }

// readColumns reads a CSV output that must have the columns names and
// returns its rows with a lookup of a column's index by name.
func readColumns(path string, names ...string) (func(string) int, [][]string, error) {
	head, rows, err := readCSV(path)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		if column(head, n) < 0 {
			return nil, nil, fmt.Errorf("%s: no column %s", path, n)
		}
	}
	return func(n string) int { return column(head, n) }, rows, nil
}

// num formats a CSV number for a table.
func num(s string, digits int) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		if s == "" || s == "NaN" {
			return "–"
		}
		return s
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

// pval formats a p-value.
func pval(s string) string {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return "–"
	}
	if v < 1e-3 {
		return strconv.FormatFloat(v, 'e', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// table1 builds Table 1 from manipulate/table1.csv; stages are the
// manipulations that ran, so that an experiment that ran with no
// selective neuron in any layer reads so, not as a dash.
func table1(path string, stages []string) (block, error) {
	c, rows, err := readColumns(path, "set", "emotion", "original_f1", "enhanced_f1", "enhanced_layer", "enhanced_alpha", "enhanced_pct",
		"lesioned_f1", "lesioned_layer", "lesioned_pct")
	if err != nil {
		return nil, err
	}
	t := table{head: []string{"set", "emotion", "original F1", "enhanced F1", "layer, α", "change", "lesioned F1", "layer", "change"}}
	for _, r := range rows {
		// Both are signed changes of F1: + a rise, - a fall.
		pct := func(col string) string {
			v, err := strconv.ParseFloat(r[c(col)], 64)
			if err != nil || math.IsNaN(v) {
				return "–"
			}
			return fmt.Sprintf("%+.1f%%", v+0) // +0 turns −0 into 0
		}
		enhLayer := strings.Trim(r[c("enhanced_layer")]+", α "+num(r[c("enhanced_alpha")], 2), ", α–")
		if r[c("enhanced_layer")] == "" && slices.Contains(stages, "sweep") {
			enhLayer = "no selective neurons"
		}
		lesLayer := r[c("lesioned_layer")]
		if lesLayer == "" && slices.Contains(stages, "lesion") {
			lesLayer = "no selective neurons"
		}
		t.rows = append(t.rows, []string{r[c("set")], r[c("emotion")], num(r[c("original_f1")], 3),
			num(r[c("enhanced_f1")], 3), enhLayer, pct("enhanced_pct"), num(r[c("lesioned_f1")], 3), lesLayer, pct("lesioned_pct")})
	}
	return t, nil
}

// overlapTable pivots an overlap.csv: per layer and emotion, the neurons
// selective in every set, the number expected by chance and p.
func overlapTable(path string) (block, error) {
	head, rows, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	li, ei, oi, xi, pi := column(head, "layer"), column(head, "emotion"), column(head, "observed"), column(head, "expected"), column(head, "p")
	if li < 0 || ei < 0 || oi < 0 || xi < 0 || pi < 0 {
		return nil, fmt.Errorf("%s: want columns layer, emotion, observed, expected, p", path)
	}
	t := table{head: []string{"layer"}}
	for e := range stimuli.NumEmotions {
		t.head = append(t.head, e.String()+": observed / expected (p)")
	}
	var layers []string
	cells := map[string][]string{}
	for _, r := range rows {
		l := r[li]
		if _, ok := cells[l]; !ok {
			layers = append(layers, l)
			cells[l] = make([]string, stimuli.NumEmotions)
		}
		e, err := stimuli.ParseCategory(r[ei])
		if err != nil || e >= stimuli.NumEmotions {
			return nil, fmt.Errorf("%s: emotion %q", path, r[ei])
		}
		cells[l][e] = fmt.Sprintf("%s / %s (%s)", r[oi], num(r[xi], 1), pval(r[pi]))
	}
	for _, l := range layers {
		t.rows = append(t.rows, append([]string{l}, cells[l]...))
	}
	return t, nil
}

// wilcoxon lists stats.csv's across-layer tests.
func wilcoxon(path string) (block, error) {
	c, rows, err := readColumns(path, "set", "emotion", "test", "n_layers", "n_test", "selective", "random_mean", "p_value")
	if err != nil {
		return nil, err
	}
	t := table{head: []string{"set", "emotion", "test", "layers tested", "layers differing (Wilcoxon n)", "selective (mean F1)", "random (mean F1)", "p (Wilcoxon)"}}
	for _, r := range rows {
		test := r[c("test")]
		if !strings.HasSuffix(test, "_wilcoxon") {
			continue
		}
		t.rows = append(t.rows, []string{r[c("set")], r[c("emotion")], strings.TrimSuffix(test, "_wilcoxon"), r[c("n_layers")], r[c("n_test")],
			num(r[c("selective")], 3), num(r[c("random_mean")], 3), pval(r[c("p_value")])})
	}
	return t, nil
}

// figureCaptions describe the figures by base name.
func caption(base string) (string, int) {
	switch {
	case base == "fig2_tuning":
		return "Fig 2 (top). Tuning curves of each layer's most selective neuron per emotion, in the early, middle and deep layer, per set.", 0
	case base == "fig2_top":
		return "Fig 2 (bottom). Valences of the images that drive those neurons most.", 1
	case base == "fig3a_si":
		return "Fig 3A. Selectivity index by layer and set: the network under study against the random control.", 2
	case base == "fig3b_counts":
		return "Fig 3B. Neurons selective for the same emotion in every set, against chance (top) and against the random network (bottom).", 3
	case base == "fig3c":
		return "Fig 3C. Threshold search: test F1 after enhancing the neurons left when the lowest x% by SI are removed.", 4
	case strings.HasPrefix(base, "fig4_"):
		return "Figs 4–5. Attention: change of test F1 when the selective neurons' gain is raised (best α on val), against as many random neurons, per layer; set " + strings.TrimPrefix(base, "fig4_") + ".", 5
	case base == "fig6":
		return "Fig 6. Lesion: change of test F1 when the selective neurons are silenced, against as many random neurons, per layer.", 6
	}
	return base, 7
}

// publishOutputs copies the headline tables and every figure of the
// stages to the top of the output directory, and returns the figures.
func (r *runner) publishOutputs() ([]string, error) {
	copies := [][2]string{
		{filepath.Join(selectivityDir, selstudy.OverlapFile), "overlap.csv"},
		{filepath.Join(manipulateDir, manstudy.Table1File), "table1.csv"},
	}
	for _, c := range copies {
		if err := copyFile(r.path(c[0]), r.path(c[1])); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	if err := os.MkdirAll(r.path(figuresDir), 0o755); err != nil {
		return nil, err
	}
	var figs []string
	for _, d := range []string{selectivityDir, manipulateDir} {
		for _, ext := range []string{".png", ".svg"} {
			files, _ := filepath.Glob(r.path(d, "fig*"+ext))
			for _, f := range files {
				if err := copyFile(f, r.path(figuresDir, filepath.Base(f))); err != nil {
					return nil, err
				}
				if ext == ".png" {
					figs = append(figs, strings.TrimSuffix(filepath.Base(f), ext))
				}
			}
		}
	}
	slices.SortStableFunc(figs, func(a, b string) int {
		_, ka := caption(a)
		_, kb := caption(b)
		if ka != kb {
			return ka - kb
		}
		return strings.Compare(a, b)
	})
	return figs, nil
}

// report writes report.md and report.html.
func (r *runner) report() error {
	p, o := r.p, r.p.o
	figs, err := r.publishOutputs()
	if err != nil {
		return err
	}
	var b []block
	if p.demo {
		b = append(b, note(strings.TrimSpace(banner(p))))
		if !o.paper && o.weights == "" {
			b = append(b, para(demoDesign(p)))
		}
	} else if o.weights == "" {
		b = append(b, note(fmt.Sprintf("The network under study is UNTRAINED: without -weights it is a random initialisation from seed %d, like the control.", o.seed)))
	}
	simdPath := simd.Active()
	ver, _ := version()
	b = append(b, para(fmt.Sprintf("Liu, Bo, Ding & Fang (2024), \"Emergence of emotion selectivity in deep neural networks trained to recognize visual objects\", PLoS Comput Biol 20(3): e1011943, reproduced by emosel %s on %s (%s kernels, %s convolutions, %s, %d threads) on %s.",
		ver, cpuName(), simdPath, conv.CurrentAlgorithm(), runtime.GOARCH, runtime.GOMAXPROCS(0), time.Now().UTC().Format("2006-01-02 15:04 MST"))))

	// Inputs.
	model := fmt.Sprintf("%s with weights `%s` (sha256 %s)", o.model, o.weights, r.weights)
	if o.weights == "" {
		model = fmt.Sprintf("%s, untrained: random initialisation from seed %d (no -weights)", o.model, o.seed)
		if o.width != 1 || o.hidden != 4096 {
			model += fmt.Sprintf(", reduced to width %g and %d hidden units", o.width, o.hidden)
		}
	}
	inputs := table{head: []string{"input", "value"}, rows: [][]string{{"network", model}}}
	if o.control {
		c := fmt.Sprintf("%s, random initialisation from seed %d", o.model, r.p.controlSeed)
		if o.width != 1 || o.hidden != 4096 {
			c += fmt.Sprintf(", reduced to width %g and %d hidden units", o.width, o.hidden)
		}
		inputs.rows = append(inputs.rows, []string{"control", c})
	}
	for i, s := range r.sets {
		in := r.inputs[i]
		what := "`" + in.Dir + "`"
		if p.demo {
			what = "synthetic, generated into `" + filepath.ToSlash(filepath.Join(stimuliDir, s.Name)) + "`"
		}
		inputs.rows = append(inputs.rows, []string{"set " + s.Name, fmt.Sprintf("%s: %d images (%v), sha256 %s…", what, in.Images, in.Counts, in.Hash[:16])})
	}
	inputs.rows = append(inputs.rows, []string{"preprocessing", fmt.Sprintf("grey, %s to %d×%d px", strings.ToLower(r.pre.Mode.String()), p.size, p.size)})
	b = append(b, heading{2, "Inputs"}, inputs)

	// Table 1 and the statistics.
	if t, err := table1(r.path(manipulateDir, manstudy.Table1File), r.p.stages); err == nil {
		b = append(b, heading{2, "Table 1"},
			para("Original, enhanced and lesioned performance (F1 on the test split of each set's readout): the best attention gain over the layers (α chosen on the validation split) and the worst lesion, with their layer and the change from the original."),
			t)
	} else {
		b = append(b, heading{2, "Table 1"}, para("Not available: "+err.Error()))
	}
	if t, err := wilcoxon(r.path(manipulateDir, manstudy.StatsFile)); err == nil {
		b = append(b, heading{3, "Selective against random neurons, across layers"},
			para("Wilcoxon signed-rank tests over the layers of the selective set's F1 against the mean of the random draws (one-sided: lesion lower, attention higher); per-layer rank tests are in `manipulate/stats.csv`."),
			t)
	}
	b = append(b, heading{2, "Emotion-selective neurons"},
		para("Per layer and emotion, the neurons selective for that emotion in every set (the top 80% by SI in each set, preferring the emotion), against the overlap expected by chance and its hypergeometric p (`overlap.csv`). The p-value treats channels as independent and is anti-conservative; compare with the random network."))
	if t, err := overlapTable(r.path(selectivityDir, selstudy.OverlapFile)); err == nil {
		b = append(b, heading{3, "Network under study"}, t)
	}
	if o.control {
		if t, err := overlapTable(r.path(selectivityDir, selstudy.ControlDir, selstudy.OverlapFile)); err == nil {
			b = append(b, heading{3, fmt.Sprintf("Random control (seed %d)", r.p.controlSeed)}, t)
		}
	}

	// Figures.
	b = append(b, heading{2, "Figures"})
	for _, f := range figs {
		c, _ := caption(f)
		b = append(b, figure{file: figuresDir + "/" + f + ".png", caption: c})
	}

	// Parameters, stages, what was left out.
	b = append(b, heading{2, "Parameters"}, r.parameters(), para("Command: `"+commandLine(o.args)+"`"))
	st := table{head: []string{"stage", "status", "time"}}
	for _, t := range r.timings {
		if t.Stage == stageReport {
			continue
		}
		status, took := "ran", cli.Seconds(t.Seconds)
		if t.Reused {
			status, took = "reused from the cache", fmt.Sprintf("%s (computed in %s)", took, cli.Seconds(t.Computed))
		}
		st.rows = append(st.rows, []string{t.Stage, status, took})
	}
	b = append(b, heading{2, "Stages"}, st)
	b = append(b, heading{2, "What was skipped"}, list(r.skippedList()))
	b = append(b, heading{2, "Files"}, list(r.filesList()))
	return render(o.out, "emosel: emotion selectivity in a CNN (Liu et al. 2024)", b)
}

func commandLine(args []string) string {
	q := []string{"go run ./examples/reproduce"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		q = append(q, a)
	}
	return strings.Join(q, " ")
}

func floats(x []float64, scale float64) string {
	s := make([]string, len(x))
	for i, v := range x {
		s[i] = strconv.FormatFloat(v*scale, 'g', -1, 64)
	}
	if len(s) > 12 {
		return fmt.Sprintf("%s, %s, …, %s (%d values)", s[0], s[1], s[len(s)-1], len(s))
	}
	return strings.Join(s, ", ")
}

// parameters is the parameter table.
func (r *runner) parameters() table {
	p, o := r.p, r.p.o
	layers := "all conv layers"
	if r.layers != nil {
		layers = strings.Join(r.layers, ", ")
	}
	rows := [][]string{
		{"-model", o.model},
		{"-weights", orNone(o.weights)},
		{"-seed", fmt.Sprint(o.seed)},
		{"-resize, -size", fmt.Sprintf("%s, %d", o.resize, p.size)},
		{"-low, -high, -band (valence thresholds)", fmt.Sprintf("%g, %g, %g", p.th.Low, p.th.High, p.th.Band)},
		{"-keep, -chance, -variance (SI)", fmt.Sprintf("%g of the channels with a finite SI per set and layer; chance model: %s; variance in d': %s",
			o.an.Keep, chanceText(o.an.Chance), o.an.Variance)},
		{"-control, -control-seed", fmt.Sprintf("%v, %d", o.control, p.controlSeed)},
		{"-permutations", fmt.Sprint(o.permutations)},
		{"-top", fmt.Sprint(p.top)},
		{"-layers (manipulated)", layers},
		{"-stages", strings.Join(p.stages, ", ")},
		{"-alphas", floats(p.alphas, 1)},
		{"-refine", fmt.Sprint(o.refine)},
		{"best α (-exhaustive, -bracket)", r.searchText()},
		{"-direct (no reuse of the next layer)", fmt.Sprint(o.direct)},
		{"-threshold (scope of Fig 3C)", thresholdText(o.threshold)},
		{"-draws", fmt.Sprint(p.draws)},
		{"-removed (%)", floats(p.removed, 100)},
		{"readout (-features, -optimizer, -lr, -train-batch, -epochs)", readoutText(p)},
	}
	if p.demo {
		rows = append(rows, []string{"-images (per synthetic set)", fmt.Sprint(o.images)})
	}
	return table{head: []string{"parameter", "value"}, rows: rows}
}

func chanceText(c string) string {
	if c == "valid" {
		return "the channels with a finite SI in every set"
	}
	return "all of the layer's channels (the paper's)"
}

// readoutText describes the readout's training.
func readoutText(p *plan) string {
	opt := "Adam"
	if p.o.readout.Optimizer == "sgd" {
		opt = fmt.Sprintf("SGD (momentum %g)", p.train.Momentum)
	}
	return fmt.Sprintf("2-unit linear on %s, %s lr %g, batch %d, %d epochs; split 50/25/25 train/val/test, stratified",
		p.o.features, opt, p.train.LR, p.train.Batch, p.epochs)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return "`" + s + "`"
}

// skippedList says what this run left out of the paper's study.
func (r *runner) skippedList() []string {
	p, o := r.p, r.p.o
	var out []string
	if p.demo {
		out = append(out, "The real stimuli: IAPS and NAPS are licensed by their owners (OASIS is public); this run used synthetic sets.")
	}
	if o.weights == "" {
		out = append(out, "The trained network: without -weights the network under study is a random initialisation, like the control.")
	}
	if p.size != paperSize {
		out = append(out, fmt.Sprintf("Full-size input: %d px instead of the paper's 224.", p.size))
	}
	if !slices.Equal(p.alphas, manipulate.DefaultAlphas()) {
		out = append(out, fmt.Sprintf("The full α grid: %s instead of 0 to 5 by 0.1.", floats(p.alphas, 1)))
	}
	if p.draws != 10 {
		out = append(out, fmt.Sprintf("Random draws: %d per layer instead of 10, so a rank p-value cannot go below %.2f.", p.draws, 1/float64(p.draws+1)))
	}
	if r.layers != nil {
		out = append(out, fmt.Sprintf("Lesion and attention in every layer: only %s (every layer is still analysed for selectivity).", strings.Join(r.layers, ", ")))
	}
	if len(p.removed) != 10 {
		out = append(out, fmt.Sprintf("The full threshold search: %s%% removed instead of 0 to 90%% by 10.", floats(p.removed, 100)))
	}
	for _, st := range []string{"lesion", "sweep", "threshold"} {
		if !slices.Contains(p.stages, st) {
			out = append(out, fmt.Sprintf("The %s experiment (-stages).", st))
		}
	}
	if !o.control {
		out = append(out, "The random control network (-control=false).")
	}
	if o.permutations == 0 {
		out = append(out, "Permutation p-values for the overlaps (-permutations 0): only the hypergeometric p.")
	}
	for i, s := range r.sets {
		if n := r.inputs[i].Counts[stimuli.Unknown]; n > 0 {
			out = append(out, fmt.Sprintf("Set %s: %d images between categories (unknown) are left out of every statistic.", s.Name, n))
		}
		if len(s.Skipped) > 0 {
			out = append(out, fmt.Sprintf("Set %s: %d bad ratings rows skipped (-skip-bad), e.g. %s.", s.Name, len(s.Skipped), s.Skipped[0].Error()))
		}
	}
	other := "AlexNet (run again with -model alexnet)"
	if o.model == "alexnet" {
		other = "VGG-16, the paper's main network (run again with -model vgg16)"
	}
	out = append(out, "The paper's supplementary analyses: "+other+", the GIST/SVM low-level control and the object-category ANOVA are not part of this pipeline.")
	return out
}

// filesList describes the output directory.
func (r *runner) filesList() []string {
	out := []string{
		"`report.md`, `report.html` (self-contained), `manifest.json` (version, parameters, input hashes, timings, CPU path)",
		"`table1.csv`, `overlap.csv`: Table 1 and the cross-set overlaps; `figures/`: every figure as PNG and SVG",
		"`selectivity/`: `selectivity.csv` (every channel's tuning, d′, SI), `selective.csv`, `overlap.csv`, `layers.csv`, `top.csv`, `control/`, `activations/<set>/<layer>.npy`, `report.txt`",
		"`manipulate/`: `table1.csv`, `lesion.csv`, `sweep.csv`, `threshold.csv`, `stats.csv`, `readout.csv`; `features/<set>.<fingerprint>.npy` (the readout's input, float32 [images, features]); `units/` and `readouts/` hold the finished work a rerun resumes from",
		"`stages/`: the stage cache (each stage's key, inputs and time); delete a file to force that stage to rerun",
	}
	if r.p.demo {
		out = append(out, "`stimuli/`: the generated synthetic sets (PNG images and ratings.csv)")
	}
	return append(out, "Every file, column, unit and sign convention: [docs/OUTPUTS.md]("+outputsDoc+") in the emosel repository")
}

// outputsDoc is the data dictionary of the outputs.
const outputsDoc = "https://github.com/emosel/emosel/blob/main/docs/OUTPUTS.md"

// version is the code's version for the report and the manifest (the
// module version or commit) and where it came from (cli.Version).
func version() (string, string) {
	v, from := cli.Version()
	if from == "" {
		return v + " (no module version, VCS stamp or .git found)", ""
	}
	return v, from
}

func cpuName() string {
	if n := strings.TrimSpace(cpuid.CPU.BrandName); n != "" {
		return n
	}
	return runtime.GOARCH + " CPU"
}

// manifest is manifest.json.
type manifest struct {
	Tool       string     `json:"tool"`
	Version    string     `json:"version"`
	VersionOf  string     `json:"version_source"` // module, vcs, ldflags, git or ""
	Go         string     `json:"go"`
	Demo       bool       `json:"demo"`
	Command    []string   `json:"command"`
	Started    time.Time  `json:"started"`
	Seconds    float64    `json:"seconds"`
	CPU        cpuInfo    `json:"cpu"`
	Parameters any        `json:"parameters"`
	Inputs     inputsInfo `json:"inputs"`
	Stages     []timing   `json:"stages"`
	Keys       any        `json:"keys"`
	Outputs    []string   `json:"outputs"`
}

type cpuInfo struct {
	Path    string `json:"path"` // the SGEMM kernels in use: AVX512, AVX2, NEON or Go
	Conv    string `json:"conv"` // the convolution algorithm setting: auto, im2col or winograd
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	OS      string `json:"os"`
	CPUs    int    `json:"cpus"`
	Threads int    `json:"threads"`
}

type inputsInfo struct {
	Model   string     `json:"model"`
	Weights string     `json:"weights,omitempty"`
	SHA256  string     `json:"weights_sha256,omitempty"`
	Sets    []setInput `json:"sets"`
}

// writeManifest writes manifest.json.
func (r *runner) writeManifest() error {
	p, o := r.p, r.p.o
	params := map[string]any{
		"model": o.model, "weights": o.weights, "seed": o.seed, "resize": o.resize, "size": p.size,
		"alphas": p.alphas, "refine": o.refine, "search": r.searchText(), "direct": o.direct, "threshold_scope": o.threshold, "draws": p.draws, "removed": p.removed, "layers": r.layers,
		"stages": p.stages, "epochs": p.epochs, "control": o.control, "permutations": o.permutations, "top": p.top,
		"batch": o.batch, "thresholds": p.th, "keep": o.an.Keep, "chance": o.an.Chance, "variance": o.an.Variance,
		"control_seed": p.controlSeed, "fig2": splitList(o.fig2), "features": o.features, "mem_mib": o.mem,
		"readout": map[string]any{"optimizer": o.readout.Optimizer, "lr": p.train.LR, "momentum": p.train.Momentum, "batch": p.train.Batch}, "skip_bad": o.skipBad, "width": o.width, "hidden": o.hidden,
	}
	if p.demo {
		params["images"] = o.images
	}
	ver, verFrom := version()
	m := manifest{
		Tool: "github.com/emosel/emosel/examples/reproduce", Version: ver, VersionOf: verFrom, Go: runtime.Version(), Demo: p.demo,
		Command: append([]string{"reproduce"}, o.args...), Started: r.start.UTC().Round(time.Second),
		Seconds: time.Since(r.start).Seconds(),
		CPU: cpuInfo{Path: simd.Active(), Conv: conv.CurrentAlgorithm().String(), Name: cpuName(), Arch: runtime.GOARCH, OS: runtime.GOOS, CPUs: runtime.NumCPU(),
			Threads: runtime.GOMAXPROCS(0)},
		Parameters: params,
		Inputs:     inputsInfo{Model: r.modelID, Weights: o.weights, SHA256: r.weights, Sets: r.inputs},
		Stages:     r.timings, Keys: r.keys,
	}
	err := filepath.WalkDir(o.out, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(o.out, path)
		if d.IsDir() {
			switch d.Name() {
			case "cache", "units", "readouts", "features", "activations", stimuliDir, shardsDir, stagesDir:
				if rel != "." {
					m.Outputs = append(m.Outputs, filepath.ToSlash(rel)+"/")
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasPrefix(d.Name(), ".") && d.Name() != "stalled" {
			m.Outputs = append(m.Outputs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !slices.Contains(m.Outputs, "manifest.json") {
		m.Outputs = append(m.Outputs, "manifest.json")
	}
	slices.Sort(m.Outputs)
	js, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(r.path("manifest.json"), append(js, '\n'))
}

// thresholdText describes the threshold search's scope.
func thresholdText(scope string) string {
	if scope == "all" {
		return "all: every set, emotion and layer"
	}
	return "paper: the first set, pleasant, every layer (the paper's example)"
}
