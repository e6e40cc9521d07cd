package study

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emosel/emosel/internal/atomicfile"

	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/plots"
	"github.com/emosel/emosel/stimuli"
)

// Files Run writes into its directory (besides the figures and the
// activations and cache directories).
const (
	SelectivityFile = "selectivity.csv"
	SelectiveFile   = "selective.csv"
	OverlapFile     = "overlap.csv"
	LayersFile      = "layers.csv"
	TopFile         = "top.csv"
	NullFile        = "null.csv"
	ReportFile      = "report.txt"
	ControlDir      = "control"
)

// Figures lists the base names of the figures Run draws, each written as
// .svg and .png.
var Figures = []string{"fig2_tuning", "fig2_top", "fig3a_si", "fig3b_counts"}

// write writes every output of the run under dir.
func write(dir string, cfg Config, res *Result, log string) error {
	nets := res.Networks
	s := nets[0].Study
	files := []outFile{
		{SelectivityFile, func(w io.Writer) error { return selectivity.WriteSelectivity(w, s) }},
		{SelectiveFile, func(w io.Writer) error { return selectivity.WriteSelective(w, s) }},
		{OverlapFile, func(w io.Writer) error { return selectivity.WriteOverlap(w, s) }},
		{LayersFile, func(w io.Writer) error {
			var labels []string
			var studies []*selectivity.Study
			for _, n := range nets {
				labels, studies = append(labels, n.Label), append(studies, n.Study)
			}
			return selectivity.WriteLayers(w, labels, studies)
		}},
		{TopFile, func(w io.Writer) error {
			var all []int
			for i := range s.Layers {
				all = append(all, i)
			}
			return selectivity.WriteTop(w, s, Exemplars(s, all), cfg.Top)
		}},
	}
	if nets[0].Null != nil {
		files = append(files, outFile{NullFile, func(w io.Writer) error { return selectivity.WriteNull(w, s, nets[0].Null) }})
	}
	if len(nets) > 1 {
		c := nets[1]
		files = append(files,
			outFile{ControlDir + "/" + SelectivityFile, func(w io.Writer) error { return selectivity.WriteSelectivity(w, c.Study) }},
			outFile{ControlDir + "/" + SelectiveFile, func(w io.Writer) error { return selectivity.WriteSelective(w, c.Study) }},
			outFile{ControlDir + "/" + OverlapFile, func(w io.Writer) error { return selectivity.WriteOverlap(w, c.Study) }},
		)
		if c.Null != nil {
			files = append(files, outFile{ControlDir + "/" + NullFile, func(w io.Writer) error { return selectivity.WriteNull(w, c.Study, c.Null) }})
		}
	}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := atomicfile.Write(path, f.fill); err != nil {
			return err
		}
	}
	for k, rec := range nets[0].Recordings {
		if err := publish(rec, filepath.Join(dir, "activations", res.Sets[k].Name)); err != nil {
			return err
		}
	}

	// Figures.
	var studies []*selectivity.Study
	var labels []string
	for _, n := range nets {
		studies, labels = append(studies, n.Study), append(labels, n.Label)
	}
	ex := Exemplars(s, cfg.Fig2)
	for _, fig := range []struct {
		name string
		draw func(base string) error
	}{
		{Figures[0], func(b string) error { return plots.Tuning(s, ex, b) }},
		{Figures[1], func(b string) error { return plots.TopValence(s, ex, cfg.Top, b) }},
		{Figures[2], func(b string) error { return plots.SI(studies, labels, b) }},
		{Figures[3], func(b string) error { return plots.Counts(studies, labels, b) }},
	} {
		if err := fig.draw(filepath.Join(dir, fig.name)); err != nil {
			return err
		}
	}
	return atomicfile.Write(filepath.Join(dir, ReportFile), func(w io.Writer) error {
		return report(w, cfg, res, log)
	})
}

// outFile is an output file and what fills it.
type outFile struct {
	path string // relative to -out, '/'-separated
	fill func(io.Writer) error
}

// publish makes dst a copy of the recording (hard links where the file
// system allows): every <unit>.npy and images.csv. It is built beside dst
// and swapped in, so dst is always either the old or the new directory.
func publish(rec *selectivity.Recording, dst string) error {
	parent := filepath.Dir(dst)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	names := []string{selectivity.ImagesFile}
	for _, u := range rec.Key.Units {
		names = append(names, u.Name+".npy")
	}
	for _, name := range names {
		if err := linkOrCopy(filepath.Join(rec.Dir, name), filepath.Join(tmp, name)); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(dst); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dst, old); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		if old != "" {
			os.Rename(old, dst)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return atomicfile.Write(dst, func(w io.Writer) error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// report writes report.txt: the settings, the sets, the recordings, and
// per network and layer the channel flaws and the cross-set overlaps.
func report(w io.Writer, cfg Config, res *Result, log string) error {
	nets := res.Networks
	acfg := nets[0].Study.Config
	fmt.Fprintf(w, "emosel selectivity, %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "network:  %s\n", nets[0].About)
	if len(nets) > 1 {
		fmt.Fprintf(w, "control:  %s\n", nets[1].About)
	} else {
		fmt.Fprintf(w, "control:  none (-control=false)\n")
	}
	variance := "population variance (divide by N)"
	if acfg.Index.SampleVariance {
		variance = "sample variance (divide by N-1)"
	}
	fmt.Fprintf(w, "input:    %s (-resize %s)\n", nets[0].Recordings[0].Key.Resize, cfg.Resize)
	fmt.Fprintf(w, "SI:       max d′ of Eq 5 with %s; keep the top %g of channels with a finite SI per set and layer\n", variance, acfg.Keep)
	fmt.Fprintf(w, "chance:   hypergeometric over %v (the `channels` column of overlap.csv)\n\n", acfg.Chance)

	fmt.Fprintln(w, "sets (images per category; skipped rows):")
	for _, s := range res.Sets {
		fmt.Fprintln(w, "  "+strings.ReplaceAll(s.Report(), "\n", "\n  "))
	}
	fmt.Fprintln(w, "\nrecordings:")
	fmt.Fprint(w, log)

	for _, n := range nets {
		s := n.Study
		fmt.Fprintf(w, "\n%s: channels per layer without an SI (dead / non-finite / no spread) and neurons selective\n", n.Label)
		if n.Null != nil {
			fmt.Fprintf(w, "for the same emotion in every set, observed/expected (p; permutation p over %d shuffles)\n", n.Null.Permutations)
		} else {
			fmt.Fprintf(w, "for the same emotion in every set, observed/expected (p)\n")
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		head := "layer\tchannels"
		for _, name := range s.Names() {
			head += "\t" + name + " invalid"
		}
		for e := range stimuli.NumEmotions {
			head += "\t" + e.String()
		}
		fmt.Fprintln(tw, head)
		for j, l := range s.Layers {
			row := fmt.Sprintf("%s\t%d", l.Name, l.Channels)
			for _, r := range l.Results {
				row += fmt.Sprintf("\t%d (%d/%d/%d)", r.Invalid(), r.Flaws[selectivity.Dead], r.Flaws[selectivity.NonFinite], r.Flaws[selectivity.NoSpread])
			}
			for e, ov := range l.Overlap {
				if n.Null != nil {
					row += fmt.Sprintf("\t%d/%.1f (%.2g; %.2g)", len(ov.Channels), ov.Expected, ov.P, n.Null.P[j][e])
				} else {
					row += fmt.Sprintf("\t%d/%.1f (%.2g)", len(ov.Channels), ov.Expected, ov.P)
				}
			}
			fmt.Fprintln(tw, row)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nThe hypergeometric p treats channels as independent; correlated channels make it anti-conservative")
	fmt.Fprintln(w, "(see the selectivity package documentation). Compare with the random network rather than with p alone,")
	fmt.Fprintln(w, "and see -permutations for a p-value that keeps the channels' correlations.")
	return nil
}
