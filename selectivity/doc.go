// Package selectivity measures the emotion selectivity of CNN channels
// ("neurons") from their responses to labelled images, following Liu, Bo,
// Ding & Fang (2024), PLoS Comput Biol 20(3): e1011943, Methods.
//
// # Layout
//
// The input is a response matrix resp of shape [N, C] (one row per image,
// one column per channel; each entry the spatially averaged feature map of
// Eq 2) and one stimuli.Category per row. Rows labelled Unknown are left out
// of every statistic. Per-emotion arrays are indexed by stimuli.Category.
//
//   - Index computes, per channel, the mean and variance per emotion, the
//     tuning values S_e of Eq 4 (population SD over all images), d′(e) of
//     Eq 5 exactly as written,
//     d′(e) = (X̄_e - (X̄_o1 + X̄_o2)/2) / sqrt((σ²_e + σ²_o1 + σ²_o2)/2),
//     with population variances by default (Config.SampleVariance switches
//     to N-1), the selectivity index SI = max_e d′(e) and the preferred
//     emotion argmax_e d′(e). Tuning returns just the tuning curves.
//   - Result.Select keeps the channels with the top fraction of SIs
//     (DefaultKeep = 0.8, the paper's threshold); a channel is "selective
//     for e" when it is kept and prefers e.
//   - Compare intersects the selections of two stimulus sets per emotion
//     (the paper's emotion-selective neurons) with the overlap expected by
//     chance and its exact hypergeometric p-value (UpperTail).
//   - Describe, Quantiles, Edges, Histogram, Summaries, Counts and Shared
//     are pure helpers for comparing layers and networks (pretrained
//     against random weights); Top and Gather give a neuron's top images and
//     their valences (Fig 2, bottom).
//
// # Errors and panics
//
// Data problems never become a silent NaN inside a mean: a channel with a
// NaN or infinite response, a constant (dead) channel, or one whose d′
// denominator is 0 gets SI = NaN, Preferred = Unknown and a Flaw; Result
// counts them, Select never keeps them, and the summaries report them as
// Invalid. Labels that leave an emotion with no images (or one image with
// sample variance) make Index return an error wrapping ErrLabels.
//
// Programmer misuse panics with a "selectivity: ..." message that names
// both sides: responses that are not [N, C], a label count that differs from
// N, a keep fraction outside [0, 1], selections of different widths.
package selectivity
