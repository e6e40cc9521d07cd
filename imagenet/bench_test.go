package imagenet

import (
	"bytes"
	"os"
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
