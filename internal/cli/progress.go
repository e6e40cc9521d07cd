package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress follows the long steps of a command (it satisfies
// selectivity/study.Progress and manipulate/study.Progress): on a
// terminal, a bar with an ETA per step; otherwise a line when a step
// starts and one when it ends; nothing when quiet.
type Progress struct {
	w     io.Writer
	quiet bool
	term  bool
	opt   ProgressOptions

	bar   *progressbar.ProgressBar
	stage string
	start time.Time
	total int64
	done  int64
	ended bool // Finish ran for this step
}

// ProgressOptions adapt a Progress to a command.
type ProgressOptions struct {
	// Indent starts every line and bar description.
	Indent string
	// Unit names what a step counts: "images", or a unit of GFLOP (the
	// totals and Add counts are then MFLOP, shown divided by 1000).
	Unit func(step string) string
	// Silent steps print no lines off a terminal (nil: none), for steps
	// the caller already logs.
	Silent func(step string) bool
	// OnAdd, if set, is called after every Add with the step's progress.
	OnAdd func(step string, done, total int64)
	// Context, if set, is the run's: a step that ends short of its total
	// after it is cancelled is reported as interrupted, with how far it
	// got, never as done (and its bar is not filled).
	Context context.Context
}

// NewProgress returns a Progress writing to w (a bar only if w is a
// terminal).
func NewProgress(w io.Writer, quiet bool, opt ProgressOptions) *Progress {
	p := &Progress{w: w, quiet: quiet, opt: opt}
	if f, ok := w.(*os.File); ok {
		p.term = term.IsTerminal(int(f.Fd()))
	}
	return p
}

// Start begins a step of total units.
func (p *Progress) Start(stage string, total int64) {
	p.stage, p.start, p.total, p.done, p.ended = stage, time.Now(), total, 0, false
	if p.quiet || total <= 0 {
		return
	}
	unit := p.opt.Unit(stage)
	if !p.term {
		if !p.silent() {
			fmt.Fprintf(p.w, "%s%s: %s %s\n", p.opt.Indent, stage, p.scaled(total), unit)
		}
		return
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%s%-9s", p.opt.Indent, stage)),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(250 * time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	}
	if unit == "images" {
		opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetItsString("img"), progressbar.OptionShowIts())
	}
	p.bar = progressbar.NewOptions64(total, opts...)
	p.bar.RenderBlank() // starts the clock for the ETA
}

// Add advances the step by n units, never past its total (a refined
// sweep's work is estimated in advance).
func (p *Progress) Add(n int64) {
	n = min(n, p.total-p.done)
	p.done += n
	if p.bar != nil && n > 0 {
		p.bar.Add64(n)
	}
	if p.opt.OnAdd != nil {
		p.opt.OnAdd(p.stage, p.done, p.total)
	}
}

// Finish ends the step: done, or interrupted if the run's context is
// cancelled before the step reached its total. A second Finish of the
// same step does nothing.
func (p *Progress) Finish() {
	if p.ended {
		return
	}
	p.ended = true
	stopped := p.opt.Context != nil && p.opt.Context.Err() != nil && p.done < p.total
	if p.bar != nil {
		if stopped {
			p.bar.Exit() // leaves the bar where it stopped
			fmt.Fprintln(p.w)
		} else {
			p.bar.Finish()
		}
		p.bar = nil
	}
	if p.quiet || p.total <= 0 || (!p.term && p.silent()) {
		return
	}
	took := Seconds(time.Since(p.start).Seconds())
	switch {
	case stopped:
		fmt.Fprintf(p.w, "%s%s: interrupted after %s, at %s of %s %s\n", p.opt.Indent, p.stage, took,
			p.scaled(p.done), p.scaled(p.total), p.opt.Unit(p.stage))
	case !p.term:
		fmt.Fprintf(p.w, "%s%s: done in %s\n", p.opt.Indent, p.stage, took)
	}
}

func (p *Progress) silent() bool { return p.opt.Silent != nil && p.opt.Silent(p.stage) }

// scaled prints a step's total in its unit (MFLOP counts as GFLOP).
func (p *Progress) scaled(n int64) string {
	if p.opt.Unit(p.stage) == "images" {
		return strconv.FormatInt(n, 10)
	}
	return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64)
}

// Seconds formats a duration given in seconds for a log: to the
// hundredth below 10 s, to the second above.
func Seconds(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	if d < 10*time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
