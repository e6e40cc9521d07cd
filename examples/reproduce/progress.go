package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	manstudy "github.com/emosel/emosel/manipulate/study"
)

// progress follows the long steps of both stages (it satisfies
// selectivity/study.Progress and manipulate/study.Progress): a bar with
// an ETA per step on a terminal, a line per step otherwise, nothing with
// -quiet.
type progress struct {
	w     io.Writer
	quiet bool
	term  bool
	bar   *progressbar.ProgressBar
	stage string
	start time.Time
	total int64
	done  int64

	// stall, for the tests (EMOSEL_REPRODUCE_STALL=<step>): halfway
	// through that step, write out/stalled and stop forever, so that a
	// test can kill the process at a known point.
	stall, out string
}

func newProgress(w io.Writer, quiet bool, stall, out string) *progress {
	p := &progress{w: w, quiet: quiet, stall: stall, out: out}
	if f, ok := w.(*os.File); ok {
		p.term = term.IsTerminal(int(f.Fd()))
	}
	return p
}

// flops reports whether a step counts MFLOP of suffix re-runs (the
// manipulations) rather than images.
func flops(stage string) bool { return slices.Contains(manstudy.Stages, stage) }

func (p *progress) Start(stage string, total int64) {
	p.stage, p.start, p.total, p.done = stage, time.Now(), total, 0
	if p.quiet || total <= 0 {
		return
	}
	unit := "images"
	if flops(stage) {
		unit = "GFLOP"
	}
	if !p.term {
		if recording(stage) {
			return // the selectivity stage logs a line per recording
		}
		fmt.Fprintf(p.w, "  %s: %s %s\n", stage, scaled(stage, total), unit)
		return
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("  %-9s", stage)),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(250 * time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	}
	if !flops(stage) {
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetItsString("img"), progressbar.OptionShowIts())
	}
	p.bar = progressbar.NewOptions64(total, opts...)
	p.bar.RenderBlank() // starts the clock for the ETA
}

// recording reports whether a step is a recording of the selectivity
// stage ("<set> on <network>").
func recording(stage string) bool { return strings.Contains(stage, " on ") }

// scaled prints a step's total in its unit (MFLOP counts as GFLOP).
func scaled(stage string, n int64) string {
	if !flops(stage) {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64)
}

// Add advances the bar, never past its total (a refined sweep's work is
// estimated in advance).
func (p *progress) Add(n int64) {
	n = min(n, p.total-p.done)
	p.done += n
	if p.bar != nil && n > 0 {
		p.bar.Add64(n)
	}
	if p.stall != "" && p.stall == p.stage && 2*p.done >= p.total {
		os.WriteFile(filepath.Join(p.out, "stalled"), []byte(p.stage+"\n"), 0o644)
		for {
			time.Sleep(time.Hour)
		}
	}
}

func (p *progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
		return
	}
	if !p.quiet && p.total > 0 && !p.term && !recording(p.stage) {
		fmt.Fprintf(p.w, "  %s: done in %s\n", p.stage, round(time.Since(p.start).Seconds()))
	}
}
