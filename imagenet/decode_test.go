package imagenet

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emosel/emosel/imagenet/internal/luma"
)

func TestBadInputs(t *testing.T) {
	for _, c := range []struct {
		file string
		want error
	}{
		{"testdata/bad/missing.png", fs.ErrNotExist},
		{"testdata/bad/notimage.txt", ErrFormat},
		{"testdata/bad/empty.png", ErrFormat},
		{"testdata/bad/truncated.png", ErrFormat},
		{"testdata/bad/truncated.jpg", ErrFormat},
		{"testdata/bad/image.gif", ErrFormat},
		{"testdata/bad/bomb.png", ErrTooLarge},
		{"testdata", nil}, // a directory
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			check := func(what string, err error) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				if c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("%s: %v, want an error wrapping %v", what, err, c.want)
				}
				if !strings.Contains(err.Error(), c.file) {
					t.Errorf("%s: %q does not name the file", what, err)
				}
				if !strings.HasPrefix(err.Error(), "imagenet: ") {
					t.Errorf("%s: %q lacks the package prefix", what, err)
				}
			}
			_, err := LoadGray(c.file)
			check("LoadGray", err)
			_, err = Load(c.file)
			check("Load", err)
			_, err = LoadBatch(context.Background(), []string{"testdata/gray8.png", c.file})
			check("LoadBatch", err)
			t.Log(err)
		})
	}
}

func TestReadErrors(t *testing.T) {
	for _, name := range []string{"notimage.txt", "truncated.png", "truncated.jpg", "bomb.png"} {
		data, err := os.ReadFile(filepath.Join("testdata/bad", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = ReadGray(bytes.NewReader(data))
		if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: ReadGray: %v", name, err)
		}
		_, err = Config{Size: 8}.Read(bytes.NewReader(data))
		if err == nil {
			t.Errorf("%s: Read: no error", name)
		}
	}
}

// TestImplausibleSize: a header may not claim more pixels than the rest of
// the file could encode, even under MaxPixels.
func TestImplausibleSize(t *testing.T) {
	data, err := os.ReadFile("testdata/gray.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite the SOF0 size to 4000x4000 (16 megapixels for a 1 KB file).
	i := bytes.Index(data, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	bad := bytes.Clone(data)
	copy(bad[i+5:], []byte{0x0f, 0xa0, 0x0f, 0xa0})
	_, err = ReadGray(bytes.NewReader(bad))
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "can hold") {
		t.Errorf("got %v", err)
	}

	// An arithmetic-coded file can hold that many: 2000x2000 flat grey
	// (77, as PIL decodes it) in 128 bytes.
	g, err := LoadGray("internal/jpeg/testdata/arith/flat2000.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if g.Rect.Dx() != 2000 || g.Rect.Dy() != 2000 || bytes.Count(g.Pix, []byte{77}) != len(g.Pix) {
		t.Errorf("flat2000.jpg: %v, not all 77", g.Rect)
	}
}

func TestLoadBatch(t *testing.T) {
	files := []string{"testdata/gray8.png", "testdata/rgb420.jpg", "testdata/tall.png"}
	cfg := Config{Mode: CenterCrop, Size: 16, Resize: 18}
	got, err := cfg.LoadBatch(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasShape(3, 3, 16, 16) {
		t.Fatalf("shape %v", got.Shape())
	}
	for i, f := range files {
		one, err := cfg.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if !slicesEqual(got.Slice(i, i+1).Data(), one.Data()) {
			t.Errorf("image %d (%s) differs from Load", i, f)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := cfg.LoadBatch(ctx, files); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	empty, err := cfg.LoadBatch(context.Background(), nil)
	if err != nil || !empty.HasShape(0, 3, 16, 16) {
		t.Errorf("no paths: %v, %v", empty, err)
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDefaultConfig(t *testing.T) {
	got, err := Load("testdata/photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasShape(1, 3, 224, 224) {
		t.Errorf("shape %v", got.Shape())
	}
	if s, r := (Config{Mode: CenterCrop}).size(); s != 224 || r != 256 {
		t.Errorf("CenterCrop defaults: %d, %d", s, r)
	}
}

// TestGrayTypes covers the image types Go's decoders do not produce for
// the fixtures: sub-images, premultiplied pixels that are not opaque, and
// the generic path.
func TestGrayTypes(t *testing.T) {
	nrgba := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range nrgba.Pix {
		nrgba.Pix[i] = byte(37*i + 11)
	}

	// The same straight colours stored premultiplied: opaque ones convert
	// exactly; translucent ones are un-premultiplied first.
	for _, alpha := range []uint8{255, 128} {
		rgba := image.NewRGBA(nrgba.Rect)
		rgba64 := image.NewRGBA64(nrgba.Rect)
		var ref []byte
		for y := 0; y < 2; y++ {
			for x := 0; x < 3; x++ {
				c := nrgba.NRGBAAt(x, y)
				c.A = alpha
				rgba.Set(x, y, c)
				rgba64.Set(x, y, c)
				s := color.NRGBAModel.Convert(rgba.At(x, y)).(color.NRGBA)
				ref = append(ref, luma.RGB(s.R, s.G, s.B))
			}
		}
		if alpha == 255 && !bytes.Equal(ref, Gray(nrgba).Pix) {
			t.Fatal("reference broken")
		}
		if got := Gray(rgba); !bytes.Equal(got.Pix, ref) {
			t.Errorf("RGBA alpha %d: %v, want %v", alpha, got.Pix, ref)
		}
		if got := Gray(rgba64); alpha == 255 && !bytes.Equal(got.Pix, ref) {
			t.Errorf("RGBA64 alpha %d: %v, want %v", alpha, got.Pix, ref)
		}
	}

	// Generic path: a YCbCr picture is converted through NRGBA.
	ycc := image.NewYCbCr(image.Rect(0, 0, 2, 2), image.YCbCrSubsampleRatio444)
	for i := range ycc.Y {
		ycc.Y[i], ycc.Cb[i], ycc.Cr[i] = byte(60*i+20), byte(200-30*i), byte(90+40*i)
	}
	g := Gray(ycc)
	for i := 0; i < 4; i++ {
		c := color.NRGBAModel.Convert(ycc.At(i%2, i/2)).(color.NRGBA)
		if v := g.Pix[i]; v != luma.RGB(c.R, c.G, c.B) {
			t.Errorf("YCbCr pixel %d: %d, want %d", i, v, luma.RGB(c.R, c.G, c.B))
		}
	}

	// Sub-images keep their pixels and start at (0, 0).
	big, err := LoadGray("testdata/photo.jpg")
	if err != nil {
		t.Fatal(err)
	}
	sub := big.SubImage(image.Rect(10, 20, 50, 45)).(*image.Gray)
	g = Gray(sub)
	if g.Rect != image.Rect(0, 0, 40, 25) || g.GrayAt(3, 4) != big.GrayAt(13, 24) {
		t.Errorf("sub-image: %v, %v vs %v", g.Rect, g.GrayAt(3, 4), big.GrayAt(13, 24))
	}
	if a, b := Resize(sub, 17, 9), Resize(g, 17, 9); !bytes.Equal(a.Pix, b.Pix) {
		t.Error("Resize of a sub-image differs from Resize of its copy")
	}
	if a, b := Normalize(sub), Normalize(g); !slicesEqual(a.Data(), b.Data()) {
		t.Error("Normalize of a sub-image differs from Normalize of its copy")
	}
}

func TestResizeIdentityAndPanics(t *testing.T) {
	g, err := LoadGray("testdata/gray8.png")
	if err != nil {
		t.Fatal(err)
	}
	if got := Resize(g, 37, 23); !bytes.Equal(got.Pix, g.Pix) {
		t.Error("same-size Resize is not the identity")
	}
	for _, wh := range [][2]int{{0, 5}, {5, 0}, {-1, 3}} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "imagenet: ") {
					t.Errorf("Resize(%v): recovered %v", wh, r)
				}
			}()
			Resize(g, wh[0], wh[1])
		}()
	}
}

func TestPNGRoundTrip(t *testing.T) {
	// A picture Go encodes itself must come back unchanged.
	src := image.NewGray(image.Rect(0, 0, 13, 7))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	got, err := ReadGray(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Pix, src.Pix) {
		t.Error("grey PNG did not round-trip")
	}
}
