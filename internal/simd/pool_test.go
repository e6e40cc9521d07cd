package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMax is max with NaN winning, written out.
func naiveMax(a, b float32) float32 {
	if a != a || b != b {
		return float32(math.NaN())
	}
	if b > a {
		return b
	}
	return a
}

// sameMax compares allowing +0 for −0 (either may come out).
func sameMax(got, want float32) bool {
	if want != want {
		return got != got
	}
	return got == want
}

// poolData returns n values, about a third zero (as after a ReLU), with
// NaNs and ±Inf sprinkled in when special.
func poolData(r *rand.Rand, n int, special bool) []float32 {
	x := make([]float32, n)
	for i := range x {
		switch v := r.IntN(30); {
		case special && v == 0:
			x[i] = float32(math.NaN())
		case special && v == 1:
			x[i] = float32(math.Inf(1 - 2*r.IntN(2)))
		case v < 10:
			x[i] = 0
		default:
			x[i] = float32(r.NormFloat64())
		}
	}
	return x
}

func TestMaxRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n < 70; n++ {
			for _, special := range []bool{false, true} {
				a, b := poolData(r, n, special), poolData(r, n+3, special)
				got := append([]float32(nil), a...)
				MaxRows(got, b)
				for x := range a {
					if w := naiveMax(a[x], b[x]); !sameMax(got[x], w) {
						t.Fatalf("n=%d x=%d: max(%v, %v) = %v, want %v", n, x, a[x], b[x], got[x], w)
					}
				}
			}
		}
	})
}

func TestMaxWindows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, ks := range [][2]int{{2, 2}, {3, 2}, {3, 1}, {1, 3}, {4, 3}} {
			k, s := ks[0], ks[1]
			for n := 1; n < 40; n++ {
				for extra := 0; extra < 3; extra++ { // col exactly as long as needed, or longer
					col := poolData(r, (n-1)*s+k+extra, n%3 == 0)
					dst := make([]float32, n+1)
					dst[n] = 123 // past the end: untouched
					MaxWindows(dst[:n], col, k, s)
					for j := 0; j < n; j++ {
						w := col[j*s]
						for _, v := range col[j*s+1 : j*s+k] {
							w = naiveMax(w, v)
						}
						if !sameMax(dst[j], w) {
							t.Fatalf("k=%d s=%d n=%d j=%d: got %v, want %v", k, s, n, j, dst[j], w)
						}
					}
					if dst[n] != 123 {
						t.Fatalf("k=%d s=%d n=%d: wrote past dst", k, s, n)
					}
				}
			}
		}
	})
}

// TestMaxPool2Rows checks one output row of 2×2 and 3×3 windows at stride
// 2 against the definition written out, for row widths around the vector
// groups, rows exactly as long as needed or with slack after them, and
// NaN and ±Inf in the data.
func TestMaxPool2Rows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, k := range []int{2, 3} {
			for n := 1; n < 40; n++ {
				for extra := 0; extra < 20; extra += 3 { // the rows' slack, read or not
					ld := 2*n + k - 2 + extra%4
					src := poolData(r, (k-1)*ld+2*n+k-2+extra, n%3 == 0)
					dst := make([]float32, n+1)
					dst[n] = 123 // past the end: untouched
					MaxPool2Rows(dst[:n], src, ld, k)
					for j := 0; j < n; j++ {
						w := src[2*j]
						for a := 0; a < k; a++ {
							for b := 0; b < k; b++ {
								w = naiveMax(w, src[a*ld+2*j+b])
							}
						}
						if !sameMax(dst[j], w) {
							t.Fatalf("k=%d n=%d ld=%d j=%d: got %v, want %v", k, n, ld, j, dst[j], w)
						}
					}
					if dst[n] != 123 {
						t.Fatalf("k=%d n=%d: wrote past dst", k, n)
					}
				}
			}
		}
	})
}
