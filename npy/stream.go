package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/emosel/emosel/tensor"
)

// Rows streams a float32 .npy array of shape [n, cols...] to a file one
// block of rows at a time, so that memory does not grow with n. The array
// goes to a temporary file beside path; Commit checks that exactly n rows
// arrived, syncs and renames it into place, and Abort removes it. Until
// Commit, path is untouched.
type Rows struct {
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	n, got    int
	row       int // values per row
	buf       []byte
}

// CreateRows starts the array [n, cols...] bound for path.
func CreateRows(path string, n int, cols ...int) (*Rows, error) {
	shape := append([]int{n}, cols...)
	checkShape(productOf(shape), shape)
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("npy: write %s: %w", path, err)
	}
	r := &Rows{path: path, tmp: f.Name(), f: f, bw: bufio.NewWriterSize(f, chunk), n: n, row: productOf(cols)}
	if _, err := r.bw.Write(encodeHeader("<f4", shape)); err != nil {
		r.Abort()
		return nil, fmt.Errorf("npy: write %s: %w", path, err)
	}
	return r, nil
}

func productOf(shape []int) int {
	p := 1
	for _, d := range shape {
		p *= d
	}
	return p
}

// Append writes the rows of t, whose shape must be [k, cols...]; it panics
// if the trailing shape differs or more than n rows would be written.
func (r *Rows) Append(t *tensor.Tensor) error {
	if t.Rank() == 0 || t.Len() != t.Dim(0)*r.row {
		panic(fmt.Sprintf("npy: Append of %v to rows of %d values", t.Shape(), r.row))
	}
	if r.got+t.Dim(0) > r.n {
		panic(fmt.Sprintf("npy: Append of %d rows to %s after %d of %d", t.Dim(0), r.path, r.got, r.n))
	}
	r.buf = r.buf[:0]
	for _, v := range t.Data() {
		r.buf = binary.LittleEndian.AppendUint32(r.buf, math.Float32bits(v))
	}
	if _, err := r.bw.Write(r.buf); err != nil {
		return fmt.Errorf("npy: write %s: %w", r.path, err)
	}
	r.got += t.Dim(0)
	return nil
}

// Commit finishes the file and renames it to its path. It returns an error
// (and removes the temporary file) if fewer than n rows were written.
func (r *Rows) Commit() error {
	if r.got != r.n {
		r.Abort()
		return fmt.Errorf("npy: %s: %d rows written, want %d", r.path, r.got, r.n)
	}
	err := r.bw.Flush()
	if err == nil {
		err = r.f.Chmod(0o644)
	}
	if err == nil {
		err = r.f.Sync()
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err == nil {
		err = os.Rename(r.tmp, r.path)
	}
	if err != nil {
		os.Remove(r.tmp)
		return fmt.Errorf("npy: write %s: %w", r.path, err)
	}
	return nil
}

// Abort discards the temporary file; it is safe after Commit or a failed
// call.
func (r *Rows) Abort() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	os.Remove(r.tmp)
}
