package manipulate

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// BenchmarkSuffix measures suffix re-runs of VGG-16 (torchvision's random
// init; speed does not depend on the values) on 224×224 images from each
// conv layer's cached pre-gain activation to fc7's post-ReLU output, with
// 10% of the layer's channels lesioned: the inner loop of the lesion and
// attention experiments. It reports images × layers per second and
// GFLOP/s; "all" runs every layer's suffix once per iteration (13 layers ×
// batch images), the mix of a whole lesion study. The batch is 8 images
// (EMOSEL_BENCH_BATCH overrides it). Run it with -benchtime=1x: one
// iteration of "all" is about 1.4 TFLOP.
func BenchmarkSuffix(b *testing.B) {
	batch := 8
	if v, err := strconv.Atoi(os.Getenv("EMOSEL_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	m := vgg.Random16(1)
	shape := []int{3, 224, 224}
	x := tensor.New(batch, 3, 224, 224)
	tensor.NewRNG(2).Normal(x, 0, 1)
	type cached struct {
		s *Suffix
		g []float32
	}
	var all []cached
	var allFLOPs float64
	for _, u := range m.ConvUnits() {
		s := NewSuffix(m, u.Name, "", shape)
		units := make([]int, u.Channels/10)
		for i := range units {
			units[i] = 10 * i
		}
		c := cached{s: s, g: Lesion(u.Channels, units)}
		all = append(all, c)
		allFLOPs += s.FLOPs()
		b.Run(u.Name, func(b *testing.B) {
			h := c.s.Prefix(x)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.s.Run(h, c.g)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(batch*b.N)/sec, "img·layer/s")
			b.ReportMetric(c.s.FLOPs()*float64(batch*b.N)/sec/1e9, "GFLOP/s")
		})
	}
	b.Run(fmt.Sprintf("all%d", len(all)), func(b *testing.B) {
		hs := make([]*tensor.Tensor, len(all))
		for i, c := range all {
			hs[i] = c.s.Prefix(x)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for k, c := range all {
				c.s.Run(hs[k], c.g)
			}
		}
		sec := b.Elapsed().Seconds()
		b.ReportMetric(float64(len(all)*batch*b.N)/sec, "img·layer/s")
		b.ReportMetric(allFLOPs*float64(batch*b.N)/sec/1e9, "GFLOP/s")
	})
}
