package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
)

// rawEntry is one entry of a hand-made zip; alias names an earlier entry
// whose local header and data the central directory points at instead.
type rawEntry struct {
	name  string
	data  []byte
	alias string
}

// rawZip writes a stored-only zip by hand, so that tests can make central
// directory records overlap.
func rawZip(entries []rawEntry) []byte {
	var b, cd bytes.Buffer
	le := binary.LittleEndian
	put := func(w *bytes.Buffer, vs ...any) {
		for _, v := range vs {
			binary.Write(w, le, v)
		}
	}
	type rec struct {
		off       uint32
		crc, size uint32
	}
	recs := map[string]rec{}
	for _, e := range entries {
		r := rec{uint32(b.Len()), crc32.ChecksumIEEE(e.data), uint32(len(e.data))}
		if e.alias != "" {
			r = recs[e.alias]
		} else {
			put(&b, uint32(0x04034b50), uint16(20), uint16(0), uint16(0),
				uint16(0), uint16(0x21), r.crc, r.size, r.size, uint16(len(e.name)), uint16(0))
			b.WriteString(e.name)
			b.Write(e.data)
		}
		recs[e.name] = r
		put(&cd, uint32(0x02014b50), uint16(20), uint16(20), uint16(0), uint16(0),
			uint16(0), uint16(0x21), r.crc, r.size, r.size, uint16(len(e.name)), uint16(0), uint16(0),
			uint16(0), uint16(0), uint32(0), r.off)
		cd.WriteString(e.name)
	}
	cdOff := b.Len()
	b.Write(cd.Bytes())
	put(&b, uint32(0x06054b50), uint16(0), uint16(0), uint16(len(entries)),
		uint16(len(entries)), uint32(cd.Len()), uint32(cdOff), uint16(0))
	return b.Bytes()
}

func TestZipOverlappingEntries(t *testing.T) {
	const n = 4096
	var ts []tspec
	entries := []rawEntry{{name: "a/data.pkl"}, {name: "a/data/0", data: make([]byte, 4*n)}}
	for i := range 16 {
		k := string(rune('0' + i))
		ts = append(ts, tspec{"t" + k, k, "FloatStorage", n, 0, []int64{n}, []int64{1}})
		if i > 0 {
			entries = append(entries, rawEntry{name: "a/data/" + k, alias: "a/data/0"})
		}
	}
	entries[0].data = statePickle(false, ts)
	b := rawZip(entries)
	// The same archive without aliases loads, which shows rawZip is sound.
	ok := rawZip([]rawEntry{{name: "a/data.pkl", data: statePickle(false, ts[:1])}, entries[1]})
	if _, err := Load(bytes.NewReader(ok), int64(len(ok))); err != nil {
		t.Fatalf("plain raw zip: %v", err)
	}
	_, err := Load(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("overlapping entries: err = %v", err)
	}
	t.Log(err)
}

// deflate rewrites a zip archive with every entry compressed.
func deflate(t *testing.T, in []byte) []byte {
	zr, err := zip.NewReader(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestZipDeflated(t *testing.T) {
	b := deflate(t, readFixture(t, "small.pt"))
	sd, err := Load(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, "deflated small.pt", sd, expected(t)["small"])

	// An entry declaring 128 MiB inflated (as 128 MiB of zeros would) is
	// refused before anything is read or allocated.
	const n = 32 << 20
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("a/data.pkl")
	w.Write(statePickle(false, []tspec{{"w", "0", "FloatStorage", n, 0, []int64{n}, []int64{1}}}))
	w, _ = zw.CreateRaw(&zip.FileHeader{Name: "a/data/0", Method: zip.Deflate,
		CompressedSize64: 2, UncompressedSize64: 4 * n})
	w.Write([]byte{3, 0})
	zw.Close()
	b = bomb.Bytes()
	_, err = Load(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("deflate bomb: err = %v", err)
	}
	t.Logf("deflate bomb of %d bytes: %v", len(b), err)
}
