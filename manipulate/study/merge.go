package study

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/stimuli"
)

// Output files Merge writes into the output directory.
const (
	Table1File    = "table1.csv"
	LesionFile    = "lesion.csv"
	SweepFile     = "sweep.csv"
	StatsFile     = "stats.csv"
	ThresholdFile = "threshold.csv"
	ReadoutFile   = "readout.csv"
)

// results are a finished study, as Merge reads it back: per set and
// emotion (indexed like Manifest.Sets and Manifest.Emotions) the readout
// and, per layer (like Manifest.Layers), each stage's result (nil for a
// stage that did not run).
type results struct {
	Manifest  Manifest
	Readouts  [][]readoutFile
	Lesion    [][][]*manipulate.LesionResult
	Sweep     [][][]*manipulate.SweepResult
	Threshold [][][]*manipulate.ThresholdResult
}

// Merge combines the finished units of the study in dir into its outputs:
// table1.csv, lesion.csv, sweep.csv, threshold.csv, stats.csv,
// readout.csv and the figures fig3c, fig4_<set> and fig6 (SVG and PNG),
// each written atomically. Output directories in extra (shards run
// elsewhere) must hold the same study; their finished files are copied
// into dir first (a file present in both must be identical). Merge fails,
// naming the first missing unit, unless every unit of every stage of
// dir's manifest is finished. The outputs depend only on the units, so a
// sharded study merged gives byte for byte what an unsharded run gives.
func Merge(dir string, extra ...string) error {
	var man Manifest
	if err := readJSON(filepath.Join(dir, ManifestFile), &man); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	for _, e := range extra {
		if err := absorb(dir, e, man); err != nil {
			return err
		}
	}
	r, err := load(dir, man)
	if err != nil {
		return err
	}
	return r.write(dir)
}

// absorb copies the finished files of the study in src into dir.
func absorb(dir, src string, man Manifest) error {
	var other Manifest
	if err := readJSON(filepath.Join(src, ManifestFile), &other); err != nil {
		return fmt.Errorf("study: %w", err)
	}
	if other.Fingerprint != man.Fingerprint {
		return fmt.Errorf("%w: %s holds another study than %s (%s)", ErrMismatch, src, dir, diffManifest(man, other))
	}
	for _, sub := range []string{unitsDir, readoutsDir} {
		root := filepath.Join(src, sub)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == root {
					return nil
				}
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			rel, _ := filepath.Rel(src, path)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			dst := filepath.Join(dir, rel)
			if old, err := os.ReadFile(dst); err == nil {
				if !bytes.Equal(old, b) {
					return fmt.Errorf("study: %s and %s differ", path, dst)
				}
				return nil
			}
			return writeAtomic(dst, b)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// load reads every readout and unit of man from dir.
func load(dir string, man Manifest) (*results, error) {
	r := &results{Manifest: man}
	var missing []string
	for _, set := range man.Sets {
		var ro []readoutFile
		k := len(man.Emotions)
		les, swp, thr := make([][]*manipulate.LesionResult, k), make([][]*manipulate.SweepResult, k), make([][]*manipulate.ThresholdResult, k)
		for ei, e := range man.Emotions {
			var f readoutFile
			err := readJSON(readoutPath(dir, set.Name, e), &f)
			if err != nil || f.Fingerprint != man.Fingerprint {
				missing = append(missing, "readouts/"+set.Name+"/"+e)
			}
			ro = append(ro, f)
			les[ei] = make([]*manipulate.LesionResult, len(man.Layers))
			swp[ei] = make([]*manipulate.SweepResult, len(man.Layers))
			thr[ei] = make([]*manipulate.ThresholdResult, len(man.Layers))
			for li, l := range man.Layers {
				for _, st := range man.Stages {
					if !man.InScope(st, len(r.Readouts), stimuli.Category(ei)) {
						continue
					}
					var u unitFile
					err := readJSON(unitPath(dir, st, set.Name, e, l.Name), &u)
					if err != nil || u.Fingerprint != man.Fingerprint {
						if err != nil && !errors.Is(err, fs.ErrNotExist) {
							return nil, fmt.Errorf("study: %w", err)
						}
						missing = append(missing, st+"/"+set.Name+"/"+e+"/"+l.Name)
						continue
					}
					switch {
					case st == Lesion && u.Lesion != nil:
						les[ei][li] = u.Lesion
					case st == Sweep && u.Sweep != nil:
						swp[ei][li] = u.Sweep
					case st == Threshold && u.Threshold != nil:
						thr[ei][li] = u.Threshold
					default:
						return nil, fmt.Errorf("study: %s has no %s result", unitPath(dir, st, set.Name, e, l.Name), st)
					}
				}
			}
		}
		r.Readouts = append(r.Readouts, ro)
		r.Lesion, r.Sweep, r.Threshold = append(r.Lesion, les), append(r.Sweep, swp), append(r.Threshold, thr)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("study: %s: %d of the study's results are missing, e.g. %s (run the remaining shards, then merge)",
			dir, len(missing), strings.Join(missing[:min(3, len(missing))], ", "))
	}
	return r, nil
}

func (r *results) has(stage string) bool {
	for _, s := range r.Manifest.Stages {
		if s == stage {
			return true
		}
	}
	return false
}

// csvFile accumulates rows and writes them atomically.
type csvFile struct {
	buf bytes.Buffer
	w   *csv.Writer
}

func newCSV(header ...string) *csvFile {
	c := &csvFile{}
	c.w = csv.NewWriter(&c.buf)
	c.w.Write(header)
	return c
}

func (c *csvFile) row(fields ...string) { c.w.Write(fields) }

func (c *csvFile) save(path string) error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return writeAtomic(path, c.buf.Bytes())
}

// scored returns the F1 of s, NaN for a score of no images: a gain a
// search did not evaluate on the test images.
func scored(s manipulate.Score) float64 {
	if s.N() == 0 {
		return math.NaN()
	}
	return s.F1()
}

// num formats v in the shortest form that reads back exactly, NaN as
// "NaN".
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

func unitsName(draw int) string {
	if draw == 0 {
		return "selective"
	}
	return "random"
}

// write writes every output file.
func (r *results) write(dir string) error {
	man := r.Manifest
	readout := newCSV("set", "emotion", "split", "n", "positives", "f1", "macro_f1", "accuracy")
	table := newCSV("set", "emotion", "original_f1", "enhanced_f1", "enhanced_layer", "enhanced_alpha", "enhanced_pct",
		"lesioned_f1", "lesioned_layer", "lesioned_pct")
	lesion := newCSV("set", "emotion", "layer", "units", "draw", "n_units", "f1_test")
	sweep := newCSV("set", "emotion", "layer", "units", "draw", "alpha", "f1_val", "f1_test")
	thresh := newCSV("set", "emotion", "layer", "removed_pct", "n_units", "alpha", "f1_val", "f1_test", "change_pct")
	// n_draws: random draws per layer; n_layers: layers in the test;
	// n_test: the test's n (rank tests: the draws; Wilcoxon: the layers
	// whose selective and random F1 differ, ties discarded).
	stats := newCSV("set", "emotion", "test", "layer", "n_draws", "n_layers", "n_test", "selective", "random_mean", "statistic", "p_value")
	for si, set := range man.Sets {
		for ei, e := range man.Emotions {
			ro := r.Readouts[si][ei]
			for _, sp := range []struct {
				name string
				s    manipulate.Score
			}{{"val", ro.Val}, {"test", ro.Test}} {
				readout.row(set.Name, e, sp.name, strconv.Itoa(sp.s.N()), strconv.Itoa(sp.s.TP+sp.s.FN),
					num(sp.s.F1()), num(sp.s.MacroF1()), num(sp.s.Accuracy()))
			}
			var les []*manipulate.LesionResult
			var swp []*manipulate.SweepResult
			if r.has(Lesion) {
				les = r.Lesion[si][ei]
			}
			if r.has(Sweep) {
				swp = r.Sweep[si][ei]
			}
			row := manipulate.Table1(ro.Test, les, swp)
			table.row(set.Name, e, num(row.Original), num(row.Enhanced), row.EnhancedLayer, num(row.EnhancedAlpha),
				num(row.EnhancedPct), num(row.Lesioned), row.LesionedLayer, num(row.LesionedPct))
			for _, l := range les {
				for i, u := range l.Sets {
					lesion.row(set.Name, e, l.Layer, unitsName(u.Draw), strconv.Itoa(u.Draw), strconv.Itoa(len(u.Units)),
						num(l.Test[i].F1()))
				}
			}
			for _, s := range swp {
				for i, u := range s.Sets {
					cv := s.Curves[i]
					for j, a := range cv.Alphas {
						sweep.row(set.Name, e, s.Layer, unitsName(u.Draw), strconv.Itoa(u.Draw), num(a),
							num(cv.Val[j].F1()), num(scored(cv.Test[j])))
					}
				}
			}
			if r.has(Threshold) {
				for _, t := range r.Threshold[si][ei] {
					if t == nil {
						continue // outside the threshold search's scope
					}
					for i, x := range t.Removed {
						cv := t.Curves[i]
						f := cv.BestTest().F1()
						thresh.row(set.Name, e, t.Layer, num(math.Round(x*1e6)/1e4), strconv.Itoa(len(t.Units[i])),
							num(cv.BestAlpha()), num(cv.Val[cv.Best].F1()), num(f), num(change(f, ro.Test.F1())))
					}
				}
			}
			if les != nil {
				for _, l := range les {
					f := scores(l.Test)
					stats.row(set.Name, e, "lesion_rank", l.Layer, strconv.Itoa(len(f)-1), "1", strconv.Itoa(len(f)-1), num(f[0]), num(meanOf(f[1:])),
						strconv.Itoa(l.Count), num(l.P))
				}
				w, sel, rnd := manipulate.LesionAcrossLayers(les)
				stats.row(set.Name, e, "lesion_wilcoxon", "all", strconv.Itoa(man.Draws), strconv.Itoa(len(les)), strconv.Itoa(w.N),
					num(meanOf(sel)), num(meanOf(rnd)),
					num(w.W), num(w.P))
			}
			if swp != nil {
				for _, s := range swp {
					f := make([]float64, len(s.Curves))
					for i, cv := range s.Curves {
						f[i] = cv.BestTest().F1()
					}
					stats.row(set.Name, e, "attention_rank", s.Layer, strconv.Itoa(len(f)-1), "1", strconv.Itoa(len(f)-1), num(f[0]), num(meanOf(f[1:])),
						strconv.Itoa(s.Count), num(s.P))
				}
				w, sel, rnd := manipulate.SweepAcrossLayers(swp)
				stats.row(set.Name, e, "attention_wilcoxon", "all", strconv.Itoa(man.Draws), strconv.Itoa(len(swp)), strconv.Itoa(w.N),
					num(meanOf(sel)), num(meanOf(rnd)),
					num(w.W), num(w.P))
			}
		}
	}
	type output struct {
		name string
		c    *csvFile
	}
	files := []output{{ReadoutFile, readout}, {Table1File, table}, {StatsFile, stats}}
	for _, o := range []struct {
		stage string
		out   output
	}{{Lesion, output{LesionFile, lesion}}, {Sweep, output{SweepFile, sweep}}, {Threshold, output{ThresholdFile, thresh}}} {
		if r.has(o.stage) {
			files = append(files, o.out)
		}
	}
	for _, f := range files {
		if err := f.c.save(filepath.Join(dir, f.name)); err != nil {
			return err
		}
	}
	return r.figures(dir)
}

// change returns the percentage change from orig to f, NaN if orig is 0.
func change(f, orig float64) float64 {
	if orig == 0 {
		return math.NaN()
	}
	return 100 * (f - orig) / orig
}

func scores(s []manipulate.Score) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = v.F1()
	}
	return out
}

func meanOf(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
