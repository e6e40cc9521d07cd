package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emosel/emosel/tensor"
)

// TestRows checks that streaming blocks of rows writes the same bytes as
// Write of the whole array, and that the target appears only on Commit.
func TestRows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "conv1_1.npy")
	whole := tensor.New(5, 3)
	for i := range whole.Data() {
		whole.Data()[i] = float32(i) * 0.5
	}
	r, err := CreateRows(path, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][2]int{{0, 2}, {2, 3}, {3, 5}} {
		if err := r.Append(whole.Slice(b[0], b[1])); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err == nil {
			t.Fatal("target exists before Commit")
		}
	}
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := Write(&want, whole); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("streamed file differs from Write")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}
}

func TestRowsShort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npy")
	r, err := CreateRows(path, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Append(tensor.New(3, 2)); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(); err == nil {
		t.Fatal("Commit with 3 of 4 rows succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("left files behind: %v", names)
	}
	r2, _ := CreateRows(path, 1, 2)
	r2.Abort()
	if entries, _ := os.ReadDir(dir); !slices.Equal([]int{len(entries)}, []int{0}) {
		t.Fatal("Abort left a file")
	}
}
