package tensor

import (
	"math"
	"testing"
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
		// sync.Pool keeps a buffer per processor: when the goroutine
		// moves between Put and Get the buffer may be missed, so try
		// until one comes back.
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
