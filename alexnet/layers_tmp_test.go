package alexnet

import (
	"fmt"
	"testing"
	"time"

	"github.com/emosel/emosel/tensor"
)

func TestTmpLayerTimes(t *testing.T) {
	m := Random(1)
	x := tensor.New(16, 3, 224, 224)
	tensor.NewRNG(2).Normal(x, 0, 1)
	m.Forward(x)
	s := m.Net
	tot := map[string]time.Duration{}
	var all time.Duration
	for rep := 0; rep < 5; rep++ {
		y := x
		for i := 0; i < s.Len(); i++ {
			t0 := time.Now()
			y = s.ForwardRange(i, i+1, y)
			tot[s.Names()[i]] += time.Since(t0)
		}
		t0 := time.Now()
		m.Forward(x)
		all += time.Since(t0)
	}
	for i := 0; i < s.Len(); i++ {
		n := s.Names()[i]
		fmt.Printf("%-12s %-40.40v %8.2f ms\n", n, s.Layer(i), float64(tot[n].Microseconds())/5000)
	}
	fmt.Printf("whole forward %8.2f ms\n", float64(all.Microseconds())/5000)
}
