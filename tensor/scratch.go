package tensor

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
)

// scratchMin is the smallest buffer, in float32s, that Recycle keeps:
// below 64 KiB a fresh allocation costs about as little as a reused one.
const scratchMin = 1 << 14

// scratchPools holds, per buffer length, a sync.Pool of recycled buffers
// (*[]float32). Pooled buffers that stay unused are dropped by the
// garbage collector within two cycles, so recycling never pins memory.
var scratchPools sync.Map

var scratchDebug atomic.Bool

// recycled reports whether a buffer of n floats is recycled.
func recycled(n int) bool { return n >= scratchMin || n > 0 && scratchDebug.Load() }

// Scratch returns a tensor of the given shape whose values are
// unspecified: its buffer may be one that Recycle handed back, not
// cleared. It is for outputs that the caller overwrites entirely, which
// then skip New's zeroing and reuse memory that is already mapped and
// often still in cache (a network's forward pass allocates its
// activations anew for every batch: recycling them made AlexNet
// 1.07–1.08× faster). Without a recycled buffer of that size, Scratch is
// New.
func Scratch(shape ...int) *Tensor {
	n := numel(shape)
	if recycled(n) {
		if p, ok := scratchPools.Load(n); ok {
			if b, _ := p.(*sync.Pool).Get().(*[]float32); b != nil {
				if scratchDebug.Load() {
					nan := float32(math.NaN())
					for i := range *b {
						(*b)[i] = nan
					}
				}
				return &Tensor{shape: slices.Clone(shape), data: *b}
			}
		}
	}
	return New(shape...)
}

// Recycle hands t's buffer to later Scratch calls of the same size and
// leaves t without data (its Data is nil). The caller must be
// the only user of the buffer: no other tensor may share it (as a view
// from Reshape or Slice does) and nobody may read or write it after the
// call. Small tensors are left to the garbage collector.
func Recycle(t *Tensor) {
	if t == nil || !recycled(len(t.data)) {
		return
	}
	b := t.data[:len(t.data):len(t.data)]
	t.data = nil
	p, _ := scratchPools.LoadOrStore(len(b), new(sync.Pool))
	p.(*sync.Pool).Put(&b)
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
