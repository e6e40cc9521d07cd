package manipulate

import (
	"fmt"
	"math"
)

// CheckAlpha returns an error unless α is a finite gain of at least −1
// (−1 silences a neuron; the ReLU's slope 1+α must not be negative).
func CheckAlpha(alpha float64) error {
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) || alpha < -1 {
		return fmt.Errorf("manipulate: gain α = %v is outside [-1, ∞)", alpha)
	}
	return nil
}

// Gain returns a gain vector [channels] that is α on the listed units
// and 0 (no change) elsewhere: install it on a unit's ReLU for
// y = (1+α)·max(0, x). α = −1 lesions the units, α > 0 is attention.
// It panics if α fails CheckAlpha or a unit is out of range.
func Gain(channels int, units []int, alpha float64) []float32 {
	if err := CheckAlpha(alpha); err != nil {
		panic(err.Error())
	}
	g := make([]float32, channels)
	for _, u := range units {
		if u < 0 || u >= channels {
			panic(fmt.Sprintf("manipulate: unit %d out of range [0, %d)", u, channels))
		}
		g[u] = float32(alpha)
	}
	return g
}

// Lesion returns Gain(channels, units, −1).
func Lesion(channels int, units []int) []float32 { return Gain(channels, units, -1) }
