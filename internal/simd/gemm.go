package simd

import (
	"fmt"
	"sync"
)

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where
// op(X) is X or Xᵀ. op(A) is [m,k], op(B) is [k,n], C is [m,n] with row
// stride ldc. With beta == 0, C is not read (NaNs in C do not propagate).
// With alpha == 0 or k == 0, A and B are not read and C = beta*C.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("simd: Sgemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("Sgemm", "a", ar, ac, a, lda)
	checkMatrix("Sgemm", "b", br, bc, b, ldb)
	checkMatrix("Sgemm", "c", m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleC(c, ldc, 0, m, 0, n, beta)
		return
	}
	im := active.Load()
	if im.rows != nil && !transA && transB && m <= rowsMaxM {
		sgemmRows(im, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	g := gemmPool.Get().(*gemm)
	*g = gemm{
		im: im, m: m, n: n, k: k,
		a: a, lda: lda, transA: transA, alpha: alpha,
		db: DenseB{Data: b, Ld: ldb, Trans: transB},
		c:  c, ldc: ldc, beta: beta, sgemm: true,
	}
	g.b = &g.db
	g.run()
	*g = gemm{}
	gemmPool.Put(g)
}

// gemmPool recycles the per-call state, so that a call allocates nothing
// in steady state when it runs on one thread.
var gemmPool = sync.Pool{New: func() any { return new(gemm) }}

// scaleC sets C[i,j] = beta*C[i,j] on rows r0..r1-1, columns j0..j1-1;
// beta == 0 writes zeros without reading C.
func scaleC(c []float32, ldc, r0, r1, j0, j1 int, beta float32) {
	if beta == 1 {
		return
	}
	for i := r0; i < r1; i++ {
		row := c[i*ldc+j0 : i*ldc+j1]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Epilogue is applied to each finished element of C in GemmPacked, in this
// order: add Bias[i]; if ReLU, y = (1+Gain[i])·max(0, y) (Gain nil means
// gain 0, a plain ReLU); then, if RowSums is non-nil, RowSums[i] += y.
// All slices are indexed by the row i of C (the output channel) and must
// have length M when non-nil. NaN inputs stay NaN through ReLU (max(0,NaN)
// is NaN, as in PyTorch).
type Epilogue struct {
	Bias    []float32
	ReLU    bool
	Gain    []float32
	RowSums []float32
}

// GemmPacked computes C[M,n] = A·B for the packed A and the panels that b
// supplies, then applies ep. C has row stride ldc and is not read.
func GemmPacked(a *PackedA, b BPacker, n int, c []float32, ldc int, ep Epilogue) {
	GemmPackedThreads(0, a, b, n, c, ldc, ep)
}

// GemmPackedThreads is GemmPacked on at most threads goroutines (0 means
// Threads()). Callers that already run independent products in parallel,
// such as a convolution over the images of a batch, pass 1.
func GemmPackedThreads(threads int, a *PackedA, b BPacker, n int, c []float32, ldc int, ep Epilogue) {
	if a == nil {
		panic("simd: GemmPacked: nil PackedA")
	}
	if b == nil {
		panic("simd: GemmPacked: nil BPacker")
	}
	if n < 0 {
		panic(fmt.Sprintf("simd: GemmPacked: negative n=%d (A is %d×%d)", n, a.M, a.K))
	}
	checkMatrix("GemmPacked", "c", a.M, n, c, ldc)
	for _, v := range []struct {
		name string
		s    []float32
	}{{"Bias", ep.Bias}, {"Gain", ep.Gain}, {"RowSums", ep.RowSums}} {
		if v.s != nil && len(v.s) != a.M {
			panic(fmt.Sprintf("simd: GemmPacked: Epilogue.%s has length %d, want M=%d", v.name, len(v.s), a.M))
		}
	}
	m, k := a.M, a.K
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			v := epilogueScalar(0, i, ep)
			row := c[i*ldc : i*ldc+n]
			var sum float32
			for j := range row {
				row[j] = v
				sum += v
			}
			if ep.RowSums != nil {
				ep.RowSums[i] += sum
			}
		}
		return
	}
	im := active.Load()
	g := gemmPool.Get().(*gemm)
	*g = gemm{
		im: im, m: m, n: n, k: k,
		pa: a.panels(im.mr),
		b:  b, c: c, ldc: ldc,
		bias: ep.Bias, relu: ep.ReLU, rowSums: ep.RowSums,
		threads: threads,
	}
	if ep.ReLU {
		g.gain = ep.Gain
	}
	g.run()
	*g = gemm{}
	gemmPool.Put(g)
}

// epilogueScalar applies ep (without RowSums) to one value of row i.
func epilogueScalar(v float32, i int, ep Epilogue) float32 {
	if ep.Bias != nil {
		v += ep.Bias[i]
	}
	if ep.ReLU {
		if v < 0 {
			v = 0
		}
		if ep.Gain != nil {
			v *= 1 + ep.Gain[i]
		}
	}
	return v
}

// gemm is one product in flight. Exactly one of pa (GemmPacked) and a
// (Sgemm) is set.
type gemm struct {
	im      *impl
	m, n, k int

	pa []float32 // A in im.mr micro-panels, k*mr floats per panel

	a      []float32 // Sgemm: op(A) is packed block by block, times alpha
	lda    int
	transA bool
	alpha  float32

	b   BPacker
	db  DenseB // Sgemm's B; b points here
	c   []float32
	ldc int

	sgemm bool    // beta applies (Sgemm); otherwise C is written, not read
	beta  float32 // Sgemm only

	bias, gain []float32 // gain only with relu
	relu       bool
	rowSums    []float32
	threads    int // 0: Threads()

	kc   int // K rows per packed B panel, balanced so the blocks are near equal
	kcIn int // K steps per kernel call: the B strip piece that stays in L1
	mcp  int // A micro-panels per MC block: mcp×mr×kc floats fit in half of L2
}

// kcBlocks is how many L1-sized K blocks (impl.kc) one packed B panel
// holds; the macro-kernel runs them strip by strip, so that a tile of C
// stays in L1 across them. Meant to save C traffic on conv1_2, 2 and 3
// measured no better than 1 on Zen 3 once the B panel stayed in L2, so it
// is 1; tests run 3 to keep the path right.
var kcBlocks = 1

// kBlocks returns the K blocking of a product with k rows on im: K
// blocks of kc (one packed B panel) cut into kernel calls of kcIn. The
// products of a block piece are summed in registers and then added to C,
// so these boundaries fix the rounding.
func kBlocks(im *impl, k int) (kc, kcIn int) {
	kc = balance(k, kcBlocks*im.kc, 8)
	return kc, balance(kc, im.kc, 8)
}

// minFlopsPerThread keeps small products on one goroutine: below about
// 40 µs of work, starting and joining another costs more than it saves.
// (A variable so that tests can thread small products.)
var minFlopsPerThread = 4 << 20

// sharedBLimit bounds, in bytes, the B panel that threads share when they
// split M. (A variable so that tests can make it small.)
var sharedBLimit = 8 << 20

func (g *gemm) run() {
	im := g.im
	mr, nr := im.mr, im.nr
	panels, strips := ceilDiv(g.m, mr), ceilDiv(g.n, nr)
	g.kc, g.kcIn = kBlocks(im, g.k)
	g.mcp = max(1, im.mc*im.kc/(g.kc*mr))

	t := Threads()
	if g.threads > 0 {
		t = min(t, g.threads)
	}
	t = min(t, max(1, 2*g.m*g.n*g.k/minFlopsPerThread), max(panels, strips))
	if t <= 1 {
		ws := getWorkspace(g.m)
		g.worker(ws, 0, panels, 0, strips)
		g.finishRowSums([]*workspace{ws})
		putWorkspace(ws)
		return
	}
	g.runParallel(t, panels, strips)
}

// runParallel runs the product on t goroutines, the caller's among them.
func (g *gemm) runParallel(t, panels, strips int) {
	// Split the columns (each thread packs its own B) unless that leaves
	// the threads unequal; then split the rows and share one packed B.
	splitN := imbalance(strips, t) <= 1.05 || imbalance(strips, t) <= imbalance(panels, t)
	wss := make([]*workspace, t)
	for w := range wss {
		wss[w] = getWorkspace(g.m)
	}
	var sh *sharedB
	if !splitN {
		sh = newSharedB(g, t)
	}
	var wg sync.WaitGroup
	for w := 1; w < t; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			g.part(wss[w], w, t, panels, strips, sh)
		}(w)
	}
	g.part(wss[0], 0, t, panels, strips, sh)
	wg.Wait()
	g.finishRowSums(wss)
	for _, ws := range wss {
		putWorkspace(ws)
	}
	if sh != nil {
		sh.release()
	}
}

// part runs thread w's share of the product.
func (g *gemm) part(ws *workspace, w, t, panels, strips int, sh *sharedB) {
	if sh == nil {
		g.worker(ws, 0, panels, w*strips/t, (w+1)*strips/t)
		return
	}
	g.workerShared(ws, w, t, w*panels/t, (w+1)*panels/t, sh)
}

// imbalance is the slowest thread's share of n units over the mean.
func imbalance(n, t int) float64 {
	return float64(ceilDiv(n, t)*t) / float64(n)
}

// balance cuts n into the fewest blocks of at most blk and returns a block
// size that makes them near equal, rounded up to a multiple of q.
func balance(n, blk, q int) int {
	if n <= blk {
		return n
	}
	nb := ceilDiv(n, blk)
	return min(blk, ceilDiv(ceilDiv(n, nb), q)*q)
}

// worker computes rows of micro-panels p0..p1-1 and columns of strips
// s0..s1-1 of C, packing B itself.
func (g *gemm) worker(ws *workspace, p0, p1, s0, s1 int) {
	if p0 >= p1 || s0 >= s1 {
		return
	}
	im := g.im
	nr := im.nr
	if g.sgemm && g.beta != 0 {
		scaleC(g.c, g.ldc, p0*im.mr, min(g.m, p1*im.mr), s0*nr, min(g.n, s1*nr), g.beta)
	}
	per := balance(s1-s0, im.nc/nr, 1) // strips per NC block
	for sb := s0; sb < s1; sb += per {
		se := min(s1, sb+per)
		j0 := sb * nr
		nc := min(g.n, se*nr) - j0
		for pc := 0; pc < g.k; pc += g.kc {
			kc := min(g.kc, g.k-pc)
			bp := grow(&ws.b, (se-sb)*nr*kc)
			g.b.PackB(bp, pc, kc, j0, nc, nr)
			// While this panel is multiplied, fetch the source of the
			// next one (B from memory is conv1_2's bottleneck).
			ws.pf = pfPlan{}
			if db, ok := denseOf(g.b); ok {
				switch {
				case pc+kc < g.k:
					ws.pf = pfPlan{b: db, k0: pc + kc, kc: min(g.kc, g.k-pc-kc), j0: j0, nc: nc}
				case se < s1:
					nj := min(g.n, min(s1, se+per)*nr) - se*nr
					ws.pf = pfPlan{b: db, k0: 0, kc: min(g.kc, g.k), j0: se * nr, nc: nj}
				}
			}
			g.rows(ws, bp, pc, kc, p0, p1, j0, nc)
		}
	}
}

// rows runs the macro-kernel over row panels p0..p1-1, in MC blocks, for
// one packed B panel (K rows pc..pc+kc-1, columns j0..j0+nc-1).
func (g *gemm) rows(ws *workspace, bp []float32, pc, kc, p0, p1, j0, nc int) {
	mr := g.im.mr
	per := balance(p1-p0, g.mcp, 1) // panels per MC block
	for pb := p0; pb < p1; pb += per {
		pe := min(p1, pb+per)
		var ablk []float32
		var pstride int
		if g.pa != nil {
			pstride = g.k * mr
			ablk = g.pa[pb*pstride+pc*mr:]
		} else {
			pstride = kc * mr
			ablk = grow(&ws.a, (pe-pb)*pstride)
			packABlock(ablk, mr, g.a, g.lda, g.transA, g.alpha, pb*mr, min(g.m, pe*mr)-pb*mr, pc, kc)
		}
		g.macro(ws, ablk, pstride, bp, kc, pb, pe, j0, nc, pc == 0, pc+kc == g.k)
		ws.pf = pfPlan{} // spread over the first MC block only
	}
}

// macro multiplies row panels pb..pe-1 of A (ablk, pstride apart) by the
// packed B panel bp (kc×nc from column j0) into C. first and last say
// whether this is the first or the last K block.
func (g *gemm) macro(ws *workspace, ablk []float32, pstride int, bp []float32, kc, pb, pe, j0, nc int, first, last bool) {
	im := g.im
	mr, nr := im.mr, im.nr
	var flags uintptr
	if !first || g.sgemm && g.beta != 0 {
		flags |= kAcc
	}
	r0 := pb * mr
	var bias, gain, rs *float32
	if last {
		if g.bias != nil {
			flags |= kBias
			bias = &g.bias[r0]
		}
		if g.relu {
			flags |= kReLU
		}
		if g.gain != nil {
			flags |= kGain
			gain = &g.gain[r0]
		}
		if g.rowSums != nil {
			flags |= kRowSum
			rs = &ws.rs[r0]
		}
	}
	np := pe - pb
	full := np // panels with mr real rows
	if pe*mr > g.m {
		full--
	}
	ns := ceilDiv(nc, nr)
	for s := 0; s < ns; s++ {
		col := j0 + s*nr
		w := min(nr, j0+nc-col)
		bs := bp[s*kc*nr : (s+1)*kc*nr]
		if pf := &ws.pf; pf.kc > 0 {
			pf.b.prefetch(pf.k0+s*pf.kc/ns, pf.k0+(s+1)*pf.kc/ns, pf.j0, pf.nc)
		}
		for k0 := 0; k0 < kc; k0 += g.kcIn {
			// One L1 piece of the strip against all the row panels.
			kci := min(g.kcIn, kc-k0)
			fl := flags
			if k0 > 0 {
				fl |= kAcc
			}
			if k0+kci < kc {
				fl &^= kBias | kReLU | kGain | kRowSum
			}
			q0 := 0
			if w == nr && full > 0 {
				im.kernel(full, kci, &ablk[k0*mr], pstride, &bs[k0*nr], &g.c[r0*g.ldc+col], g.ldc, fl, bias, gain, rs)
				q0 = full
			}
			for q := q0; q < np; q++ {
				g.edge(ws, ablk[q*pstride+k0*mr:], pstride, bs[k0*nr:], kci, r0+q*mr, col, w, fl)
			}
		}
	}
}

// denseOf returns b as a DenseB, if it is one.
func denseOf(b BPacker) (DenseB, bool) {
	switch d := b.(type) {
	case DenseB:
		return d, true
	case *DenseB:
		return *d, true
	}
	return DenseB{}, false
}

// edge computes a tile that sticks out of C (fewer than MR rows or NR
// columns left) in ws.tmp: the part of C inside the tile is copied in, the
// kernel runs on the whole tile with the epilogue (bias and gain padded
// with zeros past row M), and the part inside C is copied back. Row sums
// are taken here, over the real columns only.
func (g *gemm) edge(ws *workspace, a []float32, pstride int, b []float32, kc, row, col, w int, flags uintptr) {
	im := g.im
	mr, nr := im.mr, im.nr
	h := min(mr, g.m-row)
	tmp := grow(&ws.tmp, mr*nr)
	if flags&kAcc != 0 {
		for i := 0; i < h; i++ {
			copy(tmp[i*nr:i*nr+w], g.c[(row+i)*g.ldc+col:])
		}
	}
	var bias, gain *float32
	if flags&kBias != 0 {
		eb := grow(&ws.eb, mr)
		clear(eb[copy(eb, g.bias[row:row+h]):])
		bias = &eb[0]
	}
	if flags&kGain != 0 {
		eg := grow(&ws.eg, mr)
		clear(eg[copy(eg, g.gain[row:row+h]):])
		gain = &eg[0]
	}
	im.kernel(1, kc, &a[0], pstride, &b[0], &tmp[0], nr, flags&^kRowSum, bias, gain, nil)
	for i := 0; i < h; i++ {
		t := tmp[i*nr : i*nr+w]
		copy(g.c[(row+i)*g.ldc+col:(row+i)*g.ldc+col+w], t)
		if flags&kRowSum != 0 {
			var sum float32
			for _, v := range t {
				sum += v
			}
			ws.rs[row+i] += sum
		}
	}
}

// finishRowSums adds the threads' row sums into RowSums, in thread order
// so that a given thread count always rounds the same way.
func (g *gemm) finishRowSums(wss []*workspace) {
	if g.rowSums == nil {
		return
	}
	for i := range g.rowSums {
		var s float32
		for _, ws := range wss {
			s += ws.rs[i]
		}
		g.rowSums[i] += s
	}
}

// workspace is one thread's scratch memory, recycled through wsPool so that
// a call in steady state allocates no buffers.
type workspace struct {
	b   []float32 // packed B panel (kc × nc)
	a   []float32 // packed A block (Sgemm)
	tmp []float32 // one edge tile
	eb  []float32 // bias of an edge tile's rows, zero past M
	eg  []float32 // gain of an edge tile's rows, zero past M
	rs  []float32 // row-sum partials, indexed by row of C
	pf  pfPlan    // B rows to prefetch during the current macro-kernel
}

// pfPlan is the next B panel a thread will pack, when its source is a
// DenseB: rows k0..k0+kc-1, columns j0..j0+nc-1.
type pfPlan struct {
	b              DenseB
	k0, kc, j0, nc int
}

var wsPool = sync.Pool{New: func() any { return new(workspace) }}

func getWorkspace(m int) *workspace {
	ws := wsPool.Get().(*workspace)
	clear(grow(&ws.rs, m))
	ws.pf = pfPlan{}
	return ws
}

func putWorkspace(ws *workspace) {
	ws.pf = pfPlan{} // drop the reference to the caller's B
	wsPool.Put(ws)
}

// sharedB is the packed B that threads share when they split M: each
// packs a share of the strips of every K block, they meet at a barrier,
// and then each multiplies its rows.
type sharedB struct {
	buf     []float32
	bar     barrier
	per     int // strips per column block
	kblocks int // K blocks per super-block (buf holds one super-block)
}

var sharedPool sync.Pool // *[]float32

func newSharedB(g *gemm, t int) *sharedB {
	nr := g.im.nr
	strips := ceilDiv(g.n, nr)
	sh := &sharedB{per: balance(strips, g.im.nc/nr, 1)}
	sh.bar.n = t
	panel := sh.per * nr * g.kc // floats of one K block
	sh.kblocks = clamp(sharedBLimit/4/panel, 1, ceilDiv(g.k, g.kc))
	bp, _ := sharedPool.Get().(*[]float32)
	if bp == nil {
		bp = new([]float32)
	}
	sh.buf = grow(bp, sh.kblocks*panel)
	return sh
}

func (sh *sharedB) release() {
	b := sh.buf[:cap(sh.buf)]
	sharedPool.Put(&b)
}

// workerShared is thread w's part when the threads split M: rows of panels
// p0..p1-1, all columns, with B packed jointly.
func (g *gemm) workerShared(ws *workspace, w, t, p0, p1 int, sh *sharedB) {
	nr := g.im.nr
	strips := ceilDiv(g.n, nr)
	if g.sgemm && g.beta != 0 && p0 < p1 {
		scaleC(g.c, g.ldc, p0*g.im.mr, min(g.m, p1*g.im.mr), 0, g.n, g.beta)
	}
	for sb := 0; sb < strips; sb += sh.per {
		se := min(strips, sb+sh.per)
		ns := se - sb
		j0 := sb * nr
		nc := min(g.n, se*nr) - j0
		for kb := 0; kb < g.k; kb += sh.kblocks * g.kc {
			ke := min(g.k, kb+sh.kblocks*g.kc)
			// Pack this thread's share of the strips of every K block.
			s0, s1 := w*ns/t, (w+1)*ns/t
			off := 0
			for pc := kb; pc < ke; pc += g.kc {
				kc := min(g.kc, g.k-pc)
				if s1 > s0 {
					c0, c1 := j0+s0*nr, min(g.n, j0+s1*nr)
					g.b.PackB(sh.buf[off+s0*kc*nr:off+s1*kc*nr], pc, kc, c0, c1-c0, nr)
				}
				off += ns * nr * kc
			}
			sh.bar.wait()
			off = 0
			for pc := kb; pc < ke; pc += g.kc {
				kc := min(g.kc, g.k-pc)
				if p0 < p1 {
					g.rows(ws, sh.buf[off:off+ns*nr*kc], pc, kc, p0, p1, j0, nc)
				}
				off += ns * nr * kc
			}
			if se < strips || ke < g.k {
				sh.bar.wait() // everyone is done with buf before it is refilled
			}
		}
	}
}

// barrier is a reusable rendezvous of n goroutines.
type barrier struct {
	mu    sync.Mutex
	cond  *sync.Cond
	n     int
	count int
	gen   int
}

func (b *barrier) wait() {
	b.mu.Lock()
	if b.cond == nil {
		b.cond = sync.NewCond(&b.mu)
	}
	gen := b.gen
	b.count++
	if b.count == b.n {
		b.count = 0
		b.gen++
		b.cond.Broadcast()
	} else {
		for gen == b.gen {
			b.cond.Wait()
		}
	}
	b.mu.Unlock()
}
