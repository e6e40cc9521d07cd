package golden

import (
	"bytes"
	"encoding/csv"
	"os"
	"testing"
)

// CSV reads a CSV output: its header and its rows. It fails the test if
// the file cannot be read or parsed, or has no header.
func CSV(t testing.TB, path string) (head []string, rows [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(all) == 0 {
		t.Fatalf("%s: %v (%d lines)", path, err, len(all))
	}
	return all[0], all[1:]
}
