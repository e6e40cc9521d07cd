package selectivity_test

import (
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
)

// features stands in for a network layer: three "channels" per image, its
// mean luminance, its mean horizontal gradient, and a dead unit.
func features(set *stimuli.Set) *tensor.Tensor {
	resp := tensor.New(len(set.Images), 3)
	for i := range set.Images {
		rc, err := set.Open(i)
		if err != nil {
			panic(err)
		}
		img, err := png.Decode(rc)
		rc.Close()
		if err != nil {
			panic(err)
		}
		g := img.(*image.Gray)
		var lum, grad float64
		w, h := g.Rect.Dx(), g.Rect.Dy()
		for y := range h {
			for x := range w {
				p := float64(g.Pix[y*g.Stride+x])
				lum += p
				if x > 0 {
					grad += math.Abs(p - float64(g.Pix[y*g.Stride+x-1]))
				}
			}
		}
		resp.Set(float32(lum/float64(w*h)), i, 0)
		resp.Set(float32(grad/float64((w-1)*h)), i, 1)
	}
	return resp
}

func Example() {
	set := stimuli.Synthetic("demo", 30, 1, 24)
	resp := features(set) // [30, 3]

	r, err := selectivity.Index(resp, set.Labels(), selectivity.Config{})
	if err != nil {
		panic(err)
	}
	for c, n := range r.Neurons {
		fmt.Printf("channel %d: SI %.2f, prefers %v, flaw %v\n", c, n.SI, n.Preferred, n.Flaw)
	}
	fmt.Println("invalid channels:", r.Invalid())
	// Output:
	// channel 0: SI 10.20, prefers pleasant, flaw ok
	// channel 1: SI 3.07, prefers unpleasant, flaw ok
	// channel 2: SI NaN, prefers unknown, flaw dead
	// invalid channels: 1
}

// The selection and cross-set overlap on a tiny hand-made layer.
func ExampleCompare() {
	labels := []stimuli.Category{stimuli.Pleasant, stimuli.Pleasant, stimuli.Neutral, stimuli.Neutral, stimuli.Unpleasant, stimuli.Unpleasant}
	// Five channels: pleasant-, neutral- and unpleasant-preferring, then
	// two weak ones.
	setA := tensor.From([]float32{
		9, 1, 0, 2, 5,
		8, 2, 1, 3, 4,
		1, 9, 0, 2, 5,
		2, 8, 1, 2, 5,
		1, 1, 9, 3, 4,
		2, 2, 8, 2, 5,
	}, 6, 5)
	setB := tensor.From([]float32{
		7, 2, 1, 1, 4,
		9, 1, 0, 3, 5,
		1, 8, 1, 2, 5,
		0, 9, 2, 2, 4,
		2, 1, 7, 2, 5,
		1, 0, 9, 3, 5,
	}, 6, 5)
	ra, _ := selectivity.Index(setA, labels, selectivity.Config{})
	rb, _ := selectivity.Index(setB, labels, selectivity.Config{})
	sa, sb := ra.Select(selectivity.DefaultKeep), rb.Select(selectivity.DefaultKeep)
	fmt.Printf("set A keeps SI >= %.2f: %v\n", sa.Cut, sa.Kept)
	for _, o := range selectivity.Compare(sa, sb) {
		fmt.Printf("%-10v shared %v of %d, expected %.2f, p = %.3f\n", o.Emotion, o.Channels, o.Population, o.Expected, o.P)
	}
	// Output:
	// set A keeps SI >= 1.00: [true true true false true]
	// pleasant   shared [0] of 5, expected 0.20, p = 0.200
	// neutral    shared [1] of 5, expected 0.40, p = 0.400
	// unpleasant shared [2] of 5, expected 0.40, p = 0.400
}

func ExampleTop() {
	set := stimuli.Synthetic("demo", 30, 1, 24)
	resp := features(set)
	top := selectivity.Top(resp, set.Labels(), 0, 5) // brightest five
	val := selectivity.Gather(set.Valences(), top)
	fmt.Println(top, val)
	s := selectivity.Describe(val)
	fmt.Printf("median valence %.2f\n", s.Median)
	// Output:
	// [5 14 9 21 6] [6.63 7.51 6.72 7.52 7.6]
	// median valence 7.51
}

func ExampleUpperTail() {
	// 512 channels; 100 selective for pleasant in IAPS, 120 in NAPS, 40 in
	// both. Chance expects 100·120/512 ≈ 23.4.
	fmt.Printf("%.2g\n", selectivity.UpperTail(512, 100, 120, 40))
	// Output:
	// 2.5e-05
}
