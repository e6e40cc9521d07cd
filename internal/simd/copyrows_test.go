package simd

import (
	"math/rand/v2"
	"testing"
)

// TestCopyRows checks CopyRows against an element loop for widths across
// the vector steps and strides with gaps, and that nothing outside the
// destination rows changes.
func TestCopyRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(13, 14))
		for width := 1; width <= 40; width++ {
			for _, rows := range []int{1, 2, 5} {
				for _, gap := range [][2]int{{0, 0}, {3, 0}, {0, 7}, {5, 9}} {
					ds, ss := width+gap[0], width+gap[1]
					src := randSlice(r, (rows-1)*ss+width)
					dst := make([]float32, (rows-1)*ds+width+4)
					for i := range dst {
						dst[i] = -7
					}
					CopyRows(dst, ds, src, ss, rows, width)
					for i, v := range dst {
						row, col := i/ds, i%ds
						want := float32(-7)
						if row < rows && col < width {
							want = src[row*ss+col]
						}
						if v != want {
							t.Fatalf("width=%d rows=%d strides %d/%d: dst[%d] = %v, want %v", width, rows, ds, ss, i, v, want)
						}
					}
				}
			}
		}
	})
}
