package stimuli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCategory(t *testing.T) {
	for c := range NumCategories {
		got, err := ParseCategory(" " + strings.ToUpper(c.String()) + "\t")
		if err != nil || got != c {
			t.Errorf("ParseCategory(%q) = %v, %v", c.String(), got, err)
		}
	}
	if _, err := ParseCategory("happy"); err == nil || !strings.Contains(err.Error(), `"happy"`) {
		t.Errorf("ParseCategory(happy): %v", err)
	}
	if s := Category(9).String(); s != "Category(9)" {
		t.Errorf("invalid category String = %q", s)
	}
	b, err := json.Marshal([]Category{Pleasant, Unknown})
	if err != nil || string(b) != `["pleasant","unknown"]` {
		t.Errorf("json: %s %v", b, err)
	}
	var back []Category
	if err := json.Unmarshal([]byte(`["Neutral","unpleasant"]`), &back); err != nil || !slices.Equal(back, []Category{Neutral, Unpleasant}) {
		t.Errorf("json back: %v %v", back, err)
	}
	if got := (Counts{1, 2, 3, 4}).String(); got != "pleasant 1, neutral 2, unpleasant 3, unknown 4" {
		t.Errorf("Counts.String = %q", got)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		th   Thresholds
		v    float64
		want Category
	}{
		{DefaultThresholds, 1, Unpleasant},
		{DefaultThresholds, 4.29, Unpleasant},
		{DefaultThresholds, 4.3, Neutral},
		{DefaultThresholds, 6.0, Neutral},
		{DefaultThresholds, 6.01, Pleasant},
		{DefaultThresholds, math.NaN(), Unknown},
		{SoftThresholds, 3.7, Unpleasant},
		{SoftThresholds, 3.81, Unknown},
		{SoftThresholds, 4.3, Unknown},
		{SoftThresholds, 4.79, Unknown},
		{SoftThresholds, 4.81, Neutral},
		{SoftThresholds, 5.49, Neutral},
		{SoftThresholds, 5.51, Unknown},
		{SoftThresholds, 6.49, Unknown},
		{SoftThresholds, 6.6, Pleasant},
		{OASIS, 3.47, Unpleasant},
		{OASIS, 3.48, Neutral},
		{OASIS, 4.75, Neutral},
		{OASIS, 4.76, Pleasant},
	}
	for _, c := range cases {
		if got := c.th.Classify(c.v); got != c.want {
			t.Errorf("%+v.Classify(%v) = %v, want %v", c.th, c.v, got, c.want)
		}
	}
	r := DefaultThresholds.Rescale(1, 9, 1, 7)
	if math.Abs(r.Low-OASIS.Low) > 1e-12 || math.Abs(r.High-OASIS.High) > 1e-12 || r.Band != 0 {
		t.Errorf("Rescale to 1-7 = %+v, OASIS = %+v", r, OASIS)
	}
	if s := SoftThresholds.Rescale(1, 9, 1, 7); math.Abs(s.Band-0.375) > 1e-12 {
		t.Errorf("soft band on 1-7 = %v, want 0.375", s.Band)
	}
}

// makeSet writes a ratings file and the named (empty) image files under
// dir.
func makeSet(t *testing.T, dir, ratingsName, ratings string, images ...string) {
	t.Helper()
	for _, im := range images {
		p := filepath.Join(dir, filepath.FromSlash(im))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("img:"+im), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ratingsName), []byte(ratings), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadLineEndsBOMCase(t *testing.T) {
	rows := []string{
		"File, VALENCE ,Category,arousal",
		"a.jpg,7.1,,5",
		`"b, with comma.jpg", 5.0 ,,4`,
		"",
		"sub/c.png,2.5,NEUTRAL,3",
		"d.jpg,4.5,unknown,3",
	}
	type want struct {
		file string
		val  float64
		cat  Category
		line int
	}
	wants := []want{
		{"a.jpg", 7.1, Pleasant, 2},
		{"b, with comma.jpg", 5, Neutral, 3},
		{"sub/c.png", 2.5, Neutral, 5}, // the category column overrides 2.5
		{"d.jpg", 4.5, Unknown, 6},
	}
	for _, eol := range []string{"\n", "\r\n", "\r"} {
		for _, bom := range []string{"", "\xef\xbb\xbf"} {
			dir := t.TempDir()
			makeSet(t, dir, "ratings.csv", bom+strings.Join(rows, eol)+eol, "a.jpg", "b, with comma.jpg", "sub/c.png", "d.jpg")
			s, err := Load(dir, Config{Name: "x"})
			name := fmt.Sprintf("eol %q bom %v", eol, bom != "")
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if len(s.Images) != len(wants) {
				t.Errorf("%s: %d images, want %d", name, len(s.Images), len(wants))
				continue
			}
			for i, w := range wants {
				im := s.Images[i]
				if im.File != w.file || im.Valence != w.val || im.Category != w.cat || im.Line != w.line ||
					im.Path != filepath.Join(dir, filepath.FromSlash(w.file)) {
					t.Errorf("%s: image %d = %+v, want %+v", name, i, im, w)
				}
			}
			if got := s.Counts(); got != (Counts{1, 2, 0, 1}) {
				t.Errorf("%s: counts %v", name, got)
			}
			if s.Name != "x" || s.Thresholds != DefaultThresholds {
				t.Errorf("%s: name %q thresholds %+v", name, s.Name, s.Thresholds)
			}
		}
	}
}

func TestLoadBadRows(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("sets", "iaps")
	ratings := strings.Join([]string{
		"file,valence,category", // 1
		"ok1.jpg,7",             // 2
		"missing.jpg,5",         // 3
		"ok2.jpg,abc",           // 4
		"ok3.jpg,NaN",           // 5
		"ok4.jpg,+Inf",          // 6
		"ok1.jpg,3",             // 7
		"ok5.jpg,5,happy",       // 8
		"ok6.jpg,",              // 9
		"ok7.jpg",               // 10
		"../up.jpg,5",           // 11
		",5",                    // 12
		"nope.jpg,x,sad",        // 13
		"ok8.jpg,2",             // 14
	}, "\r\n") + "\r\n"
	makeSet(t, dir, "ratings.csv", ratings, "ok1.jpg", "ok2.jpg", "ok3.jpg", "ok4.jpg", "ok5.jpg", "ok6.jpg", "ok7.jpg", "ok8.jpg")
	os.WriteFile("sets/up.jpg", nil, 0o644)
	p := "sets/iaps/ratings.csv"
	want := []string{
		p + `:3: image "missing.jpg" does not exist in sets/iaps`,
		p + `:4: valence "abc" is not a number`,
		p + `:5: valence "NaN" is not a number`,
		p + `:6: valence "+Inf" is not finite`,
		p + `:7: file "ok1.jpg" is listed again (first on line 2)`,
		p + `:8: category "happy" is not pleasant, neutral, unpleasant or unknown`,
		p + `:9: valence "" is not a number`,
		p + `:10: row has 1 fields, the header has 3`,
		p + `:11: file "../up.jpg" is not a path inside sets/iaps`,
		p + `:12: file name is empty`,
		p + `:13: image "nope.jpg" does not exist in sets/iaps; valence "x" is not a number; category "sad" is not pleasant, neutral, unpleasant or unknown`,
	}

	_, err := Load(dir, Config{})
	if err == nil {
		t.Fatal("Load accepted bad rows")
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("error message:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	var rows BadRows
	var first BadRow
	if !errors.Is(err, ErrRatings) || !errors.As(err, &rows) || len(rows) != len(want) || !errors.As(err, &first) || first.Line != 3 {
		t.Errorf("error types: Is %v, rows %d, first %+v", errors.Is(err, ErrRatings), len(rows), first)
	}

	s, err := Load(dir, Config{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, im := range s.Images {
		files = append(files, im.File)
	}
	if !slices.Equal(files, []string{"ok1.jpg", "ok8.jpg"}) {
		t.Errorf("kept %v", files)
	}
	if len(s.Skipped) != len(want) {
		t.Fatalf("skipped %d rows, want %d", len(s.Skipped), len(want))
	}
	for i, r := range s.Skipped {
		if r.Error() != want[i] {
			t.Errorf("skipped[%d] = %q, want %q", i, r.Error(), want[i])
		}
	}
	rep := s.Report()
	if !strings.HasPrefix(rep, "iaps: 2 images (pleasant 1, neutral 0, unpleasant 1, unknown 0); thresholds low 4.3 high 6 band 0; 11 rows skipped:\n  "+want[0]) {
		t.Errorf("report:\n%s", rep)
	}
}

func TestBadRowsMessageIsCapped(t *testing.T) {
	var rows BadRows
	for i := range 25 {
		rows = append(rows, BadRow{"r.csv", i + 2, "bad"})
	}
	msg := rows.Error()
	if n := strings.Count(msg, "\n"); n != 20 || !strings.HasSuffix(msg, "(and 5 more bad rows; Config.SkipBad skips them)") {
		t.Errorf("%d lines:\n%s", n, msg)
	}
}

func TestLoadOASIS(t *testing.T) {
	dir := t.TempDir()
	oasis := strings.Join([]string{
		`"","Theme","Category","Source","Valence_mean","Valence_SD","Valence_N","Arousal_mean","Arousal_SD","Arousal_N"`,
		`"1","Acorns 1","Object","Pixabay",4.6862745,0.9,102,2.0,1.2,102`,
		`"2","Baby 3","Person","Pixabay",6.2,0.8,100,3.1,1.9,100`,
		`"3","Fire 9","Scene","Pixabay",1.9,0.7,99,5.0,1.1,99`,
		`"4","Dog 2","Animal","Pixabay",3.5,0.7,99,5.0,1.1,99`,
	}, "\n") + "\n"
	makeSet(t, dir, "OASIS.csv", oasis, "Images/Acorns 1.jpg", "Images/Baby 3.jpg", "Fire 9.jpg", "images/Dog 2.jpg")
	s, err := Load(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Thresholds != OASIS || s.Ratings != filepath.Join(dir, "OASIS.csv") {
		t.Errorf("thresholds %+v ratings %q", s.Thresholds, s.Ratings)
	}
	want := []Image{
		{"Acorns 1.jpg", filepath.Join(dir, "Images", "Acorns 1.jpg"), 4.6862745, Neutral, 2, int(Neutral), 4.6862745},
		{"Baby 3.jpg", filepath.Join(dir, "Images", "Baby 3.jpg"), 6.2, Pleasant, 3, int(Pleasant), 6.2},
		{"Fire 9.jpg", filepath.Join(dir, "Fire 9.jpg"), 1.9, Unpleasant, 4, int(Unpleasant), 1.9},
		{"Dog 2.jpg", filepath.Join(dir, "images", "Dog 2.jpg"), 3.5, Neutral, 5, int(Neutral), 3.5},
	}
	if !slices.Equal(s.Images, want) {
		t.Errorf("images\n%+v\nwant\n%+v", s.Images, want)
	}
	// Explicit thresholds override the OASIS preset.
	s, err = Load(dir, Config{Thresholds: Thresholds{Low: 2, High: 4}})
	if err != nil || s.Counts() != (Counts{2, 1, 1, 0}) {
		t.Errorf("custom thresholds: %v %v", s.Counts(), err)
	}
	// A missing theme image names the theme's file.
	os.Remove(filepath.Join(dir, "Fire 9.jpg"))
	_, err = Load(dir, Config{})
	if err == nil || err.Error() != filepath.Join(dir, "OASIS.csv")+`:4: image "Fire 9.jpg" does not exist (looked in `+dir+` and its Images folder)` {
		t.Errorf("missing theme: %v", err)
	}
	// ratings.csv wins over OASIS.csv.
	makeSet(t, dir, "ratings.csv", "file,valence\nImages/Baby 3.jpg,8\n")
	if s, err := Load(dir, Config{}); err != nil || len(s.Images) != 1 || s.Thresholds != DefaultThresholds {
		t.Errorf("ratings.csv preferred: %v", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	cases := []struct {
		name, ratings string
		cfg           Config
		want          string
	}{
		{"no valence", "file,rating\na.jpg,5\n", Config{}, `ratings.csv:1: header has no "valence" column (found ["file" "rating"])`},
		{"no file", "\n\nvalence\n5\n", Config{}, `ratings.csv:3: header has no "file" column`},
		{"two valence", "file,valence,Valence\na.jpg,5,5\n", Config{}, `ratings.csv:1: header has two "valence" columns`},
		{"empty", "", Config{}, `ratings.csv:1: file is empty`},
		{"bad quote", "file,valence\na.jpg,5\n\"b.jpg,5\n", Config{SkipBad: true}, `ratings.csv:3: bad CSV: extraneous or missing " in quoted-field`},
		{"all bad", "file,valence\nz.jpg,5\n", Config{SkipBad: true}, `ratings.csv has no usable image rows (1 bad)`},
		{"header only", "file,valence\n", Config{}, `ratings.csv has no usable image rows (0 bad)`},
		{"thresholds", "file,valence\na.jpg,5\n", Config{Thresholds: Thresholds{Low: 6, High: 4}}, `Low must be below High`},
		{"band", "file,valence\na.jpg,5\n", Config{Thresholds: Thresholds{Low: 4, High: 6, Band: -1}}, `Band must not be negative`},
	}
	for _, c := range cases {
		dir := t.TempDir()
		makeSet(t, dir, "ratings.csv", c.ratings, "a.jpg")
		_, err := Load(dir, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, err, c.want)
		}
	}
	_, err := Load(t.TempDir(), Config{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "neither ratings.csv nor OASIS.csv") {
		t.Errorf("no ratings: %v", err)
	}
}

func TestSetAccessors(t *testing.T) {
	dir := t.TempDir()
	makeSet(t, dir, "ratings.csv", "file,valence\na.jpg,7\nb.jpg,2\n", "a.jpg", "b.jpg")
	s, err := Load(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Labels(), []Category{Pleasant, Unpleasant}) || !slices.Equal(s.Valences(), []float64{7, 2}) {
		t.Errorf("labels %v valences %v", s.Labels(), s.Valences())
	}
	rc, err := s.Open(1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "img:b.jpg" {
		t.Errorf("Open(1) read %q", b)
	}
	h1, err := s.Hash()
	if err != nil {
		t.Fatal(err)
	}
	// Changing one image byte changes the hash; so does a ratings edit.
	os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("img:b.jpG"), 0o644)
	if h2, _ := s.Hash(); h2 == h1 {
		t.Error("hash ignores image bytes")
	}
	os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("img:b.jpg"), 0o644)
	if h3, _ := s.Hash(); h3 != h1 {
		t.Error("hash not stable")
	}
	makeSet(t, dir, "ratings.csv", "file,valence\na.jpg,7\nb.jpg,2.0\n")
	s2, _ := Load(dir, Config{})
	if h4, _ := s2.Hash(); h4 == h1 {
		t.Error("hash ignores the ratings file")
	}
	os.Remove(filepath.Join(dir, "a.jpg"))
	if _, err := s.Hash(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("hash of a vanished image: %v", err)
	}
}

// decodeGray reads image i of s as *image.Gray.
func decodeGray(t *testing.T, s *Set, i int) *image.Gray {
	t.Helper()
	rc, err := s.Open(i)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	img, err := png.Decode(rc)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok {
		t.Fatalf("image %d decodes as %T, want *image.Gray", i, img)
	}
	return g
}

// TestSyntheticDeterministic: each generator gives the same set for the
// same seed and another one otherwise, writes a set that loads back with
// the same images, labels and hash, and its pixels (not the PNG bytes,
// which follow image/png's compressor) are pinned across platforms and Go
// releases.
func TestSyntheticDeterministic(t *testing.T) {
	for _, c := range []struct {
		name   string
		gen    func(name string, n int, seed uint64, size int) *Set
		write  func(dir, name string, n int, seed uint64, size int) error
		pinned string
	}{
		{"Synthetic", Synthetic, WriteSynthetic, "903658c0d899b639b9b96a6095a0e88af72790878e0c229ba604b6ce461bc0c7"},
		{"SyntheticOverlap", SyntheticOverlap, WriteSyntheticOverlap, "10d4aa5cb0d3c1c7ec869215ae9819fb1978d7c79cd79eb0eb8fa9a2727dd7c1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.gen("syn", 30, 7, 32), c.gen("syn", 30, 7, 32)
			ha, err := a.Hash()
			if err != nil {
				t.Fatal(err)
			}
			if hb, _ := b.Hash(); ha != hb {
				t.Errorf("same seed, different hashes %s %s", ha, hb)
			}
			if hc, _ := c.gen("syn", 30, 8, 32).Hash(); hc == ha {
				t.Error("different seeds, same hash")
			}

			dir := t.TempDir()
			if err := c.write(dir, "syn", 30, 7, 32); err != nil {
				t.Fatal(err)
			}
			l, err := Load(dir, Config{Name: "syn"})
			if err != nil {
				t.Fatal(err)
			}
			if hl, _ := l.Hash(); hl != ha {
				t.Errorf("loaded hash %s, in-memory %s", hl, ha)
			}
			for i := range a.Images {
				ai, li := a.Images[i], l.Images[i]
				li.Path = ""
				if ai != li {
					t.Errorf("image %d: in memory %+v, loaded %+v", i, ai, li)
				}
			}

			h := sha256.New()
			s := c.gen("pin", 6, 42, 16)
			for i := range s.Images {
				h.Write(decodeGray(t, s, i).Pix)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != c.pinned {
				t.Errorf("pixel digest %s, want %s", got, c.pinned)
			}
		})
	}
	// The two generators are two designs, not one under two names.
	ho, _ := SyntheticOverlap("syn", 30, 7, 32).Hash()
	if hs, _ := Synthetic("syn", 30, 7, 32).Hash(); hs == ho {
		t.Error("SyntheticOverlap and Synthetic give the same set")
	}
}

func TestSyntheticCategories(t *testing.T) {
	const n = 90
	s := Synthetic("syn", n, 3, 48)
	if got := s.Counts(); got != (Counts{30, 30, 30, 0}) {
		t.Errorf("counts %v", got)
	}
	// Valences sit clear of the soft bands, so both presets agree.
	for _, im := range s.Images {
		if c := SoftThresholds.Classify(im.Valence); c != im.Category {
			t.Errorf("%s: valence %v is %v by default but %v with soft thresholds", im.File, im.Valence, im.Category, c)
		}
	}
	// Mean luminance separates the categories; mean |horizontal gradient|
	// orders them smooth → edgy.
	lo := [NumEmotions]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [NumEmotions]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var grad [NumEmotions]float64
	for i, im := range s.Images {
		g := decodeGray(t, s, i)
		if g.Rect.Dx() != 48 || g.Rect.Dy() != 48 {
			t.Fatalf("image %d is %v", i, g.Rect)
		}
		var sum, gs float64
		for y := range 48 {
			row := g.Pix[y*g.Stride : y*g.Stride+48]
			for x, p := range row {
				sum += float64(p)
				if x > 0 {
					gs += math.Abs(float64(p) - float64(row[x-1]))
				}
			}
		}
		mean := sum / (48 * 48)
		c := im.Category
		lo[c], hi[c] = min(lo[c], mean), max(hi[c], mean)
		grad[c] += gs / (48 * 47) / (n / 3)
	}
	t.Logf("mean luminance ranges: pleasant [%.1f, %.1f], neutral [%.1f, %.1f], unpleasant [%.1f, %.1f]",
		lo[Pleasant], hi[Pleasant], lo[Neutral], hi[Neutral], lo[Unpleasant], hi[Unpleasant])
	t.Logf("mean |dx|: %.1f %.1f %.1f", grad[Pleasant], grad[Neutral], grad[Unpleasant])
	if !(hi[Unpleasant] < lo[Neutral] && hi[Neutral] < lo[Pleasant]) {
		t.Error("categories are not separable by mean luminance")
	}
	if !(grad[Pleasant] < grad[Neutral] && grad[Neutral] < grad[Unpleasant]) {
		t.Errorf("gradient energy not ordered pleasant < neutral < unpleasant: %v", grad)
	}
}

func TestSyntheticPanics(t *testing.T) {
	for _, c := range []struct {
		name       string
		n, size    int
		wantSubstr string
	}{
		{"syn", 0, 32, "n >= 1"},
		{"syn", 3, 4, "outside 8..4096"},
		{"a/b", 3, 32, "must be letters"},
		{"", 3, 32, "must be letters"},
		{"..", 3, 32, "must be letters"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.wantSubstr) {
					t.Errorf("Synthetic(%q, %d, _, %d): panic %v", c.name, c.n, c.size, r)
				}
			}()
			Synthetic(c.name, c.n, 1, c.size)
		}()
	}
}

func TestSyntheticOpenMissing(t *testing.T) {
	s := Synthetic("syn", 3, 1, 8)
	s.Images[0].File = "other.png"
	if _, err := s.Open(0); err == nil {
		t.Error("Open of an unknown in-memory file succeeded")
	}
	if _, err := s.Hash(); err == nil {
		t.Error("Hash with an unknown in-memory file succeeded")
	}
}

// TestSyntheticOverlapCategories checks the design SyntheticOverlap's doc
// describes: the labels of Synthetic, mean luminance ordered by category
// on average but overlapping between categories, and typicality growing
// with the valence's extremeness.
func TestSyntheticOverlapCategories(t *testing.T) {
	const n, size = 150, 32
	s := SyntheticOverlap("syn", n, 3, size)
	if got := s.Counts(); got != (Counts{50, 50, 50, 0}) {
		t.Errorf("counts %v", got)
	}
	lo := [NumEmotions]float64{math.Inf(1), math.Inf(1), math.Inf(1)}
	hi := [NumEmotions]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	var avg [NumEmotions]float64
	var pv, pl []float64 // pleasant valence and luminance
	for i, im := range s.Images {
		if c := SoftThresholds.Classify(im.Valence); c != im.Category {
			t.Errorf("%s: valence %v is %v by default but %v with soft thresholds", im.File, im.Valence, im.Category, c)
		}
		g := decodeGray(t, s, i)
		sum := 0.0
		for _, p := range g.Pix {
			sum += float64(p)
		}
		mean := sum / (size * size)
		c := im.Category
		lo[c], hi[c] = min(lo[c], mean), max(hi[c], mean)
		avg[c] += mean / (n / 3)
		if c == Pleasant {
			pv, pl = append(pv, im.Valence), append(pl, mean)
		}
	}
	t.Logf("mean luminance: pleasant %.1f [%.1f, %.1f], neutral %.1f [%.1f, %.1f], unpleasant %.1f [%.1f, %.1f]",
		avg[Pleasant], lo[Pleasant], hi[Pleasant], avg[Neutral], lo[Neutral], hi[Neutral], avg[Unpleasant], lo[Unpleasant], hi[Unpleasant])
	if !(avg[Pleasant] > avg[Neutral]+20 && avg[Neutral] > avg[Unpleasant]+20) {
		t.Errorf("mean luminance not ordered pleasant > neutral > unpleasant: %v", avg)
	}
	if !(lo[Pleasant] < hi[Neutral] && lo[Neutral] < hi[Unpleasant]) {
		t.Error("the categories are separable by mean luminance: they should overlap")
	}
	if r := correlation(pv, pl); r < 0.3 {
		t.Errorf("pleasant: valence and luminance correlate %.2f, want typicality to grow with valence", r)
	}
}

func correlation(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(len(x))
		my += y[i] / float64(len(y))
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
