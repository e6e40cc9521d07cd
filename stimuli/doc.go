// Package stimuli loads affective picture sets (IAPS, NAPS, OASIS or your
// own), classifies their images as pleasant, neutral or unpleasant from
// valence ratings, and draws small synthetic sets for demos and tests.
//
// # Layout
//
// A set is a directory of images plus a ratings file. Load looks for
//
//   - ratings.csv: a header naming at least the columns file and valence,
//     and optionally category (pleasant, neutral, unpleasant or unknown).
//     file is a path relative to the directory ('/' separated; it may not
//     leave the directory). A non-empty category cell overrides the
//     thresholds, which is how images judged by eye, as in the paper, are
//     recorded; an empty one leaves the thresholds in charge.
//   - otherwise OASIS.csv, as distributed with OASIS: the columns Theme and
//     Valence_mean are used, the image is "<Theme>.jpg" in the directory or
//     in its Images (or images) folder, and valence is on OASIS's 1–7 scale.
//     OASIS's own Category column (Animal, Object, Person, Scene) is not an
//     emotion and is ignored. Unless Config.Thresholds is set, the OASIS
//     preset applies: the default thresholds mapped linearly from 1–9 to
//     1–7, so reported valences stay the published ones.
//
// Column names are matched case-insensitively and other columns are
// ignored. The file may start with a UTF-8 byte-order mark and use \n, \r\n
// or bare \r line ends; fields may be quoted as in RFC 4180. Cells are
// trimmed of surrounding space.
//
// Categories come from Thresholds: valence below Low is unpleasant, above
// High pleasant, anything else neutral; with Band > 0 valences within Band
// of either threshold are Unknown. DefaultThresholds are the paper's 4.3
// and 6.0; SoftThresholds add its ±0.5 band. Unknown images stay in the set
// (so its order matches the images fed to a network) and every analysis in
// package selectivity excludes them.
//
// # Designs
//
// Config.Design gives K ≥ 2 categories another way (Design, ParseDesign):
// cuts on any numeric rating column (arousal cut at 3.5 and 6 into low,
// middle and high), or a categorical column whose values name the
// categories (face, object). Every set then has Classes, the K names, and
// each Image a Class (an index into them, or Unclassified) and a Rating;
// under the default design Classes are pleasant, neutral, unpleasant and
// Class is the Category, so the paper's analysis is one design among
// others. SameClasses checks that the sets of a study share their
// categories. SyntheticClasses draws K-category sets whose categories
// differ in mean luminance, with both a label and a rating column. Design
// errors name the file, line and column:
//
//	sets/faces/ratings.csv:7: column "category": "scene" is not one of the categories ["face" "object"]
//
// Set.Hash identifies a set's content (ratings file and image bytes) for
// caching; Synthetic and WriteSynthetic make deterministic procedural sets
// whose categories differ in luminance and spatial frequency, cleanly for
// tests, or overlapping for the demonstration (SyntheticOverlap,
// WriteSyntheticOverlap), whose readouts then stay below ceiling.
//
// # Errors and panics
//
// A bad row — missing or non-regular image file, a file listed twice, an
// empty, non-numeric, NaN or infinite valence, an unknown category word, a
// short row — is a BadRow whose message reads like a compiler's:
//
//	sets/iaps/ratings.csv:17: valence "abc" is not a number
//
// By default Load fails with a BadRows error listing every bad row (its
// message shows the first 20, one per line). With Config.SkipBad the rows
// are skipped and kept in Set.Skipped for the run report (Set.Report). A
// missing or malformed header, a CSV syntax error or a set with no usable
// row always fails. All of these wrap ErrRatings. Invalid thresholds are an
// error too. Bad arguments to Synthetic (n < 1, a tiny size, a name that is
// not a plain file-name stem) panic with a "stimuli: ..." message.
package stimuli
