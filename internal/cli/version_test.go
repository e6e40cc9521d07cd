package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@t", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestGitHead checks gitHead against git rev-parse HEAD on a repository
// made by git itself: a loose branch ref from a subdirectory, the same
// after git pack-refs, a detached HEAD, a linked worktree, and a checkout
// of another module (not ours: no answer).
func TestGitHead(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	repo := t.TempDir()
	git(t, repo, "init", "-q", "-b", "main")
	sub := filepath.Join(repo, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module "+Module+"\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", "go.mod")
	git(t, repo, "commit", "-q", "-m", "one")
	check := func(what, dir, wantDir string) {
		t.Helper()
		want := git(t, wantDir, "rev-parse", "HEAD")
		if got := gitHead(dir); got != want {
			t.Errorf("%s: gitHead = %q, git rev-parse HEAD = %q", what, got, want)
		}
	}
	check("loose ref, from a subdirectory", sub, repo)
	git(t, repo, "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(repo, ".git", "refs", "heads", "main")); err == nil {
		t.Fatal("pack-refs left the loose ref: the packed case is not tested")
	}
	check("packed ref", repo, repo)
	git(t, repo, "commit", "-q", "--allow-empty", "-m", "two")
	first := git(t, repo, "rev-parse", "HEAD~1")
	git(t, repo, "checkout", "-q", "--detach", first)
	check("detached HEAD", repo, repo)
	git(t, repo, "checkout", "-q", "main")
	wt := filepath.Join(t.TempDir(), "wt")
	git(t, repo, "worktree", "add", "-q", "-b", "side", wt, first)
	check("linked worktree", wt, wt)
	check("main checkout beside a worktree", repo, repo)

	other := t.TempDir()
	git(t, other, "init", "-q")
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	git(t, other, "add", "go.mod")
	git(t, other, "commit", "-q", "-m", "x")
	if got := gitHead(other); got != "" {
		t.Errorf("another module's checkout: gitHead = %q, want \"\"", got)
	}
}

// TestVersion checks that a test binary of this checkout (which Go stamps
// with no VCS information) reports the commit git names.
func TestVersion(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	wd, _ := os.Getwd()
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = wd
	out, err := cmd.Output()
	if err != nil {
		t.Skip("not in a git checkout")
	}
	v, from := Version()
	if want := strings.TrimSpace(string(out)); from == "git" && v != want {
		t.Errorf("Version() = %q from git, git rev-parse HEAD = %q", v, want)
	} else if from == "" {
		t.Errorf("Version() = %q with no source, in a checkout at %s", v, want)
	}
}
