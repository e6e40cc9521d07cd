package conv

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// Algorithm chooses how a Filter computes a convolution.
type Algorithm int32

const (
	// Auto uses Winograd for 3×3 and 5×5 stride-1 undilated filters with
	// at least 16 input and 16 output channels on outputs of at least 4×4,
	// and for strided filters that space-to-depth turns into 3×3 ones
	// (s2d.go: AlexNet's conv1), and im2col otherwise. It is the default.
	Auto Algorithm = iota
	// Im2col computes every convolution directly, as one GEMM over
	// implicit im2col columns: the same sums as a textbook loop, in a
	// different order.
	Im2col
	// Winograd uses the minimal-filtering algorithms F(4×4, 3×3) wherever
	// the filter is 3×3 with stride 1 and dilation 1 (any padding), or
	// becomes so by space-to-depth (stride s ≥ 2 with ⌈K/s⌉ = 3), and
	// F(4×4, 5×5) for 5×5 ones; im2col elsewhere. A 3×3 filter needs 4×
	// fewer multiplications, a 5×5 one 6.25× fewer; the results differ from
	// direct convolution by rounding only (under 1e-5 relative to the
	// layer's largest output; see winograd_test.go).
	Winograd
)

var algoNames = [...]string{Auto: "auto", Im2col: "im2col", Winograd: "winograd"}

// String returns "auto", "im2col" or "winograd".
func (a Algorithm) String() string {
	if a >= 0 && int(a) < len(algoNames) {
		return algoNames[a]
	}
	return fmt.Sprintf("Algorithm(%d)", int32(a))
}

// ParseAlgorithm returns the Algorithm named s ("auto", "im2col" or
// "winograd").
func ParseAlgorithm(s string) (Algorithm, error) {
	for a, n := range algoNames {
		if n == s {
			return Algorithm(a), nil
		}
	}
	return 0, fmt.Errorf("conv: unknown algorithm %q (want auto, im2col or winograd)", s)
}

var algo atomic.Int32

// envErr is the error in EMOSEL_CONV, if any.
var envErr error

// EnvError returns the error in emosel's environment variables, or nil:
// EMOSEL_CONV naming no algorithm (Auto is then in use) or EMOSEL_SIMD
// naming no kernel implementation (the best available one is then in
// use). The commands refuse to start on it.
func EnvError() error {
	if envErr != nil {
		return envErr
	}
	return simd.EnvError()
}

func init() {
	if v := os.Getenv("EMOSEL_CONV"); v != "" {
		a, err := ParseAlgorithm(v)
		if err != nil {
			// Not a panic: the variable comes from the user. Auto stays,
			// and EnvError says why; the commands refuse to start.
			envErr = fmt.Errorf("EMOSEL_CONV=%q names no algorithm (want auto, im2col or winograd)", v)
			return
		}
		algo.Store(int32(a))
	}
}

// SetAlgorithm selects the algorithm for every later Forward and returns
// the previous choice. The environment variable EMOSEL_CONV sets the
// initial value (see EnvError for a bad one). It is safe to call concurrently with Forward; a Forward
// already running keeps the algorithm it started with.
func SetAlgorithm(a Algorithm) Algorithm {
	if a < Auto || a > Winograd {
		panic(fmt.Sprintf("conv: SetAlgorithm(%v)", a))
	}
	return Algorithm(algo.Swap(int32(a)))
}

// CurrentAlgorithm returns the algorithm selected by SetAlgorithm.
func CurrentAlgorithm() Algorithm { return Algorithm(algo.Load()) }

// winogradTile returns the output tile of the filter's Winograd
// algorithm, 4 for F(4×4, 3×3) on a 3×3 filter and for F(4×4, 5×5) on a
// 5×5 one (both stride 1, dilation 1), or 0 when neither applies.
func (f *Filter) winogradTile() int {
	p := f.p
	if p.Stride != [2]int{1, 1} || p.Dilation != [2]int{1, 1} || f.kh != f.kw {
		return 0
	}
	if f.kh == 3 || f.kh == 5 {
		return 4
	}
	return 0
}

// winogradFits reports whether a Winograd algorithm applies to the
// filter at all.
func (f *Filter) winogradFits() bool { return f.winogradTile() != 0 }

// useWinograd decides the algorithm for an output of oh×ow.
func (f *Filter) useWinograd(oh, ow int) bool {
	if !f.winogradFits() {
		return false
	}
	switch CurrentAlgorithm() {
	case Winograd:
		return true
	case Auto:
		return f.c >= 16 && f.o >= 16 && oh >= 4 && ow >= 4
	}
	return false
}

// AlgorithmFor returns the algorithm Forward would use now for an input of
// h×w pixels: Im2col or Winograd.
func (f *Filter) AlgorithmFor(h, w int) Algorithm {
	oh, ow := f.p.OutSize(h, w, f.kh, f.kw)
	if f.useWinograd(oh, ow) || f.useS2D(oh, ow) {
		return Winograd
	}
	return Im2col
}

// F(4×4, 3×3) uses the interpolation points 0, ±1, ±2 and ∞ (Lavin &
// Gray 2016), a 6×6 input tile; F(4×4, 5×5) adds ±1/2 for an 8×8 one.
// internal/simd writes Bᵀ and Aᵀ out as 1-D transforms, and wgKron below
// builds G. With d an n×n input tile, g an r×r kernel and Y the 4×4
// output (n = 4 + r − 1),
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// and each of the n² element-wise products, summed over input channels,
// is one GEMM: M[ξ] (O×T) = U[ξ] (O×C) · V[ξ] (C×T) over T tiles.

// winoWeights is U: the n² transformed weight matrices [O,C], packed for
// the GEMM.
type winoWeights []*simd.PackedA

var keepU atomic.Bool

func init() { keepU.Store(true) }

// KeepWinogradWeights sets whether a Filter keeps its transformed weights
// U after the first Winograd Forward (the default, true) or recomputes
// them in every call, and returns the previous setting. U takes 4× the
// memory of a 3×3 weight (36 values for 9; 2.56× a 5×5 one, 64 for 25):
// 235 MB for VGG-16. Not
// keeping it costs about 70 ms per VGG-16 forward pass on two cores (8% at
// batch 8, half again at batch 1) and holds only one layer's U at a time;
// examples/extract does this to stay within its memory budget.
func KeepWinogradWeights(keep bool) bool { return keepU.Swap(keep) }

// KeepsWinogradWeights reports the KeepWinogradWeights setting.
func KeepsWinogradWeights() bool { return keepU.Load() }

// winograd returns U, built on first use and kept, or, when weights are
// not kept, built now (and garbage after the call, so that it never
// outlives the layer that needs it).
func (f *Filter) winograd() *winoWeights {
	if f.keepsU() {
		f.wgOnce.Do(func() { f.wg, _ = f.transformWeights(false) })
		return f.wg
	}
	u, _ := f.transformWeights(false)
	return u
}

// winogradCall returns U for one Forward and a function that releases it
// after the call: the kept U, or, when the filter does not keep it, one
// built now in a buffer from tensor.Scratch that release hands back (so
// that a network that builds every layer's U in every pass reuses the
// same memory instead of making garbage).
func (f *Filter) winogradCall() (*winoWeights, func()) {
	if f.keepsU() {
		return f.winograd(), func() {}
	}
	u, buf := f.transformWeights(true)
	return u, func() { tensor.Recycle(buf) }
}

// keepsU says whether the filter keeps U: KeepWinogradWeights, unless
// KeepWinograd(false) was called on it.
func (f *Filter) keepsU() bool { return keepU.Load() && !f.dropU }

// KeepWinograd(false) makes this filter build its Winograd transform U in
// every Winograd Forward, in recycled memory, instead of keeping it (4×
// a 3×3 weight's memory); KeepWinograd(true) restores the default, which
// follows KeepWinogradWeights. The outputs are the same bits either way.
// At batch 16 the transform costs about 1% of the convolution (it is
// O·C·324 flops against the convolution's 18·O·C·OH·OW·N). It must not
// run concurrently with Forward.
func (f *Filter) KeepWinograd(keep bool) {
	f.dropU = !keep
	if f.s2dF != nil {
		f.s2dF.KeepWinograd(keep)
	}
	if !keep {
		f.wg, f.wgOnce = nil, sync.Once{}
	}
}

// wgKron returns kron(G, G), n²×r² with n = r + 3, for the r-tap kernel
// transform G (n×r) of F(4, r): row k of G is f_k·(1, p_k, p_k², …) at the
// finite points p = 0, 1, −1, 2, −2 (and ½, −½ for r = 5), and
// (0, …, 0, 1) for ∞. The scales f go with the Bᵀ that internal/simd
// uses. U[ξ = n·i+j] = Σ_k T[ξ][k]·g[k] for a kernel g (k = r·a + b) is
// then (G g Gᵀ)[i][j].
func wgKron(r int) []float32 {
	points := []float64{0, 1, -1, 2, -2}
	scale := []float64{1.0 / 4, -1.0 / 6, -1.0 / 6, 1.0 / 24, 1.0 / 24}
	if r == 5 {
		points = []float64{0, 1, -1, 2, -2, 0.5, -0.5}
		scale = []float64{1, -2.0 / 9, 2.0 / 9, 1.0 / 180, -1.0 / 180, 64.0 / 45, -64.0 / 45}
	}
	n := len(points) + 1
	g := make([][]float64, n)
	for i := range g {
		g[i] = make([]float64, r)
		if i == n-1 {
			g[i][r-1] = 1
			continue
		}
		pw := 1.0
		for a := 0; a < r; a++ {
			g[i][a] = scale[i] * pw
			pw *= points[i]
		}
	}
	t := make([]float32, n*n*r*r)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for a := 0; a < r; a++ {
				for b := 0; b < r; b++ {
					t[(n*i+j)*r*r+r*a+b] = float32(g[i][a] * g[j][b])
				}
			}
		}
	}
	return t
}

// wgT3 and wgT5 are kron(G, G) of F(4×4, 3×3) and F(4×4, 5×5).
var wgT3, wgT5 = wgKron(3), wgKron(5)

// transformWeights computes U[ξ][o][c] = (G g[o][c] Gᵀ)[ξ], packed for
// the GEMM, as one product U = kron(G,G)·W: W [9, ⌈O/MR⌉·MR·C] holds the
// kernels with its columns in the packed order of U, so that row ξ of the
// product is U[ξ] packed.
//
// With scratch, U's buffer comes from tensor.Scratch and is returned for
// the caller to recycle; otherwise the returned tensor is nil.
func (f *Filter) transformWeights(scratch bool) (*winoWeights, *tensor.Tensor) {
	o, c := f.o, f.c
	mr, size := simd.PackedALayout(o, c)
	r2 := f.kh * f.kw // 9 or 25 taps
	n2 := (f.kh + 3) * (f.kh + 3)
	var bt, wt *tensor.Tensor
	var buf, w []float32
	if scratch { // both are overwritten entirely
		bt, wt = tensor.Scratch(n2*size), tensor.Scratch(r2*size)
		buf, w = bt.Data(), wt.Data()
		defer tensor.Recycle(wt)
	} else {
		buf, w = make([]float32, n2*size), make([]float32, r2*size)
	}
	panels := (o + mr - 1) / mr
	fw := f.weights()
	Parallel(panels, r2*mr*c, func(p int) {
		base := p * mr * c
		for r := 0; r < mr; r++ {
			oo := p*mr + r
			for cc := 0; cc < c; cc++ {
				at := base + cc*mr + r
				if oo >= o { // rows past O are zero
					for k := 0; k < r2; k++ {
						w[k*size+at] = 0
					}
					continue
				}
				g := fw[(oo*c+cc)*r2 : (oo*c+cc)*r2+r2]
				for k, v := range g {
					w[k*size+at] = v
				}
			}
		}
	})
	t := wgT3
	if r2 == 25 {
		t = wgT5
	}
	simd.Sgemm(false, false, n2, size, r2, 1, t, r2, w, size, 0, buf, size)
	// Each U[ξ] claims the zero rows that pad O to whole micro-panels, so
	// that the GEMMs run full tiles only (M has room for those rows).
	u := make(winoWeights, n2)
	for xi := range u {
		u[xi] = simd.WrapPackedA(panels*mr, c, mr, buf[xi*size:(xi+1)*size])
	}
	return &u, bt
}

// winoGeom is the tiling of one call: images of h×w (padded by ph, pw)
// giving oh×ow outputs, covered by ty×tx tiles of m×m. The transforms run
// on groups of eight tiles, so a tile row is handled as 8·groups tiles.
type winoGeom struct {
	m            int // output tile: 4
	n, nn        int // input tile n×n (6 for 3×3 filters, 8 for 5×5), nn = n²
	c, o         int
	h, w, ph, pw int
	oh, ow       int
	ty, tx       int
	groups       int // ⌈tx/8⌉
	sw           int // width of a padded input row: 8·m·groups + 4

	// s2d, when set, makes the source the real input of a strided
	// convolution, seen through space-to-depth (s2d.go) as the c deep
	// channels of h×w (ph = pw = 0) that this geometry convolves.
	s2d *s2dSource
}

// winoScratch is one worker's V, M and row buffers, recycled through
// winoPool.
type winoScratch struct {
	v, m, in, out []float32
	b             simd.DenseB
}

var winoPool = sync.Pool{New: func() any { return new(winoScratch) }}

func growF32(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	return (*buf)[:n]
}

// winoChunk picks how many tiles one GEMM covers: enough columns that the
// weights U (n²·O·C) are reused well, few enough that V and M (n²·(C+O)
// per tile) stay near the cache.
func winoChunk(nn, c, o int) int {
	t := (3 << 20) / (nn * 4 * (c + o))
	return max(winoMinChunk, min(t, winoMaxChunk))
}

// chunkRows returns the tile rows per chunk, at most per and at least
// half of it, that finish soonest on threads workers taking the chunks in
// order, counting each chunk's work as its GEMM columns: its tiles
// rounded up to whole 16-column strips. It weighs both the rounding
// (AlexNet's conv1 has 14 tiles per row: 13 rows make 182 tiles and 192
// columns, 8 rows exactly 7 strips) and the balance of the last chunks
// over the threads (its conv2 at 16 rows per chunk ran 1.1× slower than at
// 18: seven equal chunks leave one thread a whole chunk alone).
func chunkRows(rows, per, tx, threads int) int {
	best, bestSpan := per, -1
	load := make([]int, max(1, threads))
	for p := per; p >= max(1, (per+1)/2); p-- {
		clear(load)
		for r0 := 0; r0 < rows; r0 += p {
			nt := min(p, rows-r0) * tx
			w := 0 // the worker free first
			for i := range load {
				if load[i] < load[w] {
					w = i
				}
			}
			load[w] += (nt + 15) &^ 15
		}
		span := 0
		for _, l := range load {
			span = max(span, l)
		}
		if bestSpan < 0 || span < bestSpan {
			best, bestSpan = p, span
		}
	}
	return best
}

// winoMaxChunk caps the tiles per chunk. (A variable so that tests can
// force small chunks.)
var winoMaxChunk = 960

// winoMinChunk is the fewest tiles per chunk: for the deep layers, whose
// V and M are large per tile, reusing U over 128 tiles beat 48 by 1.2× on
// VGG-16's conv4 and conv5 at batch 16 (measured interleaved), and 128
// splits AlexNet's 256 tiles per batch evenly over two threads.
var winoMinChunk = 128

// forwardWinograd computes dst = x * w with ep by F(4×4, 3×3) or
// F(4×4, 5×5).
//
// The N·TY tile rows of the batch are cut into chunks of whole rows, and
// the chunks spread over the threads. For a chunk of nt tiles, the input
// transform writes V[ξ] (C×nt) for the n² ξ, n² GEMMs give
// M[ξ] = U[ξ]·V[ξ] (O×nt), and the output transform turns M into pixels
// with the epilogue. Every output depends only on its own tile's column,
// so the bits do not depend on the chunking, the batch or the threads.
func (f *Filter) forwardWinograd(out, src []float32, n, h, w, oh, ow int, ep Epilogue) {
	f.forwardWinogradGeom(out, src, n, f.winoGeom(h, w, oh, ow), ep)
}

// winoGeom returns the tiling of a Winograd call on h×w images.
func (f *Filter) winoGeom(h, w, oh, ow int) winoGeom {
	g := winoGeom{c: f.c, o: f.o, h: h, w: w, ph: f.p.Pad[0], pw: f.p.Pad[1], oh: oh, ow: ow}
	g.m = f.winogradTile()
	g.n = g.m + f.kh - 1
	g.nn = g.n * g.n
	g.ty, g.tx = (oh+g.m-1)/g.m, (ow+g.m-1)/g.m
	g.groups = (g.tx + 7) / 8
	g.sw = 8*g.m*g.groups + 4
	return g
}

// forwardWinogradGeom is forwardWinograd on the tiling g.
func (f *Filter) forwardWinogradGeom(out, src []float32, n int, g winoGeom, ep Epilogue) {
	u, release := f.winogradCall()
	defer release()
	oh, ow := g.oh, g.ow
	rows := n * g.ty
	per := chunkRows(rows, max(1, winoChunk(g.nn, f.c, f.o)/g.tx), g.tx, simd.Threads()) // tile rows per chunk
	chunks := (rows + per - 1) / per

	// Channel sums per tile row (rowSums[R·O + k] for tile row R of the
	// batch), each taken in pixel order once the row is written, and added
	// per image in row order at the end: the means are then the same bits
	// whatever the chunking, the batch or the threads.
	var rowSums []float32
	if ep.Means != nil {
		rowSums = make([]float32, rows*f.o)
	}
	workers := min(chunks, simd.Threads())
	gemmThreads := max(1, simd.Threads()/max(1, workers))
	run := func(ci int) {
		ws := winoPool.Get().(*winoScratch)
		defer winoPool.Put(ws)
		r0 := ci * per
		r1 := min(rows, r0+per)
		nt := (r1 - r0) * g.tx
		// Room for the last row's spare lanes, for the last group of
		// eight of an output transform over the whole chunk, and for
		// whole 16-column strips: the GEMMs run over ncols columns and the
		// O' rows of U (O padded to whole micro-panels), so that they
		// never take the kernel's edge path; the extra rows and columns of
		// M are never read.
		ncols := (nt + 15) &^ 15
		ntp := max(nt-g.tx+8*g.groups, ncols)
		op := (*u)[0].M
		// M is stored channel-major, [O][n²][ntp] with cs floats from one
		// channel to the next, so that the output transform reads one
		// contiguous block per channel; the GEMMs stride over it. V is
		// stored point-major, [n²][C][ntp] with vs floats from one point
		// to the next, so that each GEMM packs its B from one contiguous
		// block, which streams from memory (channel-major V, read as C
		// rows far apart, packed 1.1× slower in the whole network). The
		// 16 floats of padding keep the rows of a GEMM's tile out of one
		// cache set (n²·ntp·4 bytes is often a multiple of 4 KiB):
		// 1.1-1.5× faster GEMMs (K = 64 gained most).
		cs := g.nn*ntp + 16
		vs := f.c*ntp + 16
		v := growF32(&ws.v, g.nn*vs)
		m := growF32(&ws.m, op*cs)
		g.input(v, ntp, vs, src, r0, r1, growF32(&ws.in, g.inputBuf()))
		for xi := 0; xi < g.nn; xi++ {
			ws.b = simd.DenseB{Data: v[xi*vs:], Ld: ntp} // in the scratch: no allocation per GEMM
			simd.GemmPackedThreads(gemmThreads, (*u)[xi], &ws.b, ncols, m[xi*ntp:], cs, simd.Epilogue{})
		}
		g.output(out, m, ntp, cs, r0, r1, ep, rowSums, growF32(&ws.out, g.outputBuf(nt)))
	}
	if workers <= 1 {
		for ci := 0; ci < chunks; ci++ {
			run(ci)
		}
	} else {
		dynamic(chunks, workers, run)
	}
	if ep.Means != nil {
		inv := 1 / float64(oh*ow)
		for img := 0; img < n; img++ {
			for k := 0; k < f.o; k++ {
				var sum float64
				for r := 0; r < g.ty; r++ {
					sum += float64(rowSums[(img*g.ty+r)*f.o+k])
				}
				ep.Means[img*f.o+k] = float32(sum * inv)
			}
		}
	}
}

// input writes V for the tile rows r0..r1-1 of the batch (row R is tile
// row R mod TY of image R div TY): V[ξ][c][t] at v[ξ·vs + c·ntp + t],
// for the chunk's tiles t in order. For each channel of each image, the
// input rows that the chunk's tile rows read are first copied into buf,
// the zero-padded plane (inputRows × sw) that the transform reads in
// place; its padding is cleared once and never written. Through
// space-to-depth, the s² deep channels of one input channel are gathered
// together into s² planes.
func (g *winoGeom) input(v []float32, ntp, vs int, src []float32, r0, r1 int, buf []float32) {
	np := g.inputRows() * g.sw
	planes := g.inputPlanes()
	pbs := buf[:planes*np]
	clear(pbs)
	plane := g.h * g.w
	for c0 := 0; c0 < g.c; c0 += planes {
		for rr := r0; rr < r1; {
			img := rr / g.ty
			re := min(r1, (img+1)*g.ty) // this image's tile rows: rr..re-1
			ra, rb := rr%g.ty, (re-1)%g.ty
			// Tile rows ra..rb read padded rows m·ra .. m·rb+n−1.
			y0 := max(0, g.m*ra-g.ph)
			y1 := min(g.h, g.m*rb+g.n-g.ph)
			if g.s2d != nil {
				g.s2d.rows(pbs, np, g.sw, g.w, src, img, c0, y0, y1)
			} else {
				x := src[(img*g.c+c0)*plane : (img*g.c+c0+1)*plane]
				simd.CopyRows(pbs[(y0+g.ph)*g.sw+g.pw:], g.sw, x[y0*g.w:], g.w, y1-y0, g.w)
			}
			for c := c0; c < c0+planes; c++ {
				pb := pbs[(c-c0)*np:]
				for r := ra; r <= rb; r++ {
					o := c*ntp + (rr+r-ra-r0)*g.tx
					switch {
					case g.n == 8:
						simd.WgInput8x8(v[o:], vs, pb[g.m*r*g.sw:], g.sw, g.groups)
					case g.tx == 4 && r < rb:
						// Maps four tiles wide (13×13 to 16×16) fill a
						// group of eight with two tile rows.
						simd.WgInput8Pair(v[o:], vs, pb[g.m*r*g.sw:], pb[g.m*(r+1)*g.sw:], g.sw)
						r++
					default:
						simd.WgInput8(v[o:], vs, pb[g.m*r*g.sw:], g.sw, g.groups)
					}
				}
			}
			rr = re
		}
	}
}

// inputPlanes is how many padded input planes input gathers at once: s²
// through space-to-depth with stride s, else 1.
func (g *winoGeom) inputPlanes() int {
	if g.s2d != nil {
		return g.s2d.s * g.s2d.s
	}
	return 1
}

// inputBuf is the length of input's buf.
func (g *winoGeom) inputBuf() int { return g.inputPlanes() * g.inputRows() * g.sw }

// inputRows is the height of a padded input plane as the transforms read
// it: the last tile row reads rows up to m·ty + n − m − 1.
func (g *winoGeom) inputRows() int { return g.m*g.ty + g.n - g.m }

// output turns M (M[ξ][k][t] at m[k·cs + ξ·ntp + t]) for tile rows
// r0..r1-1 into output pixels with ep's bias and gain ReLU, and, when
// rowSums is non-nil, sets rowSums[R·O + k] to the sum of tile row R's
// pixels. When a tile row is exactly m whole output rows (the width is
// 8·m·groups), the transform writes it in place; otherwise one transform
// call per channel turns all the chunk's tiles into buf (m rows of
// m·⌈nt/8⌉·8, tiles side by side in chunk order) and each tile row's
// pixels are copied out.
func (g *winoGeom) output(out, m []float32, ntp, cs, r0, r1 int, ep Epilogue, rowSums []float32, buf []float32) {
	plane := g.oh * g.ow
	nt := (r1 - r0) * g.tx
	gs := (nt + 7) / 8 // groups of the whole chunk
	ds := 8 * g.m * gs
	direct := 8*g.m*g.groups == g.ow
	for k := 0; k < g.o; k++ {
		var bias, scale float32 = 0, 1
		if ep.Bias != nil {
			bias = ep.Bias[k]
		}
		if ep.Gain != nil {
			scale = 1 + ep.Gain[k]
		}
		mk := m[k*cs:]
		if !direct {
			g.transform(buf, ds, mk, ntp, gs, bias, scale, ep.ReLU)
		}
		for rr := r0; rr < r1; rr++ {
			img, r := rr/g.ty, rr%g.ty
			dst := out[(img*g.o+k)*plane:]
			t := (rr - r0) * g.tx // the row's first tile in the chunk
			hh := min(g.m, g.oh-g.m*r)
			switch {
			case direct && hh == g.m:
				g.transform(dst[g.m*r*g.ow:(g.m*r+g.m)*g.ow], g.ow, mk[t:], ntp, g.groups, bias, scale, ep.ReLU)
			case direct: // the last tile row sticks out of the plane
				rb := buf[:g.m*g.ow]
				g.transform(rb, g.ow, mk[t:], ntp, g.groups, bias, scale, ep.ReLU)
				copy(dst[g.m*r*g.ow:(g.m*r+hh)*g.ow], rb)
			default:
				simd.CopyRows(dst[g.m*r*g.ow:], g.ow, buf[g.m*t:], ds, hh, g.ow)
			}
			if rowSums != nil {
				rowSums[rr*g.o+k] = sum8(dst[g.m*r*g.ow : (g.m*r+hh)*g.ow])
			}
		}
	}
}

// sum8 returns the sum of x in a fixed order: eight running sums over
// x[j] with j ≡ 0..7 (mod 8), added pairwise at the end, then the tail.
// (One running sum waited on each add's latency: 3 ms of AlexNet's batch
// of 16.)
func sum8(x []float32) float32 {
	var s [8]float32
	for len(x) >= 8 {
		s[0] += x[0]
		s[1] += x[1]
		s[2] += x[2]
		s[3] += x[3]
		s[4] += x[4]
		s[5] += x[5]
		s[6] += x[6]
		s[7] += x[7]
		x = x[8:]
	}
	t := ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
	for _, v := range x {
		t += v
	}
	return t
}

// outputBuf is the length of output's buf for a chunk of nt tiles.
func (g *winoGeom) outputBuf(nt int) int {
	return max(g.m*8*g.m*((nt+7)/8), g.m*8*g.m*g.groups)
}

// transform is the output transform of the geometry's algorithm.
func (g *winoGeom) transform(dst []float32, ds int, mk []float32, ntp, groups int, bias, scale float32, relu bool) {
	if g.n == 8 {
		simd.WgOutput8x8(dst, ds, mk, ntp, groups, bias, scale, relu)
	} else {
		simd.WgOutput8(dst, ds, mk, ntp, groups, bias, scale, relu)
	}
}
