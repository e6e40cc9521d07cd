package stimuli_test

import (
	"fmt"
	"image/png"
	"os"
	"path/filepath"

	"github.com/emosel/emosel/stimuli"
)

// A synthetic set written to disk and loaded as a user's set would be.
func Example() {
	dir, err := os.MkdirTemp("", "stimuli-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	if err := stimuli.WriteSynthetic(dir, "demo", 9, 1, 32); err != nil {
		panic(err)
	}
	set, err := stimuli.Load(dir, stimuli.Config{Name: "demo"})
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Report())
	for _, im := range set.Images[:3] {
		fmt.Printf("%s line %d: valence %.2f, %v\n", im.File, im.Line, im.Valence, im.Category)
	}
	// Output:
	// demo: 9 images (pleasant 3, neutral 3, unpleasant 3, unknown 0); thresholds low 4.3 high 6 band 0
	// demo_0000.png line 2: valence 1.66, unpleasant
	// demo_0001.png line 3: valence 4.91, neutral
	// demo_0002.png line 4: valence 7.40, pleasant
}

// Bad rows name the ratings file and line; SkipBad keeps going.
func ExampleLoad_skipBad() {
	dir, err := os.MkdirTemp("", "stimuli-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "a.jpg"), []byte("…"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.jpg"), []byte("…"), 0o644)
	os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte("File,Valence\r\na.jpg,7.2\r\nb.jpg,abc\r\n"), 0o644)

	_, err = stimuli.Load(dir, stimuli.Config{})
	fmt.Println(err != nil)

	set, err := stimuli.Load(dir, stimuli.Config{SkipBad: true})
	if err != nil {
		panic(err)
	}
	fmt.Println(set.Counts())
	fmt.Println(set.Skipped[0].Line, set.Skipped[0].Reason)
	// Output:
	// true
	// pleasant 1, neutral 0, unpleasant 0, unknown 0
	// 3 valence "abc" is not a number
}

func ExampleSynthetic() {
	set := stimuli.Synthetic("demo", 6, 42, 16)
	for i, im := range set.Images {
		rc, _ := set.Open(i)
		cfg, _ := png.DecodeConfig(rc)
		rc.Close()
		fmt.Printf("%s %dx%d %.2f %v\n", im.File, cfg.Width, cfg.Height, im.Valence, im.Category)
	}
	// Output:
	// demo_0000.png 16x16 5.23 neutral
	// demo_0001.png 16x16 8.35 pleasant
	// demo_0002.png 16x16 6.81 pleasant
	// demo_0003.png 16x16 2.20 unpleasant
	// demo_0004.png 16x16 3.58 unpleasant
	// demo_0005.png 16x16 5.07 neutral
}

func ExampleThresholds_Classify() {
	for _, v := range []float64{3.0, 4.5, 5.8, 7.0} {
		fmt.Println(v, stimuli.DefaultThresholds.Classify(v), stimuli.SoftThresholds.Classify(v))
	}
	// Output:
	// 3 unpleasant unpleasant
	// 4.5 neutral unknown
	// 5.8 neutral unknown
	// 7 pleasant pleasant
}
