package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The transform matrices of F(4×4, 5×5) as matrices (the Go and assembly
// code spell out their products as short sums).
var (
	wg8BT = [8][8]float64{
		{1, 0, -21.0 / 4, 0, 21.0 / 4, 0, -1, 0},
		{0, 1, 1, -17.0 / 4, -17.0 / 4, 1, 1, 0},
		{0, 1, -1, -17.0 / 4, 17.0 / 4, 1, -1, 0},
		{0, 1, 0.5, -5, -2.5, 4, 2, 0},
		{0, 1, -0.5, -5, 2.5, 4, -2, 0},
		{0, 1, 2, -1.25, -2.5, 0.25, 0.5, 0},
		{0, 1, -2, -1.25, 2.5, 0.25, -0.5, 0},
		{0, -1, 0, 21.0 / 4, 0, -21.0 / 4, 0, 1},
	}
	wg8AT = [4][8]float64{
		{1, 1, 1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0.5, -0.5, 0},
		{0, 1, 1, 4, 4, 0.25, 0.25, 0},
		{0, 1, -1, 8, -8, 0.125, -0.125, 1},
	}
)

// TestWgInput8x8 checks Bᵀ d B against the float64 matrix product for
// every implementation, that nothing outside the 64 rows' 8·groups
// columns is written, and that the assembly gives the Go reference's bits.
func TestWgInput8x8(t *testing.T) {
	for _, c := range wgCases {
		r := rand.New(rand.NewPCG(11, uint64(c.groups)))
		ss := 32*c.groups + 4 + c.spad
		vs := 8*c.groups + c.vpad
		src := randSlice(r, 7*ss+32*c.groups+4)
		var ref []float32
		forEachImpl(t, func(t *testing.T, im *impl) {
			v := make([]float32, 63*vs+8*c.groups+7)
			for i := range v {
				v[i] = -999
			}
			WgInput8x8(v, vs, src, ss, c.groups)
			for q := 0; q < 8*c.groups; q++ {
				var d, bd [8][8]float64
				for i := range d {
					for j := range d[i] {
						d[i][j] = float64(src[i*ss+4*q+j])
					}
				}
				for i := range bd { // Bᵀ d
					for j := range bd[i] {
						for k := 0; k < 8; k++ {
							bd[i][j] += wg8BT[i][k] * d[k][j]
						}
					}
				}
				for i := 0; i < 8; i++ { // (Bᵀ d) B
					for j := 0; j < 8; j++ {
						var want float64
						for k := 0; k < 8; k++ {
							want += bd[i][k] * wg8BT[j][k]
						}
						got := v[(8*i+j)*vs+q]
						if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
							t.Fatalf("%+v tile %d ξ=(%d,%d): got %v, want %v", c, q, i, j, got, want)
						}
					}
				}
			}
			for i, x := range v {
				if (i%vs >= 8*c.groups || i >= 64*vs) && x != -999 {
					t.Fatalf("%+v: v[%d] = %v written outside the rows", c, i, x)
				}
			}
			if ref == nil {
				ref = v
				return
			}
			for i := range v {
				if math.Float32bits(v[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%+v: %s gives %v at %d, %s %v", c, im.name, v[i], i, impls[0].name, ref[i])
				}
			}
		})
	}
}

// TestWgOutput8x8 checks Aᵀ m A and the epilogue against float64, NaN
// propagation, the guard bands, and the bits of the assembly against the
// Go reference.
func TestWgOutput8x8(t *testing.T) {
	nan := float32(math.NaN())
	for _, relu := range []bool{false, true} {
		for _, c := range wgCases {
			r := rand.New(rand.NewPCG(12, uint64(c.groups)))
			ms := 8*c.groups + c.vpad
			ds := 32*c.groups + c.spad
			m := randSlice(r, 63*ms+8*c.groups)
			m[9*ms] = nan // tile 0, ξ=(1,1): Aᵀ's column 1 has no zero, so every output reads it
			bias, scale := float32(0.25), float32(1.5)
			var ref []float32
			forEachImpl(t, func(t *testing.T, im *impl) {
				dst := make([]float32, 3*ds+32*c.groups+5)
				for i := range dst {
					dst[i] = -999
				}
				WgOutput8x8(dst, ds, m, ms, c.groups, bias, scale, relu)
				for q := 0; q < 8*c.groups; q++ {
					var x [8][8]float64
					var am [4][8]float64
					for i := range x {
						for j := range x[i] {
							x[i][j] = float64(m[(8*i+j)*ms+q])
						}
					}
					for i := 0; i < 4; i++ {
						for j := 0; j < 8; j++ {
							for k := 0; k < 8; k++ {
								am[i][j] += wg8AT[i][k] * x[k][j]
							}
						}
					}
					for i := 0; i < 4; i++ {
						for j := 0; j < 4; j++ {
							var want float64
							for k := 0; k < 8; k++ {
								want += am[i][k] * wg8AT[j][k]
							}
							want += float64(bias)
							if relu {
								want = float64(scale) * max(0, want)
							}
							got := dst[i*ds+4*q+j]
							if q == 0 {
								if got == got {
									t.Fatalf("relu=%v %+v tile 0: got %v, want NaN", relu, c, got)
								}
								continue
							}
							if math.Abs(float64(got)-want) > 1e-4*(1+math.Abs(want)) {
								t.Fatalf("relu=%v %+v tile %d (%d,%d): got %v, want %v", relu, c, q, i, j, got, want)
							}
						}
					}
				}
				for i, x := range dst {
					if (i%ds >= 32*c.groups || i >= 4*ds) && x != -999 {
						t.Fatalf("relu=%v %+v: dst[%d] = %v written outside the rows", relu, c, i, x)
					}
				}
				if ref == nil {
					ref = dst
					return
				}
				for i := range dst {
					if math.Float32bits(dst[i]) != math.Float32bits(ref[i]) && dst[i] == dst[i] {
						t.Fatalf("relu=%v %+v: %s gives %v at %d, %s %v", relu, c, im.name, dst[i], i, impls[0].name, ref[i])
					}
				}
			})
		}
	}
}

func TestWg8x8MisusePanics(t *testing.T) {
	buf := make([]float32, 2000)
	for _, f := range []func(){
		func() { WgInput8x8(buf, 8, buf[:10], 36, 1) },
		func() { WgInput8x8(buf, 7, buf, 36, 1) },
		func() { WgInput8x8(buf, 8, buf, 35, 1) },
		func() { WgOutput8x8(buf[:10], 32, buf, 8, 1, 0, 1, true) },
		func() { WgOutput8x8(buf, 32, buf, 4, 1, 0, 1, true) },
		func() { WgOutput8x8(buf, 31, buf, 8, 1, 0, 1, true) },
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
