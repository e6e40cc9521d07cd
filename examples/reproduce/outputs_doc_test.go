package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docPattern is one backticked output path of docs/OUTPUTS.md.
type docPattern struct {
	re      *regexp.Regexp
	dir     bool // ends in /...: covers everything below
	section int  // index of the section whose heading holds it, or -1
}

// docSection is the text under one heading, up to the next heading of the
// same or a higher level.
type docSection struct {
	text string
}

var (
	backticked  = regexp.MustCompile("`([^`]+)`")
	placeholder = regexp.MustCompile(`<[a-z]+>`)
	headingLine = regexp.MustCompile(`^(#{1,6}) `)
)

// patternOf turns a documented path into a regexp: placeholders such as
// <set> match one path element, a trailing /... everything below.
func patternOf(p string) (*regexp.Regexp, bool) {
	dir := strings.HasSuffix(p, "/...")
	p = strings.TrimSuffix(p, "/...")
	var b strings.Builder
	last := 0
	for _, m := range placeholder.FindAllStringIndex(p, -1) {
		b.WriteString(regexp.QuoteMeta(p[last:m[0]]))
		b.WriteString(`[^/]+`)
		last = m[1]
	}
	b.WriteString(regexp.QuoteMeta(p[last:]))
	if dir {
		return regexp.MustCompile("^" + b.String() + "/.+$"), true
	}
	return regexp.MustCompile("^" + b.String() + "$"), false
}

// parseOutputsDoc returns the sections of the document and every
// backticked token that looks like a file path (has a '.' or a '/'),
// noting which ones stand in a heading.
func parseOutputsDoc(doc string) ([]docSection, []docPattern) {
	lines := strings.Split(doc, "\n")
	type head struct{ line, level int }
	var heads []head
	for i, l := range lines {
		if m := headingLine.FindStringSubmatch(l); m != nil {
			heads = append(heads, head{i, len(m[1])})
		}
	}
	var secs []docSection
	var pats []docPattern
	for k, h := range heads {
		end := len(lines)
		for _, n := range heads[k+1:] {
			if n.level <= h.level {
				end = n.line
				break
			}
		}
		secs = append(secs, docSection{text: strings.Join(lines[h.line:end], "\n")})
	}
	add := func(tok string, section int) {
		if !strings.ContainsAny(tok, "./") || strings.ContainsAny(tok, " ,") {
			return
		}
		re, dir := patternOf(tok)
		pats = append(pats, docPattern{re: re, dir: dir, section: section})
	}
	hi := 0
	for i, l := range lines {
		section := -1
		if hi < len(heads) && heads[hi].line == i {
			section = hi
			hi++
		}
		// A table cell is a backticked token in a line starting with '|';
		// headings are the other place a file is documented.
		if section < 0 && !strings.HasPrefix(strings.TrimSpace(l), "|") {
			continue
		}
		for _, m := range backticked.FindAllStringSubmatch(l, -1) {
			add(m[1], section)
		}
	}
	return secs, pats
}

// documentedIn reports whether column is named, in backticks, in text
// (a backticked name may hold placeholders, e.g. `n_<set>`).
func documentedIn(text, column string) bool {
	for _, m := range backticked.FindAllStringSubmatch(text, -1) {
		for _, tok := range strings.Split(m[1], ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			if re, _ := patternOf(tok); re.MatchString(column) {
				return true
			}
		}
	}
	return false
}

// TestOutputsDocumented checks docs/OUTPUTS.md against a real run: every
// file the run writes is documented by a path or pattern in a heading or
// table cell, and every column of every CSV is named in backticks in its
// file's section.
func TestOutputsDocumented(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "OUTPUTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	secs, pats := parseOutputsDoc(string(raw))
	out := referenceRun(t)
	files := 0
	err = filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || d.Name() == "stalled" {
			return nil
		}
		files++
		rel, _ := filepath.Rel(out, path)
		rel = filepath.ToSlash(rel)
		covered, section, specific := false, -1, false
		for _, p := range pats {
			if !p.re.MatchString(rel) {
				continue
			}
			covered = true
			if !p.dir {
				specific = true
				if p.section >= 0 {
					section = p.section
				}
			}
		}
		if !covered {
			t.Errorf("docs/OUTPUTS.md does not document %s", rel)
			return nil
		}
		if !strings.HasSuffix(rel, ".csv") || !specific {
			return nil // an internal directory's file: no column check
		}
		if section < 0 {
			t.Errorf("docs/OUTPUTS.md: %s has no section (a heading naming it) for its columns", rel)
			return nil
		}
		head, _, err := readCSV(path)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		for _, c := range head {
			if !documentedIn(secs[section].text, c) {
				t.Errorf("docs/OUTPUTS.md: column %s of %s is not documented in its section", c, rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("the reference run wrote no files in %s", out)
	}
}
