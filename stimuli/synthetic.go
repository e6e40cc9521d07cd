package stimuli

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
)

// Synthetic returns an in-memory set of n procedurally drawn size×size gray
// PNG images named "<name>_0000.png", … whose categories differ in low-level
// statistics, for demos and tests:
//
//   - pleasant: bright (mean luminance ≈ 150–200), smooth, low-frequency
//     blobs on a light background;
//   - neutral: mid-gray (≈ 115–140), a medium-frequency triangle-wave
//     grating of moderate contrast;
//   - unpleasant: dark (≈ 80–110), high-contrast, high-frequency stripes
//     crossed by jagged line segments, plus strong pixel noise.
//
// The categories are balanced (n/3 each, the remainder going to pleasant,
// then neutral) and shuffled. Valence is drawn per category in hundredths:
// pleasant 6.60–8.40, neutral 4.90–5.40, unpleasant 1.60–3.70, so that
// both DefaultThresholds and SoftThresholds recover the intended category.
// The set has no ratings file on disk (Dir and every Image.Path are "");
// read images with Set.Open. Its Thresholds are DefaultThresholds.
//
// The pixels use integer arithmetic and a private SplitMix64 generator only,
// so they are identical for a seed on every platform and Go release; the
// PNG bytes additionally depend on image/png's compressor, which is stable
// within a Go release.
//
// Synthetic panics if n < 1, size is outside 8..4096, or name is not made
// of letters, digits, '.', '_' and '-'.
func Synthetic(name string, n int, seed uint64, size int) *Set {
	return synthetic(name, n, seed, size, false)
}

// SyntheticOverlap returns a synthetic set like Synthetic's (the same
// names, category balance, valence ranges and thresholds) whose categories
// overlap, so that a readout cannot be perfect. It is the demonstration's
// stimulus set (examples/reproduce), designed for a randomly initialised
// VGG-16 at 32 px; Synthetic, whose categories are cleanly separable (every
// readout scores F1 = 1 and a gain cannot help), stays as it is for the
// tests that rely on its pixels.
//
// Each image is a blend of two category prototypes, its own with weight
// t% and another (random) category's with 100−t%, on a mid-gray (115)
// that ImageNet normalization maps to about 0, plus clutter common to
// every category:
//
//   - pleasant: brighter (+55 gray levels) with two to four smooth bright
//     blobs (+15 to +35);
//   - neutral: no offset, a high-contrast (±70 to ±90) triangle-wave
//     grating of medium frequency (period size/6 to size/3);
//   - unpleasant: darker (−55) with fine stripes (period 2–3, ±15 to ±25)
//     and three to six jagged line segments;
//   - clutter: two to four soft blobs of either polarity (±15 to ±30) and
//     uniform pixel noise (±12).
//
// Why these: a random network has zero biases, so its responses scale
// with the input's norm, and its deep channels favour texture over
// brightness (max pooling keeps the peaks of a texture). The prototypes
// therefore have comparable norms, neutral has the strongest texture but
// no offset and unpleasant's stripes are weak, so that each category gets
// its own population of channels that prefer it (in Synthetic, neutral is
// the dimmest in every respect and almost no channel prefers it). Those
// channels carry the category signal the readout uses: raising their gain
// pushes borderline images of the category over the readout's threshold
// (an attention gain), silencing them removes the signal (a lesion).
//
// The typicality t grows with how extreme the valence is within the
// category (pleasant 6.60 → 8.40, unpleasant 3.70 → 1.60, neutral from
// either end of 4.90–5.40 to its middle), from 50% to 100%, with ±10 of
// jitter. A few percent of the images (t < 50) look more like another
// category than like their own, many more are ambiguous, and a
// category's most extreme images are its most typical, so the top images
// of its selective neurons lean to the extreme valences (Fig 2).
//
// The pixels are deterministic in the same way as Synthetic's, and the
// panics are the same.
func SyntheticOverlap(name string, n int, seed uint64, size int) *Set {
	return synthetic(name, n, seed, size, true)
}

// synthetic is Synthetic (overlap false) or SyntheticOverlap.
func synthetic(name string, n int, seed uint64, size int, overlap bool) *Set {
	checkSynthetic(name, n, size)

	master := newRNG(seed)
	cats := make([]Category, n)
	for i := range cats {
		cats[i] = Category(i % int(NumEmotions))
	}
	for i := n - 1; i > 0; i-- {
		j := master.intn(i + 1)
		cats[i], cats[j] = cats[j], cats[i]
	}

	width := max(4, len(strconv.Itoa(n-1)))
	var csv bytes.Buffer
	csv.WriteString("file,valence\n")
	set := &Set{
		Name:       name,
		Thresholds: DefaultThresholds,
		Images:     make([]Image, n),
		mem:        make(map[string][]byte, n),
	}
	for i, c := range cats {
		var hundredths int
		switch c {
		case Pleasant:
			hundredths = 660 + master.intn(181)
		case Neutral:
			hundredths = 490 + master.intn(51)
		default:
			hundredths = 160 + master.intn(211)
		}
		file := fmt.Sprintf("%s_%0*d.png", name, width, i)
		v := float64(hundredths) / 100
		set.Images[i] = Image{File: file, Valence: v, Category: set.Thresholds.Classify(v), Line: i + 2}
		fmt.Fprintf(&csv, "%s,%d.%02d\n", file, hundredths/100, hundredths%100)

		g := image.NewGray(image.Rect(0, 0, size, size))
		r := newRNG(mix(seed) ^ mix(uint64(i)+1))
		if overlap {
			renderOverlap(g.Pix, size, c, typicality(c, hundredths), r)
		} else {
			render(g.Pix, size, c, r)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, g); err != nil {
			panic("stimuli: " + err.Error()) // cannot happen for an in-memory image.Gray
		}
		set.mem[file] = buf.Bytes()
	}
	set.ratings = csv.Bytes()
	set.defaultClasses()
	return set
}

// WriteSynthetic writes the images of Synthetic(name, n, seed, size) and
// its ratings.csv (columns file, valence) into dir, creating dir if needed
// and overwriting files of the same names. Load(dir, Config{}) then gives
// the same images, valences, categories and Hash.
func WriteSynthetic(dir, name string, n int, seed uint64, size int) error {
	return writeSet(dir, Synthetic(name, n, seed, size))
}

// WriteSyntheticOverlap is WriteSynthetic for SyntheticOverlap.
func WriteSyntheticOverlap(dir, name string, n int, seed uint64, size int) error {
	return writeSet(dir, SyntheticOverlap(name, n, seed, size))
}

// writeSet writes an in-memory set's images and ratings into dir.
func writeSet(dir string, set *Set) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("stimuli: %w", err)
	}
	for _, im := range set.Images {
		if err := os.WriteFile(filepath.Join(dir, im.File), set.mem[im.File], 0o644); err != nil {
			return fmt.Errorf("stimuli: %w", err)
		}
	}
	// The ratings go last, so an interrupted run leaves no loadable set.
	if err := os.WriteFile(filepath.Join(dir, RatingsFile), set.ratings, 0o644); err != nil {
		return fmt.Errorf("stimuli: %w", err)
	}
	return nil
}

// rng is SplitMix64: tiny, fast and fixed forever, unlike library streams
// whose derived methods may change between releases.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{s: seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix(r.s)
}

// mix is SplitMix64's output function.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// intn returns a value in [0, n). The modulo bias (< n/2^64) is irrelevant
// here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// span returns a value in [lo, hi].
func (r *rng) span(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// render renders one image of category c into pix (size×size, row-major).
// Luminance is accumulated in 1/256 units and clamped at the end.
func render(pix []uint8, size int, c Category, r *rng) {
	acc := make([]int64, size*size)
	const one = 256
	switch c {
	case Pleasant:
		base := int64(r.span(150, 165))
		for i := range acc {
			acc[i] = base * one
		}
		for range r.span(3, 5) {
			cx, cy := r.intn(size), r.intn(size)
			rad := int64(r.span(size/4, size/2))
			bump(acc, size, cx, cy, rad, int64(r.span(25, 60)))
		}
		addNoise(acc, r, 3)
	case Neutral:
		base := int64(r.span(118, 133))
		p := int64(max(2, r.span(size/6, size/3)))
		a, b := direction(r, 2)
		amp := int64(r.span(20, 34))
		for y := range size {
			for x := range size {
				phase := mod(int64(x)*a+int64(y)*b, 2*p)
				tri := phase - p
				if tri < 0 {
					tri = -tri
				}
				acc[y*size+x] = base*one + amp*one*(2*tri-p)/p
			}
		}
		addNoise(acc, r, 4)
	default: // Unpleasant
		lo, hi := int64(r.span(15, 34)), int64(r.span(140, 164))
		p := int64(r.span(2, 4))
		a, b := direction(r, 3)
		for y := range size {
			for x := range size {
				v := lo
				if floorDiv(int64(x)*a+int64(y)*b, p)&1 == 1 {
					v = hi
				}
				acc[y*size+x] = v * one
			}
		}
		for k := range r.span(4, 7) {
			v := lo
			if k%2 == 1 {
				v = hi
			}
			line(acc, size, r.intn(size), r.intn(size), r.intn(size), r.intn(size), v*one)
		}
		addNoise(acc, r, 24)
	}
	for i, v := range acc {
		pix[i] = uint8(min(max(v/one, 0), 255))
	}
}

// typicality returns the base share, in percent, of an image's own
// category in SyntheticOverlap (before jitter): 50 at the mildest valence
// of the category, 100 at the most extreme.
func typicality(c Category, hundredths int) int {
	var e, span int // extremeness in hundredths of valence, out of span
	switch c {
	case Pleasant:
		e, span = hundredths-660, 180
	case Neutral:
		e, span = 25-abs(hundredths-515), 25
	default:
		e, span = 370-hundredths, 210
	}
	return 50 + 50*max(0, min(e, span))/span
}

// renderOverlap renders one SyntheticOverlap image of category c with base
// typicality t (percent) into pix (size×size, row-major). Luminance is
// accumulated in 1/256 units around mid-gray and clamped at the end.
func renderOverlap(pix []uint8, size int, c Category, t int, r *rng) {
	const one, gray = 256, 115
	t = min(100, max(0, t+r.span(-10, 10)))
	other := Category((int(c) + 1 + r.intn(2)) % int(NumEmotions))
	var weight [NumEmotions]int64
	weight[c], weight[other] = int64(t), int64(100-t)

	acc := make([]int64, size*size)
	for i := range acc {
		acc[i] = gray * one
	}
	// Every prototype is drawn (with its weight possibly 0), so that the
	// random stream does not depend on the blend.
	layer := make([]int64, size*size)
	for k := range NumEmotions {
		clear(layer)
		switch k {
		case Pleasant:
			for i := range layer {
				layer[i] = 55 * one
			}
			for range r.span(2, 4) {
				bump(layer, size, r.intn(size), r.intn(size), int64(r.span(size/4, size/2)), int64(r.span(15, 35)))
			}
		case Neutral:
			p := int64(max(2, r.span(size/6, size/3)))
			a, b := direction(r, 2)
			amp := int64(r.span(70, 90))
			for y := range size {
				for x := range size {
					tri := mod(int64(x)*a+int64(y)*b, 2*p) - p
					if tri < 0 {
						tri = -tri
					}
					layer[y*size+x] = amp * one * (2*tri - p) / p
				}
			}
		default: // Unpleasant
			p := int64(r.span(2, 3))
			a, b := direction(r, 3)
			amp := int64(r.span(15, 25))
			for y := range size {
				for x := range size {
					v := -55 - amp
					if floorDiv(int64(x)*a+int64(y)*b, p)&1 == 1 {
						v = -55 + amp
					}
					layer[y*size+x] = v * one
				}
			}
			for j := range r.span(3, 6) {
				v := int64(-110)
				if j%2 == 1 {
					v = 40
				}
				line(layer, size, r.intn(size), r.intn(size), r.intn(size), r.intn(size), v*one)
			}
		}
		for i, v := range layer {
			acc[i] += weight[k] * v / 100
		}
	}
	// Clutter shared by every category.
	for range r.span(2, 4) {
		amp := int64(r.span(15, 30))
		if r.intn(2) == 0 {
			amp = -amp
		}
		bump(acc, size, r.intn(size), r.intn(size), int64(r.span(size/6, size/3)), amp)
	}
	addNoise(acc, r, 12)
	for i, v := range acc {
		pix[i] = uint8(min(max(v/one, 0), 255))
	}
}

// bump adds a smooth bump amp·(1−ρ²)² of radius rad (pixels) centred at
// (cx, cy) to acc (1/256 units).
func bump(acc []int64, size, cx, cy int, rad, amp int64) {
	const one = 256
	rad = max(rad, 1)
	r2 := rad * rad
	r4 := r2 * r2
	for y := range size {
		for x := range size {
			dx, dy := int64(x-cx), int64(y-cy)
			if d2 := dx*dx + dy*dy; d2 < r2 {
				t := r2 - d2
				acc[y*size+x] += amp * one * t * t / r4
			}
		}
	}
}

// addNoise adds independent uniform integer noise in [-amp, amp] to each
// pixel.
func addNoise(acc []int64, r *rng, amp int) {
	for i := range acc {
		acc[i] += int64(r.span(-amp, amp)) * 256
	}
}

// direction returns a random non-zero integer direction with components in
// [-k, k].
func direction(r *rng, k int) (int64, int64) {
	for {
		a, b := r.span(-k, k), r.span(-k, k)
		if a != 0 || b != 0 {
			return int64(a), int64(b)
		}
	}
}

// line draws a one-pixel Bresenham segment of value v.
func line(acc []int64, size, x0, y0, x1, y1 int, v int64) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		acc[y0*size+x0] = v
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func mod(a, m int64) int64 { return (a%m + m) % m }

func floorDiv(a, m int64) int64 { return (a - mod(a, m)) / m }
