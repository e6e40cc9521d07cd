package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestUnpack checks that PackedA.Unpack returns the matrix PackA was
// given, bit for bit (NaN and −0 included), for every implementation's
// panel height and row counts around it, also after another
// implementation has added a layout.
func TestUnpack(t *testing.T) {
	defer Use(Active())
	r := rand.New(rand.NewPCG(11, 12))
	for _, name := range Impls() {
		if err := Use(name); err != nil {
			continue
		}
		for _, mk := range [][2]int{{1, 1}, {5, 3}, {16, 7}, {17, 9}, {33, 40}, {6, 1}} {
			m, k := mk[0], mk[1]
			lda := k + 2 // a row stride past K
			a := make([]float32, (m-1)*lda+k)
			for i := range a {
				a[i] = float32(r.NormFloat64())
			}
			a[0] = float32(math.NaN())
			a[len(a)-1] = float32(math.Copysign(0, -1))
			p := PackA(m, k, a, lda)
			for _, im := range impls {
				p.panels(im.mr) // extra layouts must not matter
			}
			got := p.Unpack()
			if len(got) != m*k {
				t.Fatalf("%s %d×%d: %d values", name, m, k, len(got))
			}
			for i := 0; i < m; i++ {
				for q := 0; q < k; q++ {
					if math.Float32bits(got[i*k+q]) != math.Float32bits(a[i*lda+q]) {
						t.Fatalf("%s %d×%d: (%d,%d) is %v, want %v", name, m, k, i, q, got[i*k+q], a[i*lda+q])
					}
				}
			}
		}
	}
}
