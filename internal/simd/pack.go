package simd

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// alignedFloats returns a zeroed slice of n float32s whose first element
// sits on a 64-byte (cache line) boundary, with cap == len.
func alignedFloats(n int) []float32 {
	if n == 0 {
		return nil
	}
	buf := make([]float32, n+15)
	off := int((64-uintptr(unsafe.Pointer(&buf[0]))&63)&63) / 4
	return buf[off : off+n : off+n]
}

// grow returns (*buf)[:n], reallocating (aligned) when the capacity is short.
func grow(buf *[]float32, n int) []float32 {
	if cap(*buf) < n {
		*buf = alignedFloats(n)
	}
	return (*buf)[:n]
}

// PackedA is a left operand A [M,K] packed once (for weights) and reused
// for many products. It is immutable and safe for concurrent use.
//
// The values are stored in micro-panels of the active implementation's
// tile height MR: panel r holds, for each p in 0..K-1, the MR values
// A[r*MR+i, p] (zero past row M). If a later call runs an implementation
// with another MR, the panels are rebuilt for it once, from the stored
// values, and kept.
type PackedA struct {
	M, K int

	layouts atomic.Pointer[[]*aLayout] // copy-on-write list, first = original
	mu      sync.Mutex                 // serialises adding a layout
}

// aLayout is A in micro-panels of height mr, panel r at data[r*K*mr:].
type aLayout struct {
	mr   int
	data []float32
}

// PackA packs the row-major matrix A [m,k] with row stride lda.
func PackA(m, k int, a []float32, lda int) *PackedA {
	checkMatrix("PackA", "a", m, k, a, lda)
	mr := active.Load().mr
	data := alignedFloats(ceilDiv(m, mr) * mr * k)
	for r0 := 0; r0 < m; r0 += mr {
		packAPanel(data[r0*k:r0*k+mr*k], mr, k, min(mr, m-r0), func(i int) []float32 {
			return a[(r0+i)*lda : (r0+i)*lda+k]
		})
	}
	p := &PackedA{M: m, K: k}
	p.layouts.Store(&[]*aLayout{{mr: mr, data: data}})
	return p
}

// PackedALayout returns the micro-panel height MR of the active
// implementation and the number of floats a PackedA [m,k] takes in it:
// ⌈m/MR⌉·MR·k. Value (i, p) sits at index (i/MR)·MR·k + p·MR + i%MR, and
// the rows past m are zero.
func PackedALayout(m, k int) (mr, size int) {
	mr = active.Load().mr
	return mr, ceilDiv(m, mr) * mr * k
}

// WrapPackedA returns a PackedA [m,k] over data, which the caller has
// filled in the layout that PackedALayout gave for micro-panel height mr
// (zero in the rows past m). The PackedA uses data without copying it;
// the caller must not change data while the PackedA is in use.
func WrapPackedA(m, k, mr int, data []float32) *PackedA {
	if mr <= 0 || len(data) != ceilDiv(m, mr)*mr*k {
		panic(fmt.Sprintf("simd: WrapPackedA: %d floats for %d×%d with MR=%d, want %d", len(data), m, k, mr, ceilDiv(m, max(mr, 1))*max(mr, 1)*k))
	}
	p := &PackedA{M: m, K: k}
	p.layouts.Store(&[]*aLayout{{mr: mr, data: data}})
	return p
}

// Unpack returns A [M,K] row-major, read back from the packed values:
// the same bits as the matrix PackA was given.
func (p *PackedA) Unpack() []float32 {
	l := (*p.layouts.Load())[0]
	m, k, mr := p.M, p.K, l.mr
	a := make([]float32, m*k)
	for i := 0; i < m; i++ {
		panel := l.data[(i/mr)*mr*k:]
		row := a[i*k : (i+1)*k]
		for q := range row {
			row[q] = panel[q*mr+i%mr]
		}
	}
	return a
}

// packAPanel writes one micro-panel: dst[p*mr+i] = row(i)[p] for the h
// rows present, zero for the mr-h rows past the end of A.
func packAPanel(dst []float32, mr, k, h int, row func(i int) []float32) {
	for i := 0; i < h; i++ {
		src := row(i)[:k]
		for p, v := range src {
			dst[p*mr+i] = v
		}
	}
	for i := h; i < mr; i++ {
		for p := 0; p < k; p++ {
			dst[p*mr+i] = 0
		}
	}
}

// panels returns A in micro-panels of height mr, building that layout on
// first use.
func (p *PackedA) panels(mr int) []float32 {
	ls := *p.layouts.Load()
	for _, l := range ls {
		if l.mr == mr {
			return l.data
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ls = *p.layouts.Load()
	for _, l := range ls {
		if l.mr == mr {
			return l.data
		}
	}
	src := ls[0]
	m, k := p.M, p.K
	data := alignedFloats(ceilDiv(m, mr) * mr * k)
	// Row i of A, p-th value, in the original layout.
	at := func(i, q int) float32 {
		return src.data[(i/src.mr)*src.mr*k+q*src.mr+i%src.mr]
	}
	for r0 := 0; r0 < m; r0 += mr {
		dst := data[r0*k : r0*k+mr*k]
		for i := 0; i < min(mr, m-r0); i++ {
			for q := 0; q < k; q++ {
				dst[q*mr+i] = at(r0+i, q)
			}
		}
	}
	nl := append(append([]*aLayout(nil), ls...), &aLayout{mr: mr, data: data})
	p.layouts.Store(&nl)
	return data
}

// BPacker supplies the right operand B [K,N] in panels, so that B never has
// to exist as a whole matrix (im2col columns are produced on the fly).
//
// PackB writes rows k0..k0+kc-1 and columns j0..j0+nc-1 of B into dst in
// panel layout: the columns are cut into strips of nr (the last strip
// zero-padded to nr), and strip s occupies dst[s*kc*nr:(s+1)*kc*nr] with,
// for each row p in 0..kc-1, the nr values B[k0+p, j0+s*nr+0..nr-1].
// len(dst) >= ceil(nc/nr)*nr*kc. PackB is called concurrently from several
// goroutines with disjoint dst and must only read shared state.
type BPacker interface {
	PackB(dst []float32, k0, kc, j0, nc, nr int)
}

// DenseB is a BPacker over an ordinary row-major matrix: B itself when
// Trans is false (B[p,j] = Data[p*Ld+j]), or the transpose of the stored
// matrix when Trans is true (B[p,j] = Data[j*Ld+p]).
type DenseB struct {
	Data  []float32
	Ld    int
	Trans bool
}

// PackB implements BPacker.
func (d DenseB) PackB(dst []float32, k0, kc, j0, nc, nr int) {
	if kc <= 0 || nc <= 0 {
		return
	}
	ns := ceilDiv(nc, nr)
	if len(dst) < ns*nr*kc {
		panic(fmt.Sprintf("simd: PackB dst has length %d, want %d for kc=%d nc=%d nr=%d", len(dst), ns*nr*kc, kc, nc, nr))
	}
	if d.Trans {
		d.packTrans(dst, k0, kc, j0, nc, nr)
		return
	}
	full := nc / nr // strips with nr real columns
	rem := nc - full*nr
	stride := kc * nr // floats from one strip to the next
	// The rows of B this call reads; slicing checks they are in Data.
	src := d.Data[k0*d.Ld+j0 : (k0+kc-1)*d.Ld+j0+nc]
	if nr == 16 && full > 0 {
		packStrips16(&dst[0], &src[0], kc, d.Ld, full)
	} else {
		for p := 0; p < kc; p++ {
			row := src[p*d.Ld : p*d.Ld+full*nr]
			for s := 0; s < full; s++ {
				o := s*stride + p*nr
				t, f := dst[o:o+nr], row[s*nr:s*nr+nr]
				for q := range t {
					t[q] = f[q]
				}
			}
		}
	}
	if rem > 0 {
		for p := 0; p < kc; p++ {
			t := dst[full*stride+p*nr : full*stride+p*nr+nr]
			copy(t, src[p*d.Ld+full*nr:p*d.Ld+nc])
			clear(t[rem:])
		}
	}
}

// prefetch asks for rows r0..r1-1, columns j0..j0+nc-1 of B to be
// brought into cache ahead of PackB. Only the plain layout streams well
// enough to be worth it.
func (d DenseB) prefetch(r0, r1, j0, nc int) {
	if d.Trans || r1 <= r0 || nc <= 0 {
		return
	}
	_ = d.Data[(r1-1)*d.Ld+j0+nc-1] // in range, so the asm reads only B
	prefetchRows(&d.Data[r0*d.Ld+j0], r1-r0, d.Ld, nc)
}

// packTrans packs from the stored transpose: column j of B is the
// contiguous run Data[j*Ld+k0 : j*Ld+k0+kc].
func (d DenseB) packTrans(dst []float32, k0, kc, j0, nc, nr int) {
	for s := 0; s*nr < nc; s++ {
		strip := dst[s*kc*nr : (s+1)*kc*nr]
		w := min(nr, nc-s*nr)
		p0 := 0 // rows done in assembly
		if nr == 16 && w == 16 && kc >= 4 {
			j := j0 + s*nr
			src := d.Data[j*d.Ld+k0 : (j+15)*d.Ld+k0+kc] // in range, so the asm reads only B
			p0 = kc &^ 3
			packTrans16(&strip[0], &src[0], p0, d.Ld)
		}
		for q := 0; q < w; q++ {
			j := j0 + s*nr + q
			src := d.Data[j*d.Ld+k0+p0 : j*d.Ld+k0+kc]
			for p, v := range src {
				strip[(p0+p)*nr+q] = v
			}
		}
		for q := w; q < nr; q++ {
			for p := 0; p < kc; p++ {
				strip[p*nr+q] = 0
			}
		}
	}
}

// packABlock packs rows r0..r0+h-1 and columns p0..p0+kc-1 of op(A)·alpha
// into micro-panels of height mr, kc*mr floats apart, for Sgemm.
func packABlock(dst []float32, mr int, a []float32, lda int, trans bool, alpha float32, r0, h, p0, kc int) {
	for q := 0; q*mr < h; q++ {
		pan := dst[q*kc*mr : (q+1)*kc*mr]
		rows := min(mr, h-q*mr)
		i0 := r0 + q*mr
		if trans { // op(A)[i,p] = a[p*lda+i]: each p gives mr contiguous values
			for p := 0; p < kc; p++ {
				src := a[(p0+p)*lda+i0 : (p0+p)*lda+i0+rows]
				d := pan[p*mr : p*mr+mr]
				for i, v := range src {
					d[i] = alpha * v
				}
				clear(d[rows:])
			}
			continue
		}
		for i := 0; i < rows; i++ {
			src := a[(i0+i)*lda+p0 : (i0+i)*lda+p0+kc]
			for p, v := range src {
				pan[p*mr+i] = alpha * v
			}
		}
		for i := rows; i < mr; i++ {
			for p := 0; p < kc; p++ {
				pan[p*mr+i] = 0
			}
		}
	}
}

// checkMatrix panics unless a holds a rows×cols row-major matrix with row
// stride ld.
func checkMatrix(fn, name string, rows, cols int, a []float32, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("simd: %s: %s is %d×%d, dimensions must not be negative", fn, name, rows, cols))
	}
	if ld < cols {
		panic(fmt.Sprintf("simd: %s: ld%s=%d is less than %d columns", fn, name, ld, cols))
	}
	if rows > 0 && cols > 0 {
		if need := (rows-1)*ld + cols; len(a) < need {
			panic(fmt.Sprintf("simd: %s: len(%s)=%d, want at least %d for %d×%d with ld=%d", fn, name, len(a), need, rows, cols, ld))
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
