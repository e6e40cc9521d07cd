package vgg

import (
	"fmt"
	"math"

	"github.com/emosel/emosel/conv"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/weights"
)

// pool marks a max-pool in a configuration table.
const pool = 0

// tables are torchvision's VGG configurations "A", "B", "D" and "E":
// output channels of each 3×3 convolution, with pool for a 2×2 max pool.
var tables = map[int][]int{
	11: {64, pool, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool},
	13: {64, 64, pool, 128, 128, pool, 256, 256, pool, 512, 512, pool, 512, 512, pool},
	16: {64, 64, pool, 128, 128, pool, 256, 256, 256, pool, 512, 512, 512, pool, 512, 512, 512, pool},
	19: {64, 64, pool, 128, 128, pool, 256, 256, 256, 256, pool, 512, 512, 512, 512, pool, 512, 512, 512, 512, pool},
}

// Config selects a VGG variant. The zero value is torchvision's VGG-16
// with 1000 classes.
type Config struct {
	Depth   int     // 11, 13, 16 or 19; 0 means 16
	Width   float64 // multiplier on every conv's channels (rounded, at least 1); 0 means 1
	Hidden  int     // width of fc6 and fc7; 0 means 4096
	Classes int     // outputs of fc8; 0 means 1000
}

func (c Config) withDefaults() Config {
	if c.Depth == 0 {
		c.Depth = 16
	}
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

// Arch returns the torchvision name of the configuration, e.g. "vgg16".
func (c Config) Arch() string { return fmt.Sprintf("vgg%d", c.withDefaults().Depth) }

func (c Config) channels(n int) int {
	return max(1, int(math.Round(float64(n)*c.Width)))
}

// New builds the network of cfg with torchvision's child names and the
// paper's unit names. With a nil rng every parameter is zero, ready for
// LoadStateDict or Load; otherwise it is initialised as torchvision's
// VGG._initialize_weights does: conv weights kaiming_normal_(fan_out,
// relu), conv biases 0, linear weights N(0, 0.01²), linear biases 0. This
// seeded random network is the paper's "untrained" control.
//
// It panics on an unknown depth or a negative size (programmer misuse).
func New(cfg Config, rng *tensor.RNG) *nn.Model {
	cfg = cfg.withDefaults()
	table, ok := tables[cfg.Depth]
	if !ok {
		panic(fmt.Sprintf("vgg: depth %d, want 11, 13, 16 or 19", cfg.Depth))
	}
	if cfg.Width < 0 || cfg.Hidden < 0 || cfg.Classes < 0 {
		panic(fmt.Sprintf("vgg: negative size in %+v", cfg))
	}
	net := nn.NewSequential()
	var names []string
	in, block, idx := 3, 1, 1
	for _, v := range table {
		name := fmt.Sprintf("features.%d", net.Len())
		if v == pool {
			net.Append(name, nn.NewMaxPool2d(2, 2))
			block, idx = block+1, 1
			continue
		}
		out := cfg.channels(v)
		c := nn.NewConv2d(nil, in, out, 3, 3, conv.Square(1, 1, 1))
		if rng != nil {
			w := tensor.New(c.Weight().Shape()...)
			rng.KaimingNormalFanOut(w)
			c.SetWeights(w, tensor.New(out))
		}
		net.Append(name, c)
		net.Append(fmt.Sprintf("features.%d", net.Len()), &nn.ReLU{})
		names = append(names, fmt.Sprintf("conv%d_%d", block, idx))
		in, idx = out, idx+1
	}
	net.Append("avgpool", &nn.AdaptiveAvgPool2d{H: 7, W: 7})
	net.Append("flatten", nn.Flatten{})
	dims := []int{in * 7 * 7, cfg.Hidden, cfg.Hidden, cfg.Classes}
	for j := 0; j < 3; j++ {
		l := nn.NewLinear(nil, dims[j], dims[j+1])
		if rng != nil {
			w := tensor.New(dims[j+1], dims[j])
			rng.Normal(w, 0, 0.01)
			l.SetWeights(w, tensor.New(dims[j+1]))
		}
		net.Append(fmt.Sprintf("classifier.%d", 3*j), l)
		if j < 2 {
			net.Append(fmt.Sprintf("classifier.%d", 3*j+1), &nn.ReLU{})
			net.Append(fmt.Sprintf("classifier.%d", 3*j+2), &nn.Dropout{P: 0.5})
		}
	}
	names = append(names, "fc6", "fc7")
	m := &nn.Model{Arch: cfg.Arch(), Net: net}
	m.AddUnits(names...)
	return m
}

// New16 returns torchvision's VGG-16 with zero parameters, ready to load.
func New16() *nn.Model { return New(Config{}, nil) }

// Random16 returns VGG-16 initialised as torchvision does, from seed.
func Random16(seed uint64) *nn.Model { return New(Config{}, tensor.NewRNG(seed)) }

// Load builds the network of cfg and loads the weight file at path into
// it: torchvision's vgg16-397923af.pth (legacy torch.save), any zip
// torch.save of a VGG state dict, or safetensors, including timm's VGG
// checkpoints, whose pre_logits/head keys are mapped to torchvision's.
// Errors name the file and the first offending key.
func Load(cfg Config, path string) (*nn.Model, error) {
	m := New(cfg, nil)
	if err := m.LoadFile(path, mapTimm); err != nil {
		return nil, err
	}
	return m, nil
}

// mapTimm renames timm's classifier keys when the dict has them.
func mapTimm(sd weights.StateDict) (weights.StateDict, error) {
	if _, ok := sd["head.fc.weight"]; !ok {
		return sd, nil
	}
	return weights.MapTimmVGG(sd)
}
