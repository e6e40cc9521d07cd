package nn

import (
	"fmt"
	"sync"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// ReLU is max(0, x) with an optional per-channel gain:
//
//	[N,C,...] -> [N,C,...],  y = (1+Gain[c])·max(0, x)
//
// Gain nil is a plain ReLU; Gain[c] = −1 silences channel c (exactly 0 for
// finite x). NaN stays NaN, as in PyTorch. It works on [N,C] and on
// [N,C,H,W] (any trailing dimensions are spatial).
//
// If Record is set, Forward calls it with the [N,C] spatial means of y
// (Eq 2 of the paper: the mean of the post-ReLU, post-gain map; for [N,C]
// input, y itself). The tensor is fresh and the hook may keep it.
//
// Gain and Record may be changed between Forward calls, not during one.
type ReLU struct {
	Gain   []float32 // [C] or nil
	Record func(means *tensor.Tensor)
}

// reluParallelMin is the fewest values a ReLU splits over the threads.
const reluParallelMin = 1 << 16

// Forward implements Layer.
func (r *ReLU) Forward(x *tensor.Tensor) *tensor.Tensor {
	shape := x.Shape()
	r.checkGain(shape)
	n, c := shape[0], shape[1]
	hw := 0
	if n*c > 0 {
		hw = x.Len() / (n * c)
	}
	y := tensor.Scratch(shape...) // every value is written
	src, dst := x.Data(), y.Data()
	var means []float32
	if r.Record != nil {
		means = make([]float32, n*c)
	}
	// Vectorised: the branch of a scalar max(0, x) mispredicted on every
	// other value, 7 ns each (VGG-16's conv1_1 lesion suffix spent a
	// sixth of its time here). Without a gain, one call covers the whole
	// tensor ([N,C] inputs would otherwise make one call per value).
	// The planes are split into one contiguous block per thread: the
	// pass is memory-bound, and one core left the second idle for a fifth
	// of a VGG-16 suffix re-run from conv3_3. Each value is computed alone,
	// so the bits do not depend on the split.
	planes := func(p0, p1 int) {
		if r.Gain == nil {
			simd.ScaleReLU(dst[p0*hw:p1*hw], src[p0*hw:p1*hw], 1)
		}
		for i := p0; i < p1; i++ {
			d := dst[i*hw : (i+1)*hw]
			if r.Gain != nil {
				simd.ScaleReLU(d, src[i*hw:(i+1)*hw], 1+r.Gain[i%c])
			}
			if means != nil {
				means[i] = float32(sum64(d) / float64(hw))
			}
		}
	}
	t := min(simd.Threads(), n*c)
	if t <= 1 || x.Len() < reluParallelMin {
		planes(0, n*c)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < t; w++ {
			wg.Add(1)
			go func(p0, p1 int) {
				defer wg.Done()
				planes(p0, p1)
			}(w*n*c/t, (w+1)*n*c/t)
		}
		wg.Wait()
	}
	if r.Record != nil {
		r.Record(tensor.From(means, n, c))
	}
	return y
}

// checkGain panics unless the output shape has a channel axis matching
// Gain.
func (r *ReLU) checkGain(shape []int) {
	if len(shape) < 2 {
		panic(fmt.Sprintf("nn: ReLU input %v has no channel axis (want [N,C,...])", shape))
	}
	if r.Gain != nil && len(r.Gain) != shape[1] {
		panic(fmt.Sprintf("nn: ReLU gain has %d channels, input %v has %d", len(r.Gain), shape, shape[1]))
	}
}

// String describes the layer.
func (r *ReLU) String() string {
	if r.Gain != nil {
		return fmt.Sprintf("ReLU(gain[%d])", len(r.Gain))
	}
	return "ReLU()"
}

// sum64 returns the sum of x in float64, with four running sums over
// x[j] for j ≡ 0..3 (mod 4) added pairwise, then the tail: a fixed order,
// and no wait on one add's latency per value.
func sum64(x []float32) float64 {
	var s0, s1, s2, s3 float64
	for len(x) >= 4 {
		s0 += float64(x[0])
		s1 += float64(x[1])
		s2 += float64(x[2])
		s3 += float64(x[3])
		x = x[4:]
	}
	t := (s0 + s1) + (s2 + s3)
	for _, v := range x {
		t += float64(v)
	}
	return t
}
