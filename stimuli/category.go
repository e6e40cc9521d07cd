package stimuli

import (
	"fmt"
	"math"
	"strings"
)

// Category is an image's emotion category. The three emotions come first so
// that a [NumEmotions]T array can be indexed by Category directly.
type Category uint8

const (
	Pleasant Category = iota
	Neutral
	Unpleasant
	// Unknown marks images that could not be classified confidently; every
	// analysis excludes them.
	Unknown
)

const (
	// NumEmotions is the number of emotion categories (Pleasant, Neutral,
	// Unpleasant). `for e := range stimuli.NumEmotions` visits them in order.
	NumEmotions Category = 3
	// NumCategories counts the emotions and Unknown.
	NumCategories Category = 4
)

var categoryNames = [NumCategories]string{"pleasant", "neutral", "unpleasant", "unknown"}

// String returns "pleasant", "neutral", "unpleasant" or "unknown".
func (c Category) String() string {
	if c < NumCategories {
		return categoryNames[c]
	}
	return fmt.Sprintf("Category(%d)", uint8(c))
}

// ParseCategory parses a category name, ignoring case and surrounding
// space. It is the inverse of String.
func ParseCategory(s string) (Category, error) {
	t := strings.TrimSpace(s)
	for c, name := range categoryNames {
		if strings.EqualFold(t, name) {
			return Category(c), nil
		}
	}
	return Unknown, fmt.Errorf("stimuli: category %q is not pleasant, neutral, unpleasant or unknown", s)
}

// MarshalText implements encoding.TextMarshaler (for JSON run reports).
func (c Category) MarshalText() ([]byte, error) {
	if c >= NumCategories {
		return nil, fmt.Errorf("stimuli: invalid category %d", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler using ParseCategory.
func (c *Category) UnmarshalText(b []byte) error {
	v, err := ParseCategory(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// Thresholds turn a valence rating into a category: below Low is
// unpleasant, above High is pleasant, anything else neutral. When Band is
// positive, a valence strictly within Band of either threshold
// (|v-Low| < Band or |v-High| < Band) is Unknown instead: the paper's "soft
// thresholds" 4.3 ± 0.5 and 6.0 ± 0.5, whose borderline images were then
// judged by eye. Use a ratings.csv category column to record such
// judgements; it overrides the thresholds.
type Thresholds struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	Band float64 `json:"band"`
}

var (
	// DefaultThresholds are the paper's thresholds on the 1–9 IAPS/NAPS
	// valence scale, without the exclusion band.
	DefaultThresholds = Thresholds{Low: 4.3, High: 6.0}
	// SoftThresholds are the paper's soft thresholds: 4.3 ± 0.5 and
	// 6.0 ± 0.5, the bands excluded as Unknown.
	SoftThresholds = Thresholds{Low: 4.3, High: 6.0, Band: 0.5}
	// OASIS holds DefaultThresholds mapped linearly from the 1–9 scale of
	// IAPS and NAPS to OASIS's 1–7 scale (v7 = 1 + (v9-1)·6/8): 4.3 → 3.475
	// and 6.0 → 4.75. Mapping the thresholds rather than rescaling the
	// ratings keeps every Image.Valence equal to the published
	// Valence_mean, so values can be checked against OASIS.csv. (A linear
	// map of two 9- and 7-point Likert scales is an approximation; set
	// thresholds by hand if you have better norms.) For the soft variant use
	// SoftThresholds.Rescale(1, 9, 1, 7).
	OASIS = Thresholds{Low: 3.475, High: 4.75}
)

// Classify returns the category of valence v. NaN is Unknown.
func (t Thresholds) Classify(v float64) Category {
	switch {
	case math.IsNaN(v):
		return Unknown
	case t.Band > 0 && (math.Abs(v-t.Low) < t.Band || math.Abs(v-t.High) < t.Band):
		return Unknown
	case v < t.Low:
		return Unpleasant
	case v > t.High:
		return Pleasant
	}
	return Neutral
}

// Rescale maps the thresholds linearly from the rating scale [from0, from1]
// to [to0, to1]; Band scales by the ratio of the ranges.
func (t Thresholds) Rescale(from0, from1, to0, to1 float64) Thresholds {
	k := (to1 - to0) / (from1 - from0)
	return Thresholds{
		Low:  to0 + (t.Low-from0)*k,
		High: to0 + (t.High-from0)*k,
		Band: t.Band * math.Abs(k),
	}
}

// check reports thresholds that cannot classify anything sensibly.
func (t Thresholds) check() error {
	for _, v := range []float64{t.Low, t.High, t.Band} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("stimuli: thresholds %+v are not finite", t)
		}
	}
	if t.Low >= t.High {
		return fmt.Errorf("stimuli: thresholds %+v: Low must be below High", t)
	}
	if t.Band < 0 {
		return fmt.Errorf("stimuli: thresholds %+v: Band must not be negative", t)
	}
	return nil
}

// Counts holds the number of images per category, indexed by Category.
type Counts [NumCategories]int

// Total returns the number of images counted, Unknown included.
func (c Counts) Total() int { return c[0] + c[1] + c[2] + c[3] }

// String formats the counts as "pleasant 3, neutral 2, unpleasant 4,
// unknown 0".
func (c Counts) String() string {
	parts := make([]string, NumCategories)
	for i, n := range c {
		parts[i] = fmt.Sprintf("%s %d", Category(i), n)
	}
	return strings.Join(parts, ", ")
}
