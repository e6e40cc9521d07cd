package weights

import (
	"bytes"
	"runtime"
	"testing"
)

// bigFiles returns one file per format holding a single float32 tensor of
// n elements.
func bigFiles(n int) map[string][]byte {
	ts := []tspec{{"w", "0", "FloatStorage", int64(n), 0, []int64{int64(n)}, []int64{1}}}
	data := map[string][]byte{"0": f32bytes(seq(n)...)}
	return map[string][]byte{
		"legacy": legacyFile(ts, data, nil),
		"zip":    zipFile("archive", statePickle(false, ts), data),
		"safetensors": safetensorsFile(map[string]any{
			"w": map[string]any{"dtype": "F32", "shape": []int{n}, "data_offsets": []int{0, 4 * n}},
		}, data["0"]),
	}
}

// TestLoadAllocatesOnce checks that Load decodes straight into the final
// tensor: it allocates little more than the tensor itself.
func TestLoadAllocatesOnce(t *testing.T) {
	const n = 1 << 20 // 4 MiB of float32
	for format, b := range bigFiles(n) {
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		sd, err := Load(bytes.NewReader(b), int64(len(b)))
		runtime.ReadMemStats(&ms1)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if got := sd["w"].Data(); got[n-1] != n-1 {
			t.Fatalf("%s: w[%d] = %v", format, n-1, got[n-1])
		}
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		if alloc > 4*n+512<<10 {
			t.Errorf("%s: Load of a %d-byte tensor allocated %d bytes", format, 4*n, alloc)
		}
		t.Logf("%s: Load allocated %d bytes for a %d-byte tensor", format, alloc, 4*n)
	}
}

func BenchmarkLoad(b *testing.B) {
	const n = 4 << 20 // 16 MiB of float32
	for _, format := range []string{"legacy", "zip", "safetensors"} {
		file := bigFiles(n)[format]
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(bytes.NewReader(file), int64(len(file))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
