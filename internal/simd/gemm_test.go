package simd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// sgemmCase is one Sgemm call with its layout: leading dimensions are the
// minimum plus padA/padB/padC, and each operand starts off floats into its
// buffer (unaligned for off 1..3).
type sgemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad, off       int
}

func (tc sgemmCase) String() string {
	return fmt.Sprintf("tA=%v tB=%v m=%d n=%d k=%d alpha=%v beta=%v pad=%d off=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad, tc.off)
}

// run checks Sgemm on tc against the float64 triple loop and gonum, and
// checks that nothing outside C changed.
func (tc sgemmCase) run(t *testing.T, r *rand.Rand) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	lda, ldb, ldc := max(1, ac)+tc.pad, max(1, bc)+tc.pad, max(1, tc.n)+tc.pad
	a := newGuarded(ar, ac, lda, tc.off)
	b := newGuarded(br, bc, ldb, (tc.off+1)%4)
	c := newGuarded(tc.m, tc.n, ldc, (tc.off+2)%4)
	a.set(func(i, j int) float32 { return float32(r.NormFloat64()) })
	b.set(func(i, j int) float32 { return float32(r.NormFloat64()) })
	if tc.beta == 0 {
		c.set(func(i, j int) float32 { return float32(math.NaN()) }) // must not be read
	} else {
		c.set(func(i, j int) float32 { return float32(r.NormFloat64()) })
	}
	c0 := append([]float32(nil), c.buf...)
	want, mag := naiveSgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.mat(), lda, b.mat(), ldb, tc.beta, c.mat(), ldc)

	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a.mat(), lda, b.mat(), ldb, tc.beta, c.mat(), ldc)
	c.checkGuards(t, tc.String())

	// gonum on a copy of the original C.
	gc := append([]float32(nil), c0...)
	tr := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	gonum.Implementation{}.Sgemm(tr(tc.transA), tr(tc.transB), tc.m, tc.n, tc.k, tc.alpha, a.mat(), lda, b.mat(), ldb, tc.beta, gc[c.off:], ldc)

	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			got := c.at(i, j)
			w, mg := want[i*tc.n+j], mag[i*tc.n+j]
			if !closeTo(got, w, mg, tc.k) {
				t.Fatalf("%v: C[%d,%d] = %v, triple loop gives %v (tolerance %.3g)", tc, i, j, got, w, tol(tc.k, mg))
			}
			if g := gc[c.off+i*ldc+j]; !closeTo(got, float64(g), 2*mg, tc.k) {
				t.Fatalf("%v: C[%d,%d] = %v, gonum gives %v", tc, i, j, got, g)
			}
		}
	}
}

// sizes returns 0..65 in full (the sweep dimension) and the values the
// other dimensions cycle through: tails of every tile (MR 4, 6, 8, 16;
// NR 4, 12, 16) and exact multiples.
func others() []int { return []int{1, 3, 5, 7, 12, 16, 17, 31, 33, 48, 65} }

// TestSgemmSizes sweeps each of m, n and k over 0..65 while the other two
// and the transposes, alpha, beta, padding and offset vary.
func TestSgemmSizes(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(1, 2))
		alphas := []float32{1, -0.5, 2, 0}
		betas := []float32{0, 1, -1.5, 0.25}
		vals := others()
		n := 0
		for dim := 0; dim < 3; dim++ {
			for d := 0; d <= 65; d++ {
				for v := 0; v < 4; v++ {
					if testing.Short() && v > 0 && d%3 != 0 {
						continue
					}
					x, y := vals[(d+v*3)%len(vals)], vals[(d*7+v*5+dim)%len(vals)]
					dims := [3]int{x, y, y}
					dims[dim] = d
					dims[(dim+1)%3] = x
					tc := sgemmCase{
						transA: v&1 != 0, transB: v&2 != 0,
						m: dims[0], n: dims[1], k: dims[2],
						alpha: alphas[(d+v)%4], beta: betas[(d/4+v)%4],
						pad: (d + v) % 3, off: (d + dim + v) % 4,
					}
					tc.run(t, r)
					n++
				}
			}
		}
		if long() {
			// Every m and n in 0..65 with k from a spread of values.
			for m := 0; m <= 65; m++ {
				for nn := 0; nn <= 65; nn++ {
					for _, k := range []int{0, 1, 2, 7, 16, 33} {
						v := m + nn + k
						tc := sgemmCase{transA: v&1 != 0, transB: v&2 != 0, m: m, n: nn, k: k,
							alpha: alphas[v%4], beta: betas[(v/4)%4], pad: v % 3, off: v % 4}
						tc.run(t, r)
						n++
					}
				}
			}
		}
		t.Logf("%d cases", n)
	})
}

// TestSgemmBlocks makes the blocks tiny so that small products cross
// every KC, MC and NC boundary, with 1 and 2 threads.
func TestSgemmBlocks(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, th := range []int{1, 2, 3} {
			t.Run(fmt.Sprint("threads=", th), func(t *testing.T) {
				withThreads(t, th)
				withBlocking(t, im, 8, 2, 2)
				if th == 3 { // B panels of several L1 blocks
					old := kcBlocks
					kcBlocks = 3
					defer func() { kcBlocks = old }()
				}
				for i, s := range [][3]int{{50, 70, 40}, {7, 130, 17}, {130, 9, 33}, {64, 64, 64}, {1, 200, 9}, {200, 1, 9}} {
					for v := 0; v < 4; v++ {
						sgemmCase{transA: v&1 != 0, transB: v&2 != 0, m: s[0], n: s[1], k: s[2],
							alpha: []float32{1, 0.5}[v%2], beta: []float32{0, 1, -2, 0}[(i+v)%4], pad: v, off: i % 4}.run(t, r)
					}
				}
			})
		}
	})
}

// TestSgemmNaNInf checks IEEE propagation: NaN in A poisons its row of C
// only, Inf·0 gives NaN, and beta == 0 ignores NaN in C.
func TestSgemmNaNInf(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		for _, th := range []int{1, 2} {
			withThreads(t, th)
			const m, n, k = 23, 37, 19
			r := rand.New(rand.NewPCG(5, 6))
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			for p := 0; p < k; p++ { // keep B away from zero except where set
				for j := 0; j < n; j++ {
					b[p*n+j] = 1 + float32(math.Abs(float64(b[p*n+j])))
				}
			}
			a[7*k+3] = float32(math.NaN()) // row 7
			a[11*k+5] = float32(math.Inf(1))
			b[5*n+13] = 0 // C[11,13] = Inf*0 = NaN
			c := make([]float32, m*n)
			for i := range c {
				c[i] = float32(math.NaN())
			}
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					v := c[i*n+j]
					wantNaN := i == 7 || i == 11 && j == 13
					switch {
					case wantNaN && !math.IsNaN(float64(v)):
						t.Errorf("threads=%d: C[%d,%d] = %v, want NaN", th, i, j, v)
					case !wantNaN && i == 11 && !math.IsInf(float64(v), 1):
						t.Errorf("threads=%d: C[%d,%d] = %v, want +Inf", th, i, j, v)
					case !wantNaN && i != 11 && (math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)):
						t.Errorf("threads=%d: C[%d,%d] = %v, want finite (beta=0 must not read C)", th, i, j, v)
					}
				}
			}
			// beta != 0 does read C: a NaN there propagates to that element only.
			c2 := make([]float32, m*n)
			c2[4*n+4] = float32(math.NaN())
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 1, c2, n)
			if !math.IsNaN(float64(c2[4*n+4])) || math.IsNaN(float64(c2[4*n+5])) {
				t.Errorf("threads=%d: beta=1: C[4,4] = %v, C[4,5] = %v, want NaN and a number", th, c2[4*n+4], c2[4*n+5])
			}
		}
	})
}

// TestSgemmZero covers empty dimensions: k = 0 and alpha = 0 give
// C = beta*C without reading A or B.
func TestSgemmZero(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		c := []float32{1, 2, 3, 4, 5, 6}
		Sgemm(false, false, 2, 3, 0, 1, nil, 1, nil, 3, 2, c, 3)
		if fmt.Sprint(c) != "[2 4 6 8 10 12]" {
			t.Errorf("k=0, beta=2: C = %v", c)
		}
		Sgemm(true, true, 2, 3, 0, 1, nil, 2, nil, 1, 0, c, 3)
		if fmt.Sprint(c) != "[0 0 0 0 0 0]" {
			t.Errorf("k=0, beta=0: C = %v", c)
		}
		nan := float32(math.NaN())
		c = []float32{1, 1}
		Sgemm(false, false, 1, 2, 1, 0, []float32{nan}, 1, []float32{nan, nan}, 2, 3, c, 2)
		if fmt.Sprint(c) != "[3 3]" {
			t.Errorf("alpha=0: C = %v, want [3 3] (A and B not read)", c)
		}
		Sgemm(false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5)
		Sgemm(false, false, 5, 0, 5, 1, make([]float32, 25), 5, nil, 1, 0, nil, 1)
	})
}

// refEpilogue is the oracle for GemmPacked: A·B in float64, then the
// epilogue in float32 exactly as documented.
func refGemmPacked(m, n, k int, a []float32, b func(p, j int) float32, ep Epilogue) (want []float32, mag []float64, sums []float64) {
	want = make([]float32, m*n)
	mag = make([]float64, m*n)
	sums = make([]float64, m)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(b(p, j))
				sa += math.Abs(float64(a[i*k+p]) * float64(b(p, j)))
			}
			y := float32(s)
			if ep.Bias != nil {
				y += ep.Bias[i]
				sa += math.Abs(float64(ep.Bias[i]))
			}
			if ep.ReLU {
				if y < 0 {
					y = 0
				}
				if ep.Gain != nil {
					y *= 1 + ep.Gain[i]
					sa *= math.Abs(float64(1 + ep.Gain[i]))
				}
			}
			want[i*n+j] = y
			mag[i*n+j] = sa
			sums[i] += float64(y)
		}
	}
	return want, mag, sums
}

// funcB is a BPacker that computes B[p,j] = f(p,j) on the fly, as conv's
// im2col packer does; it shares no code with DenseB.
type funcB struct{ f func(p, j int) float32 }

func (fb funcB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	for s := 0; s*nr < nc; s++ {
		for p := 0; p < kc; p++ {
			for q := 0; q < nr; q++ {
				v := float32(0)
				if j := s*nr + q; j < nc {
					v = fb.f(k0+p, j0+j)
				}
				dst[(s*kc+p)*nr+q] = v
			}
		}
	}
}

// TestGemmPacked checks GemmPacked with every epilogue, DenseB (plain and
// transposed) and a custom BPacker, 1 and 2 threads, small blocks and
// guard bands around C.
func TestGemmPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{{1, 1, 1}, {5, 3, 2}, {17, 33, 9}, {33, 17, 40}, {64, 49, 65}, {6, 16, 12}, {16, 16, 16}, {20, 70, 33}}
	if !testing.Short() {
		shapes = append(shapes, [3]int{130, 150, 70}, [3]int{300, 20, 50})
	}
	// The PackedA is made under the default implementation; the others
	// must repack it for their own MR.
	type prep struct {
		a  []float32
		pa *PackedA
	}
	preps := make([]prep, len(shapes))
	for i, s := range shapes {
		a := randSlice(r, s[0]*s[2])
		preps[i] = prep{a, PackA(s[0], s[2], a, s[2])}
	}
	forEachImpl(t, func(t *testing.T, im *impl) {
		for _, th := range []int{1, 2} {
			for _, small := range []bool{false, true} {
				t.Run(fmt.Sprintf("threads=%d/smallblocks=%v", th, small), func(t *testing.T) {
					withThreads(t, th)
					if small {
						withBlocking(t, im, 8, 1, 2)
						if th == 2 { // B panels of several L1 blocks
							old := kcBlocks
							kcBlocks = 3
							defer func() { kcBlocks = old }()
						}
					}
					for si, s := range shapes {
						m, n, k := s[0], s[1], s[2]
						a, pa := preps[si].a, preps[si].pa
						bdata := randSlice(r, k*n+n*k)
						for bi, bp := range []struct {
							name string
							b    BPacker
							at   func(p, j int) float32
						}{
							{"DenseB", DenseB{Data: bdata, Ld: n}, func(p, j int) float32 { return bdata[p*n+j] }},
							{"DenseBᵀ", DenseB{Data: bdata, Ld: k + 1, Trans: true}, func(p, j int) float32 { return bdata[j*(k+1)+p] }},
							{"funcB", funcB{func(p, j int) float32 { return float32(math.Sin(float64(p*31 + j*7))) }},
								func(p, j int) float32 { return float32(math.Sin(float64(p*31 + j*7))) }},
						} {
							for ev := 0; ev < 6; ev++ {
								ep := Epilogue{}
								if ev&1 != 0 {
									ep.Bias = randSlice(r, m)
								}
								if ev >= 2 {
									ep.ReLU = true
								}
								if ev >= 4 {
									ep.Gain = randSlice(r, m)
									ep.Gain[0] = -1 // lesion: exactly zero
								}
								if ev != 2 {
									ep.RowSums = randSlice(r, m)
								}
								rs0 := append([]float32(nil), ep.RowSums...)
								ldc := n + (si+bi+ev)%3
								c := newGuarded(m, n, ldc, (si+ev)%4)
								c.set(func(i, j int) float32 { return float32(math.NaN()) }) // not read
								GemmPacked(pa, bp.b, n, c.mat(), ldc, ep)
								what := fmt.Sprintf("%s m=%d n=%d k=%d ep=%d", bp.name, m, n, k, ev)
								c.checkGuards(t, what)
								want, mag, sums := refGemmPacked(m, n, k, a, bp.at, ep)
								for i := 0; i < m; i++ {
									var rowMag float64
									for j := 0; j < n; j++ {
										got := c.at(i, j)
										rowMag += mag[i*n+j]
										if !closeTo(got, float64(want[i*n+j]), mag[i*n+j], k) {
											t.Fatalf("%s: C[%d,%d] = %v, want %v", what, i, j, got, want[i*n+j])
										}
										if ep.Gain != nil && i == 0 && got != 0 {
											t.Fatalf("%s: gain -1 gives C[0,%d] = %v, want 0", what, j, got)
										}
									}
									if ep.RowSums != nil {
										w := float64(rs0[i]) + sums[i]
										if got := ep.RowSums[i]; !closeTo(got, w, rowMag+math.Abs(float64(rs0[i])), k+n) {
											t.Fatalf("%s: RowSums[%d] = %v, want %v", what, i, got, w)
										}
									}
								}
							}
						}
					}
				})
			}
		}
	})
}

// TestGemmPackedNaN: NaN stays NaN through bias, ReLU and gain; negative
// numbers become 0.
func TestGemmPackedNaN(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		const m, n, k = 40, 40, 5
		a := make([]float32, m*k)
		for i := 0; i < m; i++ {
			a[i*k] = -1
		}
		a[3*k+2] = float32(math.NaN())
		a[37*k+4] = float32(math.NaN())
		b := make([]float32, k*n)
		for i := range b {
			b[i] = 1
		}
		pa := PackA(m, k, a, k)
		c := make([]float32, m*n)
		sums := make([]float32, m)
		GemmPacked(pa, DenseB{Data: b, Ld: n}, n, c, n, Epilogue{Bias: make([]float32, m), ReLU: true, Gain: make([]float32, m), RowSums: sums})
		for i := 0; i < m; i++ {
			nan := i == 3 || i == 37
			for j := 0; j < n; j++ {
				if v := c[i*n+j]; nan != math.IsNaN(float64(v)) || !nan && v != 0 {
					t.Fatalf("C[%d,%d] = %v, want %v", i, j, v, map[bool]string{true: "NaN", false: "0"}[nan])
				}
			}
			if nan != math.IsNaN(float64(sums[i])) {
				t.Fatalf("RowSums[%d] = %v", i, sums[i])
			}
		}
	})
}

// TestGemmPackedZero covers K = 0 (the epilogue on zeros), n = 0 and M = 0.
func TestGemmPackedZero(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		pa := PackA(2, 0, nil, 0)
		c := []float32{9, 9, 9, 9, 9, 9}
		sums := []float32{1, 1}
		GemmPacked(pa, DenseB{}, 3, c, 3, Epilogue{Bias: []float32{-1, 2}, ReLU: true, Gain: []float32{0, 1}, RowSums: sums})
		if fmt.Sprint(c, sums) != "[0 0 0 4 4 4] [1 13]" {
			t.Errorf("K=0: C, RowSums = %v %v", c, sums)
		}
		GemmPacked(PackA(2, 3, make([]float32, 6), 3), DenseB{}, 0, nil, 0, Epilogue{RowSums: sums})
		if fmt.Sprint(sums) != "[1 13]" {
			t.Errorf("n=0 changed RowSums to %v", sums)
		}
		GemmPacked(PackA(0, 3, nil, 3), DenseB{Data: make([]float32, 12), Ld: 4}, 4, nil, 4, Epilogue{})
	})
}

// TestThreadsDeterministic: for a given thread count the result, RowSums
// included, is the same bits every run, on both splits (N for the wide
// product, M for the narrow one), and matches one thread.
func TestThreadsDeterministic(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, s := range [][3]int{{40, 300, 70}, {300, 20, 70}} {
			m, n, k := s[0], s[1], s[2]
			a, b := randSlice(r, m*k), randSlice(r, k*n)
			pa := PackA(m, k, a, k)
			run := func(th int) ([]float32, []float32) {
				withThreads(t, th)
				c, sums := make([]float32, m*n), make([]float32, m)
				GemmPacked(pa, DenseB{Data: b, Ld: n}, n, c, n, Epilogue{ReLU: true, RowSums: sums})
				return c, sums
			}
			c1, s1 := run(1)
			for _, th := range []int{2, 3} {
				ca, sa := run(th)
				cb, sb := run(th)
				for i := range ca {
					if math.Float32bits(ca[i]) != math.Float32bits(cb[i]) || ca[i] != c1[i] {
						t.Fatalf("%v threads=%d: C[%d] = %v, then %v; one thread %v", s, th, i, ca[i], cb[i], c1[i])
					}
				}
				for i := range sa {
					if math.Float32bits(sa[i]) != math.Float32bits(sb[i]) {
						t.Fatalf("%v threads=%d: RowSums[%d] = %v, then %v", s, th, i, sa[i], sb[i])
					}
					if d := math.Abs(float64(sa[i] - s1[i])); d > 1e-4*math.Abs(float64(s1[i]))+1e-4 {
						t.Fatalf("%v threads=%d: RowSums[%d] = %v, one thread %v", s, th, i, sa[i], s1[i])
					}
				}
			}
		}
	})
}

// TestSharedBSuperblocks makes the shared B panel small so that an
// M-split product refills it several times (K super-blocks and column
// blocks) between barriers.
func TestSharedBSuperblocks(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		withThreads(t, 2)
		withBlocking(t, im, 8, 2, 2)
		old := sharedBLimit
		sharedBLimit = 1
		defer func() { sharedBLimit = old }()
		r := rand.New(rand.NewPCG(11, 12))
		for _, s := range [][3]int{{200, 40, 30}, {97, 33, 17}} {
			sgemmCase{m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.5, pad: 1, off: 1}.run(t, r)
			sgemmCase{transA: true, m: s[0], n: s[1], k: s[2], alpha: -1, beta: 0, pad: 0, off: 3}.run(t, r)
		}
	})
}

// TestKernels compares each micro-kernel directly with sgemmKernelRef for
// every flag combination, including k = 0 and several panels.
func TestKernels(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(13, 14))
		mr, nr := im.mr, im.nr
		for _, np := range []int{1, 3} {
			for _, k := range []int{0, 1, 2, 3, 4, 5, 9, 17} {
				for flags := uintptr(0); flags < 32; flags++ {
					pstride := k*mr + 5
					ldc := nr + 3
					a := randSlice(r, np*pstride+1)
					b := randSlice(r, k*nr+1)
					c := randSlice(r, np*mr*ldc)
					bias, gain, rs := randSlice(r, np*mr), randSlice(r, np*mr), randSlice(r, np*mr)
					if k > 0 && flags%2 == 1 {
						// NaN down one row of each panel and one column of B,
						// -Inf in another: over the flag loop every row and
						// column of the tile gets one.
						for q := 0; q < np; q++ {
							a[q*pstride+(k-1)*mr+(int(flags)/2+q)%mr] = float32(math.NaN())
						}
						b[(k/2)*nr+int(flags)%nr] = float32(math.NaN())
						b[(k/2)*nr+(int(flags)+5)%nr] = float32(math.Inf(-1))
					}
					wc, wrs := append([]float32(nil), c...), append([]float32(nil), rs...)
					sgemmKernelRef(mr, nr, np, k, a, pstride, b, wc, ldc, flags, bias, gain, wrs)
					im.kernel(np, k, &a[0], pstride, &b[0], &c[0], ldc, flags, &bias[0], &gain[0], &rs[0])
					for x := range c {
						if j := x % ldc; j >= nr {
							if c[x] != wc[x] {
								t.Fatalf("np=%d k=%d flags=%05b: wrote c[%d] outside the tile", np, k, flags, x)
							}
							continue
						}
						if !closeTo(c[x], float64(wc[x]), 1+math.Abs(float64(wc[x])), 10*k) {
							t.Fatalf("np=%d k=%d flags=%05b: c[%d] = %v, want %v", np, k, flags, x, c[x], wc[x])
						}
					}
					for i := range rs {
						if !closeTo(rs[i], float64(wrs[i]), 10*(1+math.Abs(float64(wrs[i]))), 10*k) {
							t.Fatalf("np=%d k=%d flags=%05b: rowsum[%d] = %v, want %v", np, k, flags, i, rs[i], wrs[i])
						}
					}
				}
			}
		}
	})
}

// TestMisuse checks that bad arguments panic with a simd: message that
// names the sizes involved.
func TestMisuse(t *testing.T) {
	pa := PackA(3, 4, make([]float32, 12), 4)
	for _, tc := range []struct {
		name string
		f    func()
		want []string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, nil, 2, nil, 2, 0, nil, 2) }, []string{"m=-1", "n=2"}},
		{"short a", func() {
			Sgemm(false, false, 3, 2, 4, 1, make([]float32, 11), 4, make([]float32, 8), 2, 0, make([]float32, 6), 2)
		}, []string{"len(a)=11", "12", "3×4"}},
		{"short b", func() {
			Sgemm(false, true, 3, 2, 4, 1, make([]float32, 12), 4, make([]float32, 7), 4, 0, make([]float32, 6), 2)
		}, []string{"len(b)=7", "8", "2×4"}},
		{"short c", func() {
			Sgemm(false, false, 3, 2, 4, 1, make([]float32, 12), 4, make([]float32, 8), 2, 0, make([]float32, 5), 2)
		}, []string{"len(c)=5", "6"}},
		{"small ldc", func() {
			Sgemm(false, false, 3, 2, 4, 1, make([]float32, 12), 4, make([]float32, 8), 2, 0, make([]float32, 6), 1)
		}, []string{"ldc=1", "2 columns"}},
		{"small lda", func() { PackA(3, 4, make([]float32, 12), 3) }, []string{"lda=3", "4 columns"}},
		{"GemmPacked short c", func() { GemmPacked(pa, DenseB{}, 5, make([]float32, 14), 5, Epilogue{}) }, []string{"len(c)=14", "15", "3×5"}},
		{"GemmPacked bias", func() { GemmPacked(pa, DenseB{}, 5, make([]float32, 15), 5, Epilogue{Bias: make([]float32, 2)}) }, []string{"Bias", "length 2", "M=3"}},
		{"GemmPacked rowsums", func() { GemmPacked(pa, DenseB{}, 5, make([]float32, 15), 5, Epilogue{RowSums: make([]float32, 4)}) }, []string{"RowSums", "length 4", "M=3"}},
		{"GemmPacked n", func() { GemmPacked(pa, DenseB{}, -1, nil, 5, Epilogue{}) }, []string{"n=-1", "3×4"}},
		{"PackB dst", func() { DenseB{Data: make([]float32, 100), Ld: 10}.PackB(make([]float32, 30), 0, 3, 0, 10, 4) }, []string{"length 30", "want 36"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				msg := fmt.Sprint(recover())
				if !strings.HasPrefix(msg, "simd: ") {
					t.Fatalf("panic %q, want a simd: message", msg)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("panic %q does not mention %q", msg, w)
					}
				}
			}()
			tc.f()
		})
	}
}

// TestUse checks the registry: Impls is best first and ends with Go, Use
// rejects unknown and unavailable names, and -tags purego has only Go.
func TestUse(t *testing.T) {
	names := Impls()
	if names[len(names)-1] != "Go" {
		t.Errorf("Impls() = %v, want Go last", names)
	}
	if Active() != names[0] {
		t.Errorf("Active() = %s, want the best, %s", Active(), names[0])
	}
	if err := Use("SSE9"); err == nil {
		t.Error("Use(SSE9) succeeded")
	}
	for _, n := range knownNames {
		avail := strings.Contains(","+strings.Join(names, ",")+",", ","+n+",")
		err := Use(strings.ToLower(n))
		if avail != (err == nil) {
			t.Errorf("Use(%q) = %v with Impls() = %v", strings.ToLower(n), err, names)
		}
	}
	Use(names[0])
	if purego && len(names) != 1 {
		t.Errorf("purego build has %v, want only Go", names)
	}
}

// TestEnv runs the test binary again with EMOSEL_SIMD=go and checks that
// it starts on the Go kernel.
func TestEnv(t *testing.T) {
	if os.Getenv("EMOSEL_SIMD_CHILD") == "1" {
		fmt.Printf("active=%s err=%v\n", Active(), EnvError())
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	for _, c := range []struct{ env, want string }{
		{"go", "active=Go err=<nil>"},
		// A name no build knows: the default stays and EnvError says so.
		{"sse9", "active=" + impls[0].name + ` err=EMOSEL_SIMD="sse9" names no implementation`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnv$")
		cmd.Env = append(os.Environ(), "EMOSEL_SIMD="+c.env, "EMOSEL_SIMD_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Skipf("cannot re-run the test binary on %s: %v", runtime.GOARCH, err)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("with EMOSEL_SIMD=%s the child says:\n%s\nwant %q", c.env, out, c.want)
		}
	}
}
