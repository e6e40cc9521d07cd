package stimuli

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseDesign(t *testing.T) {
	for _, c := range []struct {
		rating, cuts, label, names string
		want                       Design
	}{
		{"", "", "", "", Design{}},
		{"arousal", "3.5,6", "", "", Design{Rating: "arousal", Cuts: []float64{3.5, 6}, Names: []string{"low", "middle", "high"}}},
		{"arousal", "5", "", "", Design{Rating: "arousal", Cuts: []float64{5}, Names: []string{"low", "high"}}},
		{"dominance", "2, 4,6", "", "", Design{Rating: "dominance", Cuts: []float64{2, 4, 6}, Names: []string{"dominance1", "dominance2", "dominance3", "dominance4"}}},
		{"arousal", "5", "", "calm,excited", Design{Rating: "arousal", Cuts: []float64{5}, Names: []string{"calm", "excited"}}},
		{"", "", "category", "", Design{Label: "category"}},
		{"", "", "category", "face, object", Design{Label: "category", Names: []string{"face", "object"}}},
	} {
		got, err := ParseDesign(c.rating, c.cuts, c.label, c.names)
		if err != nil {
			t.Errorf("ParseDesign(%q, %q, %q, %q): %v", c.rating, c.cuts, c.label, c.names, err)
			continue
		}
		if got.Rating != c.want.Rating || got.Label != c.want.Label || !slices.Equal(got.Cuts, c.want.Cuts) || !slices.Equal(got.Names, c.want.Names) {
			t.Errorf("ParseDesign(%q, %q, %q, %q) = %+v, want %+v", c.rating, c.cuts, c.label, c.names, got, c.want)
		}
	}
	for _, c := range []struct{ rating, cuts, label, names, want string }{
		{"arousal", "3.5,6", "category", "", "not both"},
		{"", "3.5", "", "", "need a rating column"},
		{"", "", "", "a,b", "need a rating or a label"},
		{"arousal", "", "", "", "needs thresholds"},
		{"arousal", "3.5,x", "", "", `threshold "x"`},
		{"arousal", "6,3.5", "", "", "not strictly ascending"},
		{"arousal", "3.5,3.5", "", "", "not strictly ascending"},
		{"arousal", "3.5,Inf", "", "", "not finite"},
		{"arousal", "3.5,6", "", "a,b", "2 thresholds make 3 categories, but 2 names"},
		{"", "", "category", "face", "one category name"},
		{"", "", "category", "face,Face", `"Face" is given twice`},
		{"", "", "category", "face,unknown", "reserved"},
		{"", "", "category", "face,a/b", "letters, digits"},
		{"", "", "category", "face,", "a name is empty"},
		{"", "3", "category", "", "takes no thresholds"},
	} {
		_, err := ParseDesign(c.rating, c.cuts, c.label, c.names)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseDesign(%q, %q, %q, %q) error %v, want one containing %q", c.rating, c.cuts, c.label, c.names, err, c.want)
		}
	}
}

// TestDesignClassify checks a two-cut rating design against the paper's
// valence thresholds (reversed, since a design lists the lowest ratings
// first) on a grid that includes the cuts, and a three-cut design against
// its definition case by case.
func TestDesignClassify(t *testing.T) {
	d := Design{Rating: "valence", Cuts: []float64{4.3, 6}}
	rev := map[Category]int{Unpleasant: 0, Neutral: 1, Pleasant: 2, Unknown: -1}
	for v := 1.0; v <= 9; v += 0.05 {
		for _, x := range []float64{v, 4.3, 6, math.Nextafter(4.3, 0), math.Nextafter(6, 10), math.NaN()} {
			if got, want := d.Classify(x), rev[DefaultThresholds.Classify(x)]; got != want {
				t.Fatalf("Classify(%v) = %d, the valence thresholds say %d", x, got, want)
			}
		}
	}
	d = Design{Rating: "r", Cuts: []float64{2, 4, 6}}
	for _, c := range []struct {
		v    float64
		want int
	}{{1.9, 0}, {2, 1}, {3.99, 1}, {4, 2}, {5, 2}, {6, 2}, {6.01, 3}, {-1e9, 0}, {1e9, 3}} {
		if got := d.Classify(c.v); got != c.want {
			t.Errorf("cuts 2,4,6: Classify(%v) = %d, want %d", c.v, got, c.want)
		}
	}
	for v, want := range map[float64]int{4.99: 0, 5: 1, 5.01: 1} {
		if got := (Design{Rating: "r", Cuts: []float64{5}}).Classify(v); got != want {
			t.Errorf("one cut at 5: Classify(%v) = %d, want %d", v, got, want)
		}
	}
}

func TestLoadRatingDesign(t *testing.T) {
	dir := t.TempDir()
	makeSet(t, dir, "ratings.csv", "file,valence,Arousal\na.png,5,2\nb.png,,4\nc.png,7,6.5\nd.png,3,3.5\n", "a.png", "b.png", "c.png", "d.png")
	d, err := ParseDesign("arousal", "3.5,6", "", "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(dir, Config{Design: d})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"low", "middle", "high"}; !slices.Equal(s.Classes, want) {
		t.Errorf("classes %q, want %q", s.Classes, want)
	}
	if got, want := s.ClassLabels(), []int{0, 1, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if got := s.RatingValues(); !slices.Equal(got, []float64{2, 4, 6.5, 3.5}) {
		t.Errorf("ratings %v", got)
	}
	if !math.IsNaN(s.Images[1].Valence) || s.Images[0].Valence != 5 {
		t.Errorf("valences %v, %v: want 5 and NaN for the empty cell", s.Images[0].Valence, s.Images[1].Valence)
	}
	if got, want := s.ClassCounts(), []int{1, 2, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("class counts %v, want %v", got, want)
	}
}

func TestLoadLabelDesign(t *testing.T) {
	dir := t.TempDir()
	makeSet(t, dir, "ratings.csv", "file,category\na.png,object\nb.png,Face\nc.png,\nd.png,face\ne.png,unknown\nf.png,scene\n", "a.png", "b.png", "c.png", "d.png", "e.png", "f.png")
	s, err := Load(dir, Config{Design: Design{Label: "category"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Face", "object", "scene"}; !slices.Equal(s.Classes, want) {
		t.Errorf("classes %q, want %q (sorted, spelt as first met)", s.Classes, want)
	}
	if got, want := s.ClassLabels(), []int{1, 0, -1, 0, -1, 2}; !slices.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if !math.IsNaN(s.Images[0].Rating) {
		t.Errorf("rating %v without a valence column, want NaN", s.Images[0].Rating)
	}
	// Names fix the order and refuse other values.
	d, _ := ParseDesign("", "", "category", "object,face")
	_, err = Load(dir, Config{Design: d})
	want := filepath.Join(dir, "ratings.csv") + `:7: column "category": "scene" is not one of the categories ["object" "face"]`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
	d, _ = ParseDesign("", "", "category", "object,face,scene")
	if s, err = Load(dir, Config{Design: d}); err != nil {
		t.Fatal(err)
	}
	if got, want := s.ClassLabels(), []int{0, 1, -1, 1, -1, 2}; !slices.Equal(got, want) {
		t.Errorf("named classes %v, want %v", got, want)
	}
	if err := SameClasses([]*Set{s, s}); err != nil {
		t.Error(err)
	}
	s2, _ := Load(dir, Config{Design: Design{Label: "category"}})
	if err := SameClasses([]*Set{s, s2}); err == nil {
		t.Error("SameClasses accepted two orders")
	}
}

func TestLoadDesignErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := "set"
	makeSet(t, dir, "ratings.csv", "file,arousal\na.png,2\nb.png,x\nc.png,Inf\nmissing.png,3\na.png,4\nd.png\n", "a.png", "b.png", "c.png", "d.png")
	d, _ := ParseDesign("arousal", "5", "", "")
	_, err := Load(dir, Config{Design: d})
	p := "set/ratings.csv"
	want := strings.Join([]string{
		p + `:3: column "arousal": "x" is not a number`,
		p + `:4: column "arousal": "Inf" is not finite`,
		p + `:5: image "missing.png" does not exist in set`,
		p + `:6: file "a.png" is listed again (first on line 2)`,
		p + `:7: row has 1 fields, the header has 2`,
	}, "\n")
	if err == nil || err.Error() != want || !errors.Is(err, ErrRatings) {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	d, _ = ParseDesign("dominance", "5", "", "")
	if _, err := Load(dir, Config{Design: d}); err == nil || !strings.Contains(err.Error(), p+`:1: header has no "dominance" column`) {
		t.Errorf("missing column: %v", err)
	}
	makeSet(t, "one", "ratings.csv", "file,category\na.png,face\nb.png,face\n", "a.png", "b.png")
	if _, err := Load("one", Config{Design: Design{Label: "category"}}); err == nil || !strings.Contains(err.Error(), `one/ratings.csv: column "category": stimuli: label "category": one category name ("face")`) {
		t.Errorf("one category: %v", err)
	}
	if _, err := Load(dir, Config{Design: Design{Rating: "arousal"}}); err == nil || !strings.Contains(err.Error(), "at least one threshold") {
		t.Errorf("no cuts: %v", err)
	}
}

// TestDefaultDesign: under the default design Class is the Category
// (Unclassified for Unknown) and Rating the valence.
func TestDefaultDesign(t *testing.T) {
	s := SyntheticOverlap("s", 30, 1, 16)
	dir := t.TempDir()
	makeSet(t, dir, "ratings.csv", "file,valence,category\na.png,5,\nb.png,9,unknown\n", "a.png", "b.png")
	l, err := Load(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, set := range []*Set{s, l} {
		if !slices.Equal(set.Classes, []string{"pleasant", "neutral", "unpleasant"}) {
			t.Errorf("%s: classes %q", set.Name, set.Classes)
		}
		for i, im := range set.Images {
			want := int(im.Category)
			if im.Category == Unknown {
				want = Unclassified
			}
			if im.Class != want || im.Rating != im.Valence {
				t.Errorf("%s image %d: class %d rating %v, category %v valence %v", set.Name, i, im.Class, im.Rating, im.Category, im.Valence)
			}
		}
	}
}

// TestSyntheticClasses: balanced classes whose mean luminance rises with
// the class; written and loaded back under the label design or the rating
// design with the equal-bin cuts, the same classes and hash.
func TestSyntheticClasses(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	s := SyntheticClasses("k4", names, 40, 7, 16)
	counts := s.ClassCounts()
	if !slices.Equal(counts, []int{10, 10, 10, 10, 0}) {
		t.Errorf("counts %v", counts)
	}
	lum := make([]float64, len(names))
	for i, im := range s.Images {
		g := decodeGray(t, s, i)
		sum := 0.0
		for _, p := range g.Pix {
			sum += float64(p)
		}
		lum[im.Class] += sum / float64(len(g.Pix)) / 10
	}
	for c := 1; c < len(names); c++ {
		if !(lum[c] > lum[c-1]+15) {
			t.Errorf("mean luminance by class %v: want rising by > 15 per class", lum)
		}
	}
	h, err := s.Hash()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteSyntheticClasses(dir, "k4", names, 40, 7, 16); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Design{{Label: "category"}, {Rating: "arousal", Cuts: []float64{3, 5, 7}}} {
		l, err := Load(dir, Config{Design: d})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l.ClassLabels(), s.ClassLabels()) {
			t.Errorf("%v: loaded classes differ", d)
		}
		for i, r := range l.RatingValues() {
			if c := s.Images[i].Class; d.Rating != "" && !(r > 1+2*float64(c) && r < 3+2*float64(c)) {
				t.Errorf("image %d of class %d has rating %v, want within (%d, %d)", i, c, r, 1+2*c, 3+2*c)
			}
		}
		if lh, _ := l.Hash(); lh != h {
			t.Errorf("%v: hash %s, in memory %s", d, lh, h)
		}
	}
	if o := SyntheticClasses("k4", names, 40, 8, 16); slices.Equal(o.ClassLabels(), s.ClassLabels()) {
		t.Error("another seed gave the same classes")
	}
	os.RemoveAll(dir)
}

func TestDesignReport(t *testing.T) {
	s := SyntheticClasses("faces", []string{"face", "object"}, 5, 1, 8)
	want := "faces: 5 images (face 3, object 2, unknown 0); design label category (face, object)"
	if got := s.Report(); got != want {
		t.Errorf("Report() = %q, want %q", got, want)
	}
	d, _ := ParseDesign("arousal", "3.5,6", "", "")
	if got, want := d.String(), "arousal cut at 3.5, 6 (low, middle, high)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
