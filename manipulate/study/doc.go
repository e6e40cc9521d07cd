// Package study runs the manipulation stage of Liu et al. (2024) as a
// resumable, shardable study and writes its outputs: Table 1, the lesion,
// sweep, threshold and statistics CSVs, and Figs 3C, 4–5 and 6.
//
// # Layout
//
//   - from.go: ReadSelectivity reads the selectivity stage's output
//     directory (selectivity.csv: SI and preferred emotion per set, layer
//     and channel; selective.csv: the cross-set selective channels), and
//     Selectivity.Check matches it against a model and the sets.
//   - sets.go: FromSet and SetImages turn a stimuli.Set and an
//     imagenet.Config into network input; ParamsID fingerprints weights.
//   - study.go: Config, Open and Study.Run. The work is the units
//     (set, emotion, layer) of each stage (lesion, sweep, threshold);
//     Assign splits them into shards by predicted FLOPs (longest first to
//     the least loaded shard), deterministically. Run computes the fc7
//     features of each set once (cached in OUT/features), trains the
//     readouts (OUT/readouts), then runs each stage's pending units,
//     writing each to OUT/units/<stage>/<set>/<emotion>/<layer>.json as
//     soon as it is done.
//   - merge.go: Merge reads every unit back and writes the outputs;
//     an unsharded Run ends with it.
//   - figures.go: Figs 3C, 4–5 and 6 through internal/figure.
//   - estimate.go: Study.Estimate times each layer's prefix and suffix
//     and predicts the study's wall time.
//
// # Output directory
//
// OUT/manifest.json records the settings and their fingerprint. A
// directory is bound to one fingerprint (model weights, input, sets and
// labels, selectivity files, seed, readout, draws, gains, thresholds):
// Open refuses another (ErrMismatch). The layers and stages may change
// between runs. Every file is written to a temporary name and renamed,
// so an interrupted run leaves only finished files, and a new run skips
// the units already done. The outputs are a function of the unit files
// alone: shards merged give byte for byte what an unsharded run writes.
//
// # Errors and panics
//
// Bad or mismatched input returns an error: files of the selectivity
// output that are missing or malformed (naming file and line), or that do
// not match the model or sets (ErrFrom); another study in the output
// directory (ErrMismatch); unknown layers or stages, out-of-range shards
// or thresholds, gains below −1; missing units at Merge. Open panics if
// the model, the selectivity output or the sets are missing, or a set's
// labels do not match its images (programmer misuse).
package study
