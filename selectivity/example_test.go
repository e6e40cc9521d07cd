package selectivity_test

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
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

// Recording a set on a network caches the responses; the second call
// reuses them without a forward pass.
func ExampleRecord() {
	dir, err := os.MkdirTemp("", "record-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// A 1/16-width VGG-16 (random init) on 32×32 inputs, for speed.
	m := vgg.New(vgg.Config{Width: 1.0 / 16, Hidden: 8, Classes: 4}, tensor.NewRNG(1))
	set := stimuli.Synthetic("demo", 10, 1, 32)
	pre := imagenet.Config{Size: 32}
	for range 2 {
		rec, err := selectivity.Record(context.Background(), m, set, pre, dir, selectivity.RecordConfig{Seed: 1})
		if err != nil {
			panic(err)
		}
		resp, err := rec.Responses()
		if err != nil {
			panic(err)
		}
		fmt.Printf("cached %v: %d units, %s %v … %s %v\n", rec.Cached, len(resp.Units),
			resp.Units[0], resp.Resp[0].Shape(), resp.Units[12], resp.Resp[12].Shape())
	}
	// Output:
	// cached false: 13 units, conv1_1 [10 4] … conv5_3 [10 32]
	// cached true: 13 units, conv1_1 [10 4] … conv5_3 [10 32]
}

// The cross-set study on two synthetic sets, with the hand-made "layer"
// of the package example (luminance, gradient, a dead channel).
func ExampleAnalyze() {
	var sets []*selectivity.Responses
	for i, name := range []string{"first", "second"} {
		set := stimuli.Synthetic(name, 30, uint64(1+i), 24)
		sets = append(sets, &selectivity.Responses{Set: set, Units: []string{"layer"}, Resp: []*tensor.Tensor{features(set)}})
	}
	s, err := selectivity.Analyze(sets, selectivity.StudyConfig{})
	if err != nil {
		panic(err)
	}
	l := s.Layers[0]
	for k, name := range s.Names() {
		fmt.Printf("%s: %d invalid, selective %v\n", name, l.Results[k].Invalid(), l.Selections[k].Selective)
	}
	for _, o := range l.Overlap {
		fmt.Printf("%-10v both %v, %d channels, expected %.2f, p = %.3f\n", o.Emotion, o.Channels, o.Population, o.Expected, o.P)
	}
	// Output:
	// first: 1 invalid, selective [[0] [] [1]]
	// second: 1 invalid, selective [[0] [] [1]]
	// pleasant   both [0], 3 channels, expected 0.33, p = 0.333
	// neutral    both [], 3 channels, expected 0.00, p = 1.000
	// unpleasant both [1], 3 channels, expected 0.33, p = 0.333
}

func ExampleIntersectTail() {
	// Three sets select 100, 120 and 90 of 512 channels; 10 are selected
	// by all three, where chance expects 512·(100/512)(120/512)(90/512) ≈ 4.1.
	// (Exact rational arithmetic gives 0.0062495….)
	fmt.Printf("%.2g\n", selectivity.IntersectTail(512, []int{100, 120, 90}, 10))
	// Output:
	// 0.0062
}
