package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestExitCode checks the exit statuses: usage errors 2, interrupted runs
// 130 (also when wrapped, and from a bare context.Canceled), others 1.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("disk full"), 1},
		{Usagef("-layers %q", "x"), 2},
		{Interruptedf("interrupted; run the same command to resume"), 130},
		{fmt.Errorf("stage: %w", Interruptedf("interrupted")), 130},
		{fmt.Errorf("extract: %w", context.Canceled), 130},
		{context.DeadlineExceeded, 1},
	} {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	if msg := Interruptedf("kept in %s", "out").Error(); msg != "kept in out" {
		t.Errorf("message %q", msg)
	}
}

// TestParseList checks both forms against hand-written values, that a
// Unicode minus pasted from the help or a report reads as "-", and that
// malformed lists are usage errors.
func TestParseList(t *testing.T) {
	for _, c := range []struct {
		in    string
		scale float64
		want  []float64
	}{
		{"-1,0.5", 1, []float64{-1, 0.5}},
		{"\u22121, 0.5", 1, []float64{-1, 0.5}},
		{"\u22121:0:0.5", 1, []float64{-1, -0.5, 0}},
		{"0:90:30", 100, []float64{0, 0.3, 0.6, 0.9}},
	} {
		got, err := ParseList("-alphas", c.in, c.scale)
		if err != nil {
			t.Fatalf("ParseList(%q): %v", c.in, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("ParseList(%q) = %v, want %v", c.in, got, c.want)
		}
		for i := range got {
			if d := got[i] - c.want[i]; d > 1e-12 || d < -1e-12 {
				t.Fatalf("ParseList(%q) = %v, want %v", c.in, got, c.want)
			}
		}
	}
	for _, bad := range []string{"", "1:2", "a,b", "2:1:0.5", "0:1:0", "NaN"} {
		if _, err := ParseList("-alphas", bad, 1); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseList(%q) err = %v, want a usage error", bad, err)
		}
	}
}
