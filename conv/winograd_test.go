package conv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/emosel/emosel/internal/golden"
	"github.com/emosel/emosel/internal/simd"
	"github.com/emosel/emosel/tensor"
)

// withAlgorithm runs f with a as the algorithm, restoring the previous one.
func withAlgorithm(t testing.TB, a Algorithm, f func()) {
	t.Helper()
	prev := SetAlgorithm(a)
	defer SetAlgorithm(prev)
	f()
}

// winoCases are 3×3 stride-1 convolutions of every padding 0–3, sizes from
// a single output pixel up to several tiles with ragged edges, and 1 to
// 3 images.
func winoCases(r *rand.Rand, n int) []convCase {
	cs := []convCase{
		// Maps four tiles wide (paired tile rows in the input
		// transform): AlexNet's 13×13, and 12×14 (three tile rows, so
		// one is unpaired); twice, so that the tests that alternate
		// chunk sizes in pairs of cases run them with both.
		{n: 3, c: 5, h: 13, w: 13, o: 6, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 1, pw: 1},
		{n: 2, c: 4, h: 12, w: 14, o: 3, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 0, pw: 2},
		// At least one whole group of eight tiles wide but not a
		// multiple of it (the in-place output with a spill into the next
		// row): 45 (ragged last tile), 56 (VGG's conv3 width over four)
		// and 62 px wide.
		{n: 3, c: 3, h: 10, w: 45, o: 4, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 1, pw: 1},
		{n: 2, c: 2, h: 13, w: 56, o: 3, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 1, pw: 1},
		{n: 2, c: 3, h: 9, w: 64, o: 2, kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: 0, pw: 0},
	}
	cs = append(cs, cs...)
	for len(cs) < n {
		p := r.IntN(4)
		k := convCase{
			n: 1 + r.IntN(3), c: 1 + r.IntN(20), o: 1 + r.IntN(20),
			kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, ph: p, pw: r.IntN(4),
			h: 1 + r.IntN(30), w: 1 + r.IntN(30),
		}
		if oh, ow := k.params().OutSize(k.h, k.w, 3, 3); oh <= 0 || ow <= 0 {
			continue
		}
		cs = append(cs, k)
	}
	return cs
}

// TestWinogradMatchesDirect checks F(4×4, 3×3), with the whole epilogue
// (bias, gain ReLU with a lesioned channel, channel means), against the
// float64 definition, on one and two threads and with chunks small enough
// to split images between them, with U kept or recomputed per call.
func TestWinogradMatchesDirect(t *testing.T) { forEachImpl(t, testWinogradMatchesDirect) }

// withChunks sets the chunk bounds (in tiles) for the rest of the test.
func withChunks(t *testing.T, lo, hi int) {
	old := [2]int{winoMinChunk, winoMaxChunk}
	t.Cleanup(func() { winoMinChunk, winoMaxChunk = old[0], old[1] })
	winoMinChunk, winoMaxChunk = lo, hi
}

func testWinogradMatchesDirect(t *testing.T) {
	defer simd.SetThreads(simd.SetThreads(0))
	withChunks(t, winoMinChunk, winoMaxChunk)
	defer KeepWinogradWeights(KeepWinogradWeights(true))
	r := rand.New(rand.NewPCG(7, 8))
	withAlgorithm(t, Winograd, func() {
		for i, k := range winoCases(r, 60) {
			simd.SetThreads(1 + i%2)
			// Chunks of one tile row, or the default.
			winoMinChunk, winoMaxChunk = []int{1, 128}[i/2%2], []int{1, 960}[i/2%2]
			KeepWinogradWeights(i%3 != 0) // U kept, or recomputed per call
			checkWinogradCase(t, r, k, true)
		}
	})
}

// TestWinograd5MatchesDirect checks F(4×4, 5×5) on 5×5 filters as
// TestWinogradMatchesDirect does F(4×4, 3×3): paddings 0–4, sizes from
// one output pixel to several tile rows, one and two threads, chunks of a
// tile row or the default, U kept or not.
func TestWinograd5MatchesDirect(t *testing.T) {
	defer simd.SetThreads(simd.SetThreads(0))
	withChunks(t, winoMinChunk, winoMaxChunk)
	defer KeepWinogradWeights(KeepWinogradWeights(true))
	r := rand.New(rand.NewPCG(21, 22))
	cases := []convCase{ // AlexNet's conv2 at a small width first
		{n: 2, c: 6, h: 27, w: 27, o: 7, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1},
	}
	for len(cases) < 50 {
		k := convCase{n: 1 + r.IntN(3), c: 1 + r.IntN(20), o: 1 + r.IntN(20), sh: 1, sw: 1, dh: 1, dw: 1,
			kh: 5, kw: 5, ph: r.IntN(5), pw: r.IntN(5), h: 1 + r.IntN(40), w: 1 + r.IntN(40)}
		if oh, ow := k.params().OutSize(k.h, k.w, 5, 5); oh <= 0 || ow <= 0 {
			continue
		}
		cases = append(cases, k)
	}
	withAlgorithm(t, Winograd, func() {
		for i, k := range cases {
			simd.SetThreads(1 + i%2)
			winoMinChunk, winoMaxChunk = []int{1, 128}[i/2%2], []int{1, 960}[i/2%2]
			KeepWinogradWeights(i%3 != 0)
			checkWinogradCase(t, r, k, i%4 != 3)
		}
	})
}

// TestWinogradBatchInvariant checks that an image's output and means are
// the same bits whether it is convolved alone or inside a batch whose
// chunks cut it in two, on any thread count: for F(4×4, 3×3) on maps
// seven tiles wide and four (paired tile rows), F(4×4, 5×5), and
// space-to-depth.
func TestWinogradBatchInvariant(t *testing.T) {
	defer simd.SetThreads(simd.SetThreads(0))
	withChunks(t, 24, 24)
	r := rand.New(rand.NewPCG(9, 10))
	for _, k := range []convCase{
		{n: 3, c: 17, h: 29, w: 27, o: 19, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1}, // 8 rows of 7 tiles: chunks of 3 rows straddle images
		{n: 3, c: 5, h: 13, w: 13, o: 7, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},   // 4 rows of 4 tiles: pairs, chunks of 6 rows
		{n: 3, c: 4, h: 11, w: 45, o: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1},   // 3 rows of 12 tiles: the spilling output, chunks split images
		{n: 3, c: 4, h: 27, w: 27, o: 6, kh: 5, kw: 5, sh: 1, sw: 1, ph: 2, pw: 2, dh: 1, dw: 1},   // F(4×4, 5×5), 7 rows of 7 tiles
		{n: 3, c: 3, h: 35, w: 39, o: 5, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1}, // space-to-depth
	} {
		x := randTensor(r, k.n, k.c, k.h, k.w)
		w := randTensor(r, k.o, k.c, k.kh, k.kw)
		b := randTensor(r, k.o).Data()
		f := NewFilter(w, k.params())
		withAlgorithm(t, Winograd, func() {
			simd.SetThreads(2)
			means := make([]float32, k.n*k.o)
			all := f.Forward(x, Epilogue{Bias: b, ReLU: true, Means: means})
			simd.SetThreads(1)
			in, plane := k.c*k.h*k.w, all.Len()/k.n
			for i := 0; i < k.n; i++ {
				xi := tensor.From(x.Data()[i*in:(i+1)*in], 1, k.c, k.h, k.w)
				mi := make([]float32, k.o)
				yi := f.Forward(xi, Epilogue{Bias: b, ReLU: true, Means: mi})
				for j, v := range yi.Data() {
					if u := all.Data()[i*plane+j]; math.Float32bits(u) != math.Float32bits(v) {
						t.Fatalf("%v: image %d element %d: %v in the batch, %v alone", k, i, j, u, v)
					}
				}
				for j, v := range mi {
					if u := means[i*k.o+j]; u != v {
						t.Fatalf("%v: image %d channel %d: mean %v in the batch, %v alone", k, i, j, u, v)
					}
				}
			}
		})
	}
}

// TestWinogradAccuracy bounds the rounding error of F(4×4, 3×3) on a
// VGG-sized reduction (C = 256, 256·9 terms per output) and of F(4×4,
// 5×5) on AlexNet conv2's (C = 64, 64·25 terms) against the float64
// definition, next to im2col's on the same data. The bound, 1e-5 of the
// largest output, is ten times tighter than the 1e-4 the network tests
// allow against PyTorch.
func TestWinogradAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range []struct{ ch, k int }{{256, 3}, {64, 5}} {
		x := randTensor(r, 1, c.ch, 12, 12)
		w := randTensor(r, 8, c.ch, c.k, c.k)
		want := directConv(x, w, nil, 1, 1, c.k/2, c.k/2, 1, 1)
		f := NewFilter(w, Square(1, c.k/2, 1))
		for _, a := range []Algorithm{Im2col, Winograd} {
			withAlgorithm(t, a, func() {
				got := f.Forward(x, Epilogue{})
				var worst, scale float64
				for i, v := range want.Data() {
					worst = max(worst, math.Abs(float64(got.Data()[i])-float64(v)))
					scale = max(scale, math.Abs(float64(v)))
				}
				t.Logf("%d×%d, %v: worst error %.2g of max |y| %.3g (%.2g relative)", c.k, c.k, a, worst, scale, worst/scale)
				if worst > 1e-5*scale {
					t.Errorf("%d×%d, %v: worst error %.3g > 1e-5 × %.3g", c.k, c.k, a, worst, scale)
				}
			})
		}
	}
}

// TestAlgorithmChoice checks which filters Auto sends to Winograd.
func TestAlgorithmChoice(t *testing.T) {
	mk := func(o, c, k int, p Params) *Filter { return NewFilter(tensor.New(o, c, k, k), p) }
	cases := []struct {
		f    *Filter
		h    int
		auto Algorithm
		wino Algorithm
	}{
		{mk(64, 64, 3, Square(1, 1, 1)), 224, Winograd, Winograd},
		{mk(64, 3, 3, Square(1, 1, 1)), 224, Im2col, Winograd},     // conv1_1: too few channels
		{mk(512, 512, 3, Square(1, 1, 1)), 2, Im2col, Winograd},    // output under 4×4
		{mk(64, 64, 3, Square(2, 1, 1)), 224, Im2col, Im2col},      // strided
		{mk(64, 64, 3, Square(1, 2, 2)), 224, Im2col, Im2col},      // dilated
		{mk(192, 64, 5, Square(1, 2, 1)), 27, Winograd, Winograd},  // AlexNet conv2: F(4×4, 5×5)
		{mk(64, 64, 4, Square(1, 2, 1)), 27, Im2col, Im2col},       // 4×4: no Winograd algorithm
		{mk(64, 64, 7, Square(1, 3, 1)), 224, Im2col, Im2col},      // 7×7: no Winograd algorithm
		{mk(256, 384, 3, Square(1, 1, 1)), 13, Winograd, Winograd}, // AlexNet conv4
		{mk(64, 3, 11, Square(4, 2, 1)), 224, Winograd, Winograd},  // AlexNet conv1: space-to-depth to 48 channels
		{mk(64, 1, 5, Square(2, 2, 1)), 64, Im2col, Winograd},      // space-to-depth to only 4 channels
		{mk(64, 3, 7, Square(2, 3, 1)), 64, Im2col, Im2col},        // 7 at stride 2 is 4×4, not 3×3
	}
	for i, c := range cases {
		for _, m := range []struct{ set, want Algorithm }{{Auto, c.auto}, {Winograd, c.wino}, {Im2col, Im2col}} {
			withAlgorithm(t, m.set, func() {
				if got := c.f.AlgorithmFor(c.h, c.h); got != m.want {
					t.Errorf("case %d (%v) under %v: %v, want %v", i, c.f.Shape(), m.set, got, m.want)
				}
			})
		}
	}
	if a, err := ParseAlgorithm("winograd"); err != nil || a != Winograd {
		t.Errorf("ParseAlgorithm(winograd) = %v, %v", a, err)
	}
	if _, err := ParseAlgorithm("fft"); err == nil {
		t.Error("ParseAlgorithm(fft) gave no error")
	}
}

// TestWinogradAcrossImpls builds a filter under one GEMM implementation
// and runs it under another, whose micro-panel height may differ, so that
// the weight transform reads the im2col packing in another layout.
func TestWinogradAcrossImpls(t *testing.T) {
	defer simd.Use(simd.Active())
	defer KeepWinogradWeights(KeepWinogradWeights(false))
	r := rand.New(rand.NewPCG(13, 14))
	x := randTensor(r, 2, 20, 11, 13)
	w := randTensor(r, 23, 20, 3, 3) // 23 rows: a ragged last panel for any MR
	b := randTensor(r, 23).Data()
	want := directConv(x, w, b, 1, 1, 1, 1, 1, 1)
	withAlgorithm(t, Winograd, func() {
		for _, build := range simd.Impls() {
			for _, run := range simd.Impls() {
				if err := simd.Use(build); err != nil {
					t.Fatal(err)
				}
				f := NewFilter(w, Square(1, 1, 1))
				if err := simd.Use(run); err != nil {
					t.Fatal(err)
				}
				golden.Require(t, build+" then "+run, f.Forward(x, Epilogue{Bias: b}), want, 1e-5)
			}
		}
	})
}

// TestS2DMatchesDirect checks strided filters computed by space-to-depth
// and Winograd (stride s with ⌈K/s⌉ = 3 on each axis, rectangular kernels,
// any padding, one or two threads, chunks of one tile row or the default)
// against the float64 definition, epilogue included.
func TestS2DMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	cases := []convCase{ // AlexNet's conv1 at a small size first
		{n: 2, c: 3, h: 35, w: 39, o: 5, kh: 11, kw: 11, sh: 4, sw: 4, ph: 2, pw: 2, dh: 1, dw: 1},
		// Stride 4 on images narrower than one window: padding only on
		// some sides of the deep pixels, no interior columns at all.
		{n: 1, c: 2, h: 2, w: 1, o: 3, kh: 9, kw: 11, sh: 4, sw: 4, ph: 5, pw: 5, dh: 1, dw: 1},
		{n: 1, c: 2, h: 7, w: 7, o: 3, kh: 9, kw: 9, sh: 4, sw: 4, ph: 1, pw: 1, dh: 1, dw: 1},
		{n: 2, c: 1, h: 30, w: 5, o: 2, kh: 11, kw: 12, sh: 4, sw: 4, ph: 6, pw: 7, dh: 1, dw: 1},
	}
	for len(cases) < 40 {
		s := 2 + r.IntN(3)
		k := convCase{n: 1 + r.IntN(2), c: 1 + r.IntN(4), o: 1 + r.IntN(9), sh: s, sw: s, dh: 1, dw: 1,
			kh: 2*s + 1 + r.IntN(s), kw: 2*s + 1 + r.IntN(s), ph: r.IntN(4), pw: r.IntN(4)}
		k.h, k.w = 1+r.IntN(40), 1+r.IntN(40)
		if oh, ow := k.params().OutSize(k.h, k.w, k.kh, k.kw); oh <= 0 || ow <= 0 {
			continue
		}
		cases = append(cases, k)
	}
	defer simd.SetThreads(simd.SetThreads(0))
	withChunks(t, winoMinChunk, winoMaxChunk)
	withAlgorithm(t, Winograd, func() {
		for i, k := range cases {
			// One and two threads; chunks of one tile row (so that the
			// deep rows are gathered piecewise) or the default.
			simd.SetThreads(1 + i%2)
			winoMinChunk, winoMaxChunk = []int{1, 128}[i/2%2], []int{1, 960}[i/2%2]
			checkWinogradCase(t, r, k, true)
		}
	})
}

// checkWinogradCase convolves random data for case k under the current
// (Winograd) setting and compares with the float64 definition: with
// relu, through the whole epilogue (bias, gain ReLU with channel 0
// lesioned to exactly zero, channel means written over a sentinel);
// without, bias only.
func checkWinogradCase(t *testing.T, r *rand.Rand, k convCase, relu bool) {
	t.Helper()
	x := randTensor(r, k.n, k.c, k.h, k.w)
	w := randTensor(r, k.o, k.c, k.kh, k.kw)
	b := randTensor(r, k.o).Data()
	f := NewFilter(w, k.params())
	if a := f.AlgorithmFor(k.h, k.w); a != Winograd {
		t.Fatalf("%v: AlgorithmFor = %v, want winograd", k, a)
	}
	want := directConv(x, w, b, k.sh, k.sw, k.ph, k.pw, 1, 1)
	if !relu {
		golden.Require(t, k.String(), f.Forward(x, Epilogue{Bias: b}), want, 1e-5)
		return
	}
	gain := randTensor(r, k.o).Data()
	gain[0] = -1
	means := make([]float32, k.n*k.o)
	for i := range means {
		means[i] = 123 // overwritten, not accumulated into
	}
	got := f.Forward(x, Epilogue{Bias: b, ReLU: true, Gain: gain, Means: means})
	hw := want.Dim(2) * want.Dim(3)
	wantMeans := make([]float64, k.n*k.o)
	for i, v := range want.Data() {
		v = (1 + gain[i/hw%k.o]) * max(0, v)
		want.Data()[i] = v
		wantMeans[i/hw] += float64(v) / float64(hw)
	}
	golden.Require(t, k.String(), got, want, 1e-5)
	wm := tensor.New(k.n, k.o)
	for i, v := range wantMeans {
		wm.Data()[i] = float32(v)
	}
	golden.Require(t, k.String()+" means", tensor.From(means, k.n, k.o), wm, 1e-5)
	for i, v := range got.Data() {
		if i/hw%k.o == 0 && v != 0 {
			t.Fatalf("%v: lesioned channel has %v at %d", k, v, i)
		}
	}
}

// TestNewFilterCopies checks NewFilter's contract now that the packed
// and transformed forms are built lazily from the kept weight: writing
// into w after NewFilter changes nothing, whichever algorithm runs first.
func TestNewFilterCopies(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	x := randTensor(r, 1, 16, 9, 9)
	w := randTensor(r, 16, 16, 3, 3)
	want := directConv(x, w, nil, 1, 1, 1, 1, 1, 1)
	for _, a := range []Algorithm{Im2col, Winograd} {
		withAlgorithm(t, a, func() {
			w2 := w.Clone()
			f := NewFilter(w2, Square(1, 1, 1))
			for i := range w2.Data() {
				w2.Data()[i] = 0
			}
			golden.Require(t, a.String(), f.Forward(x, Epilogue{}), want, 1e-5)
		})
	}
}

// TestEnv checks EMOSEL_CONV in a child process: a valid name selects the
// algorithm; a bad one leaves Auto, with EnvError saying why, and does not
// panic.
func TestEnv(t *testing.T) {
	if os.Getenv("EMOSEL_CONV_CHILD") == "1" {
		fmt.Printf("algo=%v err=%v\n", CurrentAlgorithm(), EnvError())
		return
	}
	if testing.Short() {
		t.Skip("starts a process")
	}
	for _, c := range []struct{ env, want string }{
		{"im2col", "algo=im2col err=<nil>"},
		{"fft", `algo=auto err=EMOSEL_CONV="fft" names no algorithm`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEnv$")
		cmd.Env = append(os.Environ(), "EMOSEL_CONV="+c.env, "EMOSEL_CONV_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Skipf("cannot re-run the test binary: %v", err)
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("with EMOSEL_CONV=%s the child says:\n%s\nwant %q", c.env, out, c.want)
		}
	}
}

// TestSum8 checks sum8 against its documented order, bit for bit, and
// against a float64 sum.
func TestSum8(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 41; n++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		var lanes [8]float32
		var exact float64
		full := n / 8 * 8
		for i, v := range x {
			if i < full {
				lanes[i%8] += v
			}
			exact += float64(v)
		}
		want := ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
		for _, v := range x[full:] {
			want += v
		}
		got := sum8(x)
		if math.Float32bits(got) != math.Float32bits(want) {
			t.Errorf("n=%d: sum8 = %v, want %v in the documented order", n, got, want)
		}
		if math.Abs(float64(got)-exact) > 1e-5*(1+float64(n)) {
			t.Errorf("n=%d: sum8 = %v, float64 sum %v", n, got, exact)
		}
	}
}

// TestChunkRows checks the chunk choice against cases worked by hand:
// the span is the most GEMM columns one of the threads gets when the
// chunks are dealt out in order to the thread free first.
func TestChunkRows(t *testing.T) {
	for _, c := range []struct{ rows, per, tx, threads, want int }{
		// AlexNet conv1 at batch 16 (224 tile rows of 14 tiles): 13 rows
		// give 18 chunks of 192 columns or less, 1728 for one thread; 8
		// rows give 28 chunks of exactly 112, 1568 each.
		{224, 13, 14, 2, 8},
		// conv2 (112 rows of 7): 18 rows give 6 chunks of 128 and one of
		// 32, 416 for one thread; 16 rows give 7 chunks of 112, 448.
		{112, 18, 7, 2, 18},
		// 13×13 maps (tx 4): 32 rows are two chunks of 128, even.
		{64, 32, 4, 2, 32},
		// One thread: only the rounding counts; 5 rows of 3 tiles (15,
		// 16 columns) beat 6 (18, 32).
		{12, 6, 3, 1, 5},
		{1, 1, 9, 2, 1},
	} {
		got := chunkRows(c.rows, c.per, c.tx, c.threads)
		if got != c.want {
			t.Errorf("chunkRows(%d, %d, %d, %d) = %d, want %d", c.rows, c.per, c.tx, c.threads, got, c.want)
		}
	}
}
