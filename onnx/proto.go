package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// This file decodes the few ONNX protobuf messages a CNN needs straight
// from the wire format (onnx.proto3 field numbers), without generated code
// or reflection. Every slice and string comes from, or is counted against,
// the bytes of the message being decoded, so no length field can ask for
// more memory than the input holds. Unknown fields are skipped, as
// protobuf requires; fields this package cannot honour (external data,
// sparse initializers, subgraphs in attributes) are recorded so that the
// checks after decoding refuse them by name.

// Field numbers, from onnx.proto (IR version 8).
const (
	// ModelProto
	fModelIRVersion       = 1
	fModelProducerName    = 2
	fModelProducerVersion = 3
	fModelGraph           = 7
	fModelOpsetImport     = 8
	fModelFunctions       = 25

	// OperatorSetIdProto
	fOpsetDomain  = 1
	fOpsetVersion = 2

	// GraphProto
	fGraphNode              = 1
	fGraphName              = 2
	fGraphInitializer       = 5
	fGraphInput             = 11
	fGraphOutput            = 12
	fGraphSparseInitializer = 15

	// NodeProto
	fNodeInput     = 1
	fNodeOutput    = 2
	fNodeName      = 3
	fNodeOpType    = 4
	fNodeAttribute = 5
	fNodeDomain    = 7

	// AttributeProto
	fAttrName        = 1
	fAttrF           = 2
	fAttrI           = 3
	fAttrS           = 4
	fAttrT           = 5
	fAttrG           = 6
	fAttrFloats      = 7
	fAttrInts        = 8
	fAttrStrings     = 9
	fAttrTensors     = 10
	fAttrGraphs      = 11
	fAttrType        = 20
	fAttrRefAttrName = 21

	// TensorProto
	fTensorDims         = 1
	fTensorDataType     = 2
	fTensorSegment      = 3
	fTensorFloatData    = 4
	fTensorInt32Data    = 5
	fTensorStringData   = 6
	fTensorInt64Data    = 7
	fTensorName         = 8
	fTensorRawData      = 9
	fTensorDoubleData   = 10
	fTensorUint64Data   = 11
	fTensorExternalData = 13
	fTensorDataLocation = 14

	// ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto,
	// TensorShapeProto.Dimension
	fValueName      = 1
	fValueType      = 2
	fTypeTensor     = 1
	fTTElemType     = 1
	fTTShape        = 2
	fShapeDim       = 1
	fDimValue       = 1
	fDimParam       = 2
	fStringKey      = 1 // StringStringEntryProto
	fStringValue    = 2
	maxRank         = 8 // dims of one tensor or value; CNNs use ≤ 4
	maxStringLength = 1 << 16
)

// wire walks one protobuf message. Its errors wrap ErrTruncated or
// ErrFormat and say which message and field failed; the caller adds the
// name of the node or initializer.
type wire struct {
	b   []byte
	msg string // "ModelProto", "NodeProto", ...
}

// fieldNames names the fields of each message that errors mention.
var fieldNames = map[string]map[protowire.Number]string{
	"ModelProto": {fModelIRVersion: "ir_version", fModelProducerName: "producer_name",
		fModelProducerVersion: "producer_version", fModelGraph: "graph", fModelOpsetImport: "opset_import"},
	"GraphProto": {fGraphNode: "node", fGraphName: "name", fGraphInitializer: "initializer",
		fGraphInput: "input", fGraphOutput: "output"},
	"NodeProto": {fNodeInput: "input", fNodeOutput: "output", fNodeName: "name",
		fNodeOpType: "op_type", fNodeAttribute: "attribute", fNodeDomain: "domain"},
	"AttributeProto": {fAttrName: "name", fAttrF: "f", fAttrI: "i", fAttrS: "s", fAttrT: "t",
		fAttrFloats: "floats", fAttrInts: "ints", fAttrType: "type"},
	"TensorProto": {fTensorDims: "dims", fTensorDataType: "data_type", fTensorFloatData: "float_data",
		fTensorInt32Data: "int32_data", fTensorInt64Data: "int64_data", fTensorName: "name",
		fTensorRawData: "raw_data", fTensorDoubleData: "double_data"},
}

// field names a field for an error message: "field 9 (raw_data)".
func (w *wire) field(num protowire.Number) string {
	if num == 0 {
		return "field tag" // the tag itself failed to decode
	}
	if name, ok := fieldNames[w.msg][num]; ok {
		return fmt.Sprintf("field %d (%s)", num, name)
	}
	return fmt.Sprintf("field %d", num)
}

// errWire converts a protowire error code into a package error.
func (w *wire) errWire(n int, field protowire.Number) error {
	err := protowire.ParseError(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errf(ErrTruncated, "%s %s ends early", w.msg, w.field(field))
	}
	return errf(ErrFormat, "%s %s: %v", w.msg, w.field(field), err)
}

// next reads the next field's tag; done is true at the end of the message.
func (w *wire) next() (num protowire.Number, typ protowire.Type, done bool, err error) {
	if len(w.b) == 0 {
		return 0, 0, true, nil
	}
	num, typ, n := protowire.ConsumeTag(w.b)
	if n < 0 {
		return 0, 0, false, w.errWire(n, 0)
	}
	w.b = w.b[n:]
	return num, typ, false, nil
}

// skip discards the value of a field this package does not read.
func (w *wire) skip(num protowire.Number, typ protowire.Type) error {
	n := protowire.ConsumeFieldValue(num, typ, w.b)
	if n < 0 {
		return w.errWire(n, num)
	}
	w.b = w.b[n:]
	return nil
}

// want checks a field's wire type.
func (w *wire) want(num protowire.Number, typ, want protowire.Type) error {
	if typ != want {
		return errf(ErrFormat, "%s %s has wire type %d, want %d", w.msg, w.field(num), typ, want)
	}
	return nil
}

func (w *wire) varint(num protowire.Number, typ protowire.Type) (uint64, error) {
	if err := w.want(num, typ, protowire.VarintType); err != nil {
		return 0, err
	}
	v, n := protowire.ConsumeVarint(w.b)
	if n < 0 {
		return 0, w.errWire(n, num)
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) int64(num protowire.Number, typ protowire.Type) (int64, error) {
	v, err := w.varint(num, typ)
	return int64(v), err
}

func (w *wire) bytes(num protowire.Number, typ protowire.Type) ([]byte, error) {
	if err := w.want(num, typ, protowire.BytesType); err != nil {
		return nil, err
	}
	v, n := protowire.ConsumeBytes(w.b)
	if n < 0 {
		return nil, w.errWire(n, num)
	}
	w.b = w.b[n:]
	return v, nil
}

func (w *wire) string(num protowire.Number, typ protowire.Type) (string, error) {
	b, err := w.bytes(num, typ)
	if err != nil {
		return "", err
	}
	if len(b) > maxStringLength {
		return "", errf(ErrUnsupported, "%s %s: a string of %d bytes (limit %d)", w.msg, w.field(num), len(b), maxStringLength)
	}
	return string(b), nil
}

func (w *wire) fixed32(num protowire.Number, typ protowire.Type) (uint32, error) {
	if err := w.want(num, typ, protowire.Fixed32Type); err != nil {
		return 0, err
	}
	v, n := protowire.ConsumeFixed32(w.b)
	if n < 0 {
		return 0, w.errWire(n, num)
	}
	w.b = w.b[n:]
	return v, nil
}

// int64s appends a repeated int64 (or int32, or enum) field, packed or
// not. A packed run holds at most one value per byte, so the slice grows
// by at most the bytes consumed.
func (w *wire) int64s(dst []int64, num protowire.Number, typ protowire.Type) ([]int64, error) {
	if typ == protowire.VarintType {
		v, err := w.int64(num, typ)
		return append(dst, v), err
	}
	b, err := w.bytes(num, typ)
	if err != nil {
		return dst, err
	}
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return dst, w.errWire(n, num)
		}
		dst = append(dst, int64(v))
		b = b[n:]
	}
	return dst, nil
}

// fixedRun returns a repeated fixed-width field's bytes (size 4 or 8 per
// value), packed or as one unpacked value.
func (w *wire) fixedRun(num protowire.Number, typ protowire.Type, size int) ([]byte, error) {
	switch {
	case size == 4 && typ == protowire.Fixed32Type, size == 8 && typ == protowire.Fixed64Type:
		if len(w.b) < size {
			return nil, errf(ErrTruncated, "%s %s ends early", w.msg, w.field(num))
		}
		v := w.b[:size]
		w.b = w.b[size:]
		return v, nil
	}
	b, err := w.bytes(num, typ)
	if err != nil {
		return nil, err
	}
	if len(b)%size != 0 {
		return nil, errf(ErrFormat, "%s %s: packed run of %d bytes is not a multiple of %d", w.msg, w.field(num), len(b), size)
	}
	return b, nil
}

// decodeModel decodes a ModelProto.
func decodeModel(b []byte) (*Model, error) {
	m := &Model{Opsets: map[string]int64{}}
	w := &wire{b: b, msg: "ModelProto"}
	graphs := 0
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			if err == nil && graphs == 0 {
				err = errf(ErrFormat, "the model has no graph")
			}
			return m, err
		}
		switch num {
		case fModelIRVersion:
			m.IRVersion, err = w.int64(num, typ)
		case fModelProducerName:
			m.Producer, err = w.string(num, typ)
		case fModelProducerVersion:
			m.ProducerVersion, err = w.string(num, typ)
		case fModelOpsetImport:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				err = decodeOpset(m, sb)
			}
		case fModelGraph:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				// Protobuf merges a repeated singular message; a second
				// graph is far more likely a corrupt or crafted file.
				if graphs++; graphs > 1 {
					return nil, errf(ErrFormat, "the model has %d graphs", graphs)
				}
				m.Graph, err = decodeGraph(sb)
			}
		case fModelFunctions:
			m.functions++
			err = w.skip(num, typ)
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeOpset(m *Model, b []byte) error {
	w := &wire{b: b, msg: "OperatorSetIdProto"}
	var domain string
	var version int64
	for {
		num, typ, done, err := w.next()
		if err != nil {
			return err
		}
		if done {
			break
		}
		switch num {
		case fOpsetDomain:
			domain, err = w.string(num, typ)
		case fOpsetVersion:
			version, err = w.int64(num, typ)
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return err
		}
	}
	if domain == "ai.onnx" {
		domain = ""
	}
	if _, dup := m.Opsets[domain]; dup {
		return errf(ErrFormat, "opset domain %s is imported twice", quote(domain))
	}
	m.Opsets[domain] = version
	return nil
}

func decodeGraph(b []byte) (*Graph, error) {
	g := &Graph{}
	w := &wire{b: b, msg: "GraphProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return g, err
		}
		var sb []byte
		switch num {
		case fGraphName:
			g.Name, err = w.string(num, typ)
		case fGraphNode:
			if sb, err = w.bytes(num, typ); err == nil {
				var n *Node
				n, err = decodeNode(sb)
				if err != nil {
					if n.Name != "" {
						err = wrapf(err, "node %s", quote(n.Name))
					} else {
						err = wrapf(err, "node %d", len(g.Nodes))
					}
				}
				g.Nodes = append(g.Nodes, n)
			}
		case fGraphInitializer:
			if sb, err = w.bytes(num, typ); err == nil {
				var t *Tensor
				t, err = decodeTensor(sb)
				if err != nil {
					if t != nil && t.Name != "" {
						err = wrapf(err, "initializer %s", quote(t.Name))
					} else {
						err = wrapf(err, "initializer %d", len(g.Initializers))
					}
				}
				g.Initializers = append(g.Initializers, t)
			}
		case fGraphInput, fGraphOutput:
			if sb, err = w.bytes(num, typ); err == nil {
				var v ValueInfo
				v, err = decodeValueInfo(sb)
				if num == fGraphInput {
					g.Inputs = append(g.Inputs, v)
				} else {
					g.Outputs = append(g.Outputs, v)
				}
			}
		case fGraphSparseInitializer:
			g.sparse++
			err = w.skip(num, typ)
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return nil, err
		}
	}
}

func decodeNode(b []byte) (*Node, error) {
	n := &Node{}
	w := &wire{b: b, msg: "NodeProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return n, err
		}
		var s string
		switch num {
		case fNodeInput:
			s, err = w.string(num, typ)
			n.Inputs = append(n.Inputs, s)
		case fNodeOutput:
			s, err = w.string(num, typ)
			n.Outputs = append(n.Outputs, s)
		case fNodeName:
			n.Name, err = w.string(num, typ)
		case fNodeOpType:
			n.OpType, err = w.string(num, typ)
		case fNodeDomain:
			n.Domain, err = w.string(num, typ)
		case fNodeAttribute:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				var a Attribute
				a, err = decodeAttribute(sb)
				if err != nil && a.Name != "" {
					err = wrapf(err, "attribute %s", quote(a.Name))
				}
				n.Attrs = append(n.Attrs, a)
			}
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return n, err
		}
	}
}

func decodeAttribute(b []byte) (Attribute, error) {
	var a Attribute
	w := &wire{b: b, msg: "AttributeProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return a, err
		}
		switch num {
		case fAttrName:
			a.Name, err = w.string(num, typ)
		case fAttrType:
			var v int64
			v, err = w.int64(num, typ)
			a.Type = AttrType(v)
		case fAttrF:
			var v uint32
			v, err = w.fixed32(num, typ)
			a.F = math.Float32frombits(v)
		case fAttrI:
			a.I, err = w.int64(num, typ)
		case fAttrS:
			var v []byte
			v, err = w.bytes(num, typ)
			if len(v) > maxStringLength {
				err = errf(ErrUnsupported, "a string attribute of %d bytes (limit %d)", len(v), maxStringLength)
			}
			a.S = string(v)
		case fAttrT:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				a.T, err = decodeTensor(sb)
			}
		case fAttrFloats:
			var run []byte
			if run, err = w.fixedRun(num, typ, 4); err == nil {
				for len(run) > 0 {
					a.Floats = append(a.Floats, math.Float32frombits(binary.LittleEndian.Uint32(run)))
					run = run[4:]
				}
			}
		case fAttrInts:
			a.Ints, err = w.int64s(a.Ints, num, typ)
		case fAttrG, fAttrGraphs, fAttrStrings, fAttrTensors, fAttrRefAttrName:
			// Not decoded: no supported operator takes them. Their
			// presence is kept so that the operator checks can say so.
			a.other = append(a.other, int(num))
			err = w.skip(num, typ)
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return a, err
		}
	}
}

func decodeValueInfo(b []byte) (ValueInfo, error) {
	var v ValueInfo
	w := &wire{b: b, msg: "ValueInfoProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return v, err
		}
		switch num {
		case fValueName:
			v.Name, err = w.string(num, typ)
		case fValueType:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				err = decodeType(&v, sb)
			}
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			if v.Name != "" {
				err = wrapf(err, "value %s", quote(v.Name))
			}
			return v, err
		}
	}
}

// decodeType reads TypeProto.tensor_type into v; other types (sequences,
// maps) leave v.Shape nil and v.ElemType 0.
func decodeType(v *ValueInfo, b []byte) error {
	w := &wire{b: b, msg: "TypeProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return err
		}
		if num != fTypeTensor {
			if err := w.skip(num, typ); err != nil {
				return err
			}
			continue
		}
		tb, err := w.bytes(num, typ)
		if err != nil {
			return err
		}
		tw := &wire{b: tb, msg: "TypeProto.Tensor"}
		for {
			num, typ, done, err := tw.next()
			if err != nil {
				return err
			}
			if done {
				break
			}
			switch num {
			case fTTElemType:
				var e int64
				e, err = tw.int64(num, typ)
				v.ElemType = DataType(e)
			case fTTShape:
				var sb []byte
				if sb, err = tw.bytes(num, typ); err == nil {
					v.Shape, err = decodeShape(sb)
				}
			default:
				err = tw.skip(num, typ)
			}
			if err != nil {
				return err
			}
		}
	}
}

func decodeShape(b []byte) ([]Dim, error) {
	dims := []Dim{}
	w := &wire{b: b, msg: "TensorShapeProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil || done {
			return dims, err
		}
		if num != fShapeDim {
			if err := w.skip(num, typ); err != nil {
				return nil, err
			}
			continue
		}
		db, err := w.bytes(num, typ)
		if err != nil {
			return nil, err
		}
		if len(dims) == maxRank {
			return nil, errf(ErrUnsupported, "a value of rank above %d", maxRank)
		}
		d := Dim{Value: -1}
		dw := &wire{b: db, msg: "TensorShapeProto.Dimension"}
		for {
			num, typ, done, err := dw.next()
			if err != nil {
				return nil, err
			}
			if done {
				break
			}
			switch num {
			case fDimValue:
				d.Value, err = dw.int64(num, typ)
				if err == nil && d.Value < 0 {
					err = errf(ErrFormat, "negative dimension %d", d.Value)
				}
			case fDimParam:
				d.Param, err = dw.string(num, typ)
			default:
				err = dw.skip(num, typ)
			}
			if err != nil {
				return nil, err
			}
		}
		dims = append(dims, d)
	}
}

// tensorFields collects a TensorProto's fields before its data is
// checked against its dims.
type tensorFields struct {
	raw      []byte
	hasRaw   bool
	floats   [][]byte // runs of little-endian float32
	doubles  [][]byte // runs of float64
	ints     []int64  // int32_data and int64_data, decoded
	intField bool
	strings  int
	segment  bool
	location int64
	external []string // external_data keys and values, for the message
}

func decodeTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var f tensorFields
	w := &wire{b: b, msg: "TensorProto"}
	for {
		num, typ, done, err := w.next()
		if err != nil {
			return t, err
		}
		if done {
			break
		}
		var run []byte
		switch num {
		case fTensorName:
			t.Name, err = w.string(num, typ)
		case fTensorDims:
			t.Dims, err = w.int64s(t.Dims, num, typ)
			if err == nil && len(t.Dims) > maxRank {
				err = errf(ErrUnsupported, "a tensor of rank %d (limit %d)", len(t.Dims), maxRank)
			}
		case fTensorDataType:
			var v int64
			v, err = w.int64(num, typ)
			t.DataType = DataType(v)
		case fTensorRawData:
			f.raw, err = w.bytes(num, typ)
			f.hasRaw = true
		case fTensorFloatData:
			run, err = w.fixedRun(num, typ, 4)
			f.floats = append(f.floats, run)
		case fTensorDoubleData:
			run, err = w.fixedRun(num, typ, 8)
			f.doubles = append(f.doubles, run)
		case fTensorInt32Data, fTensorInt64Data:
			f.ints, err = w.int64s(f.ints, num, typ)
			f.intField = true
		case fTensorStringData:
			f.strings++
			err = w.skip(num, typ)
		case fTensorSegment:
			f.segment = true
			err = w.skip(num, typ)
		case fTensorDataLocation:
			f.location, err = w.int64(num, typ)
		case fTensorExternalData:
			var sb []byte
			if sb, err = w.bytes(num, typ); err == nil {
				f.external, err = decodeEntry(f.external, sb)
			}
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return t, err
		}
	}
	if err := t.fill(&f); err != nil {
		return t, err
	}
	return t, nil
}

// decodeEntry appends a StringStringEntryProto as "key=value".
func decodeEntry(dst []string, b []byte) ([]string, error) {
	w := &wire{b: b, msg: "StringStringEntryProto"}
	var k, v string
	for {
		num, typ, done, err := w.next()
		if err != nil {
			return dst, err
		}
		if done {
			break
		}
		switch num {
		case fStringKey:
			k, err = w.string(num, typ)
		case fStringValue:
			v, err = w.string(num, typ)
		default:
			err = w.skip(num, typ)
		}
		if err != nil {
			return dst, err
		}
	}
	return append(dst, k+"="+quote(v)), nil
}
