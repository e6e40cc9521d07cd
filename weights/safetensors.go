package weights

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/emosel/emosel/tensor"
)

// maxHeader is the safetensors reference implementation's header limit.
const maxHeader = 100_000_000

// safetensorsDtypes maps the header's dtype names to element types.
var safetensorsDtypes = map[string]dtype{
	"F32": dtF32, "F64": dtF64, "F16": dtF16, "BF16": dtBF16,
	"I64": dtI64, "I32": dtI32, "I16": dtI16, "I8": dtI8,
	"U64": dtU64, "U32": dtU32, "U16": dtU16, "U8": dtU8, "BOOL": dtBool,
}

type stEntry struct {
	key        string
	dt         dtype
	size       []int64
	begin, end int64
}

// readSafetensors reads the safetensors format: an 8-byte little-endian
// header length N, N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to
// the end of the header) plus an optional "__metadata__" string map, then
// the data. Tensors are read in offset order, so the input is streamed;
// their byte ranges may not overlap, which bounds the elements allocated
// by the bytes present.
func readSafetensors(s *source) (StateDict, error) {
	n, err := s.uint64LE()
	if err != nil {
		return nil, err
	}
	if n > maxHeader {
		return nil, errf(ErrUnsupported, "safetensors header of %d bytes exceeds the limit of %d", n, maxHeader)
	}
	hdr, err := s.bytes(int64(n), maxHeader, "safetensors header")
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, errf(ErrFormat, "safetensors header: %v", err)
	}
	entries := make([]stEntry, 0, len(raw))
	for k, msg := range raw {
		if k == "__metadata__" {
			continue // free-form strings, e.g. {"format": "pt"}
		}
		var e struct {
			Dtype       string  `json:"dtype"`
			Shape       []int64 `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, errf(ErrFormat, "safetensors tensor %s: %v", quote(k), err)
		}
		dt, ok := safetensorsDtypes[e.Dtype]
		if !ok {
			return nil, errf(ErrUnsupported, "safetensors tensor %s: dtype %s", quote(k), quote(e.Dtype))
		}
		if e.Shape == nil {
			return nil, errf(ErrFormat, "safetensors tensor %s: no shape", quote(k))
		}
		_, numel, err := checkShape(e.Shape)
		if err != nil {
			return nil, fmt.Errorf("%w (safetensors tensor %s)", err, quote(k))
		}
		if len(e.DataOffsets) != 2 || e.DataOffsets[0] < 0 || e.DataOffsets[1] < e.DataOffsets[0] {
			return nil, errf(ErrFormat, "safetensors tensor %s: data_offsets %v", quote(k), e.DataOffsets)
		}
		if numel > maxElems || e.DataOffsets[1]-e.DataOffsets[0] != numel*int64(dt.size()) {
			return nil, errf(ErrFormat, "safetensors tensor %s: %v %s needs %d bytes, data_offsets %v span %d",
				quote(k), e.Shape, e.Dtype, numel*int64(dt.size()), e.DataOffsets, e.DataOffsets[1]-e.DataOffsets[0])
		}
		entries = append(entries, stEntry{k, dt, e.Shape, e.DataOffsets[0], e.DataOffsets[1]})
	}
	slices.SortFunc(entries, func(a, b stEntry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), cmp.Compare(a.key, b.key))
	})
	var pos int64 // offset into the data section
	for i, e := range entries {
		if e.begin < pos {
			return nil, errf(ErrFormat, "safetensors tensors %s and %s overlap", quote(entries[i-1].key), quote(e.key))
		}
		pos = e.end
	}
	if err := s.need(pos, "safetensors data"); err != nil {
		return nil, err
	}

	sd := make(StateDict, len(entries))
	pos = 0
	for _, e := range entries {
		if err := s.skip(e.begin-pos, "safetensors data"); err != nil {
			return nil, err
		}
		shape, numel, _ := checkShape(e.size)
		data, err := s.floats(numel, e.dt, "safetensors tensor "+quote(e.key))
		if err != nil {
			return nil, err
		}
		sd[e.key] = tensor.From(data, shape...)
		pos = e.end
	}
	return sd, nil
}
