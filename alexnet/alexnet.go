package alexnet

import (
	"fmt"
	"math"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
)

// Config selects an AlexNet variant. The zero value is torchvision's
// AlexNet with 1000 classes.
type Config struct {
	Width   float64 // multiplier on every conv's channels (rounded, at least 1); 0 means 1
	Hidden  int     // width of fc6 and fc7; 0 means 4096
	Classes int     // outputs of fc8; 0 means 1000
}

func (c Config) withDefaults() Config {
	if c.Width == 0 {
		c.Width = 1
	}
	if c.Hidden == 0 {
		c.Hidden = 4096
	}
	if c.Classes == 0 {
		c.Classes = 1000
	}
	return c
}

// convs are torchvision's five convolutions: out channels, kernel, stride,
// padding, and whether a 3×3 stride-2 max pool follows.
var convs = []struct {
	out, k, stride, pad int
	pool                bool
}{
	{64, 11, 4, 2, true},
	{192, 5, 1, 2, true},
	{384, 3, 1, 1, false},
	{256, 3, 1, 1, false},
	{256, 3, 1, 1, true},
}

// New builds torchvision's AlexNet with its child names and the paper's
// unit names conv1 … conv5, fc6, fc7. With a nil rng every parameter is
// zero, ready for LoadStateDict or Load; otherwise it is initialised as
// torchvision's AlexNet is, by PyTorch's default Conv2d and Linear
// initialisation (kaiming_uniform_(a=√5) weights, U(±1/√fan_in) biases):
// the paper's "untrained" control.
//
// It panics on negative sizes (programmer misuse).
func New(cfg Config, rng *tensor.RNG) *nn.Model {
	cfg = cfg.withDefaults()
	if cfg.Width < 0 || cfg.Hidden < 0 || cfg.Classes < 0 {
		panic(fmt.Sprintf("alexnet: negative size in %+v", cfg))
	}
	net := nn.NewSequential()
	in := 3
	for _, c := range convs {
		out := max(1, int(math.Round(float64(c.out)*cfg.Width)))
		net.Append(fmt.Sprintf("features.%d", net.Len()),
			nn.NewConv2d(rng, in, out, c.k, c.k, conv.Square(c.stride, c.pad, 1)))
		net.Append(fmt.Sprintf("features.%d", net.Len()), &nn.ReLU{})
		if c.pool {
			net.Append(fmt.Sprintf("features.%d", net.Len()), nn.NewMaxPool2d(3, 2))
		}
		in = out
	}
	net.Append("avgpool", &nn.AdaptiveAvgPool2d{H: 6, W: 6})
	net.Append("flatten", nn.Flatten{})
	net.Append("classifier.0", &nn.Dropout{P: 0.5})
	net.Append("classifier.1", nn.NewLinear(rng, in*6*6, cfg.Hidden))
	net.Append("classifier.2", &nn.ReLU{})
	net.Append("classifier.3", &nn.Dropout{P: 0.5})
	net.Append("classifier.4", nn.NewLinear(rng, cfg.Hidden, cfg.Hidden))
	net.Append("classifier.5", &nn.ReLU{})
	net.Append("classifier.6", nn.NewLinear(rng, cfg.Hidden, cfg.Classes))
	m := &nn.Model{Arch: "alexnet", Net: net}
	m.AddUnits("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7")
	return m
}

// NewZero returns torchvision's AlexNet with zero parameters, ready to load.
func NewZero() *nn.Model { return New(Config{}, nil) }

// Random returns torchvision's AlexNet initialised from seed.
func Random(seed uint64) *nn.Model { return New(Config{}, tensor.NewRNG(seed)) }

// Load builds the network of cfg and loads the weight file at path into
// it: torchvision's alexnet-owt-7be5be79.pth, any torch.save of an AlexNet
// state dict, or safetensors. Errors name the file and the first
// offending key.
func Load(cfg Config, path string) (*nn.Model, error) {
	m := New(cfg, nil)
	if err := m.LoadFile(path, nil); err != nil {
		return nil, err
	}
	return m, nil
}
