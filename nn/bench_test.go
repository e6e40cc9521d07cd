package nn

import (
	"testing"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// BenchmarkReLU times the gain ReLU on VGG-16's conv1_1 output for 8
// images (25.7 M values, half of them negative), as manipulate's suffix
// re-runs apply it, once per simd implementation ("Go" is the scalar
// loop). GB/s counts the values read and written.
//
//	go test -run x -bench ReLU -cpu 2 ./nn
func BenchmarkReLU(b *testing.B) {
	defer simd.Use(simd.Active())
	x := tensor.New(8, 64, 224, 224)
	tensor.NewRNG(1).Normal(x, 0, 1)
	gain := make([]float32, 64)
	for i := range gain {
		gain[i] = float32(i%3) - 1
	}
	for _, impl := range simd.Impls() {
		b.Run(impl, func(b *testing.B) {
			if err := simd.Use(impl); err != nil {
				b.Skip(err)
			}
			r := &ReLU{Gain: gain}
			r.Forward(x)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r.Forward(x)
			}
			b.ReportMetric(float64(8*x.Len()*b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
