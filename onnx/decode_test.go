package onnx

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/emosel/emosel/tensor"
)

// fixtureDir holds the models testdata/gen/onnx_gen.py writes.
const fixtureDir = "../testdata/onnx"

// reluModel is input [N,2,4,4] -> Conv 3x3 pad 1 (3 out) -> Relu -> output.
func reluModel() graphSpec {
	w := make([]float32, 3*2*3*3)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	return graphSpec{
		nodes: []pb{
			nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}, aInts("pads", 1, 1, 1, 1), aInts("kernel_shape", 3, 3)),
			nodePB("Relu", "relu", []string{"c"}, []string{"y"}),
		},
		inits:   []pb{tensorPB("w", []int64{3, 2, 3, 3}, w), tensorPB("b", []int64{3}, []float32{0.5, -1, 0})},
		inputs:  []pb{valuePB("x", -1, 2, 4, 4)},
		outputs: []pb{valuePB("y", -1, 3, 4, 4)},
	}
}

func TestDecodeSmall(t *testing.T) {
	m, err := Decode(modelPB(13, reluModel()))
	if err != nil {
		t.Fatal(err)
	}
	if m.Opset() != 13 || m.Producer != "emosel-test" || len(m.Graph.Nodes) != 2 {
		t.Fatalf("model %+v", m)
	}
	w := m.Graph.Initializer("w")
	if w == nil || w.Len() != 54 || w.Floats[8] != -2 {
		t.Fatalf("initializer w: %+v", w)
	}
	in := m.Graph.DataInputs()
	if len(in) != 1 || in[0].Shape[0].Param != "N" || in[0].Shape[3].Value != 4 {
		t.Fatalf("inputs %+v", in)
	}
}

// TestDecodeErrors checks that each bad model is refused with a one-line
// error wrapping the right sentinel and naming what is wrong.
func TestDecodeErrors(t *testing.T) {
	type tc struct {
		name     string
		model    func() []byte
		sentinel error
		want     string
	}
	edit := func(f func(g *graphSpec)) func() []byte {
		return func() []byte {
			g := reluModel()
			f(&g)
			return modelPB(13, g)
		}
	}
	cases := []tc{
		{"unsupported op", edit(func(g *graphSpec) {
			g.nodes[1] = nodePB("LeakyRelu", "lrelu", []string{"c"}, []string{"y"})
		}), ErrUnsupported, "node lrelu: unsupported: operator LeakyRelu (supported: Add, AveragePool,"},
		{"other domain", edit(func(g *graphSpec) {
			g.nodes[1] = append(g.nodes[1], pb{}.str(fNodeDomain, "com.microsoft")...)
		}), ErrUnsupported, "domain com.microsoft"},
		{"unknown attribute", edit(func(g *graphSpec) {
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}, aInts("pads", 1, 1, 1, 1), aInt("fancy", 1))
		}), ErrUnsupported, "node conv: unsupported: Conv attribute fancy"},
		{"attribute type", edit(func(g *graphSpec) {
			g.nodes[0] = nodePB("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}, aInt("pads", 1))
		}), ErrFormat, "Conv attribute pads has type INT, want INTS"},
		{"cycle", edit(func(g *graphSpec) {
			g.nodes = []pb{
				nodePB("Relu", "a", []string{"q"}, []string{"p"}),
				nodePB("Add", "b", []string{"p", "x"}, []string{"q"}),
				nodePB("Relu", "c", []string{"q"}, []string{"y"}),
			}
		}), ErrFormat, "malformed model: the graph has a cycle through node a (a -> b -> a)"},
		{"undefined input", edit(func(g *graphSpec) {
			g.nodes[1] = nodePB("Relu", "relu", []string{"nope"}, []string{"y"})
		}), ErrFormat, "node relu: malformed model: input nope is made by no node"},
		{"two producers", edit(func(g *graphSpec) {
			g.nodes = append(g.nodes, nodePB("Relu", "again", []string{"c"}, []string{"y"}))
		}), ErrFormat, "output y is also made by node relu"},
		{"initializer size", edit(func(g *graphSpec) {
			g.inits[1] = tensorPB("b", []int64{4}, []float32{1, 2, 3})
		}), ErrFormat, "initializer b: malformed model: raw_data has 12 bytes, dims [4] of FLOAT need 16"},
		{"absurd dims", edit(func(g *graphSpec) {
			g.inits[1] = tensorPB("b", []int64{1 << 40, 1 << 40}, nil)
		}), ErrUnsupported, "initializer b: unsupported: dims [1099511627776 1099511627776] hold more than 2^31 elements"},
		{"negative dim", edit(func(g *graphSpec) {
			g.inits[1] = tensorPB("b", []int64{-3}, nil)
		}), ErrFormat, "initializer b: malformed model: negative dimension"},
		{"external data", edit(func(g *graphSpec) {
			ext := pb{}.str(fStringKey, "location").str(fStringValue, "weights.bin")
			g.inits[0] = pb{}.str(fTensorName, "w").packed(fTensorDims, []int64{3, 2, 3, 3}).
				varint(fTensorDataType, 1).bytes(fTensorExternalData, ext).varint(fTensorDataLocation, 1)
		}), ErrUnsupported, "initializer w: unsupported: its data is in an external file (location=weights.bin)"},
		{"string tensor", edit(func(g *graphSpec) {
			g.inits[1] = pb{}.str(fTensorName, "b").packed(fTensorDims, []int64{1}).varint(fTensorDataType, 8).str(fTensorStringData, "hi")
		}), ErrUnsupported, "data type STRING"},
		{"duplicate initializer", edit(func(g *graphSpec) {
			g.inits = append(g.inits, tensorPB("b", []int64{3}, []float32{1, 2, 3}))
		}), ErrFormat, "initializer b is defined twice"},
		{"no output", edit(func(g *graphSpec) { g.outputs = nil }), ErrFormat, "the graph has no outputs"},
		{"old opset", func() []byte { return modelPB(9, reluModel()) }, ErrUnsupported, "opset 9 (this package reads 11 to 17)"},
		{"new opset", func() []byte { return modelPB(19, reluModel()) }, ErrUnsupported, "opset 19"},
		{"no graph", func() []byte { return pb{}.varint(fModelIRVersion, 8) }, ErrFormat, "the model has no graph"},
		{"not protobuf", func() []byte { return []byte("PK\x03\x04 this is a zip file") }, ErrFormat, "ModelProto"},
		{"wrong wire type", func() []byte { return pb{}.varint(fModelGraph, 3) }, ErrFormat, "ModelProto field 7 (graph) has wire type 0, want 2"},
		{"empty", func() []byte { return nil }, ErrFormat, "the model has no graph"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.model())
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("error does not wrap %v: %v", c.sentinel, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || !strings.HasPrefix(msg, "onnx: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q\nwant one line containing %q", msg, c.want)
			}
		})
	}
}

// TestTruncated cuts a real model at many points: every cut is an error
// (never a panic), and cuts inside a field say the model is truncated.
func TestTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "squeezenet1_1.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := 0
	for _, n := range []int{1, 2, 10, 100, 1000, len(b) / 3, len(b) / 2, len(b) - 100, len(b) - 1} {
		_, err := Decode(b[:n])
		if err == nil {
			t.Errorf("cut at %d of %d: no error", n, len(b))
			continue
		}
		checkErr(t, err)
		if errors.Is(err, ErrTruncated) {
			truncated++
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("cut at %d: multi-line error %q", n, err)
		}
	}
	if truncated == 0 {
		t.Error("no cut reported ErrTruncated")
	}
	_, err = Decode(b[:len(b)-1])
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "ends early") {
		t.Errorf("cut before the last byte: %v", err)
	}
}

func TestLoadFileNamesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.onnx")
	g := reluModel()
	g.nodes[1] = nodePB("Softmax", "sm", []string{"c"}, []string{"y"})
	if err := os.WriteFile(path, modelPB(13, g), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), "onnx: "+path+": node sm: unsupported: operator Softmax") {
		t.Fatalf("LoadFile: %v", err)
	}
	if _, err := LoadNet(path); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("LoadNet: %v", err)
	}
}

func TestTopoSortKeepsOrderAndSorts(t *testing.T) {
	g := reluModel()
	g.nodes[0], g.nodes[1] = g.nodes[1], g.nodes[0]
	m, err := Decode(modelPB(13, g))
	if err != nil {
		t.Fatal(err)
	}
	if m.Graph.Nodes[0].OpType != "Conv" || m.Graph.Nodes[1].OpType != "Relu" {
		t.Fatalf("order %s, %s", m.Graph.Nodes[0], m.Graph.Nodes[1])
	}
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
}

// TestTensorTypes decodes initializers of each readable type and field.
func TestTensorTypes(t *testing.T) {
	f16 := []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c} // 1, -2, 2^-24, +Inf
	dbl := pb{}
	for _, v := range []float64{0.1, -3} {
		dbl = protowire.AppendFixed64(dbl, math.Float64bits(v))
	}
	fl := pb{}
	for _, v := range []float32{1.5, -0.25} {
		fl = protowire.AppendFixed32(fl, math.Float32bits(v))
	}
	cases := []struct {
		name string
		t    pb
		f    []float32
		i    []int64
	}{
		{"raw FLOAT16", pb{}.str(fTensorName, "h").packed(fTensorDims, []int64{4}).varint(fTensorDataType, int64(Float16)).bytes(fTensorRawData, f16),
			[]float32{1, -2, float32(math.Ldexp(1, -24)), float32(math.Inf(1))}, nil},
		{"FLOAT16 in int32_data", pb{}.str(fTensorName, "h").packed(fTensorDims, []int64{2}).varint(fTensorDataType, int64(Float16)).packed(fTensorInt32Data, []int64{0x3c00, 0xc000}),
			[]float32{1, -2}, nil},
		{"double_data", pb{}.str(fTensorName, "d").packed(fTensorDims, []int64{2}).varint(fTensorDataType, int64(Double)).bytes(fTensorDoubleData, dbl),
			[]float32{0.1, -3}, nil},
		{"float_data", pb{}.str(fTensorName, "f").packed(fTensorDims, []int64{1, 2}).varint(fTensorDataType, int64(Float)).bytes(fTensorFloatData, fl),
			[]float32{1.5, -0.25}, nil},
		{"int32_data", pb{}.str(fTensorName, "i").packed(fTensorDims, []int64{3}).varint(fTensorDataType, int64(Int32)).packed(fTensorInt32Data, []int64{1, -2, 3}),
			nil, []int64{1, -2, 3}},
		{"raw INT8", pb{}.str(fTensorName, "i").packed(fTensorDims, []int64{2}).varint(fTensorDataType, int64(Int8)).bytes(fTensorRawData, []byte{0xff, 7}),
			nil, []int64{-1, 7}},
		{"scalar", tensorPB("s", nil, []float32{4}), []float32{4}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := reluModel()
			g.inits = append(g.inits, c.t)
			m, err := Read(bytes.NewReader(modelPB(13, g)))
			if err != nil {
				t.Fatal(err)
			}
			tt := m.Graph.Initializers[2]
			if !slices.Equal(tt.Floats, c.f) || !slices.Equal(tt.Ints, c.i) {
				t.Errorf("floats %v ints %v, want %v %v", tt.Floats, tt.Ints, c.f, c.i)
			}
		})
	}
	// Two data fields, or data of the wrong type, are refused.
	g := reluModel()
	g.inits = append(g.inits, tensorPB("x2", []int64{1}, []float32{1}).bytes(fTensorFloatData, fl[:4]))
	if _, err := Decode(modelPB(13, g)); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "initializer x2: malformed model: data in more than one field") {
		t.Errorf("two fields: %v", err)
	}
}

// TestDropout checks inference-mode Dropout (a no-op) and the refusals.
func TestDropout(t *testing.T) {
	build := func(train bool, useMask bool) []byte {
		g := reluModel()
		g.nodes[1] = nodePB("Dropout", "drop", []string{"c", "ratio", "train"}, []string{"y", "mask"})
		g.inits = append(g.inits, tensorPB("ratio", nil, []float32{0.5}),
			pb{}.str(fTensorName, "train").varint(fTensorDataType, 9).bytes(fTensorRawData, []byte{0}))
		if train {
			g.inits[3] = pb{}.str(fTensorName, "train").varint(fTensorDataType, 9).bytes(fTensorRawData, []byte{1})
		}
		if useMask {
			g.outputs[0] = valuePB("mask")
		}
		return modelPB(13, g)
	}
	m, err := Decode(build(false, false))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.From(ramp(32, 0), 1, 2, 4, 4)
	y := net.Forward(x)
	want, _ := naiveConv(x, m.Graph.Initializer("w").Floats, []float32{0.5, -1, 0}, []int{3, 2, 3, 3}, 1, [2]int{1, 1}, [2]int{1, 1}, [4]int{1, 1, 1, 1})
	if e, at := maxRelErr(y.Data(), want); e > 1e-6 {
		t.Errorf("error %.3g at %d", e, at)
	}
	for _, c := range []struct {
		train, mask bool
		want        string
	}{
		{true, false, "node drop: unsupported: Dropout in training mode (training_mode train)"},
		{false, true, "node drop: unsupported: Dropout's mask output mask is used"},
	} {
		m, err := Decode(build(c.train, c.mask))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := NewNet(m); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
