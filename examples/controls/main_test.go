package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/lowlevel"
	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/stimuli"
)

// demoImages is the size of each synthetic set of smallStudy.
const demoImages = 150

// smallStudy runs examples/reproduce's demonstration, shrunk (a 1/8-width
// random VGG-16, demoImages images per synthetic set, one manipulated layer, the
// lesion only), into a temporary directory.
func smallStudy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "reproduce")
	if out, err := exec.Command("go", "build", "-o", bin, "../reproduce").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	study := filepath.Join(dir, "study")
	cmd := exec.Command(bin, "-out", study, "-quiet", "-width", "0.125", "-hidden", "64", "-images", strconv.Itoa(demoImages),
		"-control=false", "-layers", "conv5_3", "-stages", "lesion", "-draws", "1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("reproduce: %v\n%s", err, stderr.String())
	}
	return study
}

func table(t *testing.T, path string) []map[string]string {
	t.Helper()
	rows, err := readCSV(path)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func number(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// TestDemoControls runs the controls on the demonstration's synthetic sets,
// whose categories differ in brightness and spatial frequency only, with
// the demonstration's null factor (random:3):
//   - the low-level baseline decodes every category (that is what the
//     synthetic sets are built from), and the readout's F1 is the study's;
//   - the random factor's effect is found in few channels, the emotion's in
//     many;
//   - the per-layer counts are those of the per-channel q-values.
func TestDemoControls(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a small demonstration study")
	}
	study := smallStudy(t)
	o, err := parse([]string{"-study", study, "-quiet"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), o, &stdout); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(study, "controls")
	if got := strings.TrimSpace(stdout.String()); got != filepath.Join(out, "controls.md") {
		t.Errorf("-quiet printed %q", got)
	}

	// Low-level baseline against the readout.
	readout := map[string]string{}
	for _, r := range table(t, filepath.Join(study, "manipulate", "readout.csv")) {
		readout[r["set"]+"/"+r["emotion"]+"/"+r["split"]] = r["f1"]
	}
	rows := table(t, filepath.Join(out, "lowlevel.csv"))
	if len(rows) != 2*3*2 {
		t.Fatalf("lowlevel.csv has %d rows, want 2 sets × 3 emotions × 2 splits", len(rows))
	}
	for _, r := range rows {
		if r["readout_f1"] != readout[r["set"]+"/"+r["emotion"]+"/"+r["split"]] {
			t.Errorf("%v: readout_f1 %s, the study's readout.csv says %s", r, r["readout_f1"], readout[r["set"]+"/"+r["emotion"]+"/"+r["split"]])
		}
		if r["split"] != "test" {
			continue
		}
		t.Logf("%s %s: low-level test F1 %.3f, readout %.3f", r["set"], r["emotion"], number(t, r["f1"]), number(t, r["readout_f1"]))
		if number(t, r["f1"]) <= 0.5 {
			t.Errorf("%s %s: low-level test F1 %s, want above 0.5 (guessing's best) on sets whose categories differ in brightness", r["set"], r["emotion"], r["f1"])
		}
	}

	// Two-way ANOVA: per-layer counts from the per-channel q-values.
	type key struct{ set, layer string }
	count := map[key][3]int{}
	chans := map[key]int{}
	for _, r := range table(t, filepath.Join(out, "twoway.csv")) {
		k := key{r["set"], r["layer"]}
		c := count[k]
		for i, term := range terms {
			if q := number(t, r["q_"+term]); q <= 0.05 {
				c[i]++
			}
		}
		count[k] = c
		chans[k]++
	}
	layers := table(t, filepath.Join(out, "twoway_layers.csv"))
	if len(layers) != 2*13 {
		t.Fatalf("twoway_layers.csv has %d rows, want 2 sets × 13 layers", len(layers))
	}
	totalCat, totalFactor, totalChans := 0, 0, 0
	for _, r := range layers {
		k := key{r["set"], r["layer"]}
		c := count[k]
		for i, term := range terms {
			if got := int(number(t, r[term])); got != c[i] {
				t.Errorf("%v %s: %d channels, twoway.csv's q-values give %d", k, term, got, c[i])
			}
		}
		if int(number(t, r["channels"])) != chans[k] || r["levels"] != "3" || r["categories"] != "3" {
			t.Errorf("%v: %s channels (twoway.csv has %d), %s levels, %s categories", k, r["channels"], chans[k], r["levels"], r["categories"])
		}
		totalCat += c[0]
		totalFactor += c[1]
		totalChans += chans[k]
	}
	if totalFactor > totalChans/20 || totalCat < totalChans/4 {
		t.Errorf("emotion effect in %d and random factor's in %d of %d channels; want the emotion's in a quarter or more, the factor's in 5%% or fewer",
			totalCat, totalFactor, totalChans)
	}
	t.Logf("emotion effect in %d, random factor in %d of %d channels", totalCat, totalFactor, totalChans)

	// The design table counts every labelled image once.
	cells := 0
	for _, r := range table(t, filepath.Join(out, "twoway_cells.csv")) {
		cells += int(number(t, r["images"]))
	}
	if cells != 2*demoImages {
		t.Errorf("twoway_cells.csv counts %d images, want %d", cells, 2*demoImages)
	}

	// The features array: one row per image, Len columns, and the names.
	f, err := npy.ReadFile(filepath.Join(out, "features", "synth1.npy"))
	if err != nil {
		t.Fatal(err)
	}
	p := lowlevel.Config{}.Len(32)
	if sh := f.Shape(); len(sh) != 2 || sh[0] != demoImages || sh[1] != p {
		t.Errorf("features/synth1.npy has shape %v, want [%d %d]", sh, demoImages, p)
	}
	if names := table(t, filepath.Join(out, "features", "names.csv")); len(names) != p {
		t.Errorf("names.csv has %d rows, want %d", len(names), p)
	}
	md, err := os.ReadFile(filepath.Join(out, "controls.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Two-way ANOVA: emotion × random:3", "## Low-level features", "| conv5_3 |", "null factor"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("controls.md lacks %q", want)
		}
	}

	checkDocumented(t, out)

	// A column that is not there is an error naming the ratings file.
	o.factor = "content"
	err = run(context.Background(), o, &stdout)
	if err == nil || !strings.Contains(err.Error(), "ratings.csv:1: no column \"content\"") {
		t.Errorf("-factor content on the synthetic sets: %v, want an error naming ratings.csv", err)
	}
}

// TestFactorLevels reads a factor from a ratings column (by the line that
// described each image) and from a separate file (by file name).
func TestFactorLevels(t *testing.T) {
	dir := t.TempDir()
	if err := stimuli.WriteSynthetic(dir, "s", 6, 1, 8); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, stimuli.RatingsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	// Rewrite the ratings with a Content column, CRLF line ends and the
	// rows in reverse order, the last without a level.
	var b strings.Builder
	b.WriteString(lines[0] + ",Content\r\n")
	want := map[string]string{}
	for i := len(lines) - 1; i >= 1; i-- {
		lev := []string{"object", "scene", "people"}[i%3]
		if i == 1 {
			lev = ""
		}
		file, _, _ := strings.Cut(lines[i], ",")
		want[file] = lev
		b.WriteString(lines[i] + "," + lev + "\r\n")
	}
	if err := os.WriteFile(filepath.Join(dir, stimuli.RatingsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := stimuli.Load(dir, stimuli.Config{})
	if err != nil {
		t.Fatal(err)
	}
	levels, missing, err := factorLevels(set, "content", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range set.Images {
		if levels[i] != want[im.File] {
			t.Errorf("%s: level %q, want %q", im.File, levels[i], want[im.File])
		}
	}
	if missing != 1 {
		t.Errorf("missing %d, want 1", missing)
	}
	// The same from a separate file keyed by file name.
	side := filepath.Join(dir, "objects.csv")
	var s strings.Builder
	s.WriteString("FILE,kind\n")
	for f, l := range want {
		s.WriteString(f + "," + l + "\n")
	}
	os.WriteFile(side, []byte(s.String()), 0o644)
	levels2, _, err := factorLevels(set, "kind", side, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range levels {
		if levels2[i] != levels[i] {
			t.Errorf("image %d: -factor-file gives %q, the ratings column %q", i, levels2[i], levels[i])
		}
	}
	// random:K is deterministic and uses K levels.
	r1, _, err := factorLevels(set, "random:2", "", 5)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, _ := factorLevels(set, "random:2", "", 5)
	for i := range r1 {
		if r1[i] != r2[i] || (r1[i] != "r1" && r1[i] != "r2") {
			t.Errorf("random:2 levels %q then %q", r1[i], r2[i])
		}
	}
	for _, bad := range []string{"random:1", "random:x"} {
		if _, _, err := factorLevels(set, bad, "", 1); err == nil {
			t.Errorf("-factor %s: no error", bad)
		}
	}
	if _, _, err := factorLevels(set, "kind", filepath.Join(dir, stimuli.RatingsFile), 1); err == nil || !strings.Contains(err.Error(), "no column") {
		t.Errorf("missing column: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{{"-fdr", "0"}, {"-fdr", "1.5"}, {"-grid", "0"}, {"extra"}} {
		if _, err := parse(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
	o, err := parse([]string{"-study", "x"}, &bytes.Buffer{})
	if err != nil || o.out != filepath.Join("x", "controls") {
		t.Errorf("default -out %q (%v), want x/controls", o.out, err)
	}
	if err := run(context.Background(), o, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "examples/reproduce") {
		t.Errorf("a missing study: %v, want a hint to run reproduce", err)
	}
}

// checkDocumented checks docs/OUTPUTS.md against a run's controls
// directory: every file has a `controls/...` heading (a <set>
// placeholder matches a set name) and every CSV column is named in
// backticks in that heading's section.
func checkDocumented(t *testing.T, out string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "OUTPUTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	sections := map[*regexp.Regexp]string{}
	lines := strings.Split(string(raw), "\n")
	for i, l := range lines {
		m := regexp.MustCompile("^#+ `(controls/[^`]+)`$").FindStringSubmatch(l)
		if m == nil {
			continue
		}
		end := i + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "#") {
			end++
		}
		pat := strings.ReplaceAll(regexp.QuoteMeta(m[1]), "<set>", "[^/]+")
		sections[regexp.MustCompile("^"+pat+"$")] = strings.Join(lines[i:end], "\n")
	}
	err = filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(filepath.Dir(out), path)
		rel = filepath.ToSlash(rel)
		text, found := "", false
		for re, s := range sections {
			if re.MatchString(rel) {
				text, found = s, true
			}
		}
		if !found {
			t.Errorf("docs/OUTPUTS.md has no heading for %s", rel)
			return nil
		}
		if !strings.HasSuffix(rel, ".csv") {
			return nil
		}
		rows, err := csv.NewReader(strings.NewReader(mustRead(t, path))).Read()
		if err != nil {
			return err
		}
		var named []string
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(text, -1) {
			for _, tok := range strings.Split(m[1], ",") {
				named = append(named, strings.TrimSpace(tok))
			}
		}
		for _, col := range rows {
			if !slices.Contains(named, col) {
				t.Errorf("docs/OUTPUTS.md: column %s of %s is not named in its section", col, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
