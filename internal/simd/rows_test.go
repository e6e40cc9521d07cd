package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// rowsKernels returns the rows kernels to test: the Go specification and
// the active build's assembly, if any.
func rowsKernels() map[string]rowsKernelFunc {
	ks := map[string]rowsKernelFunc{"Go": sgemmRowsGo}
	for _, im := range impls {
		if im.rows != nil {
			ks[im.name] = im.rows
		}
	}
	return ks
}

// TestRowsKernel compares each rows kernel with a float64 loop over its
// documented contract, across the unroll and prefetch boundaries of k, and
// checks that nothing outside the tiles is written.
func TestRowsKernel(t *testing.T) {
	for name, kern := range rowsKernels() {
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			for _, np := range []int{1, 3} {
				for _, k := range []int{0, 1, 2, 15, 16, 17, 31, 143, 144, 145, 160, 161, 300} {
					for _, flags := range []uintptr{0, kAcc} {
						lda, ldc := k+5, 16+3
						rows := np * rowsMR
						a := randSlice(r, rows*lda+1)
						b := randSlice(r, k*16+1)
						c := randSlice(r, rows*ldc)
						if k > 0 {
							a[(np*rowsMR-1)*lda+k-1] = float32(math.NaN()) // last row only
							b[(k/2)*16+3] = float32(math.Inf(1))           // column 3 only
						}
						c0 := append([]float32(nil), c...)
						kern(np, k, &a[0], lda, &b[0], &c[0], ldc, flags)
						for x := range c {
							i, j := x/ldc, x%ldc
							if j >= 16 {
								if c[x] != c0[x] {
									t.Fatalf("np=%d k=%d flags=%d: wrote c[%d] outside the tile", np, k, flags, x)
								}
								continue
							}
							var s, mag float64
							for p := 0; p < k; p++ {
								v := float64(a[i*lda+p]) * float64(b[p*16+j])
								s += v
								mag += math.Abs(v)
							}
							if flags&kAcc != 0 {
								s += float64(c0[x])
								mag += math.Abs(float64(c0[x]))
							}
							got := c[x]
							switch {
							case math.IsNaN(s) || math.IsInf(s, 0):
								if !(math.IsNaN(s) && math.IsNaN(float64(got))) && float64(got) != s {
									t.Fatalf("np=%d k=%d flags=%d: c[%d,%d] = %v, want %v", np, k, flags, i, j, got, s)
								}
							case !closeTo(got, s, mag, k):
								t.Fatalf("np=%d k=%d flags=%d: c[%d,%d] = %v, want %v", np, k, flags, i, j, got, s)
							}
						}
					}
				}
			}
		})
	}
}

// TestSgemmRows runs Sgemm's rows path (C = A·Bᵀ with m ≤ rowsMaxM)
// against the triple loop and gonum, and against the packed path bit for
// bit (so that a row's result does not depend on the batch), with small
// and default K blocks, 1 and 2 threads, and checks that the path is
// taken exactly when it should be.
func TestSgemmRows(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		if im.rows == nil {
			t.Skip("no rows kernel")
		}
		var calls atomic.Int64
		orig := im.rows
		counted := func(np, k int, a *float32, lda int, b, c *float32, ldc int, flags uintptr) {
			calls.Add(1)
			orig(np, k, a, lda, b, c, ldc, flags)
		}
		im.rows = counted
		defer func() { im.rows = orig }()
		r := rand.New(rand.NewPCG(23, 24))
		for _, blk := range []struct{ kc, blocks int }{{0, 1}, {8, 1}, {8, 3}} {
			for _, th := range []int{1, 2} {
				t.Run(fmt.Sprintf("kc=%d×%d threads=%d", blk.kc, blk.blocks, th), func(t *testing.T) {
					withThreads(t, th)
					if blk.kc > 0 {
						withBlocking(t, im, blk.kc, 2, 2)
					}
					old := kcBlocks
					kcBlocks = blk.blocks
					defer func() { kcBlocks = old }()
					i := 0
					for _, m := range []int{1, 5, 16, 17, 31, rowsMaxM} {
						for _, n := range []int{1, 5, 6, 7, 13, 50, 97} {
							for _, k := range []int{1, 16, 41, 300} {
								alpha, beta := []float32{1, -0.5}[i%2], []float32{0, 1, -1.5}[i%3]
								calls.Store(0)
								sgemmCase{transB: true, m: m, n: n, k: k, alpha: alpha, beta: beta,
									pad: i % 3, off: i % 4}.run(t, r)
								if calls.Load() == 0 {
									t.Fatalf("m=%d n=%d k=%d: the rows kernel was not used", m, n, k)
								}
								// The same product on the packed path: the same bits.
								a, b := randSlice(r, m*k), randSlice(r, n*k)
								c0 := randSlice(r, m*n)
								got := append([]float32(nil), c0...)
								Sgemm(false, true, m, n, k, alpha, a, k, b, k, beta, got, n)
								want := append([]float32(nil), c0...)
								im.rows = nil
								Sgemm(false, true, m, n, k, alpha, a, k, b, k, beta, want, n)
								im.rows = counted
								for x := range got {
									if math.Float32bits(got[x]) != math.Float32bits(want[x]) {
										t.Fatalf("m=%d n=%d k=%d alpha=%v beta=%v: C[%d] = %v on the rows path, %v on the packed path",
											m, n, k, alpha, beta, x, got[x], want[x])
									}
								}
								i++
							}
						}
					}
					for _, tc := range []sgemmCase{
						{transB: true, m: rowsMaxM + 1, n: 20, k: 30, alpha: 1},
						{m: 16, n: 20, k: 30, alpha: 1},
						{transA: true, transB: true, m: 16, n: 20, k: 30, alpha: 1},
					} {
						calls.Store(0)
						tc.run(t, r)
						if calls.Load() != 0 {
							t.Fatalf("%v: the rows kernel was used", tc)
						}
					}
				})
			}
		}
	})
}

// TestSgemmTransBBatchInvariant checks that a row of A gets the same bits
// of C = A·Bᵀ alone, in batches the rows path takes and in one it does
// not, on 1 and 2 threads: a fully connected layer's output for an image
// does not depend on its batch.
func TestSgemmTransBBatchInvariant(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(25, 26))
		const n, k, rows = 37, 1000, 40
		a, b := randSlice(r, rows*k), randSlice(r, n*k)
		all := make([]float32, rows*n)
		withThreads(t, 2)
		Sgemm(false, true, rows, n, k, 1, a, k, b, k, 0, all, n)
		SetThreads(1)
		for _, m := range []int{1, 7, 16, 17, rowsMaxM} {
			c := make([]float32, m*n)
			Sgemm(false, true, m, n, k, 1, a[3*k:], k, b, k, 0, c, n) // rows 3..3+m-1
			for x, v := range c {
				if u := all[3*n+x]; math.Float32bits(u) != math.Float32bits(v) {
					t.Fatalf("batch of %d: C[%d] = %v, %v in the batch of %d", m, x, v, u, rows)
				}
			}
		}
	})
}
