package conv

import (
	"math/rand/v2"
	"testing"

	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// benchShapes are the distinct convolution layers of VGG-16 and AlexNet
// and ResNet-50's strided ones, at batch 1 (224×224 input).
var benchShapes = []struct {
	name        string
	c, o, k, hw int
	stride, pad int
}{
	{"vgg/conv1_1", 3, 64, 3, 224, 1, 1},
	{"vgg/conv1_2", 64, 64, 3, 224, 1, 1},
	{"vgg/conv2_1", 64, 128, 3, 112, 1, 1},
	{"vgg/conv2_2", 128, 128, 3, 112, 1, 1},
	{"vgg/conv3_1", 128, 256, 3, 56, 1, 1},
	{"vgg/conv3_2", 256, 256, 3, 56, 1, 1},
	{"vgg/conv4_1", 256, 512, 3, 28, 1, 1},
	{"vgg/conv4_2", 512, 512, 3, 28, 1, 1},
	{"vgg/conv5_1", 512, 512, 3, 14, 1, 1},
	{"alexnet/conv1", 3, 64, 11, 224, 4, 2},
	{"alexnet/conv2", 64, 192, 5, 27, 1, 2},
	{"alexnet/conv3", 192, 384, 3, 13, 1, 1},
	{"alexnet/conv4", 384, 256, 3, 13, 1, 1},
	{"alexnet/conv5", 256, 256, 3, 13, 1, 1},
	{"resnet50/conv1", 3, 64, 7, 224, 2, 3},
	{"resnet50/layer2.0.conv2", 128, 128, 3, 56, 2, 1},
	{"resnet50/layer2.0.downsample", 256, 512, 1, 56, 2, 0},
	{"resnet50/layer3.0.conv2", 256, 256, 3, 28, 2, 1},
}

// BenchmarkConv runs each layer as the network does: bias, ReLU and the
// recorded channel means fused, once per implementation and per
// algorithm (im2col, and auto, which picks Winograd where it applies).
// GFLOP/s counts a direct convolution's 2·O·C·KH·KW·OH·OW flops, so for
// Winograd it is the effective rate.
func BenchmarkConv(b *testing.B) {
	defer simd.Use(simd.Active())
	defer SetAlgorithm(SetAlgorithm(Auto))
	for _, impl := range simd.Impls() {
		for _, algo := range []Algorithm{Im2col, Auto} {
			for _, s := range benchShapes {
				b.Run(impl+"/"+algo.String()+"/"+s.name, func(b *testing.B) {
					if err := simd.Use(impl); err != nil {
						b.Skip(err)
					}
					SetAlgorithm(algo)
					r := rand.New(rand.NewPCG(1, 1))
					x := randTensor(r, 1, s.c, s.hw, s.hw)
					f := NewFilter(randTensor(r, s.o, s.c, s.k, s.k), Square(s.stride, s.pad, 1))
					out := randTensor(r, f.OutShape(x.Shape())...)
					ep := Epilogue{Bias: make([]float32, s.o), ReLU: true, Means: make([]float32, s.o)}
					flops := 2 * float64(s.o*s.c*s.k*s.k*out.Dim(2)*out.Dim(3))
					f.ForwardInto(out, x, ep) // Winograd weights are built on first use
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						f.ForwardInto(out, x, ep)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkIm2col measures the packer alone, called as a blocked GEMM
// would (kc = 256 rows by nc = 1024 columns, nr = 16 as the AVX2 and
// AVX-512 kernels use), in packed values per second.
func BenchmarkIm2col(b *testing.B) {
	for _, s := range benchShapes {
		b.Run(s.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			x := randTensor(r, 1, s.c, s.hw, s.hw)
			f := NewFilter(randTensor(r, s.o, s.c, s.k, s.k), Square(s.stride, s.pad, 1))
			out := f.OutShape(x.Shape())
			oh, ow := out[2], out[3]
			p := newIm2col(f, x.Data(), s.hw, s.hw, oh, ow)
			K, N := s.c*s.k*s.k, oh*ow
			const kcMax, ncMax, nr = 256, 1024, 16
			dst := make([]float32, kcMax*ncMax)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for k0 := 0; k0 < K; k0 += kcMax {
					for j0 := 0; j0 < N; j0 += ncMax {
						p.PackB(dst, k0, min(kcMax, K-k0), j0, min(ncMax, N-j0), nr)
					}
				}
			}
			b.ReportMetric(float64(K*N)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gvalues/s")
		})
	}
}

// BenchmarkWinogradWeights measures the weight transform of one VGG conv4
// layer (512×512×3×3), which Forward repeats per call when
// KeepWinogradWeights(false), reporting transformed weights per second.
func BenchmarkWinogradWeights(b *testing.B) {
	w := tensor.New(512, 512, 3, 3)
	tensor.NewRNG(1).Normal(w, 0, 1)
	f := NewFilter(w, Square(1, 1, 1))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.transformWeights(false)
	}
	b.ReportMetric(float64(512*512*b.N)/b.Elapsed().Seconds()/1e6, "Mkernel/s")
}

// BenchmarkMaxPool measures the first pooling layers of AlexNet (3×3,
// stride 2) and VGG-16 (2×2, stride 2) at batch 16 on ReLU-like input
// (half zeros), in input elements per second.
func BenchmarkMaxPool(b *testing.B) {
	for _, c := range []struct {
		name string
		x    []int
		p    Pool
	}{
		{"alexnet_pool1", []int{16, 64, 55, 55}, Pool{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}}},
		{"vgg_pool1", []int{16, 64, 224, 224}, Pool{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			x := tensor.New(c.x...)
			tensor.NewRNG(1).Normal(x, 0, 1)
			for i, v := range x.Data() {
				x.Data()[i] = max(0, v)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				MaxPool2d(x, c.p)
			}
			b.ReportMetric(float64(x.Len()*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
