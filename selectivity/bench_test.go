package selectivity

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/emosel/emosel/imagenet"
	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/stimuli"
	"github.com/emosel/emosel/tensor"
	"github.com/emosel/emosel/vgg"
)

// BenchmarkRecord compares, on full VGG-16 (random init: speed does not
// depend on the values) with one batch of 16 images at 224×224, three
// ways of running the same images, interleaved in every iteration so that
// a busy machine slows them alike as far as it can:
//
//   - forward: m.Forward on the preprocessed batch, no hooks;
//   - hooks: the same Forward with Record's m.Record hooks streaming every
//     conv unit's means to .npy files (Record's inner loop);
//   - record: Record itself on an in-memory set of the same 16 images
//     (512×512 PNGs squashed to 224), a cache miss: NewKey (hashing the
//     set and VGG-16's 138M parameters), decoding and resizing, the
//     forward pass with hooks, and writing the arrays, images.csv and
//     key.json.
//
// The order of the laps rotates from one iteration to the next and each
// starts after a garbage collection; use -benchtime 5x or more so that
// every lap has every position. A fifth lap runs the plain forward pass
// again, so aa-overhead-% compares two identical laps: the noise floor of
// the other overheads.
//
// It reports wall-clock img/s and the overheads over forward in percent,
// by wall clock and by process CPU time (getrusage, where available; on a
// shared machine wall time mostly measures the other load). key-cpu-s is
// NewKey's fixed cost per set, which one batch cannot amortise;
// batch-cpu-overhead-% leaves it out and is what a set of many batches
// converges to. The budget is 10%.
//
//	go test -run '^$' -bench Record -benchtime 5x ./selectivity/
func BenchmarkRecord(b *testing.B) {
	const batch = 16
	m := vgg.Random16(1)
	set := stimuli.Synthetic("bench", batch, 1, 512)
	pre := imagenet.Config{}
	x := tensor.New(batch, 3, 224, 224)
	per := 3 * 224 * 224
	for i := range batch {
		g, err := readGray(set, i)
		if err != nil {
			b.Fatal(err)
		}
		imagenet.NormalizeInto(x.Data()[i*per:(i+1)*per], pre.Fit(g))
	}
	m.Forward(x) // warm up pools and buffers
	dir := b.TempDir()
	ctx := context.Background()
	var wall, cpu [5]time.Duration // forward, hooks, record, key, forward again
	lap := func(k int, f func()) {
		c0, t0 := cpuTime(), time.Now()
		f()
		wall[k] += time.Since(t0)
		cpu[k] += cpuTime() - c0
	}
	b.ReportAllocs()
	b.ResetTimer()
	laps := []func(i int){
		func(int) { m.Forward(x) },
		func(i int) { hookForward(b, m, x, filepath.Join(dir, "hooks"+strconv.Itoa(i))) },
		func(i int) {
			if _, err := Record(ctx, m, set, pre, filepath.Join(dir, "rec"+strconv.Itoa(i)), RecordConfig{Batch: batch}); err != nil {
				b.Fatal(err)
			}
		},
		func(int) {
			if _, err := NewKey(m, set, pre, RecordConfig{}); err != nil {
				b.Fatal(err)
			}
		},
		func(int) { m.Forward(x) },
	}
	for i := 0; i < b.N; i++ {
		// Rotate the order each iteration and collect garbage before each
		// lap, so that neither position nor the previous lap's garbage
		// favours one way.
		for j := range laps {
			k := (i + j) % len(laps)
			runtime.GC()
			lap(k, func() { laps[k](i) })
		}
	}
	b.StopTimer()
	n := float64(batch * b.N)
	pct := func(a, b time.Duration) float64 { return 100 * (a.Seconds()/b.Seconds() - 1) }
	b.ReportMetric(n/wall[0].Seconds(), "forward-img/s")
	b.ReportMetric(n/wall[2].Seconds(), "record-img/s")
	b.ReportMetric(pct(wall[2], wall[0]), "record-overhead-%")
	b.ReportMetric(pct(wall[4], wall[0]), "aa-overhead-%")
	if cpu[0] > 0 {
		b.ReportMetric(pct(cpu[1], cpu[0]), "hooks-cpu-overhead-%")
		b.ReportMetric(pct(cpu[2], cpu[0]), "record-cpu-overhead-%")
		b.ReportMetric(pct(cpu[2]-cpu[3], cpu[0]), "batch-cpu-overhead-%")
		b.ReportMetric(cpu[3].Seconds()/float64(b.N), "key-cpu-s")
	}
}

// hookForward runs m on x with hooks streaming every conv unit to dir, as
// Record's inner loop does.
func hookForward(b *testing.B, m *nn.Model, x *tensor.Tensor, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	r, err := newRecorder(m, dir, x.Dim(0))
	if err != nil {
		b.Fatal(err)
	}
	if err := r.forward(x); err != nil {
		b.Fatal(err)
	}
	if err := r.commit(); err != nil {
		b.Fatal(err)
	}
}
