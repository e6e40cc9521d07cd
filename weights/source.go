package weights

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
)

// source is a byte stream that knows how much input remains, when that is
// known, so that every length read from the file can be checked against
// it before anything is allocated.
type source struct {
	r       *bufio.Reader
	off     int64 // bytes consumed
	size    int64 // total bytes, or -1 when unknown
	scratch []byte
}

// growChunk is the most a stream of unknown length may cost before its
// bytes have arrived.
const growChunk = 64 << 10

func newSource(r io.Reader, size int64) *source {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 1<<16)
	}
	return &source{r: br, size: size}
}

// need checks that n more bytes can be present.
func (s *source) need(n int64, what string) error {
	if n < 0 {
		return errf(ErrFormat, "%s: negative length %d", what, n)
	}
	if s.size >= 0 && n > s.size-s.off {
		return errf(ErrTruncated, "%s needs %d bytes at byte %d, %d remain", what, n, s.off, s.size-s.off)
	}
	return nil
}

func (s *source) ioErr(err error) error {
	switch {
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return errf(ErrTruncated, "input ends at byte %d", s.off)
	case errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat):
		return errf(ErrFormat, "at byte %d: %v", s.off, err)
	}
	var ce flate.CorruptInputError
	if errors.As(err, &ce) {
		return errf(ErrFormat, "at byte %d: %v", s.off, err)
	}
	return err
}

func (s *source) ReadByte() (byte, error) {
	b, err := s.r.ReadByte()
	if err != nil {
		return 0, s.ioErr(err)
	}
	s.off++
	return b, nil
}

func (s *source) full(p []byte) error {
	n, err := io.ReadFull(s.r, p)
	s.off += int64(n)
	if err != nil {
		return s.ioErr(err)
	}
	return nil
}

func (s *source) uint64LE() (uint64, error) {
	var b [8]byte
	if err := s.full(b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

// bytes reads n bytes, refusing more than limit.
func (s *source) bytes(n, limit int64, what string) ([]byte, error) {
	if n > limit {
		return nil, errf(ErrUnsupported, "%s of %d bytes exceeds the limit of %d", what, n, limit)
	}
	if err := s.need(n, what); err != nil {
		return nil, err
	}
	if s.size >= 0 || n <= growChunk {
		b := make([]byte, n)
		return b, s.full(b)
	}
	var b []byte
	for int64(len(b)) < n {
		k := int(min(n-int64(len(b)), growChunk))
		b = slices.Grow(b, k)[:len(b)+k]
		if err := s.full(b[len(b)-k:]); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// skip discards n bytes.
func (s *source) skip(n int64, what string) error {
	if err := s.need(n, what); err != nil {
		return err
	}
	m, err := s.r.Discard(int(min(n, math.MaxInt32)))
	s.off += int64(m)
	for err == nil && int64(m) < n {
		n -= int64(m)
		m, err = s.r.Discard(int(min(n, math.MaxInt32)))
		s.off += int64(m)
	}
	if err != nil {
		return s.ioErr(err)
	}
	return nil
}

// maxElems bounds an element count so that byte counts cannot overflow.
const maxElems = math.MaxInt / 8

// floats reads n elements of type dt and returns them converted to
// float32. With a known size the result is allocated once, after checking
// that its bytes are present; otherwise it grows as they arrive.
func (s *source) floats(n int64, dt dtype, what string) ([]float32, error) {
	if n < 0 || n > maxElems {
		return nil, errf(ErrFormat, "%s: element count %d out of range", what, n)
	}
	nb := n * int64(dt.size())
	if err := s.need(nb, what); err != nil {
		return nil, err
	}
	if s.size >= 0 || nb <= growChunk {
		out := make([]float32, n)
		return out, s.decode(out, dt)
	}
	var out []float32
	step := int64(growChunk / dt.size())
	for int64(len(out)) < n {
		k := int(min(n-int64(len(out)), step))
		out = slices.Grow(out, k)[:len(out)+k]
		if err := s.decode(out[len(out)-k:], dt); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// decode fills dst from the next len(dst) elements of type dt, going
// through a small scratch buffer so that the file's bytes are never held
// twice.
func (s *source) decode(dst []float32, dt dtype) error {
	if s.scratch == nil {
		s.scratch = make([]byte, 32<<10)
	}
	es := dt.size()
	per := len(s.scratch) / es
	for len(dst) > 0 {
		k := min(len(dst), per)
		b := s.scratch[:k*es]
		if err := s.full(b); err != nil {
			return err
		}
		dt.convert(dst[:k], b)
		dst = dst[k:]
	}
	return nil
}

// expectEOF checks that the stream has nothing more to give; for a zip
// entry this is also when its CRC-32 is verified.
func (s *source) expectEOF(what string) error {
	_, err := s.r.ReadByte()
	switch {
	case err == nil:
		return errf(ErrFormat, "%s is longer than its declared %d bytes", what, s.off)
	case err == io.EOF:
		return nil
	}
	return s.ioErr(err)
}

// dtype is an element type that converts to float32.
type dtype uint8

const (
	dtF32 dtype = iota + 1
	dtF64
	dtF16
	dtBF16
	dtI64
	dtI32
	dtI16
	dtI8
	dtU8
	dtBool
	dtU16
	dtU32
	dtU64
)

var dtypeInfo = [...]struct {
	name string
	size int
}{
	dtF32:  {"float32", 4},
	dtF64:  {"float64", 8},
	dtF16:  {"float16", 2},
	dtBF16: {"bfloat16", 2},
	dtI64:  {"int64", 8},
	dtI32:  {"int32", 4},
	dtI16:  {"int16", 2},
	dtI8:   {"int8", 1},
	dtU8:   {"uint8", 1},
	dtBool: {"bool", 1},
	dtU16:  {"uint16", 2},
	dtU32:  {"uint32", 4},
	dtU64:  {"uint64", 8},
}

func (d dtype) size() int      { return dtypeInfo[d].size }
func (d dtype) String() string { return dtypeInfo[d].name }

// convert decodes len(dst) little-endian elements from src.
func (d dtype) convert(dst []float32, src []byte) {
	le := binary.LittleEndian
	switch d {
	case dtF32:
		for i := range dst {
			dst[i] = math.Float32frombits(le.Uint32(src[4*i:]))
		}
	case dtF64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(le.Uint64(src[8*i:])))
		}
	case dtF16:
		for i := range dst {
			dst[i] = float16to32(le.Uint16(src[2*i:]))
		}
	case dtBF16:
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(le.Uint16(src[2*i:])) << 16)
		}
	case dtI64:
		for i := range dst {
			dst[i] = float32(int64(le.Uint64(src[8*i:])))
		}
	case dtI32:
		for i := range dst {
			dst[i] = float32(int32(le.Uint32(src[4*i:])))
		}
	case dtI16:
		for i := range dst {
			dst[i] = float32(int16(le.Uint16(src[2*i:])))
		}
	case dtI8:
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case dtU8:
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case dtBool:
		for i := range dst {
			dst[i] = 0
			if src[i] != 0 {
				dst[i] = 1
			}
		}
	case dtU16:
		for i := range dst {
			dst[i] = float32(le.Uint16(src[2*i:]))
		}
	case dtU32:
		for i := range dst {
			dst[i] = float32(le.Uint32(src[4*i:]))
		}
	case dtU64:
		for i := range dst {
			dst[i] = float32(le.Uint64(src[8*i:]))
		}
	default:
		panic("weights: convert of unknown dtype")
	}
}

// float16to32 converts IEEE 754 binary16 to float32 exactly.
func float16to32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN, keeping the payload
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant × 2⁻²⁴, exact in float32
		f := float32(mant) / (1 << 24)
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
