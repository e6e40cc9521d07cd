package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSubmitFromAnyDirectory runs slurm/submit.sh -dry from another
// directory with relative -out, -weights and -sets: the jobs run with
// --chdir=OUT, so every job gets them absolute; a path whose parent does
// not exist is refused.
func TestSubmitFromAnyDirectory(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	for _, d := range []string{"iaps", "naps"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "w.pth"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs(filepath.Join("slurm", "submit.sh"))
	if err != nil {
		t.Fatal(err)
	}
	submit := func(args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{script, "-dry", "-n", "2", "-t", "1:00:00", "-m", "2G", "--"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "REPRODUCE="+binary)
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	log, err := submit("-weights", "w.pth", "-sets", "iaps=iaps,naps", "-out", "out")
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	var jobs int
	for _, line := range strings.Split(log, "\n") {
		if !strings.HasPrefix(line, "sbatch ") {
			continue
		}
		jobs++
		for _, want := range []string{
			" -weights " + filepath.Join(dir, "w.pth") + " ",
			" -sets iaps=" + filepath.Join(dir, "iaps") + `\,` + filepath.Join(dir, "naps") + " ",
			" -out " + filepath.Join(dir, "out"),
		} {
			if !strings.Contains(line, want) {
				t.Errorf("no %q in %s", want, line)
			}
		}
	}
	if jobs != 4 {
		t.Errorf("%d sbatch commands, want 4:\n%s", jobs, log)
	}
	for _, c := range [][3]string{{"-weights", "no/w.pth", "-weights no/w.pth"}, {"-sets", "iaps=no/iaps,naps", "-sets no/iaps"}} {
		if log, err := submit(c[0], c[1], "-out", "out"); err == nil || !strings.Contains(log, c[2]+": its parent directory does not exist") {
			t.Errorf("%s %s: %v\n%s", c[0], c[1], err, log)
		}
	}
}
