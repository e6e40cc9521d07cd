package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	fmt.Printf("simd: default implementation %s; available %s; %d threads\n",
		Active(), strings.Join(Impls(), ", "), Threads())
	os.Exit(m.Run())
}

// long reports whether the exhaustive sweeps run: EMOSEL_LONG=1.
func long() bool { return os.Getenv("EMOSEL_LONG") == "1" }

// forEachImpl runs f once per implementation that any build knows,
// skipping those this machine or build lacks, and restores the default.
func forEachImpl(t *testing.T, f func(t *testing.T, im *impl)) {
	t.Helper()
	def := Active()
	defer Use(def)
	for _, name := range knownNames {
		t.Run(name, func(t *testing.T) {
			if err := Use(name); err != nil {
				t.Skipf("not available: %v", err)
			}
			f(t, active.Load())
		})
	}
}

// withBlocking makes the active implementation block with small KC, MC
// and NC (in units of 1, MR and NR) for the rest of the test, so that
// small products cross every block boundary.
func withBlocking(t *testing.T, im *impl, kc, mcPanels, ncStrips int) {
	t.Helper()
	okc, omc, onc := im.kc, im.mc, im.nc
	im.kc, im.mc, im.nc = kc, mcPanels*im.mr, ncStrips*im.nr
	t.Cleanup(func() { im.kc, im.mc, im.nc = okc, omc, onc })
}

// withThreads sets the thread count and lets any product use them.
func withThreads(t *testing.T, n int) {
	t.Helper()
	old := SetThreads(n)
	oldMin := minFlopsPerThread
	minFlopsPerThread = 1
	t.Cleanup(func() { SetThreads(old); minFlopsPerThread = oldMin })
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// naiveSgemm is the oracle: the triple loop in float64, which also
// returns for each element the bound Σ|alpha·a·b| + |beta·c| that scales
// the tolerance.
func naiveSgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			if alpha != 0 {
				for p := 0; p < k; p++ {
					var av, bv float32
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if transB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					s += float64(av) * float64(bv)
					sa += math.Abs(float64(av) * float64(bv))
				}
			}
			s *= float64(alpha)
			sa *= math.Abs(float64(alpha))
			if beta != 0 {
				cv := float64(beta) * float64(c[i*ldc+j])
				s += cv
				sa += math.Abs(cv)
			}
			want[i*n+j] = s
			mag[i*n+j] = sa
		}
	}
	return want, mag
}

// tol is the allowed error for a float32 sum of k products of total
// magnitude mag, accumulated in any order.
func tol(k int, mag float64) float64 {
	return float64(k+4)*1.2e-7*mag + 1e-30
}

// closeTo reports whether got matches want within tol(k, mag), with NaN
// matching NaN and infinities matching exactly.
func closeTo(got float32, want, mag float64, k int) bool {
	g := float64(got)
	switch {
	case math.IsNaN(want) || math.IsNaN(g):
		return math.IsNaN(want) && math.IsNaN(g)
	case math.IsInf(want, 0) || math.IsInf(g, 0):
		return want == g
	}
	return math.Abs(g-want) <= tol(k, mag)
}

// sentinel fills padding around outputs; any change to it is a stray write.
const sentinel = float32(-7.0625e30)

// guarded returns a buffer for an m×n matrix with row stride ld placed off
// floats into a slice with guard bands of g floats at each end; every
// float that is not an element of the matrix holds the sentinel.
type guarded struct {
	buf           []float32
	off, m, n, ld int
}

func newGuarded(m, n, ld, off int) *guarded {
	const g = 37
	size := off + g + g
	if m > 0 {
		size += (m-1)*ld + n
	}
	gb := &guarded{buf: make([]float32, size), off: off + g, m: m, n: n, ld: ld}
	for i := range gb.buf {
		gb.buf[i] = sentinel
	}
	return gb
}

// mat returns the matrix as the slice a callee gets: from its first
// element to the end of the buffer, so that a stray write past the
// matrix lands in the guard band, not out of range.
func (g *guarded) mat() []float32 { return g.buf[g.off:] }

func (g *guarded) set(f func(i, j int) float32) {
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.n; j++ {
			g.buf[g.off+i*g.ld+j] = f(i, j)
		}
	}
}

func (g *guarded) at(i, j int) float32 { return g.buf[g.off+i*g.ld+j] }

// checkGuards fails t if any float outside the matrix changed.
func (g *guarded) checkGuards(t *testing.T, what string) {
	t.Helper()
	inside := func(x int) bool {
		x -= g.off
		if x < 0 || g.m == 0 || g.n == 0 {
			return false
		}
		i, j := x/g.ld, x%g.ld
		return i < g.m && j < g.n
	}
	for x, v := range g.buf {
		if !inside(x) && math.Float32bits(v) != math.Float32bits(sentinel) {
			t.Fatalf("%s: padding at %d (matrix starts at %d, ld %d) overwritten with %v", what, x, g.off, g.ld, v)
		}
	}
}
