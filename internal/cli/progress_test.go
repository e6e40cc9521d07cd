package cli

import (
	"bytes"
	"context"
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

// TestProgressInterrupted checks a step that ends short of its total after
// the run's context is cancelled: off a terminal an "interrupted" line
// with how far it got and no "done"; on a terminal a bar left where it
// stopped (not filled to 100%), which an uncancelled step does fill.
func TestProgressInterrupted(t *testing.T) {
	unit := func(string) string { return "GFLOP" }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	p := NewProgress(&buf, false, ProgressOptions{Unit: unit, Context: ctx})
	p.Start("sweep", 2500)
	p.Add(1000)
	p.Finish()
	p.Finish() // a second Finish prints nothing more
	if s := buf.String(); strings.Contains(s, "done") || strings.Count(s, "interrupted") != 1 || !strings.Contains(s, "sweep: interrupted after ") ||
		!strings.Contains(s, "at 1.0 of 2.5 GFLOP") {
		t.Errorf("off a terminal:\n%q", s)
	}
	// A cancelled run whose step was complete anyway is done.
	buf.Reset()
	p.Start("lesion", 10)
	p.Add(10)
	p.Finish()
	if s := buf.String(); !strings.Contains(s, "lesion: done in") || strings.Contains(s, "interrupted") {
		t.Errorf("a complete step of a cancelled run:\n%q", s)
	}

	for _, cancelled := range []bool{false, true} {
		c := context.Background()
		if cancelled {
			c = ctx
		}
		buf.Reset()
		p := NewProgress(&buf, false, ProgressOptions{Unit: unit, Context: c})
		p.term = true // as on a terminal
		p.Start("sweep", 2500)
		p.Add(1000)
		p.Finish()
		s := buf.String()
		if full := strings.Contains(s, "100%"); full == cancelled || strings.Contains(s, "interrupted") != cancelled {
			t.Errorf("terminal, cancelled %v:\n%q", cancelled, s)
		}
	}
}
