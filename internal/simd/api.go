package simd

// PROVISIONAL naive implementation of the public contract, written so that
// conv/nn can be developed in parallel. The simd owner replaces the bodies
// (blocking, packing, asm kernels, dispatch, threads) but keeps the
// exported signatures and semantics below.

import "fmt"

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices, where
// op(X) is X or Xᵀ. op(A) is [m,k], op(B) is [k,n], C is [m,n] with row
// stride ldc. With beta == 0, C is not read (NaNs in C do not propagate).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("simd: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
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
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// PackedA is a left operand A [M,K] packed once (for weights) and reused
// for many products. It is immutable and safe for concurrent use.
type PackedA struct {
	M, K int
	a    []float32 // provisional: plain row-major copy
}

// PackA packs the row-major matrix A [m,k] with row stride lda.
func PackA(m, k int, a []float32, lda int) *PackedA {
	p := &PackedA{M: m, K: k, a: make([]float32, m*k)}
	for i := 0; i < m; i++ {
		copy(p.a[i*k:(i+1)*k], a[i*lda:i*lda+k])
	}
	return p
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
	strips := (nc + nr - 1) / nr
	for s := 0; s < strips; s++ {
		for p := 0; p < kc; p++ {
			row := dst[(s*kc+p)*nr : (s*kc+p+1)*nr]
			for q := 0; q < nr; q++ {
				j := j0 + s*nr + q
				if j >= j0+nc {
					row[q] = 0
					continue
				}
				if d.Trans {
					row[q] = d.Data[j*d.Ld+k0+p]
				} else {
					row[q] = d.Data[(k0+p)*d.Ld+j]
				}
			}
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
	const nr = 8
	strips := (n + nr - 1) / nr
	buf := make([]float32, strips*nr*a.K)
	b.PackB(buf, 0, a.K, 0, n, nr)
	for i := 0; i < a.M; i++ {
		var rowSum float32
		for j := 0; j < n; j++ {
			s, q := j/nr, j%nr
			var acc float32
			for p := 0; p < a.K; p++ {
				acc += a.a[i*a.K+p] * buf[(s*a.K+p)*nr+q]
			}
			if ep.Bias != nil {
				acc += ep.Bias[i]
			}
			if ep.ReLU {
				if acc < 0 {
					acc = 0
				}
				if ep.Gain != nil {
					acc *= 1 + ep.Gain[i]
				}
			}
			c[i*ldc+j] = acc
			rowSum += acc
		}
		if ep.RowSums != nil {
			ep.RowSums[i] += rowSum
		}
	}
}

// Impls lists the implementations this machine can run, best first, by
// name: "AVX512", "AVX2", "NEON", "Go".
func Impls() []string { return []string{"Go"} }

// Use selects the named implementation for all later calls (tests and
// benchmarks use it to force a path). It returns an error if the machine
// or the build lacks it.
func Use(name string) error {
	if name != "Go" {
		return fmt.Errorf("simd: implementation %q not available", name)
	}
	return nil
}

// Active returns the name of the implementation in use.
func Active() string { return "Go" }
