package manipulate

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// BenchmarkSuffixChunk times VGG-16's suffix re-runs from the three cached
// activations of the ORT comparison (testdata/bench/ort) at the study's
// chunk size (Suffix.Chunk of DefaultBudget at 224 px, or
// EMOSEL_BENCH_BATCH): "direct" re-runs the whole suffix under a lesion
// of a tenth of the channels, as onnxruntime and PyTorch do in the
// comparison; "reuse" runs four gains of one unit set through the reuse of
// the next layer (Suffix.RunSet) on a quarter of the chunk, as the
// experiments do. GFLOP/s counts the whole suffix's FLOPs per evaluation
// (effective for "reuse").
func BenchmarkSuffixChunk(b *testing.B) {
	m := vgg.Random16(1)
	shape := []int{3, 224, 224}
	for _, layer := range []string{"conv1_2", "conv3_3", "conv5_1"} {
		s := NewSuffix(m, layer, "", shape)
		batch := s.Chunk(DefaultBudget)
		if v, err := strconv.Atoi(os.Getenv("EMOSEL_BENCH_BATCH")); err == nil && v > 0 {
			batch = v
		}
		x := tensor.New(batch, 3, 224, 224)
		tensor.NewRNG(2).Normal(x, 0, 1)
		h := s.Prefix(x)
		c := s.Unit().Channels
		units := make([]int, c/10)
		for i := range units {
			units[i] = 10 * i
		}
		g := Lesion(c, units)
		report := func(b *testing.B, evals int) {
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(evals*b.N)/sec, "img/s")
			b.ReportMetric(s.FLOPs()*float64(evals*b.N)/sec/1e9, "GFLOP/s")
		}
		b.Run(fmt.Sprintf("%s/direct/b=%d", layer, batch), func(b *testing.B) {
			s.Run(h.Slice(0, 1), g)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tensor.Recycle(s.Run(h, g))
			}
			report(b, batch)
		})
		q := max(1, batch/4)
		b.Run(fmt.Sprintf("%s/reuse/b=%d", layer, 4*q), func(b *testing.B) {
			alphas := []float64{0.5, 1, 2, -1}
			s.RunSet(h.Slice(0, 1), units, alphas)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tensor.Recycle(s.RunSet(h.Slice(0, q), units, alphas))
			}
			report(b, 4*q)
		})
	}
}
