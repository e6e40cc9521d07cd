package weights

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// checkSet compares sd with the expected set bit for bit.
func checkSet(t *testing.T, what string, sd StateDict, w map[string]want) {
	t.Helper()
	var gotKeys, wantKeys []string
	for k := range sd {
		gotKeys = append(gotKeys, k)
	}
	for k := range w {
		wantKeys = append(wantKeys, k)
	}
	slices.Sort(gotKeys)
	slices.Sort(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		t.Fatalf("%s: keys %q, want %q", what, gotKeys, wantKeys)
	}
	for k, e := range w {
		got := sd[k]
		if !slices.Equal(got.Shape(), e.shape) {
			t.Errorf("%s: %s has shape %v, want %v", what, k, got.Shape(), e.shape)
			continue
		}
		for i, v := range got.Data() {
			if math.Float32bits(v) != math.Float32bits(e.data[i]) {
				t.Errorf("%s: %s[%d] = %v, want %v", what, k, i, v, e.data[i])
				break
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	exp := expected(t)
	for _, fx := range fixtures {
		if fx.set == "" {
			continue
		}
		t.Run(fx.file, func(t *testing.T) {
			b := readFixture(t, fx.file)
			w := exp[fx.set]
			if len(w) == 0 {
				t.Fatalf("no expected set %q", fx.set)
			}
			sd, err := LoadFile(filepath.Join("testdata", fx.file))
			if err != nil {
				t.Fatal(err)
			}
			checkSet(t, "LoadFile", sd, w)
			if sd, err = Load(bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
			checkSet(t, "Load", sd, w)
			readers := map[string]io.Reader{
				"Read":            bytes.NewReader(b),
				"Read/OneByte":    iotest.OneByteReader(bytes.NewReader(b)),
				"Read/HalfReader": iotest.HalfReader(bytes.NewReader(b)),
			}
			for name, r := range readers {
				sd, err := Read(r)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkSet(t, name, sd, w)
			}
		})
	}
}

// TestSharedStorage checks views of one storage: contiguous ones alias it,
// others are copies.
func TestSharedStorage(t *testing.T) {
	for _, file := range []string{"small.pt", "small_legacy.pt"} {
		sd, err := LoadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		base, row, tr := sd["shared.base"].Data(), sd["shared.row"].Data(), sd["shared.t"].Data()
		if &row[0] != &base[4] {
			t.Errorf("%s: shared.row does not alias shared.base[4:]", file)
		}
		if cap(row) != len(row) {
			t.Errorf("%s: shared.row has cap %d > len %d: appends would clobber its storage", file, cap(row), len(row))
		}
		if &tr[0] == &base[0] {
			t.Errorf("%s: transposed view aliases its storage", file)
		}
	}
}

func TestKeysNaturalOrder(t *testing.T) {
	sd := StateDict{}
	for _, k := range []string{"features.10.weight", "features.2.weight", "classifier.0.bias",
		"features.2.bias", "features.02.x", "features.1a", "features"} {
		sd[k] = nil
	}
	got := sd.Keys()
	want := []string{"classifier.0.bias", "features", "features.02.x", "features.2.bias",
		"features.2.weight", "features.10.weight", "features.1a"}
	if !slices.Equal(got, want) {
		t.Errorf("Keys() = %q\nwant     %q", got, want)
	}
}

func TestRefusesGlobalsByName(t *testing.T) {
	for _, fx := range []struct{ file, name string }{
		{"evil_legacy.pt", "os.system"},
		{"evil_zip.pt", "posix.system"},
	} {
		path := filepath.Join("testdata", fx.file)
		_, err := LoadFile(path)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "refuses pickle global "+fx.name) ||
			!strings.Contains(err.Error(), path) {
			t.Errorf("LoadFile(%s) = %v, want ErrUnsupported naming %s and the path", fx.file, err, fx.name)
		}
	}
	globals := [][2]string{
		{"builtins", "eval"}, {"__builtin__", "getattr"}, {"subprocess", "Popen"},
		{"torch.storage", "_load_from_bytes"}, {"torch._utils", "_rebuild_qtensor"},
		{"torch", "ComplexFloatStorage"}, {"torch", "Tensor"}, {"collections", "defaultdict"},
		{"numpy.core.multiarray", "_reconstruct"}, {"torch.nn.modules.conv", "Conv2d"},
	}
	for _, g := range globals {
		name := g[0] + "." + g[1]
		var viaGlobal, viaStack pk
		viaGlobal.proto().global(g[0], g[1]).op(opEmptyTuple, opReduce).stop()
		viaStack.proto().str(g[0]).str(g[1]).op(opStackGlobal, opEmptyTuple, opReduce).stop()
		for how, p := range map[string][]byte{"GLOBAL": viaGlobal.Bytes(), "STACK_GLOBAL": viaStack.Bytes()} {
			// As the state dict of a legacy file, and as a zip's data.pkl.
			files := map[string][]byte{
				"legacy": append(legacyHeader(), p...),
				"zip":    zipFile("archive", p, nil),
			}
			for kind, b := range files {
				_, err := Load(bytes.NewReader(b), int64(len(b)))
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "refuses pickle global "+name) {
					t.Errorf("%s via %s in %s: err = %v", name, how, kind, err)
				}
			}
		}
	}
	// A global in a legacy header pickle is refused too.
	var p pk
	p.proto().global("os", "system").stop()
	if _, err := Read(bytes.NewReader(p.Bytes())); !errors.Is(err, ErrUnsupported) ||
		!strings.Contains(err.Error(), "refuses pickle global os.system") {
		t.Errorf("global in header: err = %v", err)
	}
}

func TestRefusesOpcodesByName(t *testing.T) {
	for op, name := range map[byte]string{
		0x81: "NEWOBJ", 0x92: "NEWOBJ_EX", 'i': "INST", 'o': "OBJ", 0x82: "EXT1", 'P': "PERSID",
		'S': "STRING", '2': "DUP", '0': "POP", 'B': "BINBYTES", 0x8f: "EMPTY_SET", 'd': "DICT",
		'l': "LIST", 0x8b: "LONG4", 0x97: "NEXT_BUFFER", 'g': "GET", 0xff: "0xff",
	} {
		var p pk
		p.proto().op(opNone, op).stop()
		b := append(legacyHeader(), p.Bytes()...)
		_, err := Load(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "refuses pickle opcode "+name) {
			t.Errorf("opcode 0x%02x: err = %v, want refusal naming %s", op, err, name)
		}
	}
}

// TestTruncation cuts every fixture at every byte offset: each prefix must
// give an error, and none may panic.
func TestTruncation(t *testing.T) {
	for _, fx := range fixtures {
		b := readFixture(t, fx.file)
		for n := range len(b) {
			p := b[:n]
			if _, err := Load(bytes.NewReader(p), int64(n)); err == nil {
				t.Errorf("%s cut to %d bytes: Load succeeded", fx.file, n)
			}
			if _, err := Read(bytes.NewReader(p)); err == nil {
				t.Errorf("%s cut to %d bytes: Read succeeded", fx.file, n)
			}
		}
	}
}

// TestHostileLengths feeds lengths far beyond the input: each must fail
// quickly without allocating for the claim.
func TestHostileLengths(t *testing.T) {
	huge := int64(1) << 40
	tiny := []byte{1, 2, 3, 4}
	var bigString pk
	bigString.proto().op(opBinUnicode8)
	bigString.Write([]byte{0, 0, 0, 0, 0, 0, 0, 0x40})
	bigString.stop()
	var bigMemo pk
	bigMemo.proto().op(opNone, opLongBinPut, 0xff, 0xff, 0xff, 0xff, opLongBinGet, 0, 0, 0, 1, opStop)

	cases := map[string][]byte{
		"legacy storage 2^40 elements": legacyFile([]tspec{
			{"w", "0", "FloatStorage", huge, 0, []int64{1 << 20, 1 << 20}, []int64{1 << 20, 1}},
		}, map[string][]byte{"0": tiny}, nil),
		"legacy count disagrees": legacyFile([]tspec{
			{"w", "0", "FloatStorage", 1, 0, []int64{1}, []int64{1}},
		}, map[string][]byte{"0": tiny}, map[string]int64{"0": huge}),
		"legacy stride-0 expansion": legacyFile([]tspec{
			{"w", "0", "FloatStorage", 1, 0, []int64{1 << 15, 1 << 15}, []int64{0, 0}},
		}, map[string][]byte{"0": tiny}, nil),
		"legacy views amplify": legacyFile(func() []tspec {
			var ts []tspec
			for i := range 64 {
				ts = append(ts, tspec{string(rune('a' + i)), "0", "FloatStorage", 1 << 14, 0,
					[]int64{1 << 7, 1 << 7}, []int64{1, 1 << 7}})
			}
			return ts
		}(), map[string][]byte{"0": make([]byte, 4<<14)}, nil),
		"pickle string 2^62 bytes": append(legacyHeader(), bigString.Bytes()...),
		"pickle memo index 2^32-1": append(legacyHeader(), bigMemo.Bytes()...),
		"zip storage 2^40 elements": zipFile("archive", statePickle(false, []tspec{
			{"w", "0", "FloatStorage", huge, 0, []int64{huge}, []int64{1}},
		}), map[string][]byte{"0": tiny}),
		// Header length 2^40, then '{'.
		"safetensors header 2^40": append([]byte{0, 0, 0, 0, 0, 1, 0, 0}, "{}"...),
		"safetensors tensor 2^40 elements": safetensorsFile(map[string]any{
			"w": map[string]any{"dtype": "F32", "shape": []int64{1 << 20, 1 << 20}, "data_offsets": []int64{0, 4 << 40}},
		}, tiny),
		"safetensors overlapping tensors": safetensorsFile(map[string]any{
			"a": map[string]any{"dtype": "F32", "shape": []int64{1}, "data_offsets": []int64{0, 4}},
			"b": map[string]any{"dtype": "F32", "shape": []int64{1}, "data_offsets": []int64{0, 4}},
		}, tiny),
		"safetensors shape overflow": safetensorsFile(map[string]any{
			"w": map[string]any{"dtype": "F32", "shape": []int64{1 << 31, 1 << 31, 1 << 31, 0}, "data_offsets": []int64{0, 0}},
		}, nil),
	}
	for name, b := range cases {
		for _, mode := range []string{"Load", "Read"} {
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			start := time.Now()
			var err error
			if mode == "Load" {
				_, err = Load(bytes.NewReader(b), int64(len(b)))
			} else {
				_, err = Read(bytes.NewReader(b))
			}
			el := time.Since(start)
			runtime.ReadMemStats(&ms1)
			if err == nil {
				t.Errorf("%s: %s succeeded", name, mode)
				continue
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
				t.Errorf("%s: %s allocated %d bytes before failing: %v", name, mode, alloc, err)
			}
			if el > time.Second {
				t.Errorf("%s: %s took %v", name, mode, el)
			}
			t.Logf("%s: %s: %v", name, mode, err)
		}
	}
}

// TestErrorsNameKeys checks that errors about one tensor name it.
func TestErrorsNameKeys(t *testing.T) {
	ts := []tspec{
		{"features.0.weight", "0", "FloatStorage", 4, 0, []int64{2, 2}, []int64{2, 1}},
		{"features.0.bias", "0", "FloatStorage", 4, 3, []int64{2}, []int64{1}}, // reaches element 4
	}
	data := map[string][]byte{"0": f32bytes(1, 2, 3, 4)}
	files := map[string][]byte{
		"legacy": legacyFile(ts, data, nil),
		"zip":    zipFile("archive", statePickle(false, ts), data),
	}
	for kind, b := range files {
		_, err := Load(bytes.NewReader(b), int64(len(b)))
		if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "features.0.bias") {
			t.Errorf("%s: err = %v, want ErrFormat naming features.0.bias", kind, err)
		}
	}
	b := safetensorsFile(map[string]any{
		"features.0.weight": map[string]any{"dtype": "F8_E4M3", "shape": []int{1}, "data_offsets": []int{0, 1}},
	}, []byte{0})
	if _, err := Load(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrUnsupported) ||
		!strings.Contains(err.Error(), "features.0.weight") || !strings.Contains(err.Error(), "F8_E4M3") {
		t.Errorf("safetensors F8: err = %v", err)
	}
}

// TestHandBuilt covers layouts torch did not produce for the fixtures.
func TestHandBuilt(t *testing.T) {
	// A zip whose directory is not "archive", a storage shared by two
	// tensors, a 3-D permuted view and a tensor with a size-1 dimension
	// whose stride is arbitrary (still contiguous).
	ts := []tspec{
		{"a", "7", "FloatStorage", 24, 0, []int64{2, 3, 4}, []int64{12, 4, 1}},
		{"perm", "7", "FloatStorage", 24, 0, []int64{4, 2, 3}, []int64{1, 12, 4}},
		{"one", "7", "FloatStorage", 24, 5, []int64{1, 3}, []int64{99, 1}},
	}
	data := map[string][]byte{"7": f32bytes(seq(24)...)}
	for kind, b := range map[string][]byte{
		"zip":    zipFile("my_model-v2", statePickle(false, ts), data),
		"legacy": legacyFile(ts, data, nil),
	} {
		sd, err := Load(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := sd["a"].Data(); !slices.Equal(got, seq(24)) {
			t.Errorf("%s: a = %v", kind, got)
		}
		// perm[i,j,k] = a[j,k,i] = 12j + 4k + i
		perm := sd["perm"]
		for i := range 4 {
			for j := range 2 {
				for k := range 3 {
					if got, want := perm.At(i, j, k), float32(12*j+4*k+i); got != want {
						t.Fatalf("%s: perm[%d,%d,%d] = %v, want %v", kind, i, j, k, got, want)
					}
				}
			}
		}
		if got := sd["one"].Data(); !slices.Equal(got, []float32{5, 6, 7}) {
			t.Errorf("%s: one = %v", kind, got)
		}
	}

	// Training checkpoints as labs save them: {"epoch": 3, KEY: {...}},
	// and a dict with no state dict in it, whose error lists its entries.
	ckpt := func(key string) []byte {
		var p pk
		p.proto().op(opEmptyDict).mark().str("epoch").int(3).str(key)
		p.Write(statePickle(false, ts[:1])[2:]) // the OrderedDict without PROTO and STOP
		p.Truncate(p.Len() - 1)
		p.op(opSetItems).stop()
		return zipFile("ckpt", p.Bytes(), data)
	}
	for _, key := range []string{"state_dict", "model_state_dict", "model"} {
		b := ckpt(key)
		sd, err := Load(bytes.NewReader(b), int64(len(b)))
		if err != nil || len(sd) != 1 || sd["a"] == nil {
			t.Errorf("checkpoint {%q: ...}: %v, %v", key, sd, err)
		}
	}
	b := ckpt("net")
	_, err := Load(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "entries epoch, net") ||
		!strings.Contains(err.Error(), "model_state_dict") {
		t.Errorf("checkpoint {\"net\": ...}: err = %v, want ErrUnsupported listing its entries", err)
	}
}

func TestNotAWeightFile(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty": nil,
		"text":  []byte("hello, world\n"),
		"tar":   append(make([]byte, 257), "ustar\x0000"...),
		"zip without data.pkl": func() []byte {
			b := zipFile("archive", nil, nil)
			return bytes.Replace(b, []byte("data.pkl"), []byte("data.txt"), -1)
		}(),
		"plain pickle of a dict": (&pk{}).proto().op(opEmptyDict).stop().Bytes(),
	} {
		if _, err := Load(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: Load succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestFloat16(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 5.9604645e-08,
		0x03ff: 6.097555e-05, 0x0400: 6.1035156e-05, 0x7c00: float32(math.Inf(1)), 0xfc00: float32(math.Inf(-1)),
		0x3555: 0.33325195,
	} {
		if got := float16to32(h); got != want {
			t.Errorf("float16to32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if got := float16to32(0x8000); math.Float32bits(got) != 0x80000000 {
		t.Errorf("float16to32(-0) = %v", got)
	}
	if got := float16to32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("float16to32(NaN) = %v", got)
	}
}

func TestLoadFileErrors(t *testing.T) {
	_, err := LoadFile(filepath.Join("testdata", "does-not-exist.pt"))
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.pt") {
		t.Errorf("missing file: err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "bad.pt")
	if err := os.WriteFile(path, []byte("not weights at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path)
	if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "weights: "+path+": ") {
		t.Errorf("bad file: err = %v", err)
	}
}
