package onnx

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// Hand-built graphs for what torch.onnx never writes (uneven Conv pads,
// auto_pad, MatMul, Gemm without transB, Clip with other bounds, Pad with
// a value, Reshape), checked against naive float64 loops written from the
// ONNX operator definitions.

type opGraph struct {
	name string
	spec graphSpec
	x    *tensor.Tensor
	ref  func(x *tensor.Tensor) ([]float32, []int)
}

func ramp(n int, seed float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(math.Sin(float64(i)*0.7+seed) * 1.5)
	}
	return out
}

func i64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// naiveConv is ONNX Conv: pads (top, left, bottom, right), in float64.
func naiveConv(x *tensor.Tensor, w, bias []float32, ws []int, group int, stride, dil [2]int, pads [4]int) ([]float32, []int) {
	n, h, wd := x.Dim(0), x.Dim(2), x.Dim(3)
	o, cg, kh, kw := ws[0], ws[1], ws[2], ws[3]
	oh := (h+pads[0]+pads[2]-dil[0]*(kh-1)-1)/stride[0] + 1
	ow := (wd+pads[1]+pads[3]-dil[1]*(kw-1)-1)/stride[1] + 1
	og := o / group
	out := make([]float32, n*o*oh*ow)
	for i := 0; i < n; i++ {
		for oc := 0; oc < o; oc++ {
			gi := oc / og
			for y := 0; y < oh; y++ {
				for xx := 0; xx < ow; xx++ {
					s := 0.0
					if bias != nil {
						s = float64(bias[oc])
					}
					for ci := 0; ci < cg; ci++ {
						for a := 0; a < kh; a++ {
							for b := 0; b < kw; b++ {
								iy := y*stride[0] - pads[0] + a*dil[0]
								ix := xx*stride[1] - pads[1] + b*dil[1]
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								s += float64(x.At(i, gi*cg+ci, iy, ix)) * float64(w[((oc*cg+ci)*kh+a)*kw+b])
							}
						}
					}
					out[((i*o+oc)*oh+y)*ow+xx] = float32(s)
				}
			}
		}
	}
	return out, []int{n, o, oh, ow}
}

func convGraph(name string, xs, ws []int, group int, attrs ...attrPB) opGraph {
	nw := ws[0] * ws[1] * ws[2] * ws[3]
	w, bias := ramp(nw, 1), ramp(ws[0], 2)
	attrs = append(attrs, aInt("group", int64(group)))
	return opGraph{
		name: name,
		spec: graphSpec{
			nodes:   []pb{nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"y"}, attrs...)},
			inits:   []pb{tensorPB("w", i64(ws), w), tensorPB("b", []int64{int64(ws[0])}, bias)},
			inputs:  []pb{valuePB("x", i64(xs)...)},
			outputs: []pb{valuePB("y")},
		},
		x: tensor.From(ramp(xs[0]*xs[1]*xs[2]*xs[3], 0), xs...),
	}
}

func opGraphs() []opGraph {
	var gs []opGraph

	g := convGraph("conv uneven pads grouped", []int{2, 4, 7, 9}, []int{6, 2, 3, 2}, 2,
		aInts("pads", 0, 2, 1, 1), aInts("strides", 2, 1), aInts("dilations", 1, 2))
	g.ref = func(x *tensor.Tensor) ([]float32, []int) {
		return naiveConv(x, ramp(72, 1), ramp(6, 2), []int{6, 2, 3, 2}, 2, [2]int{2, 1}, [2]int{1, 2}, [4]int{0, 2, 1, 1})
	}
	gs = append(gs, g)

	g = convGraph("conv depthwise uneven pads", []int{1, 3, 8, 7}, []int{6, 1, 3, 3}, 3,
		aInts("pads", 1, 0, 2, 1), aInts("strides", 2, 2))
	g.ref = func(x *tensor.Tensor) ([]float32, []int) {
		return naiveConv(x, ramp(54, 1), ramp(6, 2), []int{6, 1, 3, 3}, 3, [2]int{2, 2}, [2]int{1, 1}, [4]int{1, 0, 2, 1})
	}
	gs = append(gs, g)

	// SAME_UPPER with stride 2 on 5×6: out 3×3, total pads 2 (H), 1 (W),
	// the odd one at the end.
	g = convGraph("conv auto_pad SAME_UPPER", []int{1, 2, 5, 6}, []int{3, 2, 3, 3}, 1,
		aString("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2))
	g.ref = func(x *tensor.Tensor) ([]float32, []int) {
		return naiveConv(x, ramp(54, 1), ramp(3, 2), []int{3, 2, 3, 3}, 1, [2]int{2, 2}, [2]int{1, 1}, [4]int{1, 0, 1, 1})
	}
	gs = append(gs, g)

	// MatMul [2,5]·[5,3], then Gemm with transB 0, alpha 0.5, beta 2,
	// bias [1,4]; then Clip to [-0.25, 0.5].
	b1, b2, c := ramp(15, 3), ramp(12, 4), ramp(4, 5)
	gs = append(gs, opGraph{
		name: "MatMul Gemm Clip",
		spec: graphSpec{
			nodes: []pb{
				nodePB("MatMul", "mm", []string{"x", "b1"}, []string{"m"}),
				nodePB("Gemm", "gemm", []string{"m", "b2", "c"}, []string{"g"}, aFloat("alpha", 0.5), aFloat("beta", 2)),
				nodePB("Constant", "lo", nil, []string{"lo"}, aTensor("value", tensorPB("", nil, []float32{-0.25}))),
				nodePB("Clip", "clip", []string{"g", "lo", "hi"}, []string{"y"}),
			},
			inits:   []pb{tensorPB("b1", []int64{5, 3}, b1), tensorPB("b2", []int64{3, 4}, b2), tensorPB("c", []int64{1, 4}, c), tensorPB("hi", nil, []float32{0.5})},
			inputs:  []pb{valuePB("x", -1, 5)},
			outputs: []pb{valuePB("y")},
		},
		x: tensor.From(ramp(10, 0), 2, 5),
		ref: func(x *tensor.Tensor) ([]float32, []int) {
			out := make([]float32, 8)
			for i := 0; i < 2; i++ {
				var m [3]float64
				for j := range m {
					for k := 0; k < 5; k++ {
						m[j] += float64(x.At(i, k)) * float64(b1[k*3+j])
					}
				}
				for j := 0; j < 4; j++ {
					s := 2 * float64(c[j])
					for k := 0; k < 3; k++ {
						s += 0.5 * m[k] * float64(b2[k*4+j])
					}
					out[i*4+j] = float32(math.Min(math.Max(s, -0.25), 0.5))
				}
			}
			return out, []int{2, 4}
		},
	})

	// Pad with a value, uneven max pooling, Reshape [0, -1].
	gs = append(gs, opGraph{
		name: "Pad MaxPool Reshape",
		spec: graphSpec{
			nodes: []pb{
				nodePB("Pad", "pad", []string{"x", "pads", "v"}, []string{"p"}),
				nodePB("MaxPool", "pool", []string{"p"}, []string{"m"}, aInts("kernel_shape", 2, 3), aInts("pads", 1, 0, 0, 2), aInts("strides", 2, 2)),
				nodePB("Reshape", "flat", []string{"m", "shape"}, []string{"y"}),
			},
			inits: []pb{intTensorPB("pads", []int64{8}, []int64{0, 0, 1, 0, 0, 0, 0, 2}), tensorPB("v", nil, []float32{0.75}),
				intTensorPB("shape", []int64{2}, []int64{0, -1})},
			inputs:  []pb{valuePB("x", -1, 2, 4, 5)},
			outputs: []pb{valuePB("y")},
		},
		x: tensor.From(ramp(40, 0), 1, 2, 4, 5),
		ref: func(x *tensor.Tensor) ([]float32, []int) {
			// Padded 5×7 (top 1, right 2, value 0.75); pool pads top 1,
			// right 2 (−∞): windows 2×3 at stride 2 over 6×9 -> 3×4.
			var out []float32
			for c := 0; c < 2; c++ {
				for i := 0; i < 3; i++ {
					for j := 0; j < 4; j++ {
						m := math.Inf(-1)
						for a := 0; a < 2; a++ {
							for b := 0; b < 3; b++ {
								py, px := i*2-1+a, j*2+b // in the padded 5×7 map
								if py < 0 || py >= 5 || px >= 7 {
									continue
								}
								v := 0.75
								if py >= 1 && px < 5 {
									v = float64(x.At(0, c, py-1, px))
								}
								m = math.Max(m, v)
							}
						}
						out = append(out, float32(m))
					}
				}
			}
			return out, []int{1, 24}
		},
	})
	return gs
}

func TestOps(t *testing.T) {
	for _, g := range opGraphs() {
		t.Run(g.name, func(t *testing.T) {
			m, err := Decode(modelPB(13, g.spec))
			if err != nil {
				t.Fatal(err)
			}
			net, err := NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			y := net.Forward(g.x)
			want, shape := g.ref(g.x)
			if !y.HasShape(shape...) {
				t.Fatalf("shape %v, want %v", y.Shape(), shape)
			}
			if e, at := maxRelErr(y.Data(), want); e > 1e-6 {
				t.Errorf("error %.3g at %d: got %g, want %g", e, at, y.Data()[at], want[at])
			}
		})
	}
}

// TestNetErrors checks NewNet's refusals: one line, naming the node.
func TestNetErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(g *graphSpec)
		want string
	}{
		{"weight shape", func(g *graphSpec) {
			g.inits[0] = tensorPB("w", []int64{3, 5, 3, 3}, make([]float32, 135))
		}, "node conv: malformed model: Conv input [1 2 4 4] with group 1 does not fit weight w [3 5 3 3]"},
		{"bias shape", func(g *graphSpec) {
			g.inits[1] = tensorPB("b", []int64{2}, make([]float32, 2))
		}, "node conv: malformed model: Conv bias b is [2], want [3]"},
		{"kernel_shape", func(g *graphSpec) {
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}, aInts("kernel_shape", 5, 5))
		}, "kernel_shape [5 5] disagrees with the weight's [3 3]"},
		{"weight not constant", func(g *graphSpec) {
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "x"}, []string{"c"})
		}, "Conv input 1 (x) must be an initializer or a constant"},
		{"broadcast add", func(g *graphSpec) {
			g.nodes[1] = nodePB("Add", "add", []string{"c", "x"}, []string{"y"})
		}, "node add: unsupported: Add of [1 3 4 4] and [1 2 4 4] (broadcasting is not supported)"},
		{"symbolic size", func(g *graphSpec) {
			g.inputs[0] = valuePB("x", -1, 2, -1, 4)
		}, "every dimension but the batch must be a size"},
		{"too small", func(g *graphSpec) {
			g.inputs[0] = valuePB("x", 1, 2, 1, 1)
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"})
		}, "Conv input [1 2 1 1] is too small for weight [3 2 3 3]"},
		{"huge pads", func(g *graphSpec) {
			g.inputs[0] = valuePB("x", 1, 2, 1<<15, 1<<15)
			g.inits[0] = tensorPB("w", []int64{3000, 2, 3, 3}, make([]float32, 54000))
			g.inits[1] = tensorPB("b", []int64{3000}, make([]float32, 3000))
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}, aInts("pads", 1, 1, 1, 1))
		}, "more than 2^31 elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := reluModel()
			g.inputs[0] = valuePB("x", 1, 2, 4, 4)
			c.edit(&g)
			m, err := Decode(modelPB(13, g))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewNet(m)
			if err == nil {
				t.Fatal("no error")
			}
			checkErr(t, err)
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q\nwant one line containing %q", msg, c.want)
			}
		})
	}
}

// TestGainAndRecord checks SetGain and Record on every kind of unit the
// fixtures have: a conv fused with its Relu, a grouped and a depthwise
// conv, a standalone Relu, and a ReLU6 (Clip) unit.
func TestGainAndRecord(t *testing.T) {
	for _, name := range []string{"ops", "mobilenet_v2", "densenet121"} {
		t.Run(name, func(t *testing.T) {
			net, err := LoadNet(fixtureDir + "/" + name + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			x := readNpy(t, fixtureDir+"/"+name+".x.npy")
			_, plain := net.ForwardUnits(x)
			alphas := make([][]float32, len(net.Units))
			for i, u := range net.Units {
				alphas[i] = make([]float32, u.Channels)
				for c := range alphas[i] {
					alphas[i][c] = []float32{-1, 0, 0.5, 2}[(c+i)%4]
				}
			}
			// One unit at a time: its output is (1+α_c) times the plain
			// one (exact for α = -1 and 0, to rounding otherwise).
			for i, u := range net.Units {
				if i%7 != 0 && i != len(net.Units)-1 {
					continue
				}
				net.ClearGains()
				net.SetGain(u.Name, alphas[i])
				var means map[string]*tensor.Tensor = map[string]*tensor.Tensor{}
				net.Record(func(unit string, m *tensor.Tensor) { means[unit] = m })
				_, got := net.ForwardUnits(x)
				net.Record(nil)
				c, hw := u.Channels, plain[i].Len()/(plain[i].Dim(0)*u.Channels)
				for j, v := range plain[i].Data() {
					want := v * (1 + alphas[i][(j/hw)%c])
					if d := math.Abs(float64(got[i].Data()[j] - want)); d > 1e-5*(1+math.Abs(float64(want))) {
						t.Fatalf("unit %s value %d: %g, want %g", u.Name, j, got[i].Data()[j], want)
					}
				}
				m := means[u.Name]
				if m == nil || !m.HasShape(x.Dim(0), c) {
					t.Fatalf("unit %s: recorded %v", u.Name, m)
				}
				wantM := channelMeans(got[i].Reshape(x.Dim(0), c, -1, 1))
				if e, at := maxRelErr(m.Data(), wantM.Data()); e > 1e-6 {
					t.Fatalf("unit %s: mean %d is %g, want %g", u.Name, at, m.Data()[at], wantM.Data()[at])
				}
				if len(means) != len(net.Units) {
					t.Fatalf("recorded %d units of %d", len(means), len(net.Units))
				}
			}
		})
	}
}

func TestModulePath(t *testing.T) {
	for _, c := range [][2]string{
		{"/layer3/layer3.1/relu/Relu", "layer3.1.relu"},
		{"/layer1/layer1.0/relu_1/Relu", "layer1.0.relu_1"},
		{"/relu/Relu", "relu"},
		{"/features/denseblock1/denselayer2/relu1/Relu", "features.denseblock1.denselayer2.relu1"},
		{"/features/features.0/features.0.2/Clip", "features.0.2"},
		{"/Relu", ""},
		{"Relu_12", ""},
	} {
		if got := ModulePath(c[0]); got != c[1] {
			t.Errorf("ModulePath(%q) = %q, want %q", c[0], got, c[1])
		}
	}
	net, err := LoadNet(fixtureDir + "/resnet18.onnx")
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, u := range net.Units {
		mods = append(mods, u.Module)
	}
	want := []string{"relu", "layer1.0.relu", "layer1.0.relu_1", "layer1.1.relu", "layer1.1.relu_1"}
	if !slices.Equal(mods[:5], want) {
		t.Errorf("modules %v, want %v...", mods[:5], want)
	}
	u, ok := net.Unit("layer4.1.relu_1")
	if !ok || u.Name != "/layer4/layer4.1/relu_1/Relu_output_0" || u.Channels != 64 || !u.Conv {
		t.Errorf("unit layer4.1.relu_1: %+v", u)
	}
}

// TestFusedConvGain covers the Conv+Relu fusion of each convolution path
// (plain, grouped, depthwise, uneven pads) with a gain and recording,
// against the naive loop.
func TestFusedConvGain(t *testing.T) {
	cases := []struct {
		name   string
		xs, ws []int
		group  int
		pads   [4]int
	}{
		{"plain", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, 1, [4]int{1, 1, 1, 1}},
		{"grouped", []int{2, 4, 6, 5}, []int{6, 2, 3, 3}, 2, [4]int{1, 1, 1, 1}},
		{"depthwise", []int{2, 3, 6, 5}, []int{6, 1, 3, 3}, 3, [4]int{1, 1, 1, 1}},
		{"uneven pads", []int{2, 3, 6, 5}, []int{4, 3, 3, 3}, 1, [4]int{0, 1, 2, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := convGraph(c.name, c.xs, c.ws, c.group, aInts("pads", i64(c.pads[:])...))
			g.spec.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"},
				aInts("pads", i64(c.pads[:])...), aInt("group", int64(c.group)))
			g.spec.nodes = append(g.spec.nodes, nodePB("Relu", "relu", []string{"c"}, []string{"y"}))
			m, err := Decode(modelPB(13, g.spec))
			if err != nil {
				t.Fatal(err)
			}
			net, err := NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(net.steps) != 1 {
				t.Fatalf("%d steps: Conv and Relu are not fused", len(net.steps))
			}
			o := c.ws[0]
			alpha := make([]float32, o)
			for i := range alpha {
				alpha[i] = []float32{-1, 0.5, 0, 2}[i%4]
			}
			net.SetGain("y", alpha)
			var means *tensor.Tensor
			net.Record(func(_ string, m *tensor.Tensor) { means = m })
			y := net.Forward(g.x)
			nw := c.ws[0] * c.ws[1] * c.ws[2] * c.ws[3]
			want, shape := naiveConv(g.x, ramp(nw, 1), ramp(o, 2), c.ws, c.group, [2]int{1, 1}, [2]int{1, 1}, c.pads)
			hw := shape[2] * shape[3]
			for i, v := range want {
				want[i] = max(v, 0) * (1 + alpha[(i/hw)%o])
			}
			if !y.HasShape(shape...) {
				t.Fatalf("shape %v, want %v", y.Shape(), shape)
			}
			if e, at := maxRelErr(y.Data(), want); e > 1e-6 {
				t.Errorf("error %.3g at %d: got %g, want %g", e, at, y.Data()[at], want[at])
			}
			wantM := channelMeans(tensor.From(want, shape...))
			if means == nil {
				t.Fatal("nothing recorded")
			}
			if e, at := maxRelErr(means.Data(), wantM.Data()); e > 1e-6 {
				t.Errorf("mean %d: got %g, want %g", at, means.Data()[at], wantM.Data()[at])
			}
		})
	}
}
