// Package manipulate tests whether a network's emotion-selective neurons
// matter for recognising emotion, following Liu, Bo, Ding & Fang (2024),
// PLoS Comput Biol 20(3): e1011943: it trains 2-unit readouts on the frozen
// network's fc7 features, then lesions (α = −1) or enhances (α > 0) chosen
// channels of one layer at a time through the ReLU gain
// y = (1+α_c)·max(0, x), and compares the selective neurons' effect with
// that of count-matched random neurons.
//
// # Layout
//
//   - images.go: Images, a stimulus set as network input (Tensor for one
//     held in memory).
//   - split.go: Stratify, the seeded 50/25/25 train/val/test split of
//     each emotion category.
//   - readout.go, score.go: Readout (an nn.Linear [2,F] trained with
//     nn.Train; class 1 is the emotion), its decisions, and Score, the
//     confusion matrix with F1 of the emotion (the paper's metric),
//     macro-F1 and accuracy.
//   - gain.go: Gain and Lesion vectors, CheckAlpha.
//   - suffix.go: Suffix re-runs the network from a unit's cached pre-gain
//     activation h to the readout features with any gain vector,
//     features = net[u.ReLU+1 : fc7.ReLU+1]((1+α)·max(0, h)), bitwise
//     equal to a full forward with the gain installed. Predict caches h
//     once per chunk of images (sized by a memory budget) and re-runs the
//     suffix for every gain, stacking several gains into one batch when a
//     chunk is small. Features runs the intact network.
//   - cost.go: TraceNet and UnitCost, the FLOPs of prefixes and suffixes.
//   - experiment.go: Task (a set, an emotion, its split, readout and
//     intact decisions) and the experiments: Lesion (Fig 6), Sweep
//     (attention, Figs 4–5; the best α chosen on val, scored on test),
//     Threshold (Fig 3C) and Table1; random draws seeded per (set,
//     emotion, layer, draw) with Derive, so that they do not depend on
//     what else runs.
//   - search.go: how Sweep and Threshold find the val-best α. By default
//     a search (coarse brackets, a bound on each bracket's best val F1,
//     bisection evaluated only on the images whose decisions differ, the
//     chosen α verified on every image) returns the exhaustive grid's α
//     unless an image's decision flips and flips back within one bracket;
//     test images are scored at the chosen α only, but for the selective
//     set of a sweep, whose test curve (Figs 4–5, right) is kept at every
//     gain evaluated. Config.Exhaustive evaluates the whole grid, and
//     Config.Refine the older coarse-to-fine grid.
//   - stats.go: RankP, the Monte Carlo p-value (1+#)/(R+1) of the
//     selective set among R random draws, and Wilcoxon's signed-rank test
//     across layers (exact for n ≤ 50, normal approximation above).
//
// Orchestration (sharding, resuming, the output files and figures) is in
// the subpackage study.
//
// # Determinism
//
// # Exactness
//
// Where results stay bitwise equal to a full forward pass with the gain
// installed (Model.SetGain), and where they do not:
//
//   - Suffix.Run, Suffix.Predict and the lesion: bitwise equal, for any
//     batch (TestSuffixEqualsFullForward).
//   - The search: its decisions at every gain it evaluates on every image
//     (the coarse gains and the chosen α) are those of the exhaustive
//     grid, bit for bit; at bisected gains the images whose decisions
//     agree at both ends of the bracket carry them over (the search's
//     assumption). The chosen α equals the grid's whenever no decision
//     flips twice within a bracket (TestSearchMatchesGridGenerated,
//     TestSearchMatchesGridNetwork measure how often that fails).
//
// A seed fixes every result to the last bit: readout training sums in a
// fixed order on one goroutine, decisions are float64 sums in feature
// order, and the network's GEMM sums each output in an order that depends
// only on the layer shapes, so a feature vector does not depend on which
// images share its batch. α = 0 therefore reproduces the intact network's
// F1 exactly.
//
// # Errors and panics
//
// Cancelled contexts and failing image loads return errors. Programmer
// misuse panics with a "manipulate: ..." message: an unknown unit, a
// features unit before the manipulated one, a gain below −1 or of the
// wrong length, a channel out of range, labels that do not match the
// images, split fractions that do not sum to 1. Config.Check and
// CheckAlpha turn user settings into errors first.
package manipulate
