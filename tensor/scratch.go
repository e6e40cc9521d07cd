package tensor

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// scratchMin is the smallest buffer, in float32s, that Recycle keeps:
// below 64 KiB a fresh allocation costs about as little as a reused one.
const scratchMin = 1 << 14

// scratchFit is how many times larger than a request a recycled buffer
// may be and still serve it: a forward pass's activations shrink layer by
// layer (ResNet's stages halve them), so the buffers of one stage serve
// the next instead of being held while the next allocates its own; past
// 4× the waste would be worse than a fresh allocation.
const scratchFit = 4

// scratch is the free list of recycled buffers. A buffer stays in it for
// at most two garbage collections unused (cur holds those recycled since
// the last one, old those before), so recycling never pins memory.
var scratch struct {
	mu       sync.Mutex
	cur, old [][]float32
	armed    bool // a sentinel will report the next collection
}

var scratchDebug atomic.Bool

// recycled reports whether a buffer of n floats is recycled.
func recycled(n int) bool { return n >= scratchMin || n > 0 && scratchDebug.Load() }

// Scratch returns a tensor of the given shape whose values are
// unspecified: its buffer may be one that Recycle handed back, not
// cleared. It is for outputs that the caller overwrites entirely, which
// then skip New's zeroing and reuse memory that is already mapped and
// often still in cache (a network's forward pass allocates its
// activations anew for every batch: recycling them made AlexNet
// 1.07–1.08× faster). The buffer may be larger than the tensor (up to
// scratchFit times): the smallest free one that fits is taken, so the
// memory of a pass is about the most it holds at once rather than the sum
// over the sizes it uses. Without a recycled buffer that fits, Scratch is
// New.
func Scratch(shape ...int) *Tensor {
	n := numel(shape)
	if recycled(n) {
		if b := takeScratch(n); b != nil {
			if scratchDebug.Load() {
				nan := float32(math.NaN())
				for i := range b {
					b[i] = nan
				}
			}
			return &Tensor{shape: slices.Clone(shape), data: b[:n], buf: b}
		}
	}
	return New(shape...)
}

// takeScratch removes from the free list and returns the smallest buffer
// of n to scratchFit·n floats, or nil.
func takeScratch(n int) []float32 {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	var best *[][]float32
	bi := -1
	for _, l := range []*[][]float32{&scratch.cur, &scratch.old} {
		for i, b := range *l {
			if len(b) >= n && len(b)/scratchFit <= n && (bi < 0 || len(b) < len((*best)[bi])) {
				best, bi = l, i
			}
		}
	}
	if bi < 0 {
		return nil
	}
	l := *best
	b := l[bi]
	l[bi] = l[len(l)-1]
	l[len(l)-1] = nil
	*best = l[:len(l)-1]
	return b
}

// Recycle hands t's buffer to later Scratch calls and leaves t without
// data (its Data is nil). The caller must be the only user of the buffer:
// no other tensor may share it (as a view from Reshape or Slice does) and
// nobody may read or write it after the call. Small tensors are left to
// the garbage collector.
func Recycle(t *Tensor) {
	if t == nil || len(t.data) == 0 {
		return
	}
	b := t.data[:len(t.data):len(t.data)]
	if t.buf != nil && unsafe.SliceData(t.buf) == unsafe.SliceData(t.data) {
		b = t.buf
	}
	if !recycled(len(b)) {
		return
	}
	t.data, t.buf = nil, nil
	scratch.mu.Lock()
	scratch.cur = append(scratch.cur, b)
	if !scratch.armed {
		scratch.armed = true
		armScratch()
	}
	scratch.mu.Unlock()
}

// armScratch makes the next garbage collection age the free list: a
// fresh sentinel object becomes unreachable at once, and its cleanup,
// run after the collection that finds it, drops old, moves cur to old and
// arms again while buffers remain.
func armScratch() {
	s := new([64]byte) // not a tiny allocation, which could be batched
	runtime.AddCleanup(s, func(struct{}) { ageScratch() }, struct{}{})
}

func ageScratch() {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	clear(scratch.old)
	scratch.old, scratch.cur = scratch.cur, scratch.old[:0]
	scratch.armed = len(scratch.old) > 0
	if scratch.armed {
		armScratch()
	}
}

// DebugScratch, with on true, makes Recycle keep buffers of every size
// and Scratch fill the buffers it reuses with NaN, so that a producer
// which fails to write every element of its output shows up in tests,
// even on small networks. It returns the previous setting.
func DebugScratch(on bool) bool { return scratchDebug.Swap(on) }

// SharesData reports whether t and u have any element memory in common:
// one is a view of the other (Reshape, Slice) or both are views of one
// buffer.
func (t *Tensor) SharesData(u *Tensor) bool {
	if len(t.data) == 0 || len(u.data) == 0 {
		return false
	}
	a0 := uintptr(unsafe.Pointer(unsafe.SliceData(t.data)))
	b0 := uintptr(unsafe.Pointer(unsafe.SliceData(u.data)))
	a1 := a0 + uintptr(len(t.data))*4
	b1 := b0 + uintptr(len(u.data))*4
	return a0 < b1 && b0 < a1
}
