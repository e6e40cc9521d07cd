package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestScaleReLU checks ScaleReLU against the definition written out in
// float64, bit for bit: negatives (and −Inf) to +0, NaN kept, −0 kept,
// the rest scaled; for every length across the assembly's 32-float
// steps, in place and not, and that nothing past dst is written.
func TestScaleReLU(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(7, 8))
		for n := 0; n < 100; n++ {
			for _, scale := range []float32{1, 0, 2.5, -0.5} {
				src := poolData(r, n, true)
				for i := range src {
					if r.IntN(10) == 0 {
						src[i] = float32(math.Copysign(0, -1))
					} else if r.IntN(2) == 0 {
						src[i] = -src[i]
					}
				}
				want := make([]float32, n)
				for i, v := range src {
					switch {
					case v != v:
						want[i] = v
					case v < 0:
						want[i] = float32(float64(scale) * 0)
					default:
						want[i] = float32(float64(scale) * float64(v))
					}
				}
				dst := make([]float32, n+1)
				dst[n] = 123
				ScaleReLU(dst[:n], src, scale)
				inPlace := append([]float32(nil), src...)
				ScaleReLU(inPlace, inPlace, scale)
				for i := range want {
					for _, got := range []float32{dst[i], inPlace[i]} {
						if want[i] != want[i] {
							if got == got {
								t.Fatalf("n=%d scale=%v: [%d] = %v from NaN, want NaN", n, scale, i, got)
							}
							continue
						}
						if math.Float32bits(got) != math.Float32bits(want[i]) {
							t.Fatalf("n=%d scale=%v: [%d] = %v from %v, want %v", n, scale, i, got, src[i], want[i])
						}
					}
				}
				if dst[n] != 123 {
					t.Fatalf("n=%d: wrote past dst", n)
				}
			}
		}
	})
}
