package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestProgressLines checks the reporter off a terminal: a start line in
// the step's unit (MFLOP shown as GFLOP), Add clamped to the total and
// seen by OnAdd, a closing line, silent steps and quiet printing nothing.
func TestProgressLines(t *testing.T) {
	var buf bytes.Buffer
	var seen []int64
	unit := func(step string) string {
		if step == "lesion" {
			return "GFLOP"
		}
		return "images"
	}
	p := NewProgress(&buf, false, ProgressOptions{
		Indent: "  ",
		Unit:   unit,
		Silent: func(step string) bool { return step == "quiet step" },
		OnAdd:  func(step string, done, total int64) { seen = append(seen, done) },
	})
	p.Start("lesion", 2500) // 2500 MFLOP
	p.Add(1000)
	p.Add(2000) // past the total: clamped
	p.Finish()
	p.Start("features", 7)
	p.Finish()
	p.Start("quiet step", 5)
	p.Add(5)
	p.Finish()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"  lesion: 2.5 GFLOP", "  lesion: done in ", "  features: 7 images", "  features: done in "}
	if len(lines) != len(want) {
		t.Fatalf("got lines %q, want %d", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if len(seen) != 3 || seen[0] != 1000 || seen[1] != 2500 || seen[2] != 5 {
		t.Errorf("OnAdd saw %v, want [1000 2500 5]", seen)
	}

	buf.Reset()
	q := NewProgress(&buf, true, ProgressOptions{Unit: unit})
	q.Start("lesion", 10)
	q.Add(10)
	q.Finish()
	if buf.Len() != 0 {
		t.Errorf("quiet progress printed %q", buf.String())
	}
}

func TestSeconds(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want string
	}{{0.123456, "120ms"}, {3.14159, "3.14s"}, {12.6, "13s"}, {3725, "1h2m5s"}} {
		if got := Seconds(c.sec); got != c.want {
			t.Errorf("Seconds(%v) = %q, want %q", c.sec, got, c.want)
		}
	}
}
