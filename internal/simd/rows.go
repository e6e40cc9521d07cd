package simd

import (
	"sync"
	"unsafe"
)

// rowsKernelFunc is a micro-kernel that reads its left operand in place:
// np tiles of rowsMR×16 down a column of C, A row-major with row stride
// lda, b one packed strip k×16. sgemmRowsGo is the specification.
type rowsKernelFunc func(np, k int, a *float32, lda int, b, c *float32, ldc int, flags uintptr)

// rowsMR is the tile height of the rows kernels.
const rowsMR = 6

// rowsMaxM is the largest m for which Sgemm(false, true, …) takes the
// rows path: C = A·Bᵀ with A [m,k] small (a batch of feature vectors) and
// B [n,k] large (a weight matrix). It computes Cᵀ = B·Aᵀ instead, with B
// read in place by the rows kernel, so the weight streams through once
// and is never packed; the regular path packs all of it per call. On
// AlexNet's fc6 the rows path measured 2.4× faster at m = 16, 1.8× at 32
// and 0.9× at 64 (BenchmarkLinear).
const rowsMaxM = 32

// sgemmRowsGo is the rows kernel in Go: the specification, and the
// reference the tests compare the assembly with.
func sgemmRowsGo(np, k int, a *float32, lda int, b, c *float32, ldc int, flags uintptr) {
	if np <= 0 {
		return
	}
	as := unsafe.Slice(a, (np*rowsMR-1)*lda+k)
	bs := unsafe.Slice(b, k*16)
	cs := unsafe.Slice(c, (np*rowsMR-1)*ldc+16)
	for r := 0; r < np*rowsMR; r++ {
		for j := 0; j < 16; j++ {
			var s float32
			for p := 0; p < k; p++ {
				s += as[r*lda+p] * bs[p*16+j]
			}
			if flags&kAcc != 0 {
				s += cs[r*ldc+j]
			}
			cs[r*ldc+j] = s
		}
	}
}

// rowsBuf holds one call's packed Aᵀ, Cᵀ and the padded tail of B.
type rowsBuf struct{ at, ct, tail []float32 }

var rowsPool = sync.Pool{New: func() any { return new(rowsBuf) }}

// sgemmRows computes C = alpha·A·Bᵀ + beta·C for A [m,k] (m ≤ rowsMaxM)
// and B [n,k] through Cᵀ = B·Aᵀ on im's rows kernel. The arguments are
// checked by Sgemm.
//
// Every element of C is the same bits as on the packed path: alpha is
// folded into A as packing does, C starts as beta·C, and the products are
// summed by FMA in the packed path's K blocks (kBlocks), each block's sum
// added to C in turn. So an image's result does not depend on the batch
// it came in. Each tile of six B rows runs through all its K blocks
// before the next tile starts, so the rows stream from memory whole
// (pieces of one block for all rows in turn measured 10 against 15 GB/s).
func sgemmRows(im *impl, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	strips := ceilDiv(m, 16)
	ldt := strips * 16
	groups := ceilDiv(n, rowsMR)
	buf := rowsPool.Get().(*rowsBuf)
	defer rowsPool.Put(buf)
	// alpha·Aᵀ in strips: strip s, row p at at[s*k*16+p*16:], zero past m.
	at := grow(&buf.at, ldt*k)
	DenseB{Data: a, Ld: lda, Trans: true}.PackB(at, 0, k, 0, m, 16)
	if alpha != 1 {
		for i := range at {
			at[i] *= alpha
		}
	}
	// Cᵀ, starting as beta·Cᵀ unless beta is 0 (then C is not read).
	ct := grow(&buf.ct, groups*rowsMR*ldt)
	var acc0 uintptr
	if beta != 0 {
		acc0 = kAcc
		for j := 0; j < n; j++ {
			for i := 0; i < m; i++ {
				ct[j*ldt+i] = beta * c[i*ldc+j]
			}
		}
	}
	kc, kcIn := kBlocks(im, k)

	t := Threads()
	t = min(t, max(1, 2*ldt*n*k/minFlopsPerThread), groups)
	full := n / rowsMR
	var tailA []float32
	if full < groups {
		tailA = grow(&buf.tail, rowsMR*k)
		// The last n%6 rows of B, padded with zero rows.
		r0 := full * rowsMR
		for i := 0; i < rowsMR; i++ {
			row := tailA[i*k : (i+1)*k]
			if r0+i < n {
				copy(row, b[(r0+i)*ldb:(r0+i)*ldb+k])
			} else {
				clear(row)
			}
		}
	}
	// tile runs the tile of B rows at bt (row stride ld) into Cᵀ rows
	// from ctRow, over the K blocks in order.
	tile := func(bt []float32, ld, ctRow int) {
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			for k0 := 0; k0 < kb; k0 += kcIn {
				p := pc + k0
				fl := acc0
				if p > 0 {
					fl = kAcc
				}
				for s := 0; s < strips; s++ {
					im.rows(1, min(kcIn, kb-k0), &bt[p], ld, &at[s*k*16+p*16], &ct[ctRow*ldt+s*16], ldt, fl)
				}
			}
		}
	}
	part := func(w int) {
		for g := w * full / t; g < (w+1)*full/t; g++ {
			tile(b[g*rowsMR*ldb:], ldb, g*rowsMR)
		}
		if w == t-1 && tailA != nil {
			tile(tailA, k, full*rowsMR)
		}
	}
	if t <= 1 {
		part(0)
	} else {
		var wg sync.WaitGroup
		for w := 1; w < t; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				part(w)
			}(w)
		}
		part(0)
		wg.Wait()
	}
	for j := 0; j < n; j++ {
		for i, v := range ct[j*ldt : j*ldt+m] {
			c[i*ldc+j] = v
		}
	}
}
