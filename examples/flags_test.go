// Package examples_test checks what the commands under examples/ share:
// one flag vocabulary.
package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// flagInfo is one flag as a command's -h prints it.
type flagInfo struct {
	usage, def string
}

// helpFlags builds cmd and parses its -h output (flag.PrintDefaults'
// format: "  -name type" then usage lines indented by "    \t", the last
// ending in "(default X)" unless the default is the zero value).
func helpFlags(t *testing.T, bin, cmd string) (map[string]flagInfo, string) {
	t.Helper()
	c := exec.Command(filepath.Join(bin, cmd), "-h")
	out, _ := c.CombinedOutput() // -h exits 0 or 2 depending on the flag set's mode
	flags := map[string]flagInfo{}
	var name string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "  -"):
			name, _, _ = strings.Cut(line[3:], " ")
			flags[name] = flagInfo{}
		case name != "" && strings.HasPrefix(line, "    \t"):
			f := flags[name]
			f.usage += strings.TrimPrefix(line, "    \t") + "\n"
			flags[name] = f
		}
	}
	for n, f := range flags {
		if i := strings.LastIndex(f.usage, "(default "); i >= 0 && strings.HasSuffix(f.usage, ")\n") {
			f.def = f.usage[i+len("(default ") : len(f.usage)-2]
			flags[n] = f
		}
	}
	if len(flags) < 5 {
		t.Fatalf("%s -h: parsed %d flags from\n%s", cmd, len(flags), out)
	}
	return flags, string(out)
}

var commands = []string{"classify", "extract", "selectivity", "manipulate", "reproduce", "controls"}

// TestFlagVocabulary builds every command and checks, from their -h:
// help text in ASCII (so that every value shown can be pasted back);
// a flag shared by several commands has the same default in each, except
// where a command resolves it later (reproduce's demonstration-dependent
// defaults, whose help names both) or a required flag; -batch is the
// forward pass's batch wherever it exists; -model onnx (with its .onnx
// -weights) wherever -model is; and reproduce accepts every flag of
// selectivity and manipulate that is not about chaining them.
func TestFlagVocabulary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds six commands")
	}
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(os.PathSeparator)}
	for _, c := range commands {
		args = append(args, "./"+c)
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	all := map[string]map[string]flagInfo{}
	for _, c := range commands {
		flags, help := helpFlags(t, bin, c)
		all[c] = flags
		for i, line := range strings.Split(help, "\n") {
			for _, r := range line {
				if r > 0x7e || (r < 0x20 && r != '\t') {
					t.Errorf("%s -h, line %d: non-ASCII %q in %q", c, i+1, r, line)
					break
				}
			}
		}
	}
	// reproduce resolves these after parsing (demonstration or paper);
	// -out is required elsewhere; extract keeps VGG-16 at 224 px within
	// weights + 400 MB with its smaller batch.
	resolvedLater := map[string][]string{
		"reproduce": {"out", "size", "alphas", "draws", "removed", "epochs", "layers"},
		"extract":   {"batch"},
	}
	names := map[string]bool{}
	for _, flags := range all {
		for n := range flags {
			names[n] = true
		}
	}
	for n := range names {
		var first, firstCmd string
		for _, c := range commands {
			f, ok := all[c][n]
			if !ok || slices.Contains(resolvedLater[c], n) {
				continue
			}
			if firstCmd == "" {
				first, firstCmd = f.def, c
			} else if f.def != first {
				t.Errorf("-%s: default %q in %s, %q in %s", n, first, firstCmd, f.def, c)
			}
		}
	}
	for _, c := range commands {
		if f, ok := all[c]["batch"]; ok && !strings.Contains(f.usage, "forward pass") {
			t.Errorf("%s -batch is not the forward pass's batch: %q", c, f.usage)
		}
	}
	// The commands that take -model run any CNN exported to ONNX.
	for _, c := range []string{"selectivity", "manipulate", "reproduce"} {
		if !strings.Contains(all[c]["model"].usage, "onnx") || !strings.Contains(all[c]["weights"].usage, ".onnx") {
			t.Errorf("%s: -model or -weights does not offer onnx: %q, %q", c, all[c]["model"].usage, all[c]["weights"].usage)
		}
	}
	chaining := []string{"from"} // manipulate reads the selectivity stage's directory; reproduce runs it
	for _, c := range []string{"selectivity", "manipulate"} {
		for n := range all[c] {
			if _, ok := all["reproduce"][n]; !ok && !slices.Contains(chaining, n) {
				t.Errorf("reproduce lacks %s's -%s", c, n)
			}
		}
	}
}
