package stimuli

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"strconv"
	"strings"
)

// SyntheticClasses returns an in-memory set of n size×size gray PNG images
// in len(classes) ≥ 2 categories that differ in one low-level statistic,
// the mean luminance: category c's images have a base level from about 60
// (c = 0) to about 190 (the last), under clutter common to all categories
// (smooth bumps of either sign, pixel noise) whose spread is comparable to
// the gap between neighbouring levels, so categories overlap a little. It
// is the K-category stand-in for a face/object or arousal design in tests
// and demonstrations.
//
// Its ratings.csv has the columns file, category (the class name) and
// arousal, a rating drawn uniformly within the category's bin of the 1–9
// scale cut into K equal bins, so the label design Label "category" and
// the rating design Rating "arousal" with cuts 1+8i/K (i = 1 … K-1) give the
// same classes. The set is under the label design with Names classes;
// like a loaded one it has no valence column, so its Valence and Rating
// are NaN (load it with the rating design to get the ratings). Categories are balanced (the remainder going to the first ones)
// and shuffled; pixels and ratings depend only on the arguments.
//
// It panics if n < 1, size is outside 8..4096, name is not a plain
// file-name stem, or the classes are not a valid label design.
func SyntheticClasses(name string, classes []string, n int, seed uint64, size int) *Set {
	checkSynthetic(name, n, size)
	k := len(classes)
	d := Design{Label: "category", Names: append([]string(nil), classes...)}
	if err := d.check(); err != nil || k < 2 {
		panic(fmt.Sprintf("stimuli: SyntheticClasses: classes %q are not a design of at least 2 categories (%v)", classes, err))
	}
	master := newRNG(seed ^ 0x6b636c61737365) // "kclasse": a stream apart from Synthetic's
	cls := make([]int, n)
	for i := range cls {
		cls[i] = i % k
	}
	for i := n - 1; i > 0; i-- {
		j := master.intn(i + 1)
		cls[i], cls[j] = cls[j], cls[i]
	}
	width := max(4, len(strconv.Itoa(n-1)))
	var csv bytes.Buffer
	csv.WriteString("file,category,arousal\n")
	set := &Set{
		Name:       name,
		Thresholds: DefaultThresholds,
		Images:     make([]Image, n),
		Design:     d,
		Classes:    d.Names,
		mem:        make(map[string][]byte, n),
	}
	const one = 256
	for i, c := range cls {
		// The rating: uniform in bin c of [1, 9], in hundredths, never on a cut.
		lo := 100 + 800*c/k
		hi := 100 + 800*(c+1)/k
		h := lo + 1 + master.intn(max(1, hi-lo-1))
		file := fmt.Sprintf("%s_%0*d.png", name, width, i)
		set.Images[i] = Image{File: file, Valence: math.NaN(), Category: Unknown, Class: c, Rating: math.NaN(), Line: i + 2}
		fmt.Fprintf(&csv, "%s,%s,%d.%02d\n", file, classes[c], h/100, h%100)

		r := newRNG(mix(seed^0x6b) ^ mix(uint64(i)+1))
		acc := make([]int64, size*size)
		step := 130 / (k - 1)
		base := int64(60 + step*c + r.span(-step/4, step/4))
		for j := range acc {
			acc[j] = base * one
		}
		for range r.span(3, 6) {
			amp := int64(r.span(15, 40))
			if r.intn(2) == 0 {
				amp = -amp
			}
			bump(acc, size, r.intn(size), r.intn(size), int64(r.span(size/6, size/2)), amp)
		}
		addNoise(acc, r, 12)
		g := image.NewGray(image.Rect(0, 0, size, size))
		for j, a := range acc {
			g.Pix[j] = uint8(min(max(a/one, 0), 255))
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, g); err != nil {
			panic("stimuli: " + err.Error()) // cannot happen for an in-memory image.Gray
		}
		set.mem[file] = buf.Bytes()
	}
	set.ratings = csv.Bytes()
	return set
}

// WriteSyntheticClasses writes the images of SyntheticClasses and its
// ratings.csv into dir, creating dir if needed. Load with Config.Design
// Label "category" then gives the same images, classes and Hash.
func WriteSyntheticClasses(dir, name string, classes []string, n int, seed uint64, size int) error {
	return writeSet(dir, SyntheticClasses(name, classes, n, seed, size))
}

// checkSynthetic panics on the bad arguments every generator refuses.
func checkSynthetic(name string, n, size int) {
	if n < 1 {
		panic(fmt.Sprintf("stimuli: Synthetic needs n >= 1 images, got %d", n))
	}
	if size < 8 || size > 4096 {
		panic(fmt.Sprintf("stimuli: Synthetic image size %d is outside 8..4096", size))
	}
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || name == "." || name == ".." {
		panic(fmt.Sprintf("stimuli: Synthetic set name %q must be letters, digits, '.', '_' or '-'", name))
	}
}
