package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emosel/emosel/internal/cli"
	manstudy "github.com/emosel/emosel/manipulate/study"
)

// TestTasksFlag checks -tasks' refusals and its parsing.
func TestTasksFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		want []int // nil: a usage error
	}{
		{[]string{"-tasks", "16"}, nil}, // without -estimate
		{[]string{"-estimate", "-tasks", "0"}, nil},
		{[]string{"-estimate", "-tasks", "x"}, nil},
		{[]string{"-estimate", "-tasks", ","}, nil},
		{[]string{"-estimate", "-tasks", "64,16,256,16"}, []int{16, 64, 256}},
		{[]string{"-estimate"}, []int{}},
	} {
		o, err := parse(append([]string{"-out", out}, c.args...), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		p, err := resolve(o)
		switch {
		case c.want == nil && !errors.Is(err, cli.ErrUsage):
			t.Errorf("%q: error %v, want a usage error", c.args, err)
		case c.want != nil && (err != nil || fmt.Sprint(p.tasks) != fmt.Sprint(c.want)):
			t.Errorf("%q: %v (error %v), want %v", c.args, p, err, c.want)
		}
	}
}

// madeUpRates makes -estimate deterministic and slow: every image-suffix
// evaluation takes 100 s at the first layer, 200 s at the second, …, and
// nothing else costs anything, so that the demo's short study takes days
// and -estimate proposes shards.
func madeUpRates(t *testing.T) {
	old := measureStudy
	measureStudy = func(ctx context.Context, s *manstudy.Study) (*manstudy.Estimate, error) {
		e, err := s.Measure(ctx)
		if err != nil {
			return nil, err
		}
		for i := range e.Rates {
			e.Rates[i].Slope, e.Rates[i].Prefix, e.Rates[i].Base = 100*float64(i+1), 0, 0
		}
		return s.Predict(e.Rates, 0), nil
	}
	t.Cleanup(func() { measureStudy = old })
}

// estimateRun runs reproduce -estimate in this process and returns what
// it printed.
func estimateRun(t *testing.T, out string, args ...string) string {
	t.Helper()
	o, err := parse(append(append([]string{"-out", out, "-quiet", "-estimate"}, short...), args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return stdout.String()
}

var (
	taskRow      = regexp.MustCompile(`(?m)^ +([0-9]+) +([0-9]+) +([0-9-]+) +([0-9]+:[0-9]{2}:[0-9]{2}) `)
	proposalLine = regexp.MustCompile(`submit\.sh -n ([0-9]+) +([0-9]+:[0-9]{2}:[0-9]{2}) slowest task`)
)

func seconds(t *testing.T, hms string) float64 {
	t.Helper()
	var h, m, s int
	if _, err := fmt.Sscanf(hms, "%d:%d:%d", &h, &m, &s); err != nil {
		t.Fatalf("%q: %v", hms, err)
	}
	return float64(h*3600 + m*60 + s)
}

// TestEstimateProposalIsTheWholeStudys checks the Slurm line of the
// proposal that -estimate prints past a day: it is the whole study's,
// with or without -shard (it used to divide the shard's own time, and say
// -n 1), and it names the fewest tasks whose slowest task is under 16
// hours in the -tasks table of the same run.
func TestEstimateProposalIsTheWholeStudys(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	madeUpRates(t)
	out := filepath.Join(t.TempDir(), "out")
	var all []string
	for n := 1; n <= 18; n++ {
		all = append(all, strconv.Itoa(n))
	}
	tasks := strings.Join(all, ",")
	var proposed []int
	for _, shard := range [][]string{nil, {"-shard", "1/3"}, {"-shard", "2/3"}} {
		got := estimateRun(t, out, append([]string{"-tasks", tasks}, shard...)...)
		m := proposalLine.FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("%q: no Slurm proposal:\n%s", shard, got)
		}
		n, _ := strconv.Atoi(m[1])
		proposed = append(proposed, n)
		// The fewest tasks under 16 h in the table of the same run.
		want := 0
		for _, row := range taskRow.FindAllStringSubmatch(got, -1) {
			k, _ := strconv.Atoi(row[1])
			if want == 0 && seconds(t, row[4]) <= taskTarget {
				want = k
			}
			if k == n && row[4] != m[2] {
				t.Errorf("%q: the proposal's slowest task %s, the table's for %d tasks %s", shard, m[2], k, row[4])
			}
		}
		if n != want || n < 2 {
			t.Errorf("%q: proposes -n %d, want %d (the fewest under 16 h):\n%s", shard, n, want, got)
		}
		if shard != nil && !strings.Contains(got, "units in shard "+shard[1]) {
			t.Errorf("%q: the estimate does not say it is the shard's:\n%s", shard, got)
		}
	}
	if proposed[1] != proposed[0] || proposed[2] != proposed[0] {
		t.Errorf("-n %v with no -shard, -shard 1/3 and -shard 2/3: want the same", proposed)
	}
}

// TestEstimateTasks checks -tasks' table, its limits and its sizing
// lines: the study of the short settings has 18 units (2 sets × 3
// emotions × 3 layers).
func TestEstimateTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	madeUpRates(t)
	got := estimateRun(t, filepath.Join(t.TempDir(), "out"), "-tasks", "40,3")
	rows := taskRow.FindAllStringSubmatch(got, -1)
	if len(rows) != 2 || rows[0][1] != "3" || rows[1][1] != "40" || rows[0][2] != "3" || rows[1][2] != "18" || rows[1][3] != "0-1" {
		t.Fatalf("table rows %q:\n%s", rows, got)
	}
	if s3, s40 := seconds(t, rows[0][4]), seconds(t, rows[1][4]); !(s40 < s3) {
		t.Errorf("slowest task %v s at 3 tasks, %v at 40", s3, s40)
	}
	for _, want := range []string{"the study has 18 (set, emotion, layer) units", "(40 tasks: 22 idle)", "the costliest unit, synth"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	for i, n := range []string{"3", "40"} {
		s := sizing(t, got, n)
		if math.Abs(float64(s["shard_s"])-seconds(t, rows[i][4])) > 1 {
			t.Errorf("tasks=%s: sizing shard_s %d, the table's slowest task %s", n, s["shard_s"], rows[i][4])
		}
		if s["shard_mib"] < s["merge_mib"]+1024 {
			t.Errorf("tasks=%s: a shard's memory %d MiB is not the merge's %d plus the -mem cache (1024)", n, s["shard_mib"], s["merge_mib"])
		}
	}
}

// sizing reads the "sizing: tasks=N ..." line of an estimate.
func sizing(t *testing.T, estimate, tasks string) map[string]int64 {
	t.Helper()
	for _, line := range strings.Split(estimate, "\n") {
		if !strings.HasPrefix(line, "sizing: tasks="+tasks+" ") {
			continue
		}
		out := map[string]int64{}
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			out[k] = n
		}
		return out
	}
	t.Fatalf("no sizing line for %s tasks:\n%s", tasks, estimate)
	return nil
}

// submitDry runs slurm/submit.sh -dry and returns its output and each
// job's sbatch options (--name=value) by job name.
func submitDry(t *testing.T, args ...string) (string, map[string]map[string]string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join("slurm", "submit.sh"), "-dry"}, args...)...)
	cmd.Env = append(os.Environ(), "REPRODUCE="+binary)
	cmd.Dir = "."
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	jobs := map[string]map[string]string{}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if !strings.HasPrefix(line, "sbatch ") {
			continue
		}
		opts := map[string]string{}
		for _, f := range strings.Fields(line)[1:] {
			if k, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(k, "--") {
				opts[k] = v
			}
		}
		jobs[strings.TrimPrefix(opts["--job-name"], "emosel-")] = opts
	}
	return stdout.String() + stderr.String(), jobs, err
}

// slurmTime is submit.sh's margin: 1.5× the predicted seconds, at least
// 10 minutes, rounded up to a minute, as [D-]HH:MM:SS.
func slurmTime(predicted int64) string {
	s := max(600, int64(math.Ceil(1.5*float64(predicted))))
	m := (s + 59) / 60
	if d := m / 1440; d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:00", d, m%1440/60, m%60)
	}
	return fmt.Sprintf("%02d:%02d:00", m/60, m%60)
}

// slurmMem is submit.sh's margin: 1.5× the predicted MiB, rounded up to a GiB.
func slurmMem(mib int64) string {
	return fmt.Sprintf("%dG", int64(math.Ceil(1.5*float64(mib)/1024)))
}

// TestSubmitSizing checks the --time and --mem that submit.sh gives each
// job, from its -dry output (no Slurm needed): from an estimate file with
// known predictions, with -t and -m overriding them, with both (no
// estimate), and from the estimate it runs itself.
func TestSubmitSizing(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "estimate.txt")
	err := os.WriteFile(file, []byte("Predicted time ...\n"+
		"sizing: tasks=3 prepare_s=4000 prepare_mib=3000 shard_s=50000 shard_mib=5000 merge_s=30 merge_mib=2000\n"+
		"sizing: tasks=4 prepare_s=4000 prepare_mib=3000 shard_s=200000 shard_mib=5000 merge_s=30 merge_mib=2000\n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	type want struct{ prepare, shard, merge [2]string } // --time, --mem
	for _, c := range []struct {
		name string
		args []string
		want want
		says string
	}{
		{"estimate file", []string{"-n", "3", "-estimate", file}, want{
			[2]string{"01:40:00", "5G"}, [2]string{"20:50:00", "8G"}, [2]string{"00:10:00", "3G"}},
			"--time: prepare 01:40:00, shards 20:50:00, merge 00:10:00 (1.5× predicted, at least 10 min)"},
		{"days", []string{"-n", "4", "-estimate", file}, want{
			[2]string{"01:40:00", "5G"}, [2]string{"3-11:20:00", "8G"}, [2]string{"00:10:00", "3G"}},
			"slowest of 4 shards 55:33:20 and 5000 MiB"},
		{"-t", []string{"-n", "3", "-estimate", file, "-t", "30:00:00"}, want{
			[2]string{"01:40:00", "5G"}, [2]string{"30:00:00", "8G"}, [2]string{"00:10:00", "3G"}},
			"shards 30:00:00 (-t)"},
		{"-m", []string{"-n", "3", "-estimate", file, "-m", "16G"}, want{
			[2]string{"01:40:00", "16G"}, [2]string{"20:50:00", "16G"}, [2]string{"00:10:00", "16G"}},
			"--mem: 16G for every job (-m)"},
		{"-t and -m", []string{"-n", "3", "-t", "2:00:00", "-m", "4G"}, want{
			[2]string{"04:00:00", "4G"}, [2]string{"2:00:00", "4G"}, [2]string{"01:00:00", "4G"}},
			"-t 2:00:00 and -m 4G given: no estimate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			log, jobs, err := submitDry(t, append(c.args, "--", "-out", out, "-quiet")...)
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			for name, w := range map[string][2]string{"prepare": c.want.prepare, "shard": c.want.shard, "merge": c.want.merge, "failed": c.want.merge} {
				if got := [2]string{jobs[name]["--time"], jobs[name]["--mem"]}; got != w {
					t.Errorf("%s job: --time, --mem %q, want %q\n%s", name, got, w, log)
				}
			}
			if !strings.Contains(log, c.says) {
				t.Errorf("submit.sh does not say %q:\n%s", c.says, log)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "slurm", "estimate-3.txt")); err == nil {
		t.Error("submit.sh ran an estimate although it was given one, or -t and -m")
	}
	if log, _, err := submitDry(t, "-n", "5", "-estimate", file, "--", "-out", out); err == nil || !strings.Contains(log, "no line 'sizing: tasks=5") {
		t.Errorf("an estimate without the line for -n 5: %v\n%s", err, log)
	}

	// The estimate submit.sh runs itself: each job gets the margin of
	// what it predicted, and the estimate is kept in OUT/slurm.
	if testing.Short() {
		return
	}
	t0 := time.Now()
	log, jobs, err := submitDry(t, append([]string{"-n", "3", "-c", "2", "--", "-out", out, "-quiet"}, short...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	est, err := os.ReadFile(filepath.Join(out, "slurm", "estimate-3.txt"))
	if err != nil {
		t.Fatalf("the estimate is not kept: %v\n%s", err, log)
	}
	s := sizing(t, string(est), "3")
	for name, w := range map[string][2]string{
		"prepare": {slurmTime(s["prepare_s"]), slurmMem(s["prepare_mib"])},
		"shard":   {slurmTime(s["shard_s"]), slurmMem(s["shard_mib"])},
		"merge":   {slurmTime(s["merge_s"]), slurmMem(s["merge_mib"])},
	} {
		if got := [2]string{jobs[name]["--time"], jobs[name]["--mem"]}; got != w {
			t.Errorf("%s job: --time, --mem %q, want %q from %v\n%s", name, got, w, s, log)
		}
	}
	if !strings.Contains(log, "GOMAXPROCS=2") || !strings.Contains(log, "--mem: prepare ") {
		t.Errorf("submit.sh does not say how it sized the jobs:\n%s", log)
	}
	t.Logf("submit.sh -dry with its estimate: %s", time.Since(t0).Round(time.Millisecond))
}
