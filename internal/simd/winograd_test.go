package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The transform matrices of F(4×4, 3×3), written as matrices (the Go and
// assembly code spell out their products as short sums).
var (
	wgBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	wgAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// wgCase is a buffer layout for the transforms, with the strides padded
// past their minimum. 16, 17 and 35 groups are one, two and three of the
// output transforms' blocks (wgOutBlock in _gen).
type wgCase struct{ groups, spad, vpad int }

var wgCases = []wgCase{{1, 0, 0}, {1, 3, 5}, {2, 1, 0}, {7, 4, 9}, {16, 0, 0}, {17, 2, 3}, {35, 1, 0}}

// wgInputs are the input transforms with 6×6 patches (F(4×4, 3×3)).
var wgInputs = []struct {
	name string
	step int
	f    func(v []float32, vstride int, src []float32, sstride, groups int)
}{{"WgInput8", 4, WgInput8}}

// TestWgInput8 checks Bᵀ d B against the float64 matrix product, for
// every implementation, and that nothing outside the 36 rows' 8·groups
// columns is written.
func TestWgInput8(t *testing.T) {
	for _, in := range wgInputs {
		forEachImpl(t, func(t *testing.T, im *impl) {
			r := rand.New(rand.NewPCG(1, 9))
			for _, c := range wgCases {
				ss := 8*in.step*c.groups + 4 + c.spad
				vs := 8*c.groups + c.vpad
				src := randSlice(r, 5*ss+8*in.step*c.groups+4)
				v := make([]float32, 35*vs+8*c.groups+7)
				for i := range v {
					v[i] = -999
				}
				in.f(v, vs, src, ss, c.groups)
				for q := 0; q < 8*c.groups; q++ {
					var d, bd [6][6]float64
					for i := range d {
						for j := range d[i] {
							d[i][j] = float64(src[i*ss+in.step*q+j])
						}
					}
					for i := range bd { // Bᵀ d
						for j := range bd[i] {
							for k := 0; k < 6; k++ {
								bd[i][j] += wgBT[i][k] * d[k][j]
							}
						}
					}
					for i := 0; i < 6; i++ { // (Bᵀ d) B
						for j := 0; j < 6; j++ {
							var want float64
							for k := 0; k < 6; k++ {
								want += bd[i][k] * wgBT[j][k]
							}
							got := v[(6*i+j)*vs+q]
							if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
								t.Fatalf("%s %+v tile %d ξ=(%d,%d): got %v, want %v", in.name, c, q, i, j, got, want)
							}
						}
					}
				}
				for i, x := range v {
					if i%vs >= 8*c.groups || i >= 36*vs {
						if x != -999 {
							t.Fatalf("%s %+v: v[%d] = %v written outside the rows", in.name, c, i, x)
						}
					}
				}
			}
		})
	}
}

// wgOutputs are the output transforms from 6×6 tiles (F(4×4, 3×3)).
var wgOutputs = []struct {
	name string
	m    int
	at   [][6]float64
	f    func(dst []float32, dstride int, m []float32, mstride, groups int, bias, scale float32, relu bool)
}{
	{"WgOutput8", 4, wgAT[:], WgOutput8},
}

// TestWgOutput8 checks Aᵀ m A and the epilogue against float64, and the
// bits of the assembly against the Go reference.
func TestWgOutput8(t *testing.T) {
	nan := float32(math.NaN())
	for _, out := range wgOutputs {
		mm := out.m
		for _, relu := range []bool{false, true} {
			for _, c := range wgCases {
				r := rand.New(rand.NewPCG(2, uint64(c.groups)))
				ms := 8*c.groups + c.vpad
				ds := 8*mm*c.groups + c.spad
				m := randSlice(r, 35*ms+8*c.groups)
				m[7*ms] = nan // tile 0: column 1 of Aᵀ has no zero, so every output reads m[ξ=(1,1)]
				bias, scale := float32(0.25), float32(1.5)
				var ref []float32
				forEachImpl(t, func(t *testing.T, im *impl) {
					dst := make([]float32, (mm-1)*ds+8*mm*c.groups+5)
					for i := range dst {
						dst[i] = -999
					}
					out.f(dst, ds, m, ms, c.groups, bias, scale, relu)
					for q := 0; q < 8*c.groups; q++ {
						var x, am [6][6]float64
						for i := range x {
							for j := range x[i] {
								x[i][j] = float64(m[(6*i+j)*ms+q])
							}
						}
						for i := 0; i < mm; i++ {
							for j := 0; j < 6; j++ {
								for k := 0; k < 6; k++ {
									am[i][j] += out.at[i][k] * x[k][j]
								}
							}
						}
						for i := 0; i < mm; i++ {
							for j := 0; j < mm; j++ {
								var want float64
								for k := 0; k < 6; k++ {
									want += am[i][k] * out.at[j][k]
								}
								want += float64(bias)
								if relu {
									want = float64(scale) * max(0, want)
								}
								got := dst[i*ds+mm*q+j]
								if q == 0 {
									if got == got {
										t.Fatalf("%s relu=%v %+v tile 0: got %v, want NaN", out.name, relu, c, got)
									}
									continue
								}
								if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
									t.Fatalf("%s relu=%v %+v tile %d (%d,%d): got %v, want %v", out.name, relu, c, q, i, j, got, want)
								}
							}
						}
					}
					for i, x := range dst {
						if i%ds >= 8*mm*c.groups || i >= mm*ds {
							if x != -999 {
								t.Fatalf("%s relu=%v %+v: dst[%d] = %v written outside the rows", out.name, relu, c, i, x)
							}
						}
					}
					if ref == nil {
						ref = dst
						return
					}
					for i := range dst {
						if math.Float32bits(dst[i]) != math.Float32bits(ref[i]) && dst[i] == dst[i] {
							t.Fatalf("%s relu=%v %+v: %s gives %v at %d, %s %v", out.name, relu, c, im.name, dst[i], i, impls[0].name, ref[i])
						}
					}
				})
			}
		}
	}
}

// TestWgInput8Bits checks that the assembly gives the Go reference's bits,
// on the same input.
func TestWgInput8Bits(t *testing.T) {
	for _, in := range wgInputs {
		r := rand.New(rand.NewPCG(3, 4))
		groups, vs := 3, 3*8
		ss := 8*in.step*groups + 4
		src := randSlice(r, 5*ss+8*in.step*groups+4)
		var ref []float32
		forEachImpl(t, func(t *testing.T, im *impl) {
			v := make([]float32, 36*vs)
			in.f(v, vs, src, ss, groups)
			if ref == nil {
				ref = v
				return
			}
			for i := range v {
				if math.Float32bits(v[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%s: %s gives %v at %d, %s %v", in.name, im.name, v[i], i, impls[0].name, ref[i])
				}
			}
		})
	}
}

func TestWgMisusePanics(t *testing.T) {
	buf := make([]float32, 1000)
	for _, f := range []func(){
		func() { WgInput8(buf, 8, buf[:10], 36, 1) },
		func() { WgInput8(buf, 7, buf, 36, 1) },
		func() { WgOutput8(buf[:10], 32, buf, 8, 1, 0, 1, true) },
		func() { WgOutput8(buf, 32, buf, 4, 1, 0, 1, true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// TestWrapPackedA builds a PackedA by hand in the documented layout and
// checks that a product with it equals one with PackA's.
func TestWrapPackedA(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, sz := range [][2]int{{1, 1}, {7, 5}, {13, 17}, {64, 3}} {
			m, k := sz[0], sz[1]
			a := randSlice(r, m*k)
			mr, size := PackedALayout(m, k)
			data := make([]float32, size)
			for i := 0; i < m; i++ {
				for p := 0; p < k; p++ {
					data[(i/mr)*mr*k+p*mr+i%mr] = a[i*k+p]
				}
			}
			w := WrapPackedA(m, k, mr, data)
			const n = 19
			b := randSlice(r, k*n)
			c1, c2 := make([]float32, m*n), make([]float32, m*n)
			GemmPacked(w, DenseB{Data: b, Ld: n}, n, c1, n, Epilogue{})
			GemmPacked(PackA(m, k, a, k), DenseB{Data: b, Ld: n}, n, c2, n, Epilogue{})
			for i := range c1 {
				if c1[i] != c2[i] {
					t.Fatalf("%d×%d: product differs at %d: %v vs %v", m, k, i, c1[i], c2[i])
				}
			}
		}
	})
}

// TestWgInput8Pair checks the paired input transform against WgInput8
// (itself checked against float64) on each of its two sources, bit for
// bit, on every implementation, and that only its eight columns of the
// 36 rows are written.
func TestWgInput8Pair(t *testing.T) {
	forEachImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, c := range []struct{ spad, vpad int }{{0, 0}, {3, 5}, {16, 1}} {
			ss := 20 + c.spad
			vs := 8 + c.vpad
			a := randSlice(r, 5*ss+20)
			b := randSlice(r, 5*ss+20)
			v := make([]float32, 36*vs)
			for i := range v {
				v[i] = -999
			}
			WgInput8Pair(v, vs, a, b, ss)
			// WgInput8 wants 32+4 floats per row: widen each source.
			wide := func(x []float32) []float32 {
				w := make([]float32, 5*36+36)
				for i := 0; i < 6; i++ {
					copy(w[i*36:i*36+20], x[i*ss:i*ss+20])
				}
				return w
			}
			va, vb := make([]float32, 36*8), make([]float32, 36*8)
			WgInput8(va, 8, wide(a), 36, 1)
			WgInput8(vb, 8, wide(b), 36, 1)
			for xi := 0; xi < 36; xi++ {
				for q := 0; q < 8; q++ {
					want := va[xi*8+q]
					if q >= 4 {
						want = vb[xi*8+q-4]
					}
					if got := v[xi*vs+q]; math.Float32bits(got) != math.Float32bits(want) {
						t.Fatalf("%+v ξ=%d tile %d: got %v, want %v", c, xi, q, got, want)
					}
				}
				for q := 8; q < vs; q++ {
					if v[xi*vs+q] != -999 {
						t.Fatalf("%+v: wrote v[%d] outside the group", c, xi*vs+q)
					}
				}
			}
		}
	})
	for _, f := range []func(){
		func() { WgInput8Pair(make([]float32, 36*8), 8, make([]float32, 119), make([]float32, 120), 20) },
		func() { WgInput8Pair(make([]float32, 36*8), 8, make([]float32, 120), make([]float32, 120), 19) },
		func() { WgInput8Pair(make([]float32, 35*8+7), 8, make([]float32, 120), make([]float32, 120), 20) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
