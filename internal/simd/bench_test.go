package simd

import (
	"math/rand/v2"
	"testing"
)

// benchShapes are the GEMMs of VGG-16 and AlexNet layers as conv runs
// them (M output channels, N output pixels, K = C·KH·KW), and fc6 on a
// batch of 16.
var benchShapes = []struct {
	name    string
	m, n, k int
}{
	{"conv1_2", 64, 50176, 576},
	{"conv2_2", 128, 12544, 1152},
	{"conv3_2", 256, 3136, 2304},
	{"conv4_2", 512, 784, 4608},
	{"conv5_2", 512, 196, 4608},
	{"alexnet_conv2", 192, 729, 1600},
	{"fc6_b16", 4096, 16, 25088},
}

// BenchmarkSgemm times GemmPacked with a pre-packed A and DenseB, as conv
// uses it, for each implementation and shape, and plain Sgemm on one shape.
// Run it as
//
//	go test -run x -bench 'Sgemm/AVX2' -cpu 1 -benchtime 3x ./internal/simd/
func BenchmarkSgemm(b *testing.B) {
	def := Active()
	defer Use(def)
	r := rand.New(rand.NewPCG(1, 1))
	for _, name := range Impls() {
		Use(name)
		for _, s := range benchShapes {
			b.Run(name+"/"+s.name, func(b *testing.B) {
				a := randSlice(r, s.m*s.k)
				pa := PackA(s.m, s.k, a, s.k)
				a = nil
				var bb BPacker = DenseB{Data: randSlice(r, s.k*s.n), Ld: s.n}
				c := make([]float32, s.m*s.n)
				ep := Epilogue{Bias: randSlice(r, s.m), ReLU: true}
				GemmPacked(pa, bb, s.n, c, s.n, ep) // warm up: pools, page faults
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					GemmPacked(pa, bb, s.n, c, s.n, ep)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		s := benchShapes[2] // conv3_2
		b.Run(name+"/Sgemm_"+s.name, func(b *testing.B) {
			a, bm := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
			c := make([]float32, s.m*s.n)
			Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkKernel times each micro-kernel alone on cache-resident panels
// (one MC×KC block of A against one B strip): the ceiling for BenchmarkSgemm.
func BenchmarkKernel(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) {
			const kc = 256
			np := max(1, 240/im.mr)
			a := alignedFloats(np * im.mr * kc)
			copy(a, randSlice(r, len(a)))
			bs := alignedFloats(kc * im.nr)
			copy(bs, randSlice(r, len(bs)))
			c := alignedFloats(np * im.mr * im.nr)
			for i := 0; i < b.N; i++ {
				im.kernel(np, kc, &a[0], kc*im.mr, &bs[0], &c[0], im.nr, kAcc, nil, nil, nil)
			}
			flops := 2 * float64(np*im.mr*im.nr*kc)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkLinear times Sgemm(false, true, …) on fully connected layers,
// C[N,out] = X[N,in]·W[out,in]ᵀ, with W read in place: "rows" is the rows
// path (W streamed once, never packed), "packed" the regular path that
// packs W as B on every call, both in the same run. GB/s counts W's bytes.
//
//	go test -run x -bench Linear -cpu 2 -benchtime 20x ./internal/simd/
func BenchmarkLinear(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	im := active.Load()
	for _, s := range []struct {
		name       string
		n, out, in int
	}{
		{"alexnet_fc6_b16", 16, 4096, 9216},
		{"alexnet_fc7_b16", 16, 4096, 4096},
		{"alexnet_fc6_b1", 1, 4096, 9216},
		{"alexnet_fc6_b32", 32, 4096, 9216},
		{"vgg_fc6_b16", 16, 4096, 25088},
	} {
		x, w := randSlice(r, s.n*s.in), randSlice(r, s.out*s.in)
		y := make([]float32, s.n*s.out)
		for _, path := range []string{"rows", "packed"} {
			if path == "packed" && im.rows == nil {
				continue
			}
			b.Run(s.name+"/"+path, func(b *testing.B) {
				if path == "packed" {
					orig := im.rows
					im.rows = nil
					defer func() { im.rows = orig }()
				}
				Sgemm(false, true, s.n, s.out, s.in, 1, x, s.in, w, s.in, 0, y, s.out)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					Sgemm(false, true, s.n, s.out, s.in, 1, x, s.in, w, s.in, 0, y, s.out)
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(2*float64(s.n*s.out*s.in)/sec/1e9, "GFLOP/s")
				b.ReportMetric(4*float64(s.out*s.in)/sec/1e9, "GB/s")
			})
		}
	}
}
