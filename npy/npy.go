package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/emosel/emosel/tensor"
)

// ErrFormat is wrapped by every error about malformed, truncated or
// unsupported .npy content.
var ErrFormat = errors.New("npy: bad format")

// chunk is the number of bytes encoded or decoded per I/O call.
const chunk = 64 << 10

// Write writes t to w as a C-ordered little-endian float32 ('<f4') .npy
// array, byte-for-byte as numpy's np.save writes it.
func Write(w io.Writer, t *tensor.Tensor) error {
	if t == nil {
		panic("npy: Write of a nil tensor")
	}
	return writeArray(w, "<f4", t.Data(), t.Shape())
}

// WriteFloat64 writes data with the given shape as a '<f8' .npy array. It
// panics if len(data) differs from the product of shape.
func WriteFloat64(w io.Writer, data []float64, shape ...int) error {
	checkShape(len(data), shape)
	return writeArray(w, "<f8", data, shape)
}

// WriteInt64 writes data with the given shape as an '<i8' .npy array (the
// dtype numpy gives integer labels and indices). It panics if len(data)
// differs from the product of shape.
func WriteInt64(w io.Writer, data []int64, shape ...int) error {
	checkShape(len(data), shape)
	return writeArray(w, "<i8", data, shape)
}

// checkShape panics when n values cannot fill shape.
func checkShape(n int, shape []int) {
	want := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("npy: negative dimension in shape %v", shape))
		}
		if d != 0 && want > math.MaxInt/d {
			panic(fmt.Sprintf("npy: shape %v overflows int", shape))
		}
		want *= d
	}
	if n != want {
		panic(fmt.Sprintf("npy: %d values for shape %v (want %d)", n, shape, want))
	}
}

func writeArray[T float32 | float64 | int64](w io.Writer, descr string, data []T, shape []int) error {
	if _, err := w.Write(encodeHeader(descr, shape)); err != nil {
		return err
	}
	var zero T
	size := binary.Size(zero)
	buf := make([]byte, 0, min(len(data)*size, chunk))
	for len(data) > 0 {
		n := min(len(data), chunk/size)
		buf = buf[:0]
		switch d := any(data[:n]).(type) {
		case []float32:
			for _, v := range d {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
		case []float64:
			for _, v := range d {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
		case []int64:
			for _, v := range d {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// Read reads one .npy array from r and returns it as a float32 tensor of the
// stored shape. It reads exactly the array's bytes, so successive calls read
// successive arrays; at a clean end of input (no bytes at all) it returns
// io.EOF unwrapped. Errors about the content wrap ErrFormat.
//
// If r has a Len() int method (bytes.Reader, bytes.Buffer, strings.Reader)
// a short input is rejected before any data is allocated; otherwise memory
// grows only as bytes actually arrive.
func Read(r io.Reader) (*tensor.Tensor, error) {
	avail := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		avail = int64(l.Len())
	}
	return read(r, avail)
}

// read is Read with the number of bytes left in r, or -1 if unknown.
func read(r io.Reader, avail int64) (*tensor.Tensor, error) {
	var pre [len(magic) + 2]byte
	n, err := io.ReadFull(r, pre[:])
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case err == io.ErrUnexpectedEOF:
		return nil, fmt.Errorf("%w: truncated: %d bytes, too short for the magic string and version", ErrFormat, n)
	case err != nil:
		return nil, err
	}
	if string(pre[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a .npy file: magic is %q, want %q", ErrFormat, pre[:len(magic)], magic)
	}
	major, minor := pre[len(magic)], pre[len(magic)+1]
	var lenBytes int
	switch {
	case major == 1 && minor == 0:
		lenBytes = 2
	case (major == 2 || major == 3) && minor == 0:
		lenBytes = 4
	default:
		return nil, fmt.Errorf("%w: unsupported version %d.%d (want 1.0, 2.0 or 3.0)", ErrFormat, major, minor)
	}
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:lenBytes]); err != nil {
		return nil, truncated(err, "header length")
	}
	hlen := int64(binary.LittleEndian.Uint32(lb[:]))
	if hlen > maxHeader {
		return nil, fmt.Errorf("%w: header length %d exceeds the limit of %d bytes", ErrFormat, hlen, maxHeader)
	}
	consumed := int64(len(pre)+lenBytes) + hlen
	if avail >= 0 && consumed > avail {
		return nil, fmt.Errorf("%w: truncated: header length is %d bytes but the input holds %d in all", ErrFormat, hlen, avail)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, truncated(err, "header")
	}
	h, err := parseHeader(string(hb))
	if err != nil {
		return nil, err
	}

	size := 4
	if h.descr[1:] == "f8" {
		size = 8
	}
	count := 1
	for _, d := range h.shape {
		if d != 0 && count > math.MaxInt/size/d {
			return nil, fmt.Errorf("%w: header field 'shape' %s is too large", ErrFormat, shapeRepr(h.shape))
		}
		count *= d
	}
	need := int64(count) * int64(size)
	if avail >= 0 && need > avail-consumed {
		return nil, fmt.Errorf("%w: truncated: shape %s of %s needs %d data bytes, the input holds %d",
			ErrFormat, shapeRepr(h.shape), h.descr, need, avail-consumed)
	}

	// With a known length the allocation is exact; otherwise it grows with
	// what arrives, so a lying header cannot reserve memory.
	capacity := min(count, chunk/4)
	if avail >= 0 {
		capacity = count
	}
	data := make([]float32, 0, capacity)
	var order binary.ByteOrder = binary.LittleEndian
	if h.descr[0] == '>' {
		order = binary.BigEndian
	}
	buf := make([]byte, min(need, chunk))
	for len(data) < count {
		m := min(count-len(data), len(buf)/size)
		b := buf[:m*size]
		if got, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: truncated: shape %s of %s needs %d data bytes, got %d",
					ErrFormat, shapeRepr(h.shape), h.descr, need, int64(len(data)*size+got))
			}
			return nil, err
		}
		if size == 4 {
			for i := 0; i < len(b); i += 4 {
				data = append(data, math.Float32frombits(order.Uint32(b[i:])))
			}
		} else {
			for i := 0; i < len(b); i += 8 {
				data = append(data, float32(math.Float64frombits(order.Uint64(b[i:]))))
			}
		}
	}
	return tensor.From(data, h.shape...), nil
}

// truncated turns an EOF from io.ReadFull into an ErrFormat naming what was
// being read; other errors pass through.
func truncated(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: truncated in the %s", ErrFormat, what)
	}
	return err
}

// ReadFile reads the .npy file at path. Errors name the path; an empty file
// is an ErrFormat error rather than io.EOF.
func ReadFile(path string) (t *tensor.Tensor, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			t, err = nil, fmt.Errorf("npy: close %s: %w", path, cerr)
		}
	}()
	avail := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		avail = st.Size()
	}
	t, err = read(f, avail)
	if err == io.EOF {
		err = fmt.Errorf("%w: empty file", ErrFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// WriteFile writes t to path as Write does, atomically: the array goes to
// a temporary file in the same directory, which is synced, closed and then
// renamed over path. On any error the temporary file is removed and path is
// untouched. A new file gets mode 0644; an existing file keeps its mode.
func WriteFile(path string, t *tensor.Tensor) error {
	if t == nil {
		panic("npy: WriteFile of a nil tensor")
	}
	return writeAtomic(path, func(w io.Writer) error { return Write(w, t) })
}

// tempFile is the part of *os.File that writeAtomic uses; tests substitute
// a file whose Sync or Close fails.
type tempFile interface {
	io.Writer
	Name() string
	Chmod(os.FileMode) error
	Sync() error
	Close() error
}

var createTemp = func(dir, pattern string) (tempFile, error) { return os.CreateTemp(dir, pattern) }

func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	f, err := createTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, chunk)
	if err := fill(bw); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("npy: sync %s: %w", path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("npy: close %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("npy: write %s: %w", path, err)
	}
	// Make the rename itself durable. Not every platform can open or sync a
	// directory, and the data is already safe, so failures are ignored.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
