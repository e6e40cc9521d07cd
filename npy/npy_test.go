package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/emosel/emosel/tensor"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameBits reports whether a and b hold bit-identical values.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func negZero() float32 { return float32(math.Copysign(0, -1)) }

var want2x3 = []float32{0, 1.5, -2, 3.25, float32(math.Inf(1)), negZero()}

func TestWriteMatchesNumpy(t *testing.T) {
	// Built in code, not read back, so Write is checked independently of Read.
	cases := []struct {
		file string
		t    *tensor.Tensor
	}{
		{"f4_2x3.npy", tensor.From(slices.Clone(want2x3), 2, 3)},
		{"f4_scalar.npy", tensor.From([]float32{3.5})},
		{"f4_vec5.npy", tensor.From([]float32{0, 0.25, 0.5, 0.75, 1}, 5)},
		{"f4_empty_0x3.npy", tensor.New(0, 3)},
		{"f4_4d.npy", tensor.From([]float32{-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5}, 2, 1, 3, 2)},
	}
	pad := make([]float32, 200)
	for i := range pad {
		pad[i] = float32(i) / 8
	}
	cases = append(cases, struct {
		file string
		t    *tensor.Tensor
	}{"f4_pad64.npy", tensor.From(pad, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10)})

	for _, c := range cases {
		var buf bytes.Buffer
		if err := Write(&buf, c.t); err != nil {
			t.Fatal(err)
		}
		want := fixture(t, c.file)
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("%s: Write differs from numpy\n got %q\nwant %q", c.file, buf.Bytes(), want)
		}
	}
}

func TestWriteFloat64Int64MatchNumpy(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFloat64(&buf, []float64{0.1, -1e300, 2.5, 1e-50}, 2, 2); err != nil {
		t.Fatal(err)
	}
	if want := fixture(t, "f8_2x2.npy"); !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteFloat64 differs from numpy\n got %q\nwant %q", buf.Bytes(), want)
	}
	buf.Reset()
	if err := WriteInt64(&buf, []int64{-1, 0, 1 << 40}, 3); err != nil {
		t.Fatal(err)
	}
	if want := fixture(t, "i8_vec3.npy"); !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteInt64 differs from numpy\n got %q\nwant %q", buf.Bytes(), want)
	}
}

func TestWriteMismatchPanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(fmt.Sprint(r), "npy: 3 values for shape [2 2]") {
			t.Errorf("panic = %v", r)
		}
	}()
	WriteFloat64(io.Discard, []float64{1, 2, 3}, 2, 2)
}

func TestReadFixtures(t *testing.T) {
	cases := []struct {
		file  string
		shape []int
		data  []float32
	}{
		{"f4_2x3.npy", []int{2, 3}, want2x3},
		{"f4_2x3_v2.npy", []int{2, 3}, want2x3},
		{"f4_2x3_v3.npy", []int{2, 3}, want2x3},
		{"f4_big_endian.npy", []int{2, 3}, want2x3},
		{"f4_scalar.npy", []int{}, []float32{3.5}},
		{"f4_vec5.npy", []int{5}, []float32{0, 0.25, 0.5, 0.75, 1}},
		{"f4_empty_0x3.npy", []int{0, 3}, []float32{}},
		{"f4_4d.npy", []int{2, 1, 3, 2}, []float32{-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5}},
		// float64 → float32 rounds to nearest; out of range → -Inf, tiny → 0.
		{"f8_2x2.npy", []int{2, 2}, []float32{float32(0.1), float32(math.Inf(-1)), 2.5, 0}},
	}
	for _, c := range cases {
		for _, via := range []string{"Read", "ReadFile", "opaque"} {
			var got *tensor.Tensor
			var err error
			switch via {
			case "Read":
				got, err = Read(bytes.NewReader(fixture(t, c.file)))
			case "ReadFile":
				got, err = ReadFile(filepath.Join("testdata", c.file))
			case "opaque": // a reader without Len: the growing path
				got, err = Read(struct{ io.Reader }{bytes.NewReader(fixture(t, c.file))})
			}
			if err != nil {
				t.Errorf("%s %s: %v", via, c.file, err)
				continue
			}
			if !slices.Equal(got.Shape(), c.shape) || !sameBits(got.Data(), c.data) {
				t.Errorf("%s %s: got %v %v, want %v %v", via, c.file, got.Shape(), got.Data(), c.shape, c.data)
			}
		}
	}
}

func TestRoundTrip(t *testing.T) {
	shapes := [][]int{{}, {0}, {1}, {7}, {3, 0, 2}, {2, 3}, {1, 64}, {2, 3, 4, 5}, {100000}}
	for _, shape := range shapes {
		x := tensor.New(shape...)
		for i := range x.Data() {
			x.Data()[i] = float32(i)*0.37 - 11
		}
		if x.Len() > 3 {
			x.Data()[1] = float32(math.NaN())
			x.Data()[2] = math.Float32frombits(0x7fc00123) // NaN with payload
			x.Data()[3] = math.SmallestNonzeroFloat32
		}
		var buf bytes.Buffer
		if err := Write(&buf, x); err != nil {
			t.Fatal(err)
		}
		if buf.Len()%64 != int(4*x.Len())%64 {
			t.Errorf("%v: data does not start on a 64-byte boundary", shape)
		}
		y, err := Read(&buf)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if !y.SameShape(x) || !sameBits(y.Data(), x.Data()) {
			t.Errorf("%v: round trip gave %v", shape, y.Shape())
		}
		if buf.Len() != 0 {
			t.Errorf("%v: %d bytes left unread", shape, buf.Len())
		}
	}
}

func TestReadSequential(t *testing.T) {
	var buf bytes.Buffer
	a := tensor.From([]float32{1, 2}, 2)
	b := tensor.From([]float32{3, 4, 5, 6}, 2, 2)
	Write(&buf, a)
	Write(&buf, b)
	r := struct{ io.Reader }{&buf} // no Len, so only what is needed is read
	for _, want := range []*tensor.Tensor{a, b} {
		got, err := Read(r)
		if err != nil {
			t.Fatal(err)
		}
		if !got.SameShape(want) || !slices.Equal(got.Data(), want.Data()) {
			t.Errorf("got %v %v, want %v %v", got, got.Data(), want, want.Data())
		}
	}
	if _, err := Read(r); err != io.EOF {
		t.Errorf("at end: err = %v, want io.EOF", err)
	}
}

// npyWith returns a .npy file with the given version, dict and data bytes;
// the dict is padded as numpy does.
func npyWith(major byte, dict string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	prefix := len(magic) + 4
	if major != 1 {
		prefix += 2
	}
	pad := (align - (prefix+len(dict)+1)%align) % align
	hl := len(dict) + pad + 1
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(hl))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(hl))
	}
	b = append(b, dict...)
	b = append(b, bytes.Repeat([]byte{' '}, pad)...)
	b = append(b, '\n')
	return append(b, data...)
}

func TestReadErrors(t *testing.T) {
	six := make([]byte, 24)
	hdr := func(d string) []byte { return npyWith(1, d, six) }
	cases := []struct {
		name string
		in   []byte
		want string // substring of the message
	}{
		{"fortran", fixture(t, "f4_fortran.npy"), "'fortran_order' is True"},
		{"int32", fixture(t, "i4_vec3.npy"), `'descr' is "<i4"`},
		{"magic", append([]byte("\x93NUMPZ\x01\x00"), fixture(t, "f4_2x3.npy")[8:]...), "not a .npy file"},
		{"version", append([]byte("\x93NUMPY\x04\x00"), fixture(t, "f4_2x3.npy")[8:]...), "unsupported version 4.0"},
		{"version minor", append([]byte("\x93NUMPY\x01\x01"), fixture(t, "f4_2x3.npy")[8:]...), "unsupported version 1.1"},
		{"no shape", hdr("{'descr': '<f4', 'fortran_order': False, }"), "no 'shape' field"},
		{"no descr", hdr("{'fortran_order': False, 'shape': (6,), }"), "no 'descr' field"},
		{"no fortran", hdr("{'descr': '<f4', 'shape': (6,), }"), "no 'fortran_order' field"},
		{"extra key", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}"), `unexpected field "x"`},
		{"dup key", hdr("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}"), `"descr" appears twice`},
		{"int shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}"), "'shape' is an int 6"},
		{"string shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': '6'}"), `'shape' is "6"`},
		{"negative", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}"), "negative dimension"},
		{"bool descr", hdr("{'descr': True, 'fortran_order': False, 'shape': (6,)}"), "'descr' is True"},
		{"structured", hdr("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}"), "unsupported value"},
		{"fortran int", hdr("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}"), "'fortran_order' is an int 0"},
		{"unterminated", hdr("{'descr': '<f4, 'fortran_order': False, 'shape': (6,)}"), "want ',' or '}'"},
		{"escape", hdr(`{'descr': '<f\4', 'fortran_order': False, 'shape': (6,)}`), "escape"},
		{"not dict", hdr("['descr']"), "want '{'"},
		{"trailing", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x"), "after the header dict"},
		{"bad tuple", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (6 7)}"), "want ',' or ')'"},
		{"overflow int", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"), "out of range"},
		{"too large", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}"), "too large"},
		{"short data", npyWith(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (7,)}", six), "needs 28 data bytes"},
		{"header too long", append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), ' '), "exceeds the limit"},
	}
	for _, c := range cases {
		for _, opaque := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(c.in)
			if opaque {
				r = struct{ io.Reader }{r}
			}
			_, err := Read(r)
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s (opaque %v): err = %v, want ErrFormat containing %q", c.name, opaque, err, c.want)
			}
		}
	}
}

func TestReadTruncated(t *testing.T) {
	full := fixture(t, "f4_2x3.npy")
	for n := 0; n < len(full); n++ {
		for _, opaque := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(full[:n])
			if opaque {
				r = struct{ io.Reader }{r}
			}
			_, err := Read(r)
			if n == 0 {
				if err != io.EOF {
					t.Errorf("empty input: err = %v, want io.EOF", err)
				}
				continue
			}
			if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("prefix %d (opaque %v): err = %v", n, opaque, err)
			}
		}
	}
}

// A header claiming 10^12 elements over a few bytes must fail without
// allocating anything like 4 TB (or even 1 MB).
func TestReadHugeClaimDoesNotAllocate(t *testing.T) {
	in := npyWith(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000)}", make([]byte, 4096))
	for _, opaque := range []bool{false, true} {
		var r io.Reader = bytes.NewReader(in)
		if opaque {
			r = struct{ io.Reader }{r}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Read(r)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("opaque %v: err = %v", opaque, err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("opaque %v: allocated %d bytes for a 4 KB input", opaque, d)
		}
	}
}

func TestReadFileErrorsNamePath(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.npy")
	os.WriteFile(empty, nil, 0o644)
	_, err := ReadFile(empty)
	if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), empty+": ") || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("empty: %v", err)
	}
	_, err = ReadFile(filepath.Join("testdata", "f4_fortran.npy"))
	if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), filepath.Join("testdata", "f4_fortran.npy")+": npy: bad format: header field 'fortran_order'") {
		t.Errorf("fortran: %v", err)
	}
	missing := filepath.Join(dir, "missing.npy")
	if _, err = ReadFile(missing); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	x := tensor.From(slices.Clone(want2x3), 2, 3)
	if err := WriteFile(path, x); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, fixture(t, "f4_2x3.npy")) {
		t.Error("WriteFile bytes differ from numpy's")
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	// Overwriting keeps the existing mode.
	os.Chmod(path, 0o600)
	if err := WriteFile(path, tensor.New(1)); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after overwrite %v, want 0600", st.Mode().Perm())
	}
	if y, err := ReadFile(path); err != nil || !y.HasShape(1) {
		t.Errorf("after overwrite: %v %v", y, err)
	}
	assertOnly(t, dir, "x.npy")

	if err := WriteFile(filepath.Join(dir, "no", "such", "x.npy"), x); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "no", "such", "x.npy")) {
		t.Errorf("missing dir: %v", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("directory holds %v, want %v", got, names)
	}
}

// failFile wraps a real temporary file and fails the named step.
type failFile struct {
	*os.File
	fail string
}

func (f failFile) Sync() error {
	if f.fail == "sync" {
		return errors.New("injected sync failure")
	}
	return f.File.Sync()
}

func (f failFile) Close() error {
	err := f.File.Close()
	if f.fail == "close" {
		return errors.New("injected close failure")
	}
	return err
}

func (f failFile) Write(p []byte) (int, error) {
	if f.fail == "write" {
		return 0, errors.New("injected write failure")
	}
	return f.File.Write(p)
}

func TestWriteFileFailuresLeaveTargetAlone(t *testing.T) {
	defer func(orig func(string, string) (tempFile, error)) { createTemp = orig }(createTemp)
	for _, step := range []string{"write", "sync", "close"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.npy")
		os.WriteFile(path, []byte("old"), 0o644)
		createTemp = func(dir, pattern string) (tempFile, error) {
			f, err := os.CreateTemp(dir, pattern)
			return failFile{f, step}, err
		}
		err := WriteFile(path, tensor.New(2, 3))
		if err == nil || !strings.Contains(err.Error(), "injected "+step+" failure") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v", step, err)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Errorf("%s: target changed to %q", step, b)
		}
		assertOnly(t, dir, "x.npy")
	}
}

func FuzzRead(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".npy") {
			f.Add(fixture(f, e.Name()))
		}
	}
	f.Add(npyWith(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 1)}", make([]byte, 16)))
	f.Add(npyWith(3, "{\"descr\": \">f4\", \"shape\": (), \"fortran_order\": False}", make([]byte, 4)))
	f.Add(npyWith(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 0L)}", nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, opaque := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(in)
			if opaque {
				r = struct{ io.Reader }{r}
			}
			x, err := Read(r)
			if err != nil {
				if err != io.EOF && !errors.Is(err, ErrFormat) {
					t.Fatalf("error does not wrap ErrFormat: %v", err)
				}
				continue
			}
			var buf bytes.Buffer
			if err := Write(&buf, x); err != nil {
				t.Fatal(err)
			}
			y, err := Read(&buf)
			if err != nil {
				t.Fatalf("re-reading our own output: %v", err)
			}
			if !y.SameShape(x) || !sameBits(y.Data(), x.Data()) {
				t.Fatalf("round trip changed %v into %v", x, y)
			}
		}
	})
}
