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
