package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/stimuli"
)

// readmeSnippet returns the Go program under README.md's "Library API"
// heading.
func readmeSnippet(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "## Library API")
	if i < 0 {
		t.Fatal(`README.md has no "## Library API" section`)
	}
	s = s[i:]
	start := strings.Index(s, "```go\n")
	if start < 0 {
		t.Fatal("README.md's Library API section has no ```go block")
	}
	s = s[start+len("```go\n"):]
	end := strings.Index(s, "\n```")
	if end < 0 {
		t.Fatal("README.md's Go block is not closed")
	}
	return s[:end+1]
}

// goModule writes main.go into a new module that uses this checkout of
// emosel (a replace directive, the checkout's go.sum) and returns its
// directory.
func goModule(t *testing.T, main string) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module readme\n\ngo 1.24\n\nrequire github.com/emosel/emosel v0.0.0\n\nreplace github.com/emosel/emosel => " + repo + "\n"
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"go.mod": []byte(mod), "go.sum": sum, "main.go": []byte(main)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func goCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	return cmd
}

// TestReadmeSnippet builds the README's Library API program as pasted,
// then its vgg.Random16 variant, which it runs on a synthetic set: it must
// find pleasant-selective channels and print logits of 1000 classes before
// and after the lesion.
func TestReadmeSnippet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	src := readmeSnippet(t)
	dir := goModule(t, src)
	if out, err := goCmd(dir, "build", "-o", filepath.Join(dir, "readme"), ".").CombinedOutput(); err != nil {
		t.Fatalf("the README's snippet does not build: %v\n%s\n%s", err, out, src)
	}

	// The variant for a reader without weights: vgg.Random16 and a
	// synthetic set in place of IAPS.
	load := "m, err := vgg.Load(vgg.Config{}, \"vgg16-397923af.pth\")"
	i := strings.Index(src, load)
	j := strings.Index(src, "set, err := stimuli.Load(")
	if i < 0 || j < i {
		t.Fatalf("the snippet no longer loads weights with %q before the stimuli", load)
	}
	set := filepath.Join(t.TempDir(), "set")
	if err := stimuli.WriteSynthetic(set, "synth", 12, 3, 64); err != nil {
		t.Fatal(err)
	}
	variant := src[:i] + "m := vgg.Random16(1)\n\t" + strings.Replace(src[j:], `"iaps/"`, "`"+set+"`", 1)
	if variant == src[:i]+"m := vgg.Random16(1)\n\t"+src[j:] {
		t.Fatal(`the snippet no longer reads "iaps/"`)
	}
	dir = goModule(t, variant)
	out, err := goCmd(dir, "run", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("the vgg.Random16 variant: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "logits [12 1000] -> [12 1000]") || strings.HasPrefix(string(out), "0 pleasant") {
		t.Errorf("the vgg.Random16 variant printed %q", out)
	}
}
