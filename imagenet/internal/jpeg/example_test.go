package jpeg_test

import (
	"bytes"
	"fmt"
	"image"
	stdjpeg "image/jpeg"

	"github.com/emosel/emosel/imagenet/internal/jpeg"
)

// A grey 16×8 JPEG written by the standard library and read back: a grey
// JPEG decodes to an *image.Gray.
func ExampleDecode() {
	g := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 2)
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, g, &stdjpeg.Options{Quality: 90}); err != nil {
		panic(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(buf.Bytes()))
	fmt.Println(cfg.Width, cfg.Height, err)
	img, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		panic(err)
	}
	out := img.(*image.Gray)
	worst := 0
	for i, v := range out.Pix {
		worst = max(worst, int(v)-int(g.Pix[i]), int(g.Pix[i])-int(v))
	}
	fmt.Printf("%T %v, within %d grey levels: %v\n", img, img.Bounds(), 8, worst <= 8)
	// Output:
	// 16 8 <nil>
	// *image.Gray (0,0)-(16,8), within 8 grey levels: true
}
