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
//     (attention, Figs 4–5; the best α chosen on val, scored on test;
//     optionally coarse to fine), Threshold (Fig 3C) and Table1; random
//     draws seeded per (set, emotion, layer, draw) with Derive, so that
//     they do not depend on what else runs.
//   - stats.go: RankP, the Monte Carlo p-value (1+#)/(R+1) of the
//     selective set among R random draws, and Wilcoxon's signed-rank test
//     across layers (exact for n ≤ 50, normal approximation above).
//
// Orchestration (sharding, resuming, the output files and figures) is in
// the subpackage study.
//
// # Determinism
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
