package tensor

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestSharesData(t *testing.T) {
	a := New(4, 3)
	b := New(4, 3)
	for _, c := range []struct {
		name string
		x, y *Tensor
		want bool
	}{
		{"itself", a, a, true},
		{"two tensors", a, b, false},
		{"a reshape", a, a.Reshape(12), true},
		{"a slice", a, a.Slice(1, 2), true},
		{"disjoint slices", a.Slice(0, 2), a.Slice(2, 4), false},
		{"adjacent slices of one row", a.Slice(1, 2), a.Slice(2, 3), false},
		{"overlapping slices", a.Slice(0, 3), a.Slice(2, 4), true},
		{"empty", New(0), a, false},
	} {
		if got := c.x.SharesData(c.y); got != c.want {
			t.Errorf("%s: SharesData = %v, want %v", c.name, got, c.want)
		}
		if got := c.y.SharesData(c.x); got != c.want {
			t.Errorf("%s (swapped): SharesData = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestScratchRecycle: Scratch without a recycled buffer is New (zeros);
// a recycled buffer comes back from Scratch of the same size with the new
// shape, filled with NaN under DebugScratch, and the recycled tensor has
// no data left. Small tensors are recycled only under DebugScratch.
func TestScratchRecycle(t *testing.T) {
	defer DebugScratch(DebugScratch(false))
	z := Scratch(3, scratchMin+7) // a size nobody recycled
	for i, v := range z.Data() {
		if v != 0 {
			t.Fatalf("fresh Scratch: value %d is %v, want 0", i, v)
		}
	}

	small := New(2, 3)
	Recycle(small)
	if small.Len() != 6 {
		t.Fatalf("a small tensor was recycled without DebugScratch")
	}

	for _, debug := range []bool{false, true} {
		DebugScratch(debug)
		n := scratchMin + 11
		if debug {
			n = 10 // every size is recycled in debug mode
		}
		// A collection between Recycle and Scratch may age the buffer
		// out, so try until one comes back.
		reused := false
		for try := 0; try < 100 && !reused; try++ {
			x := New(n)
			for i := range x.Data() {
				x.Data()[i] = 1
			}
			p := &x.Data()[0]
			Recycle(x)
			if x.Data() != nil {
				t.Fatalf("debug=%v: Recycle left data in the tensor", debug)
			}
			y := Scratch(1, n)
			if y.Len() != n || y.Rank() != 2 {
				t.Fatalf("debug=%v: Scratch(1, %d) has shape %v", debug, n, y.Shape())
			}
			if &y.Data()[0] != p {
				continue
			}
			reused = true
			for i, v := range y.Data() {
				if debug && !math.IsNaN(float64(v)) || !debug && v != 1 {
					t.Fatalf("debug=%v: reused value %d is %v", debug, i, v)
				}
			}
		}
		if !reused {
			t.Fatalf("debug=%v: Scratch never reused a recycled buffer", debug)
		}
	}
}

// TestScratchFit: a recycled buffer of m floats serves the smallest
// requests from m/scratchFit to m floats (the tensor has the requested
// length, the memory is the buffer's), Recycle of that tensor hands the
// whole buffer back, and requests outside that range get fresh memory.
// Of two buffers that fit, the smaller is taken.
func TestScratchFit(t *testing.T) {
	defer DebugScratch(DebugScratch(false))
	resetScratch()
	defer resetScratch()
	m := 8 * scratchMin
	big := New(m)
	p := &big.Data()[0]
	Recycle(big)
	if y := Scratch(m + 1); &y.Data()[0] == p {
		t.Fatalf("a buffer of %d served %d floats", m, m+1)
	}
	if y := Scratch(m/scratchFit - 1); &y.Data()[0] == p {
		t.Fatalf("a buffer of %d served %d floats (more than %d× smaller)", m, m/scratchFit-1, scratchFit)
	}
	y := Scratch(2, m/4)
	if &y.Data()[0] != p || y.Len() != m/2 || !y.HasShape(2, m/4) {
		t.Fatalf("Scratch(2, %d) of a recycled %d-float buffer: len %d, shape %v, reused %v", m/4, m, y.Len(), y.Shape(), &y.Data()[0] == p)
	}
	Recycle(y)
	if z := Scratch(m); &z.Data()[0] != p || z.Len() != m {
		t.Fatalf("the whole buffer did not come back after Recycle of a part (len %d)", z.Len())
	}

	mid := New(2 * scratchMin)
	q := &mid.Data()[0]
	Recycle(New(m))
	Recycle(mid)
	if y := Scratch(scratchMin + 1); &y.Data()[0] != q {
		t.Fatalf("Scratch took the larger of two fitting buffers")
	}
}

// TestScratchAges: recycled buffers nobody takes are dropped by the
// garbage collector (within a few collections), so recycling does not pin
// memory.
func TestScratchAges(t *testing.T) {
	resetScratch()
	defer resetScratch()
	Recycle(New(scratchMin))
	for i := 0; i < 100 && scratchLen() > 0; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if n := scratchLen(); n > 0 {
		t.Fatalf("%d recycled buffers survived 100 collections", n)
	}
}

func scratchLen() int {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	return len(scratch.cur) + len(scratch.old)
}

func resetScratch() {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	scratch.cur, scratch.old = nil, nil
}
