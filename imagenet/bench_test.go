package imagenet

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoad times the whole pipeline on the 300×200 JPEG fixture, for
// both modes, in images per second.
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("testdata/photo.jpg")
	if err != nil {
		b.Fatal(err)
	}
	for _, cfg := range []Config{{Mode: Squash}, {Mode: CenterCrop}} {
		b.Run(cfg.Mode.String()+"/300x200jpeg", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := cfg.Read(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkResize times PIL-exact resizing of a 1200×800 grey picture to
// the network's input.
func BenchmarkResize(b *testing.B) {
	g, err := LoadGray("testdata/photo.jpg")
	if err != nil {
		b.Fatal(err)
	}
	big := Resize(g, 1200, 800)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Resize(big, 224, 224)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkJPEGDecode times the JPEG decoding the study does, from the
// file to the pixels (decode: DecodeFile, the *image.RGBA or *image.Gray
// PIL's Image.open(f).load() gives; gray: LoadGray, PIL's
// Image.open(f).convert("L")), on the files of the directory
// $EMOSEL_JPEG_BENCH, which testdata/bench/jpeg_decode.py writes and times
// PIL on. Skipped when the variable is unset.
func BenchmarkJPEGDecode(b *testing.B) {
	dir := os.Getenv("EMOSEL_JPEG_BENCH")
	if dir == "" {
		b.Skip("EMOSEL_JPEG_BENCH names no directory of JPEG files")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if len(files) == 0 {
		b.Fatalf("no JPEG files in %s", dir)
	}
	for _, name := range files {
		img, err := DecodeFile(name)
		if err != nil {
			b.Fatal(err)
		}
		mp := float64(img.Bounds().Dx()*img.Bounds().Dy()) / 1e6
		for _, gray := range []bool{false, true} {
			what := "decode"
			if gray {
				what = "gray"
			}
			b.Run(filepath.Base(name)+"/"+what, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					var err error
					if gray {
						_, err = LoadGray(name)
					} else {
						_, err = DecodeFile(name)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(mp*float64(b.N)/b.Elapsed().Seconds(), "MP/s")
			})
		}
	}
}
