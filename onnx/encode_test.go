package onnx

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// A tiny protobuf writer for hand-built ONNX models in tests: each
// function returns the encoded message.

type pb []byte

func (b pb) bytes(num protowire.Number, v []byte) pb {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func (b pb) str(num protowire.Number, s string) pb { return b.bytes(num, []byte(s)) }

func (b pb) varint(num protowire.Number, v int64) pb {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func (b pb) f32(num protowire.Number, v float32) pb {
	b = protowire.AppendTag(b, num, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

func (b pb) packed(num protowire.Number, vs []int64) pb {
	var p []byte
	for _, v := range vs {
		p = protowire.AppendVarint(p, uint64(v))
	}
	return b.bytes(num, p)
}

// tensorPB is a FLOAT initializer with raw_data.
func tensorPB(name string, dims []int64, data []float32) pb {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return pb{}.str(fTensorName, name).packed(fTensorDims, dims).varint(fTensorDataType, int64(Float)).bytes(fTensorRawData, raw)
}

// intTensorPB is an INT64 tensor in int64_data.
func intTensorPB(name string, dims []int64, data []int64) pb {
	return pb{}.str(fTensorName, name).packed(fTensorDims, dims).varint(fTensorDataType, int64(Int64)).packed(fTensorInt64Data, data)
}

type attrPB = pb

func aInt(name string, v int64) attrPB {
	return pb{}.str(fAttrName, name).varint(fAttrType, int64(AttrInt)).varint(fAttrI, v)
}

func aInts(name string, v ...int64) attrPB {
	return pb{}.str(fAttrName, name).varint(fAttrType, int64(AttrInts)).packed(fAttrInts, v)
}

func aFloat(name string, v float32) attrPB {
	return pb{}.str(fAttrName, name).varint(fAttrType, int64(AttrFloat)).f32(fAttrF, v)
}

func aString(name, v string) attrPB {
	return pb{}.str(fAttrName, name).varint(fAttrType, int64(AttrString)).str(fAttrS, v)
}

func aTensor(name string, t pb) attrPB {
	return pb{}.str(fAttrName, name).varint(fAttrType, int64(AttrTensor)).bytes(fAttrT, t)
}

func nodePB(op, name string, ins, outs []string, attrs ...attrPB) pb {
	b := pb{}
	for _, s := range ins {
		b = b.str(fNodeInput, s)
	}
	for _, s := range outs {
		b = b.str(fNodeOutput, s)
	}
	b = b.str(fNodeName, name).str(fNodeOpType, op)
	for _, a := range attrs {
		b = b.bytes(fNodeAttribute, a)
	}
	return b
}

// valuePB is a FLOAT ValueInfo; a dim of −1 is symbolic ("N").
func valuePB(name string, dims ...int64) pb {
	var shape pb
	for _, d := range dims {
		if d < 0 {
			shape = shape.bytes(fShapeDim, pb{}.str(fDimParam, "N"))
		} else {
			shape = shape.bytes(fShapeDim, pb{}.varint(fDimValue, d))
		}
	}
	tt := pb{}.varint(fTTElemType, int64(Float)).bytes(fTTShape, shape)
	return pb{}.str(fValueName, name).bytes(fValueType, pb{}.bytes(fTypeTensor, tt))
}

type graphSpec struct {
	nodes, inits, inputs, outputs []pb
}

func modelPB(opset int64, g graphSpec) []byte {
	gb := pb{}.str(fGraphName, "test")
	for _, n := range g.nodes {
		gb = gb.bytes(fGraphNode, n)
	}
	for _, t := range g.inits {
		gb = gb.bytes(fGraphInitializer, t)
	}
	for _, v := range g.inputs {
		gb = gb.bytes(fGraphInput, v)
	}
	for _, v := range g.outputs {
		gb = gb.bytes(fGraphOutput, v)
	}
	return pb{}.varint(fModelIRVersion, 8).str(fModelProducerName, "emosel-test").
		bytes(fModelOpsetImport, pb{}.str(fOpsetDomain, "").varint(fOpsetVersion, opset)).
		bytes(fModelGraph, gb)
}
