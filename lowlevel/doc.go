// Package lowlevel is the paper's low-level-feature control (S1 Text,
// Fig J): can an image's emotion category be decoded from image
// statistics alone? It computes a GIST-like description of each image and
// trains linear classifiers on it under the same split as the network's
// readout, so their F1 can be reported beside the readout's.
//
// # Layout
//
//   - Config and Bank: the features of one n×n grey image, the network's
//     input before normalisation (imagenet.Config.Fit, pixels in [0, 1]).
//     A bank of log-Gabor filters (Config.Scales × Config.Orientations,
//     default 4 × 8, applied in the frequency domain with gonum's FFT),
//     whose energy (the modulus of the complex response) is averaged on a
//     Grid × Grid grid (default 4 × 4), as in GIST (Oliva & Torralba
//     2001); then the mean luminance, the RMS contrast (SD of the pixels),
//     the slope and intercept of the radially averaged power spectrum on
//     log-log axes, and the share of the power in each octave band.
//     Config.Names names every feature; Extract computes them for a whole
//     stimulus set.
//   - FitLogistic: binary L2-regularised logistic regression by Newton's
//     method (the exact minimiser of a strictly convex objective, tested
//     against scipy.optimize).
//   - OneVsRest: one classifier per category against the rest, features
//     standardised on the training images, the penalty chosen on the
//     validation images by F1, F1 reported on the test images; the caller
//     passes the split (manipulate.Stratify's, so the images are those of
//     the readout).
//
// Choices where the paper is silent: it used GIST and an SVM; here the
// classifier is logistic regression (linear, as the readout), one-vs-rest
// because the readout is, and GIST's prefiltering (local contrast
// normalisation) is left out, so luminance and contrast differences stay
// visible to the control, which is what it is meant to test.
//
// # Errors and panics
//
// Unreadable images return errors naming the set and the image; a
// cancelled context returns ctx.Err(). FitLogistic returns an error
// wrapping ErrNotConverged if Newton's method stalls. Programmer misuse
// panics with a "lowlevel: ..." message: a negative Config field, an image
// size below 8 or an image of the wrong size for its Bank, rows of
// different lengths, a non-positive penalty, an empty split.
package lowlevel
