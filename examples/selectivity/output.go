package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/selectivity/plots"
	"github.com/emosel/emosel/stimuli"
)

// write writes every output of the run under o.out.
func write(o options, nets []*network, sets []*stimuli.Set, fig2 []int, log string) error {
	s := nets[0].study
	files := []outFile{
		{"selectivity.csv", func(w io.Writer) error { return selectivity.WriteSelectivity(w, s) }},
		{"selective.csv", func(w io.Writer) error { return selectivity.WriteSelective(w, s) }},
		{"overlap.csv", func(w io.Writer) error { return selectivity.WriteOverlap(w, s) }},
		{"layers.csv", func(w io.Writer) error {
			var labels []string
			var studies []*selectivity.Study
			for _, n := range nets {
				labels, studies = append(labels, n.label), append(studies, n.study)
			}
			return selectivity.WriteLayers(w, labels, studies)
		}},
		{"top.csv", func(w io.Writer) error {
			var all []int
			for i := range s.Layers {
				all = append(all, i)
			}
			return selectivity.WriteTop(w, s, exemplars(s, all), o.top)
		}},
	}
	if nets[0].null != nil {
		files = append(files, outFile{"null.csv", func(w io.Writer) error { return selectivity.WriteNull(w, s, nets[0].null) }})
	}
	if len(nets) > 1 {
		c := nets[1]
		files = append(files,
			outFile{"control/selectivity.csv", func(w io.Writer) error { return selectivity.WriteSelectivity(w, c.study) }},
			outFile{"control/selective.csv", func(w io.Writer) error { return selectivity.WriteSelective(w, c.study) }},
			outFile{"control/overlap.csv", func(w io.Writer) error { return selectivity.WriteOverlap(w, c.study) }},
		)
		if c.null != nil {
			files = append(files, outFile{"control/null.csv", func(w io.Writer) error { return selectivity.WriteNull(w, c.study, c.null) }})
		}
	}
	for _, f := range files {
		path := filepath.Join(o.out, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := writeAtomic(path, f.fill); err != nil {
			return err
		}
	}
	for k, rec := range nets[0].recs {
		if err := publish(rec, filepath.Join(o.out, "activations", sets[k].Name)); err != nil {
			return err
		}
	}

	// Figures.
	var studies []*selectivity.Study
	var labels []string
	for _, n := range nets {
		studies, labels = append(studies, n.study), append(labels, n.label)
	}
	ex := exemplars(s, fig2)
	for _, fig := range []struct {
		name string
		draw func(base string) error
	}{
		{"fig2_tuning", func(b string) error { return plots.Tuning(s, ex, b) }},
		{"fig2_top", func(b string) error { return plots.TopValence(s, ex, o.top, b) }},
		{"fig3a_si", func(b string) error { return plots.SI(studies, labels, b) }},
		{"fig3b_counts", func(b string) error { return plots.Counts(studies, labels, b) }},
	} {
		if err := fig.draw(filepath.Join(o.out, fig.name)); err != nil {
			return err
		}
	}
	return writeAtomic(filepath.Join(o.out, "report.txt"), func(w io.Writer) error {
		return report(w, o, nets, sets, log)
	})
}

// outFile is an output file and what fills it.
type outFile struct {
	path string // relative to -out, '/'-separated
	fill func(io.Writer) error
}

// exemplars picks the exemplar neuron of each emotion in each layer.
func exemplars(s *selectivity.Study, layers []int) []selectivity.Exemplar {
	var out []selectivity.Exemplar
	for _, l := range layers {
		for e := range stimuli.NumEmotions {
			out = append(out, s.Exemplar(l, e))
		}
	}
	return out
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
	return writeAtomic(dst, func(w io.Writer) error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
}

// writeAtomic writes path through a temporary file in its directory,
// synced and renamed into place; on error path is untouched.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriter(f)
	if err := fill(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// report writes report.txt: the settings, the sets, the recordings, and
// per network and layer the channel flaws and the cross-set overlaps.
func report(w io.Writer, o options, nets []*network, sets []*stimuli.Set, log string) error {
	cfg := nets[0].study.Config
	fmt.Fprintf(w, "emosel selectivity, %s\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "network:  %s\n", nets[0].about)
	if len(nets) > 1 {
		fmt.Fprintf(w, "control:  %s\n", nets[1].about)
	} else {
		fmt.Fprintf(w, "control:  none (-control=false)\n")
	}
	variance := "population variance (divide by N)"
	if cfg.Index.SampleVariance {
		variance = "sample variance (divide by N-1)"
	}
	fmt.Fprintf(w, "input:    %s (-resize %s)\n", nets[0].recs[0].Key.Resize, o.resize)
	fmt.Fprintf(w, "SI:       max d′ of Eq 5 with %s; keep the top %g of channels with a finite SI per set and layer\n", variance, cfg.Keep)
	fmt.Fprintf(w, "chance:   hypergeometric over %v (the `channels` column of overlap.csv)\n\n", cfg.Chance)

	fmt.Fprintln(w, "sets (images per category; skipped rows):")
	for _, s := range sets {
		fmt.Fprintln(w, "  "+strings.ReplaceAll(s.Report(), "\n", "\n  "))
	}
	fmt.Fprintln(w, "\nrecordings:")
	fmt.Fprint(w, log)

	for _, n := range nets {
		s := n.study
		fmt.Fprintf(w, "\n%s: channels per layer without an SI (dead / non-finite / no spread) and neurons selective\n", n.label)
		if n.null != nil {
			fmt.Fprintf(w, "for the same emotion in every set, observed/expected (p; permutation p over %d shuffles)\n", n.null.Permutations)
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
				if n.null != nil {
					row += fmt.Sprintf("\t%d/%.1f (%.2g; %.2g)", len(ov.Channels), ov.Expected, ov.P, n.null.P[j][e])
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

// summary is the short account printed when the run ends.
func summary(o options, nets []*network) string {
	var b strings.Builder
	for _, n := range nets {
		s := n.study
		var shared [stimuli.NumEmotions]int
		sig := 0
		for _, l := range s.Layers {
			for e, ov := range l.Overlap {
				shared[e] += len(ov.Channels)
				if ov.P < 0.01 {
					sig++
				}
			}
		}
		fmt.Fprintf(&b, "%s: selective in every set: pleasant %d, neutral %d, unpleasant %d; %d of %d layer×emotion overlaps with p < 0.01\n",
			n.label, shared[0], shared[1], shared[2], sig, len(s.Layers)*int(stimuli.NumEmotions))
	}
	fmt.Fprintf(&b, "wrote selectivity.csv, selective.csv, overlap.csv, layers.csv, top.csv, figures and report.txt to %s\n", o.out)
	return b.String()
}
