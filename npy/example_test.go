package npy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emosel/emosel/npy"
	"github.com/emosel/emosel/tensor"
)

// A [N, C] response matrix written for numpy and read back. In Python,
// np.load("responses.npy") gives the same float32 array.
func Example() {
	resp := tensor.From([]float32{0.5, 1, 0, 2.25, 3, 0}, 2, 3)

	var buf bytes.Buffer
	if err := npy.Write(&buf, resp); err != nil {
		panic(err)
	}
	fmt.Printf("%d bytes, header %q\n", buf.Len(), bytes.TrimRight(buf.Bytes()[10:128], " \n"))

	back, err := npy.Read(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(back.Shape(), back.Data())
	// Output:
	// 152 bytes, header "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	// [2 3] [0.5 1 0 2.25 3 0]
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "npy-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "si.npy")

	if err := npy.WriteFile(path, tensor.From([]float32{0.1, 0.7, 0.3}, 3)); err != nil {
		panic(err)
	}
	si, err := npy.ReadFile(path)
	if err != nil {
		panic(err)
	}
	fmt.Println(si.Shape(), si.Data())
	// Output:
	// [3] [0.1 0.7 0.3]
}

func ExampleReadFile_error() {
	_, err := npy.ReadFile("testdata/f4_fortran.npy")
	fmt.Println(err)
	// Output:
	// testdata/f4_fortran.npy: npy: bad format: header field 'fortran_order' is True; only C order is supported (save with np.ascontiguousarray)
}
