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
//     chance and its exact hypergeometric p-value (UpperTail); Overlaps
//     does the same for two or more sets with a choice of chance model
//     (IntersectTail gives the exact p for three or more).
//   - Describe, Quantiles, Edges, Histogram, Summaries, Counts and Shared
//     are pure helpers for comparing layers and networks (pretrained
//     against random weights); Top and Gather give a neuron's top images and
//     their valences (Fig 2, bottom).
//   - TwoWayANOVA runs, per channel, a two-way ANOVA of the responses on
//     the category and a second factor (e.g. object, scene or people
//     content; S1 Text, Figs L–M) with Type II sums of squares;
//     TwoWayTable.Q corrects each term with BH across channels and
//     TwoWayTable.Count counts the channels whose category effect survives
//     the second factor.
//
// # Recording
//
// Record runs a stimulus set through an nn.Model, batch by batch, and
// streams every conv unit's [N, C] responses (Eq 2: the spatial mean of the
// post-ReLU map, taken by the model's Record hooks in the fused GEMM
// epilogue, one forward pass per batch) to <dir>/<unit>.npy, with
// <dir>/images.csv (row,file,valence,category) naming the rows. Memory is
// constant in the number of images. The directory is a cache identified by
// <dir>/key.json: a Key (architecture, a SHA-256 of the layer list, every
// parameter and every gain, the weights label and seed, the set's content
// hash, the preprocessing and the units) and each array's size and
// SHA-256. A matching, intact cache is reused without a forward pass; any
// difference recomputes. key.json is removed before and written after
// everything else, so an interrupted run never looks complete.
// Recording.Responses reads the arrays back. BenchmarkRecord measures the
// cost of recording against a plain forward pass.
//
// # The cross-set study
//
// Analyze takes the Responses of two or more sets to one network and, per
// unit, runs Index and Select on each set (StudyConfig.Keep, default 0.8)
// and Overlaps across the sets. Run it on a pretrained and on a randomly
// initialised network for the paper's control (Fig 3): Study.Summaries
// gives the per-layer SI distributions (Fig 3A), Study.Shared the counts
// of emotion-selective neurons (Fig 3B). Study.Exemplar picks a layer's
// most consistently selective neuron per emotion and Study.Top its top-N
// images (Fig 2). Permute gives each overlap a permutation p-value. WriteSelectivity, WriteSelective, WriteOverlap,
// WriteLayers, WriteTop and WriteImages write the tables as CSV (NaN as
// "NaN"); package selectivity/plots draws the figures.
//
// Choices where the paper is silent or loose:
//
//   - Variance. Eq 5's σ² is the population variance (divide by N_e) by
//     default; Config.SampleVariance selects N_e − 1. Eq 4's SD is always
//     the population SD, as written.
//   - Minimum images. Every emotion needs at least MinImages (2) images in
//     a set; CheckSet and Analyze report a shortfall naming the set and its
//     ratings file.
//   - Chance model. The overlap expected by chance is computed, as the
//     paper states, "given the two sets' counts and the layer's channel
//     count": random selections of the observed sizes drawn from all of
//     the layer's channels (ChanceAll, the default; the `channels` column
//     of the overlap table). Dead channels can never be selected, so
//     ChanceValid, which draws from the channels with a finite SI in every
//     set and counts only those, is the conservative alternative (it is
//     what Compare uses).
//   - Anti-conservative p. Either hypergeometric model treats channels as
//     exchangeable. Real channels are correlated (whole groups respond to
//     luminance or contrast), so even with shuffled labels groups of
//     channels flip preference together and small p-values are far more
//     common than their nominal rate (about 16% below 0.01 for two sets of
//     60 images on a quarter-width random VGG-16 in the package's tests).
//     The mean overlap under shuffling stays near chance. Read these
//     p-values as descriptive, and compare pretrained against random
//     networks, as the paper does, rather than trusting a threshold on p.
//   - Permutation null. Permute reruns the whole analysis with each set's
//     labels shuffled and gives a permutation p-value per layer and
//     emotion, which keeps the channels' correlations and is calibrated
//     (about 5% at or below 0.05 with shuffled labels in the tests). Its
//     null is "the labels carry no information in any set"; it does not
//     condition on how many channels are selective, as the hypergeometric
//     model does, so it also rejects when selectivity exists in each set
//     without a shared identity. Use both: Permute for whether there is
//     any emotion structure, Overlap.P (with care) for whether the
//     selective channels coincide.
//   - Exemplars. The paper does not say how its Fig 2 neurons were chosen;
//     Exemplar takes, among the neurons selective for the emotion in every
//     set, the one whose smallest SI across sets is largest.
//
// # Errors and panics
//
// Data problems never become a silent NaN inside a mean: a channel with a
// NaN or infinite response, a constant (dead) channel, or one whose d′
// denominator is 0 gets SI = NaN, Preferred = Unknown and a Flaw; Result
// counts them, Select never keeps them, and the summaries report them as
// Invalid. Labels that leave an emotion with fewer than MinImages images
// make Index, CheckSet and Analyze return an error wrapping ErrLabels.
// Record's errors name the set and the image or file at fault; a cancelled
// context returns ctx.Err().
//
// Programmer misuse panics with a "selectivity: ..." message that names
// both sides: responses that are not [N, C], a label count that differs from
// N, a keep fraction outside [0, 1], selections of different widths, fewer
// than two sets for Analyze or Overlaps, sets whose units differ, Record
// with a nil model or set, an empty set or a negative batch size, Permute
// with fewer than one permutation.
//
// # K categories
//
// IndexK, ResultK and SelectionK are the same analysis for any design of
// K ≥ 2 classes (stimuli.Design): d′ of one class against the mean of the
// others over the pooled sqrt(Σσ²/(K−1)), equal to Eq 5 bit for bit at
// K = 3; the preferred class; a one-way ANOVA per channel (FTail) with
// Benjamini–Hochberg q-values (BH); and three criteria for selective
// channels (Criterion): the SI percentile (BySI, the paper's), the
// FDR-corrected ANOVA (ByANOVA) and Nasr et al.'s (2019) uncorrected
// ANOVA p < 0.01 with the preferred class (ByNasr). OverlapsK compares the
// selections of two or more sets per class with the exact chance model.
package selectivity
