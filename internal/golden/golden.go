// Package golden compares emosel's outputs with reference arrays (PyTorch
// fixtures stored as .npy), for tests only.
package golden

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/tensor"
)

// Load reads a .npy fixture, failing the test if it cannot.
func Load(t testing.TB, path string) *tensor.Tensor {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return x
}

// Diff returns "" if got and want have the same shape and every element
// satisfies |got−want| <= tol·max|want| (a relative tolerance scaled by the
// array's largest finite magnitude; NaN equals only NaN and an infinity
// only itself); otherwise it describes the worst element: its index, got,
// want and the bound.
func Diff(got, want *tensor.Tensor, tol float64) string {
	if !got.SameShape(want) {
		return fmt.Sprintf("shape %v, want %v", got.Shape(), want.Shape())
	}
	var scale float64
	for _, v := range want.Data() {
		if a := math.Abs(float64(v)); a > scale && !math.IsInf(a, 0) {
			scale = a
		}
	}
	bound := tol * scale
	if bound == 0 {
		bound = tol
	}
	worst, wi := -1.0, -1
	g, w := got.Data(), want.Data()
	for i := range w {
		gv, wv := float64(g[i]), float64(w[i])
		if math.IsNaN(wv) || math.IsNaN(gv) || math.IsInf(wv, 0) || math.IsInf(gv, 0) {
			if gv != wv && !(math.IsNaN(wv) && math.IsNaN(gv)) {
				return fmt.Sprintf("index %d: got %v, want %v", i, gv, wv)
			}
			continue
		}
		if d := math.Abs(gv - wv); d > worst {
			worst, wi = d, i
		}
	}
	if worst > bound {
		return fmt.Sprintf("worst index %d (of shape %v): got %v, want %v, |diff| %.3g > %.3g (tol %g × max|want| %.3g)",
			wi, want.Shape(), g[wi], w[wi], worst, bound, tol, scale)
	}
	return ""
}

// Check fails the test with Diff's description, prefixed by what, when
// got and want differ by more than tol relative to max|want|.
func Check(t testing.TB, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if d := Diff(got, want, tol); d != "" {
		t.Errorf("%s: %s", what, d)
	}
}

// Require is Check, stopping the test on a difference.
func Require(t testing.TB, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if d := Diff(got, want, tol); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

// Panics runs f and fails the test unless it panics with a message that
// starts with prefix (e.g. "conv: ") and mentions every string in want.
func Panics(t testing.TB, prefix string, want []string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one mentioning %q", want)
		}
		msg := fmt.Sprint(r)
		if !strings.HasPrefix(msg, prefix) {
			t.Errorf("panic %q lacks the %q prefix", msg, prefix)
		}
		for _, w := range want {
			if !strings.Contains(msg, w) {
				t.Errorf("panic %q does not mention %q", msg, w)
			}
		}
	}()
	f()
}
