package golden

import (
	"math"
	"testing"

	"github.com/emosel/emosel/tensor"
)

func TestDiff(t *testing.T) {
	want := tensor.From([]float32{1, -10, 3, float32(math.NaN())}, 2, 2)
	same := want.Clone()
	if d := Diff(same, want, 1e-6); d != "" {
		t.Fatalf("identical arrays differ: %s", d)
	}
	near := tensor.From([]float32{1 + 5e-5, -10, 3, float32(math.NaN())}, 2, 2)
	if d := Diff(near, want, 1e-5); d != "" { // 5e-5 <= 1e-5*10
		t.Errorf("within tolerance but reported: %s", d)
	}
	far := tensor.From([]float32{1, -10, 3.01, float32(math.NaN())}, 2, 2)
	if d := Diff(far, want, 1e-5); d == "" {
		t.Error("0.01 off at max 10 with tol 1e-5 not reported")
	}
	nan := tensor.From([]float32{1, -10, 3, 0}, 2, 2)
	if d := Diff(nan, want, 1); d == "" {
		t.Error("missing NaN not reported")
	}
	if d := Diff(tensor.New(4), want, 1); d == "" {
		t.Error("shape mismatch not reported")
	}
}
