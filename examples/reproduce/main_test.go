package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests run the command itself, built once, on a short configuration:
// a 1/8-width VGG-16 with 64 hidden units on 32-pixel synthetic images.
var short = []string{"-width", "0.125", "-hidden", "64", "-size", "32", "-images", "24", "-epochs", "100"}

var (
	binary string // the built command
	root   string // a directory for the whole test binary
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "reproduce-test")
	if err != nil {
		panic(err)
	}
	root = dir
	binary = filepath.Join(dir, "reproduce")
	if runtime.GOOS == "windows" {
		binary += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		panic("go build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished run of the command.
type result struct {
	stderr string
	code   int
	took   time.Duration
}

// run runs the command with args (after the short configuration unless
// plain) and env added to the environment.
func command(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	err := cmd.Run()
	r := result{stderr: stderr.String(), took: time.Since(t0)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func shortRun(t *testing.T, out string, args ...string) result {
	t.Helper()
	r := command(t, nil, append(append([]string{"-out", out}, short...), args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	return r
}

// csvs returns every CSV file under dir, by path relative to dir.
func csvs(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".csv") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			out[rel] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readManifest reads OUT/manifest.json.
func readManifest(t *testing.T, out string) manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	return m
}

// reference is an uninterrupted run shared by the tests.
var reference struct {
	out  string
	took time.Duration
}

func referenceRun(t *testing.T) string {
	t.Helper()
	if reference.out == "" {
		out := filepath.Join(root, "reference")
		r := shortRun(t, out)
		reference.out, reference.took = out, r.took
	}
	return reference.out
}

// TestOutputs checks that a run writes every promised file and that they
// parse.
func TestOutputs(t *testing.T) {
	out := referenceRun(t)
	checkOutputs(t, out)
	m := readManifest(t, out)
	for _, s := range m.Stages {
		if s.Reused {
			t.Errorf("first run reused %s", s.Stage)
		}
	}
}

// TestOutputsOf checks the output directory named by EMOSEL_REPRODUCE_OUT,
// written by a run with the default sets (CI runs the main job, then
// this).
func TestOutputsOf(t *testing.T) {
	out := os.Getenv("EMOSEL_REPRODUCE_OUT")
	if out == "" {
		t.Skip("EMOSEL_REPRODUCE_OUT is not set")
	}
	checkOutputs(t, out)
}

// checkOutputs checks that out holds every file of a run on the
// demonstration's sets and that each parses: CSVs, manifest.json, every
// PNG, report.html with the figures inlined.
func checkOutputs(t *testing.T, out string) {
	t.Helper()
	for _, f := range []string{
		"report.md", "report.html", "manifest.json", "table1.csv", "overlap.csv",
		"figures/fig2_tuning.png", "figures/fig2_top.png", "figures/fig3a_si.png", "figures/fig3b_counts.png",
		"figures/fig3c.png", "figures/fig4_synth1.png", "figures/fig4_synth2.png", "figures/fig6.png", "figures/fig6.svg",
		"selectivity/selectivity.csv", "selectivity/selective.csv", "selectivity/layers.csv", "selectivity/top.csv",
		"selectivity/control/overlap.csv", "selectivity/activations/synth1/conv5_3.npy", "selectivity/report.txt",
		"manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/threshold.csv", "manipulate/stats.csv",
		"manipulate/readout.csv", "stimuli/synth2/ratings.csv", "stages/selectivity.json", "stages/manipulate.json",
	} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	for f := range csvs(t, out) {
		head, rows, err := readCSV(filepath.Join(out, f))
		if err != nil || len(head) < 2 {
			t.Errorf("%s: %d columns, %d rows, %v", f, len(head), len(rows), err)
		}
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "figures", "*.png"))
	for _, f := range pngs {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(r); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		r.Close()
	}
	if _, rows, err := readCSV(filepath.Join(out, "table1.csv")); err != nil || len(rows) != 6 {
		t.Errorf("table1.csv: %d rows, %v", len(rows), err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "report.md"))
	for _, want := range []string{"DEMONSTRATION", realCommand, "## Table 1", "| synth2 | unpleasant |", "## Emotion-selective neurons",
		"![fig6.png](figures/fig6.png)", "## Parameters", "## What was skipped", "## Stages"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, "report.html"))
	if n := bytes.Count(html, []byte(`src="data:image/png;base64,`)); n != len(pngs) || n != 8 || bytes.Contains(html, []byte(`src="figures/`)) {
		t.Errorf("report.html inlines %d figures, want 8 and no links", n)
	}
	m := readManifest(t, out)
	if !m.Demo || m.CPU.Path == "" || m.CPU.Conv == "" || len(m.Inputs.Sets) != 2 || m.Inputs.Sets[0].Hash == "" || len(m.Stages) != 4 || m.Version == "" {
		t.Errorf("manifest: %+v", m)
	}
	if m.VersionOf == "" {
		t.Errorf("manifest: version %q with no source", m.Version)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	for _, k := range objectKeys(tree, "") {
		if !snakeCase.MatchString(k[strings.LastIndexByte(k, '.')+1:]) {
			t.Errorf("manifest.json: key %s is not snake_case", k)
		}
	}
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// objectKeys lists every object key in a decoded JSON value, as dotted
// paths.
func objectKeys(v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			out = append(out, at+"."+k)
			out = append(out, objectKeys(c, at+"."+k)...)
		}
	case []any:
		for _, c := range v {
			out = append(out, objectKeys(c, at+"[]")...)
		}
	}
	return out
}

// TestCache checks that a rerun recomputes nothing and that a changed
// parameter recomputes only the stages that depend on it.
func TestCache(t *testing.T) {
	out := referenceRun(t)
	key := filepath.Join(out, "selectivity", "cache", "synth1", "vgg16-random1-w0.125-h64-squash32", "key.json")
	before, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	r := shortRun(t, out)
	for _, s := range readManifest(t, out).Stages {
		if s.Stage != stageReport && !s.Reused {
			t.Errorf("rerun recomputed %s", s.Stage)
		}
	}
	if strings.Contains(r.stderr, "running") {
		t.Errorf("rerun:\n%s", r.stderr)
	}
	t.Logf("first run %v, rerun %v", reference.took, r.took)

	// More random draws: only the manipulation reruns.
	r = shortRun(t, out, "-draws", "3")
	for _, s := range readManifest(t, out).Stages {
		if want := s.Stage == stageManipulate || s.Stage == stageReport; s.Reused == want {
			t.Errorf("-draws 3: %s reused %v", s.Stage, s.Reused)
		}
	}
	if after, err := os.Stat(key); err != nil || !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("-draws 3 touched the recordings: %v", err)
	}
	// Back to the reference settings: the manipulation reruns, the rest
	// is reused.
	shortRun(t, out)
	if got := csvs(t, out); !bytes.Equal(got["table1.csv"], csvs(t, reference.out)["table1.csv"]) {
		t.Error("table1.csv changed")
	}
}

// stallAt starts a run that stops halfway through step (and waits there
// for an interrupt) and returns once it has stopped.
func stallAt(t *testing.T, out, step string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"-out", out}, short...)...)
	cmd.Env = append(os.Environ(), "EMOSEL_REPRODUCE_STALL="+step)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(out, "stalled")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := os.Stat(marker); err == nil {
			return cmd, &stderr
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the run never reached the middle of the %s stage:\n%s", step, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSigint interrupts a run with SIGINT in the middle of the sweep: it
// exits 130 with the command that resumes, the sweep is reported as
// interrupted (never done), the manipulation stage is not recorded as
// finished, and no report is written.
func TestSigint(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd, stderr := stallAt(t, out, "sweep")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130:\n%s", err, stderr)
	}
	log := stderr.String()
	for _, want := range []string{"sweep: interrupted after", "run the same command to resume"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, bad := range []string{"sweep: done", "manipulate: done", "100%"} {
		if strings.Contains(log, bad) {
			t.Errorf("log says %q:\n%s", bad, log)
		}
	}
	for _, f := range []string{"stages/manipulate.json", "report.md", "table1.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("an interrupted run wrote %s", f)
		}
	}
}

// TestInterrupt kills a run with SIGKILL in the middle of the lesion
// stage, reruns it, and compares every CSV with an uninterrupted run.
func TestInterrupt(t *testing.T) {
	ref := referenceRun(t)
	out := filepath.Join(t.TempDir(), "out")
	cmd, _ := stallAt(t, out, "lesion")
	marker := filepath.Join(out, "stalled")
	units, _ := filepath.Glob(filepath.Join(out, "manipulate", "units", "lesion", "*", "*", "*.json"))
	sweeps, _ := filepath.Glob(filepath.Join(out, "manipulate", "units", "sweep"))
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("killed with %d of 18 lesion units done", len(units))
	if len(units) == 0 || len(units) >= 18 || len(sweeps) > 0 {
		t.Fatalf("killed with %d of 18 lesion units and %d sweep directories done", len(units), len(sweeps))
	}
	if _, err := os.Stat(filepath.Join(out, "table1.csv")); err == nil {
		t.Fatal("the killed run wrote table1.csv")
	}
	os.Remove(marker)

	r := shortRun(t, out)
	if !strings.Contains(r.stderr, fmt.Sprintf("resuming, reusing what is done: lesion %d of 18 units, readouts 6 of 6", len(units))) {
		t.Errorf("the rerun did not resume:\n%s", r.stderr)
	}
	for _, s := range readManifest(t, out).Stages {
		if want := s.Stage == stageStimuli || s.Stage == stageSelectivity; s.Reused != want {
			t.Errorf("rerun: %s reused %v", s.Stage, s.Reused)
		}
	}
	want, got := csvs(t, ref), csvs(t, out)
	if len(want) < 20 {
		t.Fatalf("only %d CSV files", len(want))
	}
	for f, b := range want {
		if g, ok := got[f]; !ok {
			t.Errorf("%s: missing after the interrupted run", f)
		} else if !bytes.Equal(g, b) {
			t.Errorf("%s differs after the interrupted run", f)
		}
	}
	for f := range got {
		if _, ok := want[f]; !ok {
			t.Errorf("%s: only in the interrupted run", f)
		}
	}
}

// TestBadFlags checks that bad input stops the command with one line on
// stderr and a non-zero exit, before any work.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	set := filepath.Join(dir, "set")
	os.MkdirAll(set, 0o755)
	for _, c := range []struct {
		name    string
		args    []string
		mention string
	}{
		{"missing set directory", []string{"-sets", "a=" + filepath.Join(dir, "nope") + ",b=" + set}, "nope does not exist"},
		{"weights of another model", []string{"-model", "vgg16", "-weights", filepath.Join("..", "..", "alexnet", "testdata", "small.pt")}, "does not hold vgg16 weights"},
		{"out is a file", []string{"-out", file}, "is a file"},
		{"one set", []string{"-sets", "a=" + set}, "at least two sets"},
		{"no weights file", []string{"-weights", filepath.Join(dir, "none.pth")}, "none.pth"},
		{"bad shard", []string{"-shard", "2/2"}, "-shard"},
		{"bad alphas", []string{"-alphas", "0,x"}, "-alphas"},
		{"alpha below -1", []string{"-alphas", "-2"}, "-alphas"},
		{"bad until", []string{"-until", "report"}, "-until"},
		{"unknown layer", []string{"-layers", "conv2_1,conv9_9"}, `no conv layer "conv9_9"`},
		{"merge without shards", []string{"-merge"}, "no shard directories"},
		{"tiny input", []string{"-model", "alexnet", "-size", "40"}, "too small"},
		{"unknown fig2 layer", []string{"-fig2", "conv1_1,conv6_1"}, `no conv layer "conv6_1"`},
		{"unknown features", []string{"-features", "fc9"}, `no unit "fc9"`},
		{"bad keep", []string{"-keep", "1.5"}, "-keep"},
		{"bad chance", []string{"-chance", "some"}, "-chance"},
		{"bad variance", []string{"-variance", "x"}, "-variance"},
		{"bad optimizer", []string{"-optimizer", "rmsprop"}, "-optimizer"},
		{"bad train batch", []string{"-train-batch", "0"}, "-train-batch"},
		{"bad mem", []string{"-mem", "0"}, "-mem"},
		{"control seed is the seed", []string{"-control-seed", "1"}, "-control-seed"},
		{"stray argument", []string{"stray"}, "unexpected"},
		{"unknown flag", []string{"-frobnicate"}, "frobnicate"},
		{"bad EMOSEL_CONV", []string{"EMOSEL_CONV=fft"}, "EMOSEL_CONV"},
		{"bad EMOSEL_SIMD", []string{"EMOSEL_SIMD=sse9"}, "EMOSEL_SIMD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(c.name, " ", "-"))
			var env, args []string // "NAME=value" entries are environment variables
			for _, a := range c.args {
				if strings.HasPrefix(a, "EMOSEL_") {
					env = append(env, a)
				} else {
					args = append(args, a)
				}
			}
			r := command(t, env, append([]string{"-out", out}, args...)...)
			line := strings.TrimSuffix(r.stderr, "\n")
			if r.code == 0 || strings.Contains(line, "\n") || !strings.Contains(line, c.mention) || strings.Contains(line, "panic") {
				t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if _, err := os.Stat(filepath.Join(out, "stimuli")); err == nil {
				t.Errorf("work started before the error")
			}
		})
	}
}

// TestHelp checks that -h documents every flag and exits 0.
func TestHelp(t *testing.T) {
	r := command(t, nil, "-h")
	if r.code != 0 {
		t.Fatalf("-h: exit %d", r.code)
	}
	if _, err := parse([]string{"-h"}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	for _, f := range []string{"model", "weights", "sets", "out", "seed", "resize", "size", "alphas", "draws", "layers",
		"shard", "merge", "estimate", "quiet", "until", "images", "paper"} {
		if !strings.Contains(r.stderr, "\n  -"+f+" ") && !strings.Contains(r.stderr, "\n  -"+f+"\n") {
			t.Errorf("-h does not document -%s", f)
		}
	}
	if !strings.Contains(r.stderr, realCommand[len("go run ./examples/reproduce "):len("go run ./examples/reproduce ")+20]) {
		t.Errorf("-h does not show the real study's command:\n%s", r.stderr)
	}
}

// TestShards runs the manipulation in two shards and merges them: the
// outputs match the unsharded run's.
func TestShards(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ref := referenceRun(t)
	out := filepath.Join(t.TempDir(), "out")
	if r := command(t, nil, append([]string{"-out", out, "-shard", "0/2"}, short...)...); r.code == 0 || !strings.Contains(r.stderr, "-until selectivity") {
		t.Errorf("a shard before the selectivity stage: exit %d\n%s", r.code, r.stderr)
	}
	shortRun(t, out, "-until", "selectivity")
	shortRun(t, out, "-shard", "1/2")
	shortRun(t, out, "-shard", "0/2")
	shortRun(t, out, "-merge")
	want, got := csvs(t, ref), csvs(t, out)
	for _, f := range []string{"table1.csv", "manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/threshold.csv", "manipulate/stats.csv"} {
		if !bytes.Equal(want[f], got[f]) {
			t.Errorf("%s differs after sharding", f)
		}
	}
}

// TestSlurm runs slurm/submit.sh with a stand-in for sbatch that runs each
// job at once (array tasks one after the other, with Slurm's variables):
// the chained prepare, shard and merge jobs give the unsharded outputs.
func TestSlurm(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	ref := referenceRun(t)
	dir := t.TempDir()
	fake := `#!/bin/bash
# sbatch stand-in: runs the job now and prints a job id.
array=""
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) array=${1#--array=}; shift ;;
    --dependency=afternotok:*) echo $RANDOM; exit 0 ;; # the failure report: no shard fails here
    --*) shift ;;
    *) break ;;
  esac
done
script=$1
shift
if [ -n "$array" ]; then
  lo=${array%-*}
  hi=${array#*-}
  for i in $(seq "$lo" "$hi"); do
    SLURM_ARRAY_TASK_ID=$i SLURM_ARRAY_TASK_MIN=$lo SLURM_ARRAY_TASK_MAX=$hi bash "$script" "$@" >&2 || exit 1
  done
else
  bash "$script" "$@" >&2 || exit 1
fi
echo $RANDOM
`
	if err := os.WriteFile(filepath.Join(dir, "sbatch"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	cmd := exec.Command("bash", append([]string{filepath.Join("slurm", "submit.sh"), "-n", "3", "--", "-out", out, "-quiet"}, short...)...)
	cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "REPRODUCE="+binary)
	b, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(b), "submitted: prepare") {
		t.Fatalf("submit.sh: %v\n%s", err, b)
	}
	shards, _ := filepath.Glob(filepath.Join(out, "shards", "shard-*-of-3"))
	if len(shards) != 3 {
		t.Errorf("%d shard directories, want 3", len(shards))
	}
	want, got := csvs(t, ref), csvs(t, out)
	for _, f := range []string{"table1.csv", "manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/threshold.csv", "manipulate/stats.csv"} {
		if !bytes.Equal(want[f], got[f]) {
			t.Errorf("%s differs from the unsharded run's", f)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error("no report after the merge job")
	}
}

// TestMergeRefusesUnfinishedShards runs two of three shards fully and the
// third with one result removed: -merge merges nothing, writes no report,
// names the unfinished shard (and only it) and prints the commands that
// rerun it; running exactly those commands gives the unsharded outputs.
func TestMergeRefusesUnfinishedShards(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	ref := referenceRun(t)
	out := filepath.Join(t.TempDir(), "out")
	shortRun(t, out, "-until", "selectivity")
	shortRun(t, out, "-shard", "0/3")
	shortRun(t, out, "-shard", "2/3")
	args := append([]string{"-out", out}, short...)
	merge := append(slices.Clone(args), "-merge")

	// Shard 1 never ran.
	r := command(t, nil, merge...)
	if r.code != 1 || !strings.Contains(r.stderr, "shard 1/3: not started") {
		t.Fatalf("-merge with shard 1 not started: exit %d\n%s", r.code, r.stderr)
	}
	// Shard 1 ran, but one of its results is gone (a task killed mid-run).
	shortRun(t, out, "-shard", "1/3")
	units, _ := filepath.Glob(filepath.Join(out, "shards", "shard-1-of-3", "units", "*", "*", "*", "*.json"))
	if len(units) == 0 {
		t.Fatal("shard 1 wrote no units")
	}
	if err := os.Remove(units[0]); err != nil {
		t.Fatal(err)
	}
	r = command(t, nil, merge...)
	if r.code != 1 || !strings.Contains(r.stderr, "shard 1/3: 1 of its ") {
		t.Fatalf("-merge with shard 1 unfinished: exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "shard 0/3:") || strings.Contains(r.stderr, "shard 2/3:") {
		t.Errorf("-merge names a finished shard:\n%s", r.stderr)
	}
	for _, f := range []string{"report.md", "report.html", "table1.csv", "manipulate/table1.csv", "manipulate/units"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("-merge refused but wrote %s", f)
		}
	}
	// On Slurm (submit.sh sets EMOSEL_SUBMIT) it prints the one command
	// that resubmits the shard and the merge.
	rs := command(t, []string{"EMOSEL_SUBMIT=SUBMIT -c 2"}, merge...)
	if want := "SUBMIT -c 2 -n 3 -only 1 -- " + shellJoin(args); !strings.Contains(rs.stderr, "\n  "+want+"\n") {
		t.Errorf("on Slurm, -merge does not print %q:\n%s", want, rs.stderr)
	}

	// Run the commands it printed, as printed.
	_, rest, ok := strings.Cut(r.stderr, "Rerun it, then merge:\n")
	if !ok {
		t.Fatalf("no rerun commands:\n%s", r.stderr)
	}
	var ran int
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		f := strings.Fields(line)
		if f[0] != binary {
			t.Fatalf("the rerun command runs %s, not this binary: %s", f[0], line)
		}
		if r := command(t, nil, f[1:]...); r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", line, r.code, r.stderr)
		}
		ran++
	}
	if ran != 2 {
		t.Errorf("%d rerun commands, want the shard's and the merge's:\n%s", ran, r.stderr)
	}
	want, got := csvs(t, ref), csvs(t, out)
	for _, f := range []string{"table1.csv", "manipulate/lesion.csv", "manipulate/sweep.csv", "manipulate/threshold.csv", "manipulate/stats.csv"} {
		if !bytes.Equal(want[f], got[f]) {
			t.Errorf("%s differs from the unsharded run's after the rerun", f)
		}
	}
}
