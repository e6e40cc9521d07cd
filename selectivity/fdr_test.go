package selectivity

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bhNaive is the definition written as a double loop: q_i is the smallest
// p_j·m/rank_j over every p_j ≥ p_i, capped at 1.
func bhNaive(p []float64) []float64 {
	var valid []float64
	for _, v := range p {
		if !math.IsNaN(v) {
			valid = append(valid, v)
		}
	}
	m := float64(len(valid))
	q := make([]float64, len(p))
	for i, pi := range p {
		if math.IsNaN(pi) {
			q[i] = math.NaN()
			continue
		}
		best := 1.0
		for _, pj := range valid {
			if pj < pi {
				continue
			}
			rank := 0 // rank of pj: how many valid p are ≤ pj
			for _, pk := range valid {
				if pk <= pj {
					rank++
				}
			}
			if v := pj * m / float64(rank); v < best {
				best = v
			}
		}
		q[i] = best
	}
	return q
}

func TestBHAgainstDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := rng.IntN(40)
		p := make([]float64, n)
		for i := range p {
			switch rng.IntN(6) {
			case 0:
				p[i] = math.NaN()
			case 1:
				p[i] = float64(rng.IntN(4)) / 4 // ties
			default:
				p[i] = rng.Float64() * rng.Float64()
			}
		}
		got, want := BH(p), bhNaive(p)
		for i := range p {
			if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-15) {
				t.Fatalf("trial %d: q[%d] = %v, want %v (p = %v)", trial, i, got[i], want[i], p)
			}
		}
	}
}

func TestBHKnownValues(t *testing.T) {
	// Worked by hand: m = 4, sorted p 0.01 0.02 0.03 0.5 -> 0.04 0.04 0.04 0.5.
	got := BH([]float64{0.5, 0.03, 0.01, 0.02})
	want := []float64{0.5, 0.04, 0.04, 0.04}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Fatalf("BH = %v, want %v", got, want)
		}
	}
}
