package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// pk assembles pickle bytes opcode by opcode (protocol 2), for hostile and
// edge-case inputs the Python generator does not make.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }
func (p *pk) proto() *pk       { return p.op(opProto, 2) }
func (p *pk) stop() *pk        { return p.op(opStop) }
func (p *pk) mark() *pk        { return p.op(opMark) }
func (p *pk) global(module, name string) *pk {
	p.op(opGlobal)
	p.WriteString(module + "\n" + name + "\n")
	return p
}
func (p *pk) str(s string) *pk {
	p.op(opBinUnicode)
	binary.Write(&p.Buffer, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}
func (p *pk) int(v int64) *pk {
	if v >= 0 && v < 256 {
		return p.op(opBinInt1, byte(v))
	}
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		p.op(opBinInt)
		binary.Write(&p.Buffer, binary.LittleEndian, int32(v))
		return p
	}
	p.op(opLong1, 8)
	binary.Write(&p.Buffer, binary.LittleEndian, v)
	return p
}
func (p *pk) tuple(items func()) *pk { p.mark(); items(); return p.op(opTuple) }
func (p *pk) ints(vs ...int64) *pk {
	return p.tuple(func() {
		for _, v := range vs {
			p.int(v)
		}
	})
}

// legacyHeader returns the three header pickles of the legacy format.
func legacyHeader() []byte {
	var p pk
	p.proto().op(opLong1, 10)
	p.Write([]byte{0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19})
	p.stop()
	p.proto().op(opBinInt2, 0xe9, 0x03).stop() // 1001
	p.proto().op(opEmptyDict).mark().str("little_endian").op(opNewTrue).op(opSetItems).stop()
	return p.Bytes()
}

// tspec describes one tensor of a hand-built file.
type tspec struct {
	key          string
	storage      string
	dtype        string // storage class, e.g. "FloatStorage"
	numel        int64  // storage elements declared
	off          int64
	size, stride []int64
}

// statePickle writes an OrderedDict of _rebuild_tensor_v2 calls. legacy
// selects the 6-field persistent id.
func statePickle(legacy bool, ts []tspec) []byte {
	var p pk
	p.proto().global("collections", "OrderedDict").op(opEmptyTuple, opReduce).mark()
	for _, t := range ts {
		p.str(t.key)
		p.global("torch._utils", "_rebuild_tensor_v2")
		p.tuple(func() {
			p.tuple(func() {
				p.str("storage").global("torch", t.dtype).str(t.storage).str("cpu").int(t.numel)
				if legacy {
					p.op(opNone)
				}
			}).op(opBinPersID)
			p.int(t.off).ints(t.size...).ints(t.stride...).op(opNewFalse)
			p.global("collections", "OrderedDict").op(opEmptyTuple, opReduce)
		}).op(opReduce)
	}
	p.op(opSetItems).stop()
	return p.Bytes()
}

// legacyFile assembles a complete legacy file; data[key] is the storage's
// bytes after the count, which is count[key] (default numel).
func legacyFile(ts []tspec, data map[string][]byte, count map[string]int64) []byte {
	var b bytes.Buffer
	b.Write(legacyHeader())
	b.Write(statePickle(true, ts))
	var keys []string
	numel := map[string]int64{}
	for _, t := range ts {
		if _, ok := numel[t.storage]; !ok {
			keys = append(keys, t.storage)
		}
		numel[t.storage] = t.numel
	}
	slices.Sort(keys)
	var p pk
	p.proto().op(opEmptyList).mark()
	for _, k := range keys {
		p.str(k)
	}
	p.op(opAppends).stop()
	b.Write(p.Bytes())
	for _, k := range keys {
		n, ok := count[k]
		if !ok {
			n = numel[k]
		}
		binary.Write(&b, binary.LittleEndian, n)
		b.Write(data[k])
	}
	return b.Bytes()
}

// zipFile assembles a torch.save zip archive under dir.
func zipFile(dir string, pkl []byte, data map[string][]byte) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	add := func(name string, body []byte) {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			panic(err)
		}
		w.Write(body)
	}
	add(dir+"/data.pkl", pkl)
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(dir+"/data/"+k, data[k])
	}
	add(dir+"/version", []byte("3\n"))
	if err := z.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// safetensorsFile assembles a safetensors file from a header value.
func safetensorsFile(header any, data []byte) []byte {
	h, err := json.Marshal(header)
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(h)))
	b.Write(h)
	b.Write(data)
	return b.Bytes()
}

func f32bytes(vs ...float32) []byte {
	b := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)
	}
	return v
}

// fixtures lists weights/testdata files and the expected set each holds
// ("" for files that must be refused).
var fixtures = []struct{ file, set string }{
	{"small.pt", "small"},
	{"small_legacy.pt", "small"},
	{"small_legacy_p4.pt", "small"},
	{"small.safetensors", "small"},
	{"py2_legacy.pt", "py2_legacy"},
	{"dtypes.pt", "dtypes"},
	{"dtypes.safetensors", "dtypes"},
	{"evil_legacy.pt", ""},
	{"evil_zip.pt", ""},
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type want struct {
	shape []int
	data  []float32
}

// expected reads testdata/expected.{json,bin}: set -> key -> values.
func expected(t testing.TB) map[string]map[string]want {
	t.Helper()
	var m struct {
		Sets map[string][]struct {
			Key    string `json:"key"`
			Shape  []int  `json:"shape"`
			Offset int    `json:"offset"`
		} `json:"sets"`
	}
	if err := json.Unmarshal(readFixture(t, "expected.json"), &m); err != nil {
		t.Fatal(err)
	}
	bin := readFixture(t, "expected.bin")
	out := map[string]map[string]want{}
	for set, entries := range m.Sets {
		out[set] = map[string]want{}
		for _, e := range entries {
			n := 1
			for _, d := range e.Shape {
				n *= d
			}
			w := want{shape: e.Shape, data: make([]float32, n)}
			for i := range w.data {
				w.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(bin[4*(e.Offset+i):]))
			}
			out[set][e.Key] = w
		}
	}
	return out
}
