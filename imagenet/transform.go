package imagenet

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"

	"github.com/emosel/emosel/tensor"
)

// Mean and Std are the ImageNet per-channel statistics torchvision's
// Normalize uses, as float32 (torch converts them to the tensor's dtype).
var (
	Mean = [3]float32{0.485, 0.456, 0.406}
	Std  = [3]float32{0.229, 0.224, 0.225}
)

// Mode selects how a picture is brought to the network's square input.
type Mode int

const (
	// Squash resizes straight to Size×Size, ignoring the aspect ratio:
	// torchvision's Resize((Size, Size)), as the paper's code does.
	Squash Mode = iota
	// CenterCrop is torchvision's standard evaluation transform:
	// Resize(Resize) (shorter side to Resize, longer side
	// int(Resize*long/short)) then CenterCrop(Size).
	CenterCrop
)

func (m Mode) String() string {
	switch m {
	case Squash:
		return "Squash"
	case CenterCrop:
		return "CenterCrop"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Config describes the preprocessing. The zero value is the paper's:
// Squash to 224×224.
type Config struct {
	Mode Mode
	// Size is the side of the square output; 0 means 224.
	Size int
	// Resize is CenterCrop's shorter side before cropping; 0 means
	// Size*256/224 rounded down (256 for 224). Squash ignores it.
	Resize int
}

// DefaultSize is the side of ImageNet networks' input.
const DefaultSize = 224

// size returns the output side and CenterCrop's resize target, panicking on
// a nonsensical config.
func (c Config) size() (size, resize int) {
	size, resize = c.Size, c.Resize
	if size == 0 {
		size = DefaultSize
	}
	if resize == 0 {
		resize = size * 256 / DefaultSize
	}
	if size < 0 || resize < 0 || (c.Mode != Squash && c.Mode != CenterCrop) {
		panic(fmt.Sprintf("imagenet: bad Config: Mode %v, Size %d, Resize %d", c.Mode, c.Size, c.Resize))
	}
	return size, max(resize, 1)
}

// Fit applies the geometric steps of the pipeline to a grey picture and
// returns the Size×Size result (bounds from (0, 0)).
//
// Squash: torchvision's Resize((S, S)) on a PIL image, i.e. Resize(g, S, S).
//
// CenterCrop: Resize(R) scales the shorter side to R and the longer side to
// int(R*long/short) (float division, truncated, as torchvision 0.14
// computes it), skipping the resize when the size is unchanged; then
// CenterCrop(S) takes the S×S window at top = round((h-S)/2), left =
// round((w-S)/2) with Python's round-half-to-even. A picture smaller than S
// is first padded with zeros, (S-w)/2 columns on the left and the rest on
// the right (likewise rows), as torchvision does.
func (c Config) Fit(g *image.Gray) *image.Gray {
	size, resize := c.size()
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if c.Mode == Squash {
		return Resize(g, size, size)
	}
	short, long := w, h
	if h < w {
		short, long = h, w
	}
	newLong := int(float64(resize*long) / float64(short))
	nw, nh := resize, newLong
	if w > h {
		nw, nh = newLong, resize
	}
	if nw != w || nh != h {
		g = Resize(g, nw, nh)
	}
	return centerCrop(g, size)
}

// centerCrop is torchvision 0.14's center_crop to size×size on a PIL image,
// padding with 0 when the picture is smaller.
func centerCrop(g *image.Gray, size int) *image.Gray {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	padL, padT := 0, 0
	if size > w {
		padL = (size - w) / 2
		w = size
	}
	if size > h {
		padT = (size - h) / 2
		h = size
	}
	top := int(math.RoundToEven(float64(h-size) / 2))
	left := int(math.RoundToEven(float64(w-size) / 2))
	out := image.NewGray(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		sy := top + y - padT // row in g, or outside it in the padding
		if sy < 0 || sy >= b.Dy() {
			continue
		}
		for x := 0; x < size; x++ {
			sx := left + x - padL
			if sx >= 0 && sx < b.Dx() {
				out.Pix[y*out.Stride+x] = g.Pix[g.PixOffset(b.Min.X+sx, b.Min.Y+sy)]
			}
		}
	}
	return out
}

// NormalizeInto writes the network input for a grey picture to dst, laid
// out [3,H,W]: the grey channel replicated three times (torchvision's
// Grayscale(3)), then ToTensor and Normalize in torchvision's float32 order,
// (float32(v)/255 - Mean[c]) / Std[c].
//
// It panics if len(dst) != 3*H*W.
func NormalizeInto(dst []float32, g *image.Gray) {
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if len(dst) != 3*w*h {
		panic(fmt.Sprintf("imagenet: NormalizeInto: %d floats for a 3x%dx%d picture", len(dst), h, w))
	}
	// A 256-entry table per channel: exactly the per-pixel arithmetic.
	var lut [3][256]float32
	for c := range lut {
		for v := range lut[c] {
			x := float32(v) / 255
			lut[c][v] = (x - Mean[c]) / Std[c]
		}
	}
	for y := 0; y < h; y++ {
		row := g.Pix[g.PixOffset(b.Min.X, b.Min.Y+y):][:w]
		for c := range lut {
			out := dst[(c*h+y)*w : (c*h+y)*w+w]
			for x, v := range row {
				out[x] = lut[c][v]
			}
		}
	}
}

// Normalize returns the network input for one grey picture.
// [H,W] uint8 -> [1,3,H,W]
func Normalize(g *image.Gray) *tensor.Tensor {
	b := g.Bounds()
	t := tensor.New(1, 3, b.Dy(), b.Dx())
	NormalizeInto(t.Data(), g)
	return t
}

// Read decodes an image and runs the whole pipeline: grey as PIL's
// convert("L"), Fit, Normalize. -> [1,3,S,S]
func (c Config) Read(r io.Reader) (*tensor.Tensor, error) {
	g, err := ReadGray(r)
	if err != nil {
		return nil, err
	}
	return Normalize(c.Fit(g)), nil
}

// Load is Read on the named file; its errors name the file.
// -> [1,3,S,S]
func (c Config) Load(path string) (*tensor.Tensor, error) {
	g, err := LoadGray(path)
	if err != nil {
		return nil, err
	}
	return Normalize(c.Fit(g)), nil
}

// LoadBatch runs the pipeline on each file in turn and stacks the results,
// checking ctx between images. Errors name the file.
// N paths -> [N,3,S,S]
func (c Config) LoadBatch(ctx context.Context, paths []string) (*tensor.Tensor, error) {
	size, _ := c.size()
	t := tensor.New(len(paths), 3, size, size)
	per := 3 * size * size
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		g, err := LoadGray(p)
		if err != nil {
			return nil, err
		}
		NormalizeInto(t.Data()[i*per:(i+1)*per], c.Fit(g))
	}
	return t, nil
}

// Load runs the default pipeline (Squash to 224) on the named file.
// -> [1,3,224,224]
func Load(path string) (*tensor.Tensor, error) { return Config{}.Load(path) }

// LoadBatch runs the default pipeline (Squash to 224) on the named files.
// N paths -> [N,3,224,224]
func LoadBatch(ctx context.Context, paths []string) (*tensor.Tensor, error) {
	return Config{}.LoadBatch(ctx, paths)
}
