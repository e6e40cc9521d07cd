package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// readNpy reads a little-endian float32, C-order .npy file (format 1.0 or
// 2.0) as written by testdata/gen/ops.py.
func readNpy(t testing.TB, path string) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	x, err := parseNpy(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

var npyShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)

func parseNpy(b []byte) (*tensor.Tensor, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("not an npy file")
	}
	var hlen, off int
	switch b[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("short header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, fmt.Errorf("npy version %d", b[6])
	}
	if off+hlen > len(b) {
		return nil, fmt.Errorf("short header")
	}
	h := string(b[off : off+hlen])
	if !strings.Contains(h, "'descr': '<f4'") || !strings.Contains(h, "'fortran_order': False") {
		return nil, fmt.Errorf("want little-endian float32 in C order, header %q", h)
	}
	m := npyShape.FindStringSubmatch(h)
	if m == nil {
		return nil, fmt.Errorf("no shape in header %q", h)
	}
	shape := []int{}
	for _, f := range strings.Split(m[1], ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		d, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("shape %q: %v", m[1], err)
		}
		shape = append(shape, d)
	}
	raw := b[off+hlen:]
	n := 1
	for _, d := range shape {
		n *= d
	}
	if len(raw) != 4*n {
		return nil, fmt.Errorf("%d data bytes for shape %v", len(raw), shape)
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return tensor.From(data, shape...), nil
}

// assertClose fails unless got and want have equal shapes and every
// element satisfies |got−want| ≤ tol·(1 + max|want|); NaNs must match NaNs
// and infinities must be equal. On failure it reports the worst index.
func assertClose(t testing.TB, name string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if !got.SameShape(want) {
		t.Fatalf("%s: shape %v, want %v", name, got.Shape(), want.Shape())
	}
	g, w := got.Data(), want.Data()
	scale := 1 + float64(want.MaxAbs())
	worst, wi := -1.0, -1
	for i := range w {
		gv, wv := float64(g[i]), float64(w[i])
		var e float64
		switch {
		case math.IsNaN(wv) || math.IsNaN(gv):
			if math.IsNaN(wv) != math.IsNaN(gv) {
				e = math.Inf(1)
			}
		case math.IsInf(wv, 0) || math.IsInf(gv, 0):
			if gv != wv {
				e = math.Inf(1)
			}
		default:
			e = math.Abs(gv-wv) / scale
		}
		if e > worst {
			worst, wi = e, i
		}
	}
	if worst > tol {
		t.Fatalf("%s %v: worst error %.3g > %.1g at flat index %d: got %v, want %v",
			name, want.Shape(), worst, tol, wi, g[wi], w[wi])
	}
}
