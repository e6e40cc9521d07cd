package vgg

import (
	"testing"

	"github.com/emosel/emosel/internal/golden/netcheck"
	"github.com/emosel/emosel/nn"
)

// small is the reduced-width VGG-16 of testdata/gen/models.py.
var small = Config{Width: 1.0 / 16, Hidden: 32, Classes: 10}

// TestGolden loads the reduced-width VGG-16 that torchvision saved in each
// format, preprocesses the PNG fixtures, and compares every unit's spatial
// means and the logits with PyTorch's.
func TestGolden(t *testing.T) {
	netcheck.CheckFormats(t, "testdata", 64, func(path string) (*nn.Model, error) { return Load(small, path) })
}

// TestGoldenFull compares full-size random-init VGG-16 with PyTorch when
// EMOSEL_FULL_FIXTURES is set.
func TestGoldenFull(t *testing.T) {
	netcheck.CheckFull(t, "vgg16", func(path string) (*nn.Model, error) { return Load(Config{}, path) })
}
