// Package npy reads and writes NumPy .npy files, the interchange format
// between emosel and Python neuroscience tools (numpy, scipy, MNE, rsatoolbox).
//
// # Layout
//
// A .npy file is the magic string "\x93NUMPY", a two-byte version, a little-
// endian header length (2 bytes for version 1.0, 4 bytes for 2.0 and 3.0), a
// Python dict literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and a final newline so the data starts on a 64-byte
// boundary, and then the raw elements in C (row-major) order.
//
// Write produces exactly the bytes numpy ≥ 1.24 produces for np.save of a
// C-contiguous float32 array: version 1.0 (2.0 only if the header would not
// fit), the keys sorted, numpy's 21-character growth padding after the shape,
// and 64-byte alignment. WriteFloat64 and WriteInt64 do the same for '<f8'
// and '<i8' data held in plain Go slices.
//
// Read accepts versions 1.0, 2.0 and 3.0, descr '<f4', '>f4', '<f8' and
// '>f8' (float64 is converted to float32, rounding to nearest; values beyond
// float32's range become ±Inf), and fortran_order False. A 0-d array
// (shape ()) becomes a scalar tensor. Read consumes exactly one array from
// the reader, so several arrays saved one after another to the same stream
// can be read with successive calls, as with np.load on an open file.
//
// # Errors and panics
//
// Malformed, truncated or unsupported input returns an error wrapping
// ErrFormat that names the field at fault, e.g.
//
//	npy: bad format: header field 'fortran_order' is True; only C order is supported
//
// ReadFile and WriteFile prefix errors with the path. Read never allocates
// more than the input really holds: a header that claims 10^12 elements on a
// short stream fails after reading what is there. WriteFile is atomic: it
// writes a temporary file in the target directory, syncs it, closes it
// (reporting a failing Close) and renames it over the target.
//
// Passing a nil tensor, or a data slice whose length disagrees with its
// shape, is programmer misuse and panics with an "npy: ..." message.
package npy
