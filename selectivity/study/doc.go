// Package study runs the selectivity stage of Liu et al. (2024), Figs 2
// and 3, as one call and writes its outputs: it records every conv
// channel of one or more networks on two or more stimulus sets, analyses
// the cross-set selectivity (package selectivity), and writes the tables,
// the recorded arrays, the figures (package selectivity/plots) and a
// plain-text report into an output directory.
//
// # Layout
//
//   - study.go: Config, Network and Run. Run records each set on each
//     network through selectivity.Record (cached under DIR/cache/<set>/<key>,
//     so a rerun with the same key runs no forward pass), analyses each
//     network with selectivity.Analyze (and Permute, if asked), and writes
//     the outputs. LoadSet loads a set with the paper's thresholds
//     rescaled for the OASIS layout; Layers resolves layer names.
//   - output.go: the files of the output directory (see Run) and the
//     report.
//
// The first Network is the one the tables describe (the pretrained
// network, or a random one standing in for it); a second is the random
// control of Fig 3, whose tables go to DIR/control. Commands
// (examples/selectivity, examples/reproduce) build the networks and parse
// the flags; this package holds no flag and prints nothing but what it is
// given a Log for.
//
// # Errors and panics
//
// Bad input returns an error naming the set and the file: a set with too
// few images of an emotion (wrapping selectivity.ErrLabels), an unreadable
// image, an unwritable output directory; a cancelled context returns
// ctx.Err(). Every file is written to a temporary name and renamed, so an
// interrupted run leaves whole files only. Run panics on programmer
// misuse: fewer than two sets, no network, a network without a model or
// key, two networks with the same key.
package study
