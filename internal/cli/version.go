package cli

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Module is this project's module path.
const Module = "github.com/emosel/emosel"

// Commit is the commit a binary was built from, for builds without VCS
// stamping: set it with
//
//	go build -ldflags "-X github.com/emosel/emosel/internal/cli.Commit=$(git rev-parse HEAD)"
//
// Version prefers the Go toolchain's own stamp when there is one.
var Commit string

// Version says which code produced a result: the module version when the
// binary was built from a tagged module (go install ...@v1.2.3), else the
// commit from the toolchain's VCS stamp (go build in a checkout), else
// Commit, else the commit that HEAD names in the .git of the checkout
// holding the working directory (go run, which stamps nothing, or
// -buildvcs=false). Its second result says where the answer came from:
// "module", "vcs", "ldflags", "git" or "" when nothing says.
func Version() (string, string) {
	bi, ok := debug.ReadBuildInfo()
	if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version, "module"
	}
	if ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			if modified == "true" {
				rev += "+dirty"
			}
			return rev, "vcs"
		}
	}
	if Commit != "" {
		return Commit, "ldflags"
	}
	if wd, err := os.Getwd(); err == nil {
		if rev := gitHead(wd); rev != "" {
			return rev, "git"
		}
	}
	return "(devel)", ""
}

// gitHead returns the commit HEAD names in the git checkout of this module
// that holds dir (walking up to the directory whose go.mod declares
// Module), or "" if there is none or it cannot be read. It reads the files
// git writes (HEAD, loose refs, packed-refs; a worktree's .git file) and
// runs no command.
func gitHead(dir string) string {
	for d := dir; ; {
		if isModuleRoot(d) {
			return readHead(filepath.Join(d, ".git"))
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}

func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return strings.TrimSpace(string(line)) == "module "+Module
}

// readHead resolves HEAD in the git directory dotgit (a directory, or a
// worktree's file "gitdir: PATH").
func readHead(dotgit string) string {
	gitdir := dotgit
	if b, err := os.ReadFile(dotgit); err == nil { // a worktree or submodule
		p, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir: ")
		if !ok {
			return ""
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(dotgit), p)
		}
		gitdir = p
	}
	head, err := os.ReadFile(filepath.Join(gitdir, "HEAD"))
	if err != nil {
		return ""
	}
	ref, isRef := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !isRef {
		return hexOrEmpty(ref) // a detached HEAD
	}
	// A worktree keeps its HEAD; branches live in the common directory.
	common := gitdir
	if b, err := os.ReadFile(filepath.Join(gitdir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(gitdir, c)
		}
		common = c
	}
	for _, d := range []string{gitdir, common} {
		if b, err := os.ReadFile(filepath.Join(d, filepath.FromSlash(ref))); err == nil {
			return hexOrEmpty(strings.TrimSpace(string(b)))
		}
	}
	f, err := os.Open(filepath.Join(common, "packed-refs"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if h, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return hexOrEmpty(h)
		}
	}
	return ""
}

// hexOrEmpty returns s if it looks like an object name (40 or 64 hex
// digits), else "".
func hexOrEmpty(s string) string {
	if len(s) != 40 && len(s) != 64 {
		return ""
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ""
		}
	}
	return s
}
