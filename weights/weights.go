package weights

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/tensor"
)

// StateDict maps parameter names, kept verbatim from the file (torchvision
// keys such as "features.0.weight"), to float32 tensors.
type StateDict map[string]*tensor.Tensor

// Keys returns the keys in natural order: keys compare part by part
// between dots, parts that are decimal numbers compare numerically and sort
// before other parts, so "features.2.weight" comes before
// "features.10.weight".
func (sd StateDict) Keys() []string {
	keys := make([]string, 0, len(sd))
	for k := range sd {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// compareKeys is the total order Keys uses. A key that is a prefix of
// another, part-wise, sorts first.
func compareKeys(a, b string) int {
	for {
		if a == "" || b == "" {
			return strings.Compare(a, b)
		}
		var pa, pb string
		pa, a, _ = strings.Cut(a, ".")
		pb, b, _ = strings.Cut(b, ".")
		if c := comparePart(pa, pb); c != 0 {
			return c
		}
	}
}

// comparePart orders numbers (numerically, then by spelling: "02" < "2")
// before other strings (bytewise).
func comparePart(a, b string) int {
	da, db := isDigits(a), isDigits(b)
	switch {
	case da && db:
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			return cmp.Compare(len(ta), len(tb))
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	case da:
		return -1
	case db:
		return 1
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Errors returned by the readers wrap one of these sentinels; test with
// errors.Is. The message goes on to name the file, and the key or archive
// entry where there is one.
var (
	// ErrFormat reports data that breaks the rules of its format.
	ErrFormat = errors.New("malformed file")
	// ErrTruncated reports input that ends early, or a length field that
	// is larger than the input that remains.
	ErrTruncated = errors.New("truncated file")
	// ErrUnsupported reports well-formed content this package refuses:
	// a pickle global or opcode outside the allow-list, a dtype with no
	// float32 conversion, a big-endian file, or a limit exceeded.
	ErrUnsupported = errors.New("unsupported")
)

// errf returns an error wrapping sentinel, formatted as "sentinel: msg".
func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// quote renders a name from a file for an error message: plain when it is
// printable ASCII without spaces, Go-quoted otherwise.
func quote(s string) string {
	if len(s) > 200 {
		return strconv.Quote(s[:200]) + "..."
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || s[i] == '"' {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// LoadFile reads the weight file at path, sniffing its format (see the
// package documentation). Errors name the path.
func LoadFile(path string) (sd StateDict, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			sd, err = nil, fmt.Errorf("weights: %s: close: %w", path, cerr)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	sd, err = load(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("weights: %s: %w", path, err)
	}
	return sd, nil
}

// Load reads a weight file of the given size from r, sniffing its format.
// Because the size is known, every allocation is checked against the bytes
// that remain before it is made, and zip archives are read entry by entry
// without buffering the file. It panics if size is negative.
func Load(r io.ReaderAt, size int64) (StateDict, error) {
	if size < 0 {
		panic(fmt.Sprintf("weights: Load with negative size %d", size))
	}
	sd, err := load(r, size)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return sd, nil
}

// Read reads a weight file from a stream, sniffing its format. Legacy
// torch.save files and safetensors are streamed; since the length is not
// known, tensors grow as their bytes arrive, so a lying length field costs
// at most the bytes actually present. A zip archive needs random access:
// Read buffers the whole stream first, so prefer Load or LoadFile for large
// zip files.
func Read(r io.Reader) (StateDict, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(sniffLen)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("weights: %w", err)
	}
	var sd StateDict
	switch f := sniff(head); f {
	case formatZip:
		var data []byte
		if data, err = io.ReadAll(br); err != nil {
			return nil, fmt.Errorf("weights: %w", err)
		}
		sd, err = loadZip(bytes.NewReader(data), int64(len(data)))
	case formatSafetensors:
		sd, err = readSafetensors(newSource(br, -1))
	case formatLegacy:
		sd, err = readLegacy(newSource(br, -1))
	default:
		err = f.err()
	}
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return sd, nil
}

func load(r io.ReaderAt, size int64) (StateDict, error) {
	head := make([]byte, min(size, sniffLen))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	switch f := sniff(head); f {
	case formatZip:
		return loadZip(r, size)
	case formatSafetensors:
		return readSafetensors(newSource(io.NewSectionReader(r, 0, size), size))
	case formatLegacy:
		return readLegacy(newSource(io.NewSectionReader(r, 0, size), size))
	default:
		return nil, f.err()
	}
}

type format int

const (
	formatUnknown format = iota
	formatZip
	formatSafetensors
	formatLegacy
	formatTar
)

// sniffLen covers the tar magic at offset 257.
const sniffLen = 264

func sniff(head []byte) format {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return formatZip
	case len(head) >= 9 && head[8] == '{' && binary.LittleEndian.Uint64(head) >= 2:
		// 8-byte little-endian header length, then the JSON header.
		return formatSafetensors
	case len(head) >= 1 && head[0] == opProto:
		return formatLegacy
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return formatTar
	}
	return formatUnknown
}

func (f format) err() error {
	if f == formatTar {
		return errf(ErrUnsupported, "tar-based torch.save format (PyTorch before 0.1.10); re-save it with a current PyTorch")
	}
	return errf(ErrFormat, "not a torch.save zip archive, legacy torch.save file or safetensors file")
}
