package figure

import (
	"math"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"
)

func labels(ticks []plot.Tick) string {
	var s []string
	for _, t := range ticks {
		s = append(s, t.Label)
	}
	return strings.Join(s, " ")
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi  float64
		integer bool
		want    string
	}{
		{-100, 0, false, "-100 -80 -60 -40 -20 0"},
		{-104, 3, false, "-100 -80 -60 -40 -20 0"},
		{0, 1, false, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{0, 1.2, false, "0.00 0.25 0.50 0.75 1.00"},
		{0, 2.5, false, "0.0 0.5 1.0 1.5 2.0 2.5"},
		{0, 2.5, true, "0 1 2"},
		{0, 0.4, true, "0"},
		{0.2, 0.8, true, ""},
		{0, 390, true, "0 100 200 300"},
		{0, 50, false, "0 10 20 30 40 50"}, {0, 20, false, "0 5 10 15 20"},
		{3, 3, false, "3"},
		{0.5, 0.5, true, ""},
		{2e8, 3e8, false, "2.0e+08 2.2e+08 2.4e+08 2.6e+08 2.8e+08 3.0e+08"},
		{1, 1 + 1e-6, false, "1.0000000e+00 1.0000002e+00 1.0000004e+00 1.0000006e+00 1.0000008e+00 1.0000010e+00"},
		{5, -5, false, "-4 -2 0 2 4"},
	} {
		if got := labels(Ticks{Integer: c.integer}.Ticks(c.lo, c.hi)); got != c.want {
			t.Errorf("Ticks{Integer: %v}(%g, %g) = %q, want %q", c.integer, c.lo, c.hi, got, c.want)
		}
	}
}

// Degenerate ranges end at once with at most a few ticks: an earlier
// tick generator looped for ever on some of them.
func TestTicksDegenerate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := [][2]float64{{nan, nan}, {nan, 1}, {0, nan}, {-inf, inf}, {0, inf}, {-inf, 0}, {inf, inf},
		{0, 0}, {-math.MaxFloat64, math.MaxFloat64}, {0, math.MaxFloat64}, {0, 5e-324}, {1e300, 1e300 * (1 + 1e-15)},
		{1e16, 1e16 + 2}, {-1e-320, 1e-320}, {0, 1e-300}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, c := range cases {
			for _, tk := range []Ticks{{}, {Integer: true}, {N: 1 << 40}, {N: -3}} {
				ticks := tk.Ticks(c[0], c[1])
				if len(ticks) > maxTicks {
					t.Errorf("%+v.Ticks(%g, %g): %d ticks", tk, c[0], c[1], len(ticks))
				}
				kinds := map[string]bool{}
				for _, x := range ticks {
					if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
						t.Errorf("%+v.Ticks(%g, %g): tick at %g", tk, c[0], c[1], x.Value)
					}
					if x.Label == "" || strings.Contains(x.Label, "NaN") || x.Label == "-0" {
						t.Errorf("%+v.Ticks(%g, %g): label %q", tk, c[0], c[1], x.Label)
					}
					kinds[formatOf(x.Label)] = true
				}
				if len(kinds) > 1 {
					t.Errorf("%+v.Ticks(%g, %g): labels %q in %d formats", tk, c[0], c[1], labels(ticks), len(kinds))
				}
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Ticks did not return within 10 s")
	}
}

// TestSaveDegenerate saves panels whose ranges are empty, NaN or
// infinite: they must be written, not hang or panic.
func TestSaveDegenerate(t *testing.T) {
	var grid []*plot.Plot
	for _, r := range [][2]float64{{0, 0}, {math.NaN(), math.NaN()}, {math.Inf(-1), math.Inf(1)}, {1, 1 + 1e-13}} {
		p := New("degenerate")
		p.Y.Min, p.Y.Max = r[0], r[1]
		Counts(p)
		p.Y.Min = r[0]
		Headroom(p, 0.2)
		grid = append(grid, p)
	}
	done := make(chan error, 1)
	go func() { done <- SaveTiles([][]*plot.Plot{grid}, 0, t.TempDir()+"/d") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SaveTiles did not return within 60 s")
	}
}

// formatOf is figuretest.Format's key, here to avoid an import cycle.
func formatOf(s string) string {
	s = strings.TrimPrefix(s, "-")
	kind := "f"
	if m, _, ok := strings.Cut(s, "e"); ok {
		kind, s = "e", m
	}
	_, frac, _ := strings.Cut(s, ".")
	return kind + string(rune('0'+len(frac)))
}
