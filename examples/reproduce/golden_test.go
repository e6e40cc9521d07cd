package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The default study's outputs, recorded before the generalisation to K
// categories (issue 17), are held in goldenDir: every CSV, JSON, Markdown
// and text output of at most goldenMaxFile bytes as a file, everything
// else (NPY, PNG, SVG, HTML, the stimuli and the large CSVs) as a SHA-256
// digest in goldenSums. TestDemo compares its run against them.
const (
	goldenDir     = "../../testdata/golden/default-study"
	goldenCPU     = goldenDir + ".cpu.json" // the recording host's manifest "cpu"
	goldenSums    = "SHA256SUMS"
	goldenMaxFile = 64 << 10
)

var updateGolden = flag.Bool("update-golden", false, "rewrite "+goldenDir+" from TestDemo's run (only when a change of the default study's outputs is intended)")

// volatile lists what legitimately differs between two runs of the same
// build on the same inputs: the output directory, the build's version and
// toolchain, the host, wall-clock times and timestamps. Each match is
// replaced by its mask before files are compared or hashed.
var volatile = []struct {
	re   *regexp.Regexp
	mask string
}{
	// manifest.json, stages/*.json: version, toolchain, start, durations, finish.
	{regexp.MustCompile(`"(version|version_source|go|started|seconds|finished)": [^,\n]*`), `"$1": "<volatile>"`},
	// manifest.json: the host's CPU, kernels and thread count.
	{regexp.MustCompile(`"cpu": \{[^}]*\}`), `"cpu": "<host>"`},
	// report.md, report.html: "reproduced by emosel VERSION on CPU (…) on DATE UTC."
	{regexp.MustCompile(`reproduced by emosel .*? on \d{4}-\d\d-\d\d \d\d:\d\d UTC`), `reproduced by emosel <version> on <host> on <date> UTC`},
	// report.md, report.html: the stage table's time column.
	{regexp.MustCompile(`(\| (?:stimuli|selectivity|manipulate|report) \| [a-z ]+ \| )[^|\n]*( \|)`), `$1<time>$2`},
	{regexp.MustCompile(`(<td>(?:stimuli|selectivity|manipulate|report)</td><td>[a-z ]+</td><td>)[^<]*(</td>)`), `$1<time>$2`},
	// selectivity/report.txt: the timestamp line and recording times.
	{regexp.MustCompile(`(?m)^(emosel selectivity), .*$`), `$1, <date>`},
	{regexp.MustCompile(`recorded in [0-9.]+[µmn]?s\b`), `recorded in <time>`},
}

// normalizeOutput masks the volatile parts of one output file.
func normalizeOutput(b []byte, out string) []byte {
	b = bytes.ReplaceAll(b, []byte(out), []byte("$OUT"))
	for _, v := range volatile {
		b = v.re.ReplaceAll(b, []byte(v.mask))
	}
	return b
}

// keptAsFile reports whether an output is held in full rather than as a
// digest.
func keptAsFile(rel string, size int) bool {
	switch filepath.Ext(rel) {
	case ".csv", ".json", ".md", ".txt":
		return size <= goldenMaxFile
	}
	return false
}

// checkGolden compares the demonstration's outputs in out, masked by
// normalizeOutput, with goldenDir: the same files, byte-identical, and the
// same digests. With -update-golden it rewrites goldenDir instead.
//
// The numbers depend on the SGEMM kernels (AVX2 and AVX-512 sum in another
// order) and on the cache blocking, so the comparison needs a host that
// runs the kernels the golden outputs were recorded with (goldenCPU); on
// another it is skipped, saying so.
func checkGolden(t *testing.T, out string) {
	t.Helper()
	type cpu struct {
		Path    string `json:"path"`
		Name    string `json:"name"`
		Threads int    `json:"threads"`
	}
	var m struct {
		CPU cpu `json:"cpu"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !*updateGolden {
		var rec cpu
		b, err := os.ReadFile(goldenCPU)
		if err == nil {
			err = json.Unmarshal(b, &rec)
		}
		if err != nil {
			t.Fatalf("%v (record the golden outputs with go test -run TestDemo -update-golden)", err)
		}
		if rec.Path != m.CPU.Path {
			t.Skipf("the golden outputs were recorded with the %s kernels (%s), this run used %s: their sums differ in the last bits", rec.Path, rec.Name, m.CPU.Path)
		}
		if rec != m.CPU {
			t.Logf("golden outputs recorded on %+v, this host is %+v", rec, m.CPU)
		}
	}
	files := map[string][]byte{}
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = normalizeOutput(b, out)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var sums strings.Builder
	for _, n := range names {
		if !keptAsFile(n, len(files[n])) {
			d := sha256.Sum256(files[n])
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(d[:]), n)
		}
	}

	if *updateGolden {
		if err := os.RemoveAll(goldenDir); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !keptAsFile(n, len(files[n])) {
				continue
			}
			p := filepath.Join(goldenDir, filepath.FromSlash(n))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, files[n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(goldenDir, goldenSums), []byte(sums.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		b, _ := json.MarshalIndent(m.CPU, "", "  ")
		if err := os.WriteFile(goldenCPU, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s: %d files", goldenDir, len(names))
		return
	}

	// The digests, and which outputs should exist.
	want := map[string]string{} // name → digest, "" for a file held in full
	f, err := os.Open(filepath.Join(goldenDir, goldenSums))
	if err != nil {
		t.Fatalf("%v (record the golden outputs with go test -run TestDemo -update-golden)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		digest, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(digest) != 64 {
			t.Fatalf("%s:%d: not \"<sha256>  <path>\": %q", goldenSums, line, sc.Text())
		}
		want[name] = digest
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(goldenDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(goldenDir, p)
		if rel = filepath.ToSlash(rel); err == nil && rel != goldenSums {
			want[rel] = ""
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, n := range names {
		digest, ok := want[n]
		switch {
		case !ok:
			t.Errorf("%s: a new output, not in the golden default study", n)
		case digest == "" && !keptAsFile(n, len(files[n])):
			t.Errorf("%s: %d bytes, the golden copy is held in full", n, len(files[n]))
		case digest == "":
			g, err := os.ReadFile(filepath.Join(goldenDir, filepath.FromSlash(n)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(g, files[n]) {
				t.Errorf("%s differs from the golden copy: %s", n, firstDiff(g, files[n]))
			}
		default:
			d := sha256.Sum256(files[n])
			if got := hex.EncodeToString(d[:]); got != digest {
				t.Errorf("%s: SHA-256 %s, golden %s", n, got, digest)
			}
		}
		delete(want, n)
	}
	for n := range want {
		t.Errorf("%s: in the golden default study, not written by this run", n)
	}
}

// firstDiff describes the first line where got departs from want.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  golden %q\n  got    %q", i+1, w, g)
		}
	}
	return "same lines"
}

// TestNormalizeOutput checks the masks on the lines that vary between two
// runs, and that they leave the rest alone.
func TestNormalizeOutput(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`  "seconds": 52.47722605,`, `  "seconds": "<volatile>",`},
		{`  "finished": "2026-12-07T15:42:25Z"` + "\n}", `  "finished": "<volatile>"` + "\n}"},
		{`"cpu": {` + "\n" + `  "name": "X",` + "\n" + `  "threads": 2` + "\n},", `"cpu": "<host>",`},
		{`"dir": "/tmp/o/stimuli/synth1",`, `"dir": "$OUT/stimuli/synth1",`},
		{`reproduced by emosel d18e on Zen (AVX512 kernels, 2 threads) on 2026-12-07 15:43 UTC.`, `reproduced by emosel <version> on <host> on <date> UTC.`},
		{`| selectivity | ran | 17s |`, `| selectivity | ran | <time> |`},
		{`<tr><td>manipulate</td><td>ran</td><td>35s</td></tr>`, `<tr><td>manipulate</td><td>ran</td><td><time></td></tr>`},
		{"emosel selectivity, 2026-12-07T15:42:42Z\n", "emosel selectivity, <date>\n"},
		{`150 images recorded in 2.187s`, `150 images recorded in <time>`},
		{`150 images recorded in 187ms`, `150 images recorded in <time>`},
		// Left alone: numbers that are results.
		{`"epochs": 300,`, `"epochs": 300,`},
		{`| conv2_1 | 17 | 0.5 |`, `| conv2_1 | 17 | 0.5 |`},
		{`synth1,conv1_1,0,pleasant,1.25`, `synth1,conv1_1,0,pleasant,1.25`},
	} {
		if got := string(normalizeOutput([]byte(c.in), "/tmp/o")); got != c.want {
			t.Errorf("normalizeOutput(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
