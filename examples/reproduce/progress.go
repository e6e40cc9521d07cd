package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/emosel/emosel/internal/cli"
	manstudy "github.com/emosel/emosel/manipulate/study"
)

// newProgress returns the reporter of both stages: cli.Progress, indented
// under the stage lines, counting images or GFLOP of suffix re-runs, with
// no lines off a terminal for the recordings (the selectivity stage logs
// one per recording). With stall set (EMOSEL_REPRODUCE_STALL=<step>, for
// the tests), halfway through that step it writes out/stalled and waits
// for an interrupt, so that a test can stop the process at a known point.
func newProgress(ctx context.Context, w io.Writer, quiet bool, stall, out string) *cli.Progress {
	opt := cli.ProgressOptions{
		Context: ctx,
		Indent:  "  ",
		Unit: func(step string) string {
			if slices.Contains(manstudy.Stages, step) {
				return "GFLOP"
			}
			return "images"
		},
		// A recording of the selectivity stage is "<set> on <network>".
		Silent: func(step string) bool { return strings.Contains(step, " on ") },
	}
	if stall != "" {
		opt.OnAdd = func(step string, done, total int64) {
			if step == stall && 2*done >= total {
				os.WriteFile(filepath.Join(out, "stalled"), []byte(step+"\n"), 0o644)
				<-ctx.Done() // until SIGINT, SIGTERM or SIGKILL
			}
		}
	}
	return cli.NewProgress(w, quiet, opt)
}
