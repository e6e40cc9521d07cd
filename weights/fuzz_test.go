package weights

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
)

// The fuzz targets check that no input panics, that every error wraps one
// of the package's sentinels, and (FuzzLoad) that the sized reader and the
// streaming reader agree. A crasher belongs in testdata/fuzz/<Target>/ as
// a regression input (none found so far).
//
// Run each with a short minimization, or the first new inputs eat the
// whole budget:
//
//	go test -run x -fuzz FuzzLegacy -fuzztime 30s -fuzzminimizetime 50x ./weights/

func addFixtures(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readFixture(f, name))
	}
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
}

func sameStateDict(a, b StateDict) bool {
	if len(a) != len(b) {
		return false
	}
	for k, ta := range a {
		tb, ok := b[k]
		if !ok || !slices.Equal(ta.Shape(), tb.Shape()) {
			return false
		}
		if !slices.EqualFunc(ta.Data(), tb.Data(), func(x, y float32) bool {
			return math.Float32bits(x) == math.Float32bits(y)
		}) {
			return false
		}
	}
	return true
}

func allFixtures() []string {
	var names []string
	for _, fx := range fixtures {
		names = append(names, fx.file)
	}
	return names
}

// FuzzLoad fuzzes format sniffing and every reader through Load and Read.
func FuzzLoad(f *testing.F) {
	addFixtures(f, allFixtures()...)
	f.Fuzz(func(t *testing.T, b []byte) {
		sd1, err1 := Load(bytes.NewReader(b), int64(len(b)))
		sd2, err2 := Read(bytes.NewReader(b))
		checkErr(t, err1)
		checkErr(t, err2)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("Load: %v\nRead: %v", err1, err2)
		}
		if err1 == nil && !sameStateDict(sd1, sd2) {
			t.Fatal("Load and Read disagree")
		}
	})
}

// FuzzLegacy fuzzes the pickle machine and the legacy reader directly.
func FuzzLegacy(f *testing.F) {
	addFixtures(f, "small_legacy.pt", "py2_legacy.pt", "evil_legacy.pt")
	f.Add(legacyFile([]tspec{
		{"perm", "7", "HalfStorage", 24, 0, []int64{4, 2, 3}, []int64{1, 12, 4}},
	}, map[string][]byte{"7": make([]byte, 48)}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := readLegacy(newSource(bytes.NewReader(b), int64(len(b))))
		checkErr(t, err)
		_, err = readLegacy(newSource(bytes.NewReader(b), -1))
		checkErr(t, err)
	})
}

// FuzzZip fuzzes the torch.save zip reader.
func FuzzZip(f *testing.F) {
	addFixtures(f, "small.pt", "dtypes.pt", "evil_zip.pt")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := loadZip(bytes.NewReader(b), int64(len(b)))
		checkErr(t, err)
	})
}

// FuzzSafetensors fuzzes the safetensors reader.
func FuzzSafetensors(f *testing.F) {
	addFixtures(f, "small.safetensors", "dtypes.safetensors")
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := readSafetensors(newSource(bytes.NewReader(b), int64(len(b))))
		checkErr(t, err)
		_, err = readSafetensors(newSource(bytes.NewReader(b), -1))
		checkErr(t, err)
	})
}
