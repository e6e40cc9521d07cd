package imagenet

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// manifest is testdata/golden/manifest.json, written by
// testdata/gen/preprocess.py (see testdata/README.md).
type manifest struct {
	Versions map[string]string
	Mean     []float64
	Std      []float64
	Images   []struct {
		File    string
		W, H    int
		PILMode string `json:"pil_mode"`
		L       string
	}
	Resize []struct {
		Src  string
		W, H int
		Out  string
	}
	Pipeline []struct {
		Src    string
		Mode   string
		Size   int
		Resize int
		Tensor string    // small sizes: the [3,S,S] float32 tensor
		Pixels string    // S=224: the [S,S] picture after Fit
		Sums   []float64 // S=224: per-channel sums of the tensor
		First  []float64 // S=224: tensor[c,0,0]
	}
	LUT string
}

func loadManifest(t testing.TB) *manifest {
	t.Helper()
	data, err := os.ReadFile("testdata/golden/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readF32(t testing.TB, name string) []float32 {
	b := readFixture(t, name)
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// grayFrom wraps w*h bytes as an image.
func grayFrom(pix []byte, w, h int) *image.Gray {
	if len(pix) != w*h {
		panic(fmt.Sprintf("%d bytes for %dx%d", len(pix), w, h))
	}
	return &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}
}

// pixelDiff counts the pixels of got that differ from want, and the largest
// difference, and describes the first one.
func pixelDiff(got *image.Gray, want []byte) (n, worst int, first string) {
	w := got.Rect.Dx()
	for i, v := range want {
		g := got.Pix[(i/w)*got.Stride+i%w]
		if d := int(g) - int(v); d != 0 {
			n++
			if first == "" {
				first = fmt.Sprintf("(x=%d, y=%d) got %d want %d", i%w, i/w, g, v)
			}
			worst = max(worst, d, -d)
		}
	}
	return n, worst, first
}

func TestGrayMatchesPIL(t *testing.T) {
	m := loadManifest(t)
	if len(m.Images) < 30 {
		t.Fatalf("manifest lists %d images", len(m.Images))
	}
	for _, c := range m.Images {
		t.Run(c.File, func(t *testing.T) {
			g, err := LoadGray(filepath.Join("testdata", c.File))
			if err != nil {
				t.Fatal(err)
			}
			if g.Rect != image.Rect(0, 0, c.W, c.H) {
				t.Fatalf("bounds %v, want %dx%d", g.Rect, c.W, c.H)
			}
			if n, worst, first := pixelDiff(g, readFixture(t, c.L)); n > 0 {
				t.Errorf("PIL mode %s: %d of %d pixels differ (worst by %d), first at %s",
					c.PILMode, n, c.W*c.H, worst, first)
			}
		})
	}
}

// TestResizeMatchesPIL resizes PIL's own grey pictures, so it tests the
// resampler alone. Pillow's fixed-point arithmetic is reproduced exactly,
// so every pixel must match; a stray ±1 (from a float rounding difference
// in the weights) would be reported as such.
func TestResizeMatchesPIL(t *testing.T) {
	m := loadManifest(t)
	src := map[string]*image.Gray{}
	for _, c := range m.Images {
		src[c.File] = grayFrom(readFixture(t, c.L), c.W, c.H)
	}
	total, off := 0, 0
	for _, c := range m.Resize {
		name := fmt.Sprintf("%s->%dx%d", c.Src, c.W, c.H)
		in := src[c.Src]
		got := Resize(in, c.W, c.H)
		if got.Rect != image.Rect(0, 0, c.W, c.H) {
			t.Errorf("%s: bounds %v", name, got.Rect)
			continue
		}
		n, worst, first := pixelDiff(got, readFixture(t, c.Out))
		total += c.W * c.H
		off += n
		if worst > 1 || n > 0 {
			t.Errorf("%s: %d of %d pixels differ (worst by %d), first at %s", name, n, c.W*c.H, worst, first)
		}
	}
	t.Logf("%d resizes, %d pixels, %d differ", len(m.Resize), total, off)
}

func modeOf(t testing.TB, s string) Mode {
	switch s {
	case "squash":
		return Squash
	case "crop":
		return CenterCrop
	}
	t.Fatalf("unknown mode %q", s)
	return 0
}

// TestPipelineMatchesTorchvision runs Load (decode, grey, Fit, Normalize)
// on each fixture and compares with torchvision's tensor. The arithmetic
// is the same float32 operations in the same order, so the tolerance is
// only a guard: the values are expected to be identical.
func TestPipelineMatchesTorchvision(t *testing.T) {
	m := loadManifest(t)
	const tol = 1e-6
	for _, c := range m.Pipeline {
		cfg := Config{Mode: modeOf(t, c.Mode), Size: c.Size, Resize: c.Resize}
		name := fmt.Sprintf("%s/%v/%d/%d", c.Src, cfg.Mode, c.Size, c.Resize)
		t.Run(name, func(t *testing.T) {
			got, err := cfg.Load(filepath.Join("testdata", c.Src))
			if err != nil {
				t.Fatal(err)
			}
			if !got.HasShape(1, 3, c.Size, c.Size) {
				t.Fatalf("shape %v", got.Shape())
			}
			data := got.Data()
			if c.Tensor != "" {
				want := readF32(t, c.Tensor)
				worst, at := 0.0, -1
				for i, w := range want {
					if d := math.Abs(float64(data[i] - w)); d > worst {
						worst, at = d, i
					}
				}
				if worst > tol {
					t.Errorf("worst |diff| %g at flat index %d: got %v want %v", worst, at, data[at], want[at])
				}
				return
			}
			// 224: the picture after Fit, then sums of the tensor.
			g, err := LoadGray(filepath.Join("testdata", c.Src))
			if err != nil {
				t.Fatal(err)
			}
			if n, worst, first := pixelDiff(cfg.Fit(g), readFixture(t, c.Pixels)); n > 0 {
				t.Errorf("Fit: %d pixels differ (worst by %d), first at %s", n, worst, first)
			}
			plane := c.Size * c.Size
			for ch := 0; ch < 3; ch++ {
				sum := 0.0
				for _, v := range data[ch*plane : (ch+1)*plane] {
					sum += float64(v)
				}
				if math.Abs(sum-c.Sums[ch]) > 1e-6*float64(plane) {
					t.Errorf("channel %d: sum %v, torchvision %v", ch, sum, c.Sums[ch])
				}
				if d := math.Abs(float64(data[ch*plane]) - c.First[ch]); d > tol {
					t.Errorf("channel %d: [0,0] = %v, torchvision %v", ch, data[ch*plane], c.First[ch])
				}
			}
		})
	}
}

// TestNormalizeLUT checks ToTensor+Normalize for every byte value against
// torchvision, bit for bit.
func TestNormalizeLUT(t *testing.T) {
	m := loadManifest(t)
	want := readF32(t, m.LUT)
	pix := make([]byte, 256)
	for i := range pix {
		pix[i] = byte(i)
	}
	got := Normalize(grayFrom(pix, 16, 16)).Data()
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("channel %d value %d: got %v (%08x), torchvision %v (%08x)", i/256, i%256,
				got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	for c := range Mean {
		if float64(Mean[c]) != float64(float32(m.Mean[c])) || float64(Std[c]) != float64(float32(m.Std[c])) {
			t.Errorf("channel %d: Mean/Std %v/%v, fixtures %v/%v", c, Mean[c], Std[c], m.Mean[c], m.Std[c])
		}
	}
}
