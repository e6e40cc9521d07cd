package imagenet_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/emosel/emosel/imagenet"
)

// A 6×4 colour picture, encoded as PNG in memory, goes through the whole
// pipeline at a 4×4 input size. (torchvision gives the same numbers.)
func Example() {
	src := image.NewNRGBA(image.Rect(0, 0, 6, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 6; x++ {
			src.Set(x, y, color.NRGBA{R: uint8(40 * x), G: uint8(60 * y), B: 200, A: 255})
		}
	}
	var file bytes.Buffer
	if err := png.Encode(&file, src); err != nil {
		panic(err)
	}

	t, err := imagenet.Config{Size: 4}.Read(&file)
	if err != nil {
		panic(err)
	}
	fmt.Println(t.Shape())
	for c := 0; c < 3; c++ {
		fmt.Printf("channel %d, row 0: %.4f\n", c, t.Data()[c*16:c*16+4])
	}
	// Output:
	// [1 3 4 4]
	// channel 0, row 0: [-1.6384 -1.3644 -1.0562 -0.7650]
	// channel 1, row 0: [-1.5455 -1.2654 -0.9503 -0.6527]
	// channel 2, row 0: [-1.3164 -1.0376 -0.7238 -0.4275]
}

// The steps one at a time: grey as PIL's convert("L"), PIL's bilinear
// resize, then the normalised tensor. (PIL gives the same bytes.)
func Example_steps() {
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	for i := range src.Pix {
		src.Pix[i] = uint8(29 * i)
	}
	g := imagenet.Gray(src)
	fmt.Println("grey:", g.Pix)
	r := imagenet.Resize(g, 2, 2)
	fmt.Println("resized:", r.Pix)
	fmt.Println(imagenet.Normalize(r))
	// Output:
	// grey: [24 140 76 116 202 92]
	// resized: [68 100 148 133]
	// Tensor[1 3 2 2]
}

func ExampleTopK() {
	logits := make([]float32, imagenet.NumClasses)
	logits[1] = 4 // goldfish
	logits[0] = 2 // tench
	idx, prob := imagenet.TopK(logits, 2)
	for j, i := range idx {
		fmt.Printf("%s %.3f\n", imagenet.Label(i), prob[j])
	}
	// Output:
	// goldfish 0.052
	// tench 0.007
}
