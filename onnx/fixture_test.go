package onnx

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/tensor"
)

// fixtureModels are the reduced-width torchvision networks of
// testdata/onnx (see testdata/gen/onnx_gen.py).
var fixtureModels = []string{"resnet18", "resnet50", "squeezenet1_1", "mobilenet_v2", "densenet121", "vgg16_bn", "ops"}

// tol is the agreement required with PyTorch: |got − want| ≤ tol·(1 +
// max|want|) per unit, i.e. relative to the unit's largest output.
const tol = 1e-4

type reluRef struct {
	op    string
	shape []int
	data  []float32
}

// readRefs reads <name>.relu.npy and its index <name>.relu.txt.
func readRefs(t *testing.T, dir, name string) []reluRef {
	t.Helper()
	flat, err := npy.ReadFile(filepath.Join(dir, name+".relu.npy"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, name+".relu.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var refs []reluRef
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			t.Fatalf("%s.relu.txt: bad line %q", name, sc.Text())
		}
		off, _ := strconv.Atoi(fields[1])
		r := reluRef{op: fields[0]}
		n := 1
		for _, d := range fields[2:] {
			v, _ := strconv.Atoi(d)
			r.shape = append(r.shape, v)
			n *= v
		}
		r.data = flat.Data()[off : off+n]
		refs = append(refs, r)
	}
	return refs
}

// maxRelErr returns max|got − want| / (1 + max|want|) and its index.
func maxRelErr(got, want []float32) (float64, int) {
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if d != d || got[i] != got[i] {
			return math.Inf(1), i
		}
		if d > worst {
			worst, at = d, i
		}
	}
	return worst / (1 + scale), at
}

func readNpy(t *testing.T, path string) *tensor.Tensor { return readNpyB(t, path) }

func readNpyB(t testing.TB, path string) *tensor.Tensor {
	t.Helper()
	x, err := npy.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkFixture runs model name of dir and compares every unit and the
// output with PyTorch's.
func checkFixture(t *testing.T, dir, name string) {
	net, err := LoadNet(filepath.Join(dir, name+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x := readNpy(t, filepath.Join(dir, name+".x.npy"))
	want := readNpy(t, filepath.Join(dir, name+".y.npy"))
	refs := readRefs(t, dir, name)
	y, units := net.ForwardUnits(x)
	if len(units) != len(refs) {
		t.Fatalf("%d units, PyTorch ran %d ReLUs", len(units), len(refs))
	}
	worst := 0.0
	for i, u := range units {
		r := refs[i]
		if !u.HasShape(r.shape...) {
			t.Fatalf("unit %d %s: shape %v, PyTorch's ReLU %d is %v", i, net.Units[i].Name, u.Shape(), i, r.shape)
		}
		e, at := maxRelErr(u.Data(), r.data)
		if e > tol {
			t.Errorf("unit %d %s (%s): error %.3g at %d: got %g, want %g", i, net.Units[i].Name, net.Units[i].Module, e, at, u.Data()[at], r.data[at])
		}
		worst = math.Max(worst, e)
		if os.Getenv("VERBOSE") != "" {
			t.Logf("%3d %-40s %.2g max %g", i, net.Units[i].Module, e, u.MaxAbs())
		}
	}
	if !y.SameShape(want) {
		t.Fatalf("output %v, want %v", y.Shape(), want.Shape())
	}
	e, at := maxRelErr(y.Data(), want.Data())
	if e > tol {
		t.Errorf("output: error %.3g at %d: got %g, want %g", e, at, y.Data()[at], want.Data()[at])
	}
	t.Logf("%d units, worst relative error %.2g; output %.2g", len(units), worst, e)
}

func TestFixtures(t *testing.T) {
	for _, name := range fixtureModels {
		t.Run(name, func(t *testing.T) { checkFixture(t, fixtureDir, name) })
	}
}

// TestFullSize runs the full-size networks that
// "onnx_gen.py --full DIR" writes, when EMOSEL_ONNX_FULL=DIR.
func TestFullSize(t *testing.T) {
	dir := os.Getenv("EMOSEL_ONNX_FULL")
	if dir == "" {
		t.Skip("EMOSEL_ONNX_FULL is not set")
	}
	for _, name := range fixtureModels[:6] { // not ops: it has no full size
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(dir, name+".relu.txt")); err != nil {
				t.Skip(err)
			}
			checkFixture(t, dir, name)
		})
	}
}
