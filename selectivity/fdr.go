package selectivity

import (
	"math"
	"sort"
)

// BH returns Benjamini–Hochberg adjusted p-values (q-values) in the order of
// p: q_(i) = min over j ≥ i of p_(j)·m/j, capped at 1, where p_(1) ≤ … ≤ p_(m)
// and m counts the p-values that are not NaN. A NaN stays NaN and does not
// count towards m. Selecting the units with q ≤ level controls the false
// discovery rate at that level under independence or positive dependence.
func BH(p []float64) []float64 {
	q := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			q[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := float64(len(idx))
	running := 1.0
	for r := len(idx) - 1; r >= 0; r-- {
		v := p[idx[r]] * m / float64(r+1)
		if v < running {
			running = v
		}
		q[idx[r]] = running
	}
	return q
}
