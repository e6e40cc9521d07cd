package imagenet

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoders (PNG, and our JPEG
// decoder in internal/jpeg) and the grey conversion: they must return an
// ErrFormat or ErrTooLarge error or a picture of the size the header
// claims, never panic, and the direct grey path (decodeGray, which
// LoadGray uses) must give the pixels of Gray of the decoded picture. The seeds are the fixtures, good and bad, and
// internal/jpeg's (restarts, damage, arithmetic coding).
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 30s ./imagenet/
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	bad, _ := filepath.Glob("testdata/bad/*")
	jpegs, _ := filepath.Glob("internal/jpeg/testdata/*.jpg")
	arith, _ := filepath.Glob("internal/jpeg/testdata/arith/*.jpg")
	if len(arith) == 0 {
		f.Fatal("no arithmetic-coded seeds")
	}
	for _, name := range slices.Concat(files, bad, jpegs, arith) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	const limit = 1 << 20 // pixels, to keep each input fast
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decode(data, "fuzz", limit)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx()*b.Dy() > limit {
			t.Fatalf("decoded bounds %v", b)
		}
		g := Gray(img)
		if g.Rect.Size() != b.Size() {
			t.Fatalf("Gray: %v from %v", g.Rect, b)
		}
		// The direct grey path (a JPEG converted while decoded) must
		// give Gray's pixels.
		dg, err := decodeGray(data, "fuzz", limit)
		if err != nil {
			t.Fatalf("decode succeeded, decodeGray: %v", err)
		}
		if dg.Rect != g.Rect || !bytes.Equal(dg.Pix, g.Pix) {
			t.Fatalf("decodeGray differs from Gray(decode)")
		}
		if r := Resize(g, 5, 3); r.Rect.Dx() != 5 || r.Rect.Dy() != 3 {
			t.Fatalf("Resize: %v", r.Rect)
		}
	})
}
