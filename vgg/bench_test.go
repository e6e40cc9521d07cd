package vgg

import (
	"fmt"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// BenchmarkForward measures full VGG-16 inference on 3×224×224 inputs in
// img/s (random-init weights: speed does not depend on the values).
func BenchmarkForward(b *testing.B) {
	m := Random16(1)
	for _, batch := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			x := tensor.New(batch, 3, 224, 224)
			tensor.NewRNG(2).Normal(x, 0, 1)
			m.Forward(x) // warm up pools and buffers
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m.Forward(x)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
