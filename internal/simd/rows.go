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

// rowsKC is the K block of the rows path when Aᵀ has several strips: the
// six B rows of a tile (24·rowsKC bytes, 96 KiB) stay in L2 while every
// strip runs against them. With one strip there is no block: each B row
// streams whole, which measured 1.5× faster (15 against 10 GB/s) than
// 4 KiB pieces, and the strip of Aᵀ comes from L2 or L3. (A variable so
// that tests can make it small.)
var rowsKC = 4096

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
func sgemmRows(im *impl, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	strips := ceilDiv(m, 16)
	ldt := strips * 16
	groups := ceilDiv(n, rowsMR)
	buf := rowsPool.Get().(*rowsBuf)
	defer rowsPool.Put(buf)
	// Aᵀ in strips: strip s, row p at at[s*k*16+p*16:], zero past m.
	at := grow(&buf.at, ldt*k)
	DenseB{Data: a, Ld: lda, Trans: true}.PackB(at, 0, k, 0, m, 16)
	ct := grow(&buf.ct, groups*rowsMR*ldt)

	t := Threads()
	t = min(t, max(1, 2*ldt*n*k/minFlopsPerThread), groups)
	full := n / rowsMR
	kcb := k
	if strips > 1 {
		kcb = balance(k, rowsKC, 16)
	}
	var tailA []float32
	if full < groups {
		tailA = grow(&buf.tail, rowsMR*kcb)
	}
	part := func(w int) {
		g0, g1 := w*full/t, (w+1)*full/t
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			var fl uintptr
			if pc > 0 {
				fl = kAcc
			}
			if strips == 1 && g1 > g0 {
				im.rows(g1-g0, kc, &b[g0*rowsMR*ldb+pc], ldb, &at[pc*16], &ct[g0*rowsMR*ldt], ldt, fl)
			} else {
				for g := g0; g < g1; g++ {
					for s := 0; s < strips; s++ {
						im.rows(1, kc, &b[g*rowsMR*ldb+pc], ldb, &at[s*k*16+pc*16], &ct[g*rowsMR*ldt+s*16], ldt, fl)
					}
				}
			}
			if w == t-1 && tailA != nil {
				// The last n%6 rows of B, copied and padded with zeros.
				r0 := full * rowsMR
				for i := 0; i < rowsMR; i++ {
					row := tailA[i*kc : (i+1)*kc]
					if r0+i < n {
						copy(row, b[(r0+i)*ldb+pc:(r0+i)*ldb+pc+kc])
					} else {
						clear(row)
					}
				}
				for s := 0; s < strips; s++ {
					im.rows(1, kc, &tailA[0], kc, &at[s*k*16+pc*16], &ct[r0*ldt+s*16], ldt, fl)
				}
			}
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
	// C = alpha·Cᵀᵀ + beta·C.
	for j := 0; j < n; j++ {
		col := ct[j*ldt : j*ldt+m]
		for i, v := range col {
			o := i*ldc + j
			switch {
			case beta == 0:
				c[o] = alpha * v
			default:
				c[o] = alpha*v + beta*c[o]
			}
		}
	}
}
