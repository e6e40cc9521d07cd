package vgg

import (
	"testing"

	"github.com/emosel/emosel/internal/golden/netcheck"
)

// BenchmarkForward measures full VGG-16 inference on 3×224×224 inputs in
// img/s (random-init weights: speed does not depend on the values).
func BenchmarkForward(b *testing.B) { netcheck.BenchForward(b, Random16(1)) }

// BenchmarkLayers times each layer alone at batch 16 (see
// netcheck.BenchLayers), to show where a forward pass spends its time.
func BenchmarkLayers(b *testing.B) { netcheck.BenchLayers(b, Random16(1)) }
