package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Errors returned by the reader wrap one of these sentinels; test with
// errors.Is.
var (
	// ErrFormat reports data that breaks the rules of protobuf or ONNX:
	// a bad wire type, a value used before it is made, a cycle, data that
	// disagrees with its dims.
	ErrFormat = errors.New("malformed model")
	// ErrTruncated reports input that ends inside a field.
	ErrTruncated = errors.New("truncated model")
	// ErrUnsupported reports a well-formed model this package refuses: an
	// operator or attribute outside its list, an opset outside 11 to 17,
	// external data, a data type with no float32 or integer reading, or a
	// limit exceeded.
	ErrUnsupported = errors.New("unsupported")
)

func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// located is an error with the place it happened in front: "node
// /conv1/Conv: ...", keeping the sentinel for errors.Is.
type located struct {
	where string
	err   error
}

func (e *located) Error() string { return e.where + ": " + e.err.Error() }
func (e *located) Unwrap() error { return e.err }

func wrapf(err error, format string, args ...any) error {
	return &located{fmt.Sprintf(format, args...), err}
}

// quote renders a name from a file for an error message: plain when it is
// printable ASCII without spaces, Go-quoted otherwise, and cut at 200
// bytes.
func quote(s string) string {
	if len(s) > 200 {
		return strconv.Quote(s[:200]) + "..."
	}
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

// Model is a decoded ModelProto: the header fields this package reads and
// the graph, whose nodes Decode has put in topological order.
type Model struct {
	IRVersion       int64
	Producer        string // producer_name, e.g. "pytorch"
	ProducerVersion string
	// Opsets maps an imported operator-set domain ("" for the default
	// ai.onnx domain) to its version.
	Opsets map[string]int64
	Graph  *Graph

	functions int // model-local functions, refused
}

// Opset returns the version of the default (ai.onnx) operator set.
func (m *Model) Opset() int64 { return m.Opsets[""] }

// Graph is a decoded GraphProto.
type Graph struct {
	Name string
	// Nodes are in topological order: every node comes after the nodes
	// that make its inputs. Among nodes that could go in either order,
	// the file's order is kept.
	Nodes        []*Node
	Initializers []*Tensor // in file order
	// Inputs and Outputs are the graph's declared values. Inputs may list
	// initializers too (older exporters did); Model.DataInputs leaves
	// those out.
	Inputs, Outputs []ValueInfo

	sparse int // sparse initializers, refused
}

// Initializer returns the initializer named name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// DataInputs returns the graph inputs that are not initializers: the
// values a caller feeds.
func (g *Graph) DataInputs() []ValueInfo {
	init := make(map[string]bool, len(g.Initializers))
	for _, t := range g.Initializers {
		init[t.Name] = true
	}
	var out []ValueInfo
	for _, v := range g.Inputs {
		if !init[v.Name] {
			out = append(out, v)
		}
	}
	return out
}

// Node is a decoded NodeProto.
type Node struct {
	Name    string
	OpType  string // "Conv", "Relu", ...
	Domain  string // "" (or "ai.onnx") for the standard operators
	Inputs  []string
	Outputs []string
	Attrs   []Attribute
}

// String names the node for messages: its name, or its op type and first
// output when it has none.
func (n *Node) String() string {
	if n.Name != "" {
		return quote(n.Name)
	}
	if len(n.Outputs) > 0 {
		return fmt.Sprintf("%s->%s", n.OpType, quote(n.Outputs[0]))
	}
	return n.OpType
}

// Attr returns the attribute named name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for i := range n.Attrs {
		if n.Attrs[i].Name == name {
			return &n.Attrs[i]
		}
	}
	return nil
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// The attribute types this package reads; others are refused when an
// operator meets them.
const (
	AttrFloat  AttrType = 1
	AttrInt    AttrType = 2
	AttrString AttrType = 3
	AttrTensor AttrType = 4
	AttrFloats AttrType = 6
	AttrInts   AttrType = 7
)

func (t AttrType) String() string {
	names := map[AttrType]string{0: "UNDEFINED", 1: "FLOAT", 2: "INT", 3: "STRING", 4: "TENSOR",
		5: "GRAPH", 6: "FLOATS", 7: "INTS", 8: "STRINGS", 9: "TENSORS", 10: "GRAPHS",
		11: "SPARSE_TENSOR", 12: "SPARSE_TENSORS", 13: "TYPE_PROTO", 14: "TYPE_PROTOS"}
	if s, ok := names[t]; ok {
		return s
	}
	return fmt.Sprintf("AttributeType(%d)", int32(t))
}

// Attribute is a decoded AttributeProto; the field Type names is set.
type Attribute struct {
	Name   string
	Type   AttrType
	F      float32
	I      int64
	S      string
	T      *Tensor
	Floats []float32
	Ints   []int64

	other []int // field numbers of values not decoded (graphs, strings, ...)
}

// DataType is TensorProto.DataType.
type DataType int32

// Data types with a reading here. FLOAT, DOUBLE and FLOAT16 become
// float32 (DOUBLE rounded to nearest); INT64, INT32, INT8, UINT8 and
// BOOL become int64.
const (
	Float   DataType = 1
	Uint8   DataType = 2
	Int8    DataType = 3
	Int32   DataType = 6
	Int64   DataType = 7
	Bool    DataType = 9
	Float16 DataType = 10
	Double  DataType = 11
)

func (d DataType) String() string {
	names := map[DataType]string{0: "UNDEFINED", 1: "FLOAT", 2: "UINT8", 3: "INT8", 4: "UINT16",
		5: "INT16", 6: "INT32", 7: "INT64", 8: "STRING", 9: "BOOL", 10: "FLOAT16", 11: "DOUBLE",
		12: "UINT32", 13: "UINT64", 14: "COMPLEX64", 15: "COMPLEX128", 16: "BFLOAT16"}
	if s, ok := names[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// elemSize is the raw_data bytes per element, 0 for types not read.
func (d DataType) elemSize() int {
	switch d {
	case Uint8, Int8, Bool:
		return 1
	case Float16:
		return 2
	case Float, Int32:
		return 4
	case Int64, Double:
		return 8
	}
	return 0
}

func (d DataType) isFloat() bool { return d == Float || d == Float16 || d == Double }

// Tensor is a decoded TensorProto: an initializer or a constant. Exactly
// one of Floats (floating types) and Ints (integer types) is set, with
// Len() elements in row-major order.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Floats   []float32
	Ints     []int64
}

// Len returns the number of elements its dims give.
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Dims {
		n *= int(d)
	}
	return n
}

// Shape returns the dims as ints.
func (t *Tensor) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}

// fill checks a tensor's data against its dims and type and converts it.
// The element count is bounded before anything is allocated: it must equal
// what the fields hold, and they are slices of the input.
func (t *Tensor) fill(f *tensorFields) error {
	if f.location == 1 || len(f.external) > 0 {
		return errf(ErrUnsupported, "its data is in an external file (%s); this package reads only self-contained models: re-save it with onnx.save_model(m, path, save_as_external_data=False) if it is under 2 GB",
			strings.Join(f.external, ", "))
	}
	if f.segment {
		return errf(ErrUnsupported, "segmented tensors are not read")
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return errf(ErrFormat, "negative dimension in %v", t.Dims)
		}
		if d > 0 && n > math.MaxInt32/d {
			return errf(ErrUnsupported, "dims %v hold more than 2^31 elements", t.Dims)
		}
		n *= d
	}
	size := t.DataType.elemSize()
	if size == 0 {
		return errf(ErrUnsupported, "data type %v (this package reads FLOAT, FLOAT16, DOUBLE, INT64, INT32, INT8, UINT8, BOOL)", t.DataType)
	}
	if f.strings > 0 {
		return errf(ErrFormat, "string_data in a %v tensor", t.DataType)
	}
	count := 0 // the typed-field count, or -1 for raw data
	fields := 0
	if f.hasRaw {
		fields++
		count = -1
	}
	if len(f.floats) > 0 {
		fields++
		for _, r := range f.floats {
			count += len(r) / 4
		}
		if t.DataType != Float && t.DataType != Float16 {
			return errf(ErrFormat, "float_data in a %v tensor", t.DataType)
		}
	}
	if len(f.doubles) > 0 {
		fields++
		for _, r := range f.doubles {
			count += len(r) / 8
		}
		if t.DataType != Double {
			return errf(ErrFormat, "double_data in a %v tensor", t.DataType)
		}
	}
	if f.intField {
		fields++
		count = len(f.ints)
		if t.DataType.isFloat() && t.DataType != Float16 {
			return errf(ErrFormat, "integer data in a %v tensor", t.DataType)
		}
	}
	if fields > 1 {
		return errf(ErrFormat, "data in more than one field")
	}
	switch {
	case f.hasRaw:
		if int64(len(f.raw)) != n*int64(size) {
			return errf(ErrFormat, "raw_data has %d bytes, dims %v of %v need %d", len(f.raw), t.Dims, t.DataType, n*int64(size))
		}
	case fields == 0:
		if n != 0 {
			return errf(ErrFormat, "no data for dims %v", t.Dims)
		}
	default:
		if int64(count) != n {
			return errf(ErrFormat, "%d values, dims %v need %d", count, t.Dims, n)
		}
	}
	if t.DataType.isFloat() {
		t.Floats = make([]float32, n)
	} else {
		t.Ints = make([]int64, n)
	}
	switch {
	case f.hasRaw:
		raw := f.raw
		for i := int64(0); i < n; i++ {
			switch t.DataType {
			case Float:
				t.Floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			case Float16:
				t.Floats[i] = halfToFloat(binary.LittleEndian.Uint16(raw[2*i:]))
			case Double:
				t.Floats[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			case Int64:
				t.Ints[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			case Int32:
				t.Ints[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			case Int8:
				t.Ints[i] = int64(int8(raw[i]))
			case Uint8, Bool:
				t.Ints[i] = int64(raw[i])
			}
		}
	case len(f.floats) > 0:
		i := 0
		for _, r := range f.floats {
			for ; len(r) > 0; r = r[4:] {
				t.Floats[i] = math.Float32frombits(binary.LittleEndian.Uint32(r))
				i++
			}
		}
	case len(f.doubles) > 0:
		i := 0
		for _, r := range f.doubles {
			for ; len(r) > 0; r = r[8:] {
				t.Floats[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(r)))
				i++
			}
		}
	case f.intField:
		if t.DataType == Float16 {
			// FLOAT16 values travel in int32_data, one per value.
			for i, v := range f.ints {
				t.Floats[i] = halfToFloat(uint16(v))
			}
			break
		}
		copy(t.Ints, f.ints)
	}
	return nil
}

// halfToFloat converts an IEEE binary16 value to float32 exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		// Zero or subnormal: frac·2^-24.
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
}

// ValueInfo is a decoded ValueInfoProto of tensor type; Shape is nil
// when the file gives none.
type ValueInfo struct {
	Name     string
	ElemType DataType
	Shape    []Dim
}

// Dim is one dimension of a ValueInfo: a size (Value ≥ 0), or a symbolic
// one (Value −1, Param set, or neither when the file leaves it unknown).
type Dim struct {
	Value int64
	Param string
}

// maxModel caps the input size: protobuf itself cannot encode a message
// of 2 GiB or more.
const maxModel = 1<<31 - 1

// Decode decodes an ONNX model from its bytes, checks it (Check) and
// sorts its nodes topologically. The result does not alias b.
func Decode(b []byte) (*Model, error) {
	m, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

func decode(b []byte) (*Model, error) {
	if len(b) > maxModel {
		return nil, errf(ErrUnsupported, "a model of %d bytes (protobuf's limit is 2 GiB)", len(b))
	}
	m, err := decodeModel(b)
	if err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// Read decodes a model from r, reading it to the end. Memory grows with
// the bytes that arrive, never with a length field.
func Read(r io.Reader) (*Model, error) {
	m, err := read(r)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return m, nil
}

func read(r io.Reader) (*Model, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxModel+1))
	if err != nil {
		return nil, err
	}
	return decode(b)
}

// LoadFile decodes the model in the file at path; errors name the file.
func LoadFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	var m *Model
	if fi, serr := f.Stat(); serr == nil && fi.Mode().IsRegular() && fi.Size() <= maxModel {
		// One allocation of the file's size, not ReadAll's doublings.
		b := make([]byte, fi.Size())
		if _, err = io.ReadFull(f, b); err == nil {
			m, err = decode(b)
		}
	} else {
		m, err = read(f)
	}
	cerr := f.Close()
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, err)
	}
	if cerr != nil {
		return nil, fmt.Errorf("onnx: %s: %w", path, cerr)
	}
	return m, nil
}
