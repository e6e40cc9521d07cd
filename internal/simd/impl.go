package simd

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// impl is one implementation of the GEMM engine: a micro-kernel, its tile
// and the cache blocking chosen for it on this machine.
type impl struct {
	name   string
	mr, nr int // tile: rows of an A micro-panel, columns of a B strip
	kernel kernelFunc
	rows   rowsKernelFunc // nil: Sgemm never takes the rows path

	// Cache blocking (BLIS's KC, MC, NC): a B strip kc×nr stays in L1,
	// an A block mc×kc in L2, a B panel kc×nc in L3.
	kc, mc, nc int
}

// knownNames are all the implementation names any build may offer, in the
// order of preference.
var knownNames = []string{"AVX512", "AVX2", "NEON", "Go"}

var (
	impls   []*impl // available on this machine and build, best first
	active  atomic.Pointer[impl]
	threads atomic.Int64 // 0: GOMAXPROCS
)

// envErr is the error in EMOSEL_SIMD, if any.
var envErr error

// EnvError returns the error in the environment variable EMOSEL_SIMD (a
// name no build knows), or nil. The default implementation is then in
// use.
func EnvError() error { return envErr }

func init() {
	impls = append(archImpls(), &impl{name: "Go", mr: goMR, nr: goNR, kernel: sgemmKernelGo})
	l1, l2 := cacheSizes()
	for _, im := range impls {
		im.kc, im.mc, im.nc = blocking(im.mr, im.nr, l1, l2)
	}
	active.Store(impls[0])
	if v := os.Getenv("EMOSEL_SIMD"); v != "" {
		name, ok := canonicalName(v)
		if !ok {
			// Not a panic: the variable comes from the user. The default
			// stays, and EnvError says why; the commands refuse to start.
			envErr = fmt.Errorf("EMOSEL_SIMD=%q names no implementation (want go, avx2, avx512 or neon)", v)
			return
		}
		// A name this machine or build lacks leaves the default in place;
		// Active says which one runs.
		_ = Use(name)
	}
}

// cacheSizes returns the per-core L1d and L2 sizes in bytes, with Zen 4's
// values (32 KiB, 1 MiB) where cpuid does not know them.
func cacheSizes() (l1, l2 int) {
	l1, l2 = 32<<10, 1<<20
	c := cpuid.CPU.Cache
	if c.L1D > 0 {
		l1 = c.L1D
	}
	if c.L2 > 0 {
		l2 = c.L2
	}
	return l1, l2
}

// blocking picks KC, MC and NC for an mr×nr kernel. The B strip (kc×nr)
// takes three quarters of L1d, the A block (mc×kc) half of L2 and the
// packed B panel (kc×nc) three quarters. Unlike BLIS's usual B panel in
// L3, the panel is small: packed just before use and read back from L2, it
// never goes to memory and back, which measured 1.3-1.5× faster on the
// wide, shallow layers (conv1_2, conv2_2) that DRAM bandwidth limits.
// On Zen 3 (32 KiB L1d, 512 KiB L2) with nr=16: KC=384, MC=168 (mr=6),
// NC=256; Zen 4's 1 MiB L2 doubles MC and NC.
func blocking(mr, nr, l1, l2 int) (kc, mc, nc int) {
	kc = clamp(l1*3/4/(4*nr), 64, 512) &^ 15
	mc = clamp(l2/2/(4*kc), mr, 1024) / mr * mr
	nc = clamp(l2*3/4/(4*kc), nr, 4096) / nr * nr
	return kc, mc, nc
}

func clamp(x, lo, hi int) int { return max(lo, min(hi, x)) }

func canonicalName(s string) (string, bool) {
	for _, n := range knownNames {
		if strings.EqualFold(n, s) {
			return n, true
		}
	}
	return "", false
}

// Impls lists the implementations this machine can run, best first, by
// name: "AVX512", "AVX2", "NEON", "Go".
func Impls() []string {
	names := make([]string, len(impls))
	for i, im := range impls {
		names[i] = im.name
	}
	return names
}

// Use selects the named implementation for all later calls (tests and
// benchmarks use it to force a path). It returns an error if the machine
// or the build lacks it. Names match case-insensitively. Calls already
// running finish on the implementation they started with.
func Use(name string) error {
	canon, ok := canonicalName(name)
	if !ok {
		return fmt.Errorf("simd: no implementation named %q (this build has %s)", name, strings.Join(Impls(), ", "))
	}
	for _, im := range impls {
		if im.name == canon {
			active.Store(im)
			return nil
		}
	}
	return fmt.Errorf("simd: implementation %s not available (this machine and build have %s)", canon, strings.Join(Impls(), ", "))
}

// Active returns the name of the implementation in use.
func Active() string { return active.Load().name }

// NR returns the strip width of the active implementation: the nr that
// GemmPacked passes to BPacker.PackB.
func NR() int { return active.Load().nr }

// SetThreads sets how many goroutines one Sgemm or GemmPacked call may use
// and returns the previous setting. n <= 0 means runtime.GOMAXPROCS(0),
// the default. Small products use fewer.
func SetThreads(n int) int {
	return int(threads.Swap(int64(max(n, 0))))
}

// Threads returns the number of goroutines a large product would use now.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}
