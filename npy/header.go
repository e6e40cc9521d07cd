package npy

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

const (
	magic = "\x93NUMPY"
	// align is numpy's ARRAY_ALIGN: the data starts on this boundary.
	align = 64
	// growthDigits is numpy's GROWTH_AXIS_MAX_DIGITS: the header keeps room
	// for the leading dimension to grow to 21 digits in place.
	growthDigits = 21
	// maxHeader bounds the header we are willing to read. numpy refuses
	// headers over 10000 characters unless told to trust the file; we allow
	// a little more so that hand-written files with long shapes still load.
	maxHeader = 1 << 16
	// maxDims bounds the rank (numpy 2 allows 64 dimensions).
	maxDims = 64
)

// header is the parsed dict of a .npy file.
type header struct {
	descr string
	shape []int
}

// encodeHeader returns the magic, version, length and padded header dict
// that numpy's np.save writes for a C-ordered array of the given descr and
// shape: version 1.0 unless the header needs more than 65535 bytes.
func encodeHeader(descr string, shape []int) []byte {
	var b strings.Builder
	b.WriteString("{'descr': '")
	b.WriteString(descr)
	b.WriteString("', 'fortran_order': False, 'shape': ")
	b.WriteString(shapeRepr(shape))
	b.WriteString(", }")
	if len(shape) > 0 {
		// Spare room so the leading dimension can grow in place.
		if pad := growthDigits - len(strconv.Itoa(shape[0])); pad > 0 {
			b.WriteString(strings.Repeat(" ", pad))
		}
	}
	dict := b.String()

	// As numpy's _wrap_header: hlen counts the final newline, and padlen is
	// always in 1..64 (a header already on the boundary gains 64 spaces).
	for _, lenBytes := range []int{2, 4} {
		hlen := len(dict) + 1
		pad := align - (len(magic)+2+lenBytes+hlen)%align
		total := hlen + pad
		if lenBytes == 2 && total > 0xffff {
			continue
		}
		out := make([]byte, 0, len(magic)+2+lenBytes+total)
		out = append(out, magic...)
		if lenBytes == 2 {
			out = append(out, 1, 0)
			out = binary.LittleEndian.AppendUint16(out, uint16(total))
		} else {
			out = append(out, 2, 0)
			out = binary.LittleEndian.AppendUint32(out, uint32(total))
		}
		out = append(out, dict...)
		for range pad {
			out = append(out, ' ')
		}
		return append(out, '\n')
	}
	panic("npy: unreachable")
}

// shapeRepr formats shape as Python's repr of a tuple: (), (3,), (2, 3).
func shapeRepr(shape []int) string {
	switch len(shape) {
	case 0:
		return "()"
	case 1:
		return "(" + strconv.Itoa(shape[0]) + ",)"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// value is one parsed Python literal from the header dict.
type value struct {
	kind  byte // 's' string, 'b' bool, 't' tuple of ints, 'i' bare int
	str   string
	bool  bool
	tuple []int
}

func (v value) describe() string {
	switch v.kind {
	case 's':
		return strconv.Quote(v.str)
	case 'b':
		if v.bool {
			return "True"
		}
		return "False"
	case 'i':
		return "an int " + strconv.Itoa(v.tuple[0])
	}
	return shapeRepr(v.tuple)
}

// parser reads the small subset of Python literal syntax that .npy headers
// use: a dict with string keys and string, bool or int-tuple values.
type parser struct {
	s   string
	pos int
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: header at byte %d: %s", ErrFormat, p.pos, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

func (p *parser) expect(c byte) error {
	if got := p.peek(); got != c {
		if got == 0 {
			return p.errorf("want %q, found end of header", c)
		}
		return p.errorf("want %q, found %q", c, got)
	}
	p.pos++
	return nil
}

func (p *parser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string")
	}
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case '\\':
			p.pos = i
			return "", p.errorf("escape sequences in strings are not supported")
		case q:
			p.pos = i + 1
			return p.s[start:i], nil
		}
	}
	return "", p.errorf("unterminated string")
}

// int parses a decimal integer, allowing a sign and Python 2's L suffix.
func (p *parser) int() (int, error) {
	p.skipSpace()
	start := p.pos
	if p.pos < len(p.s) && (p.s[p.pos] == '-' || p.s[p.pos] == '+') {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == digits {
		return 0, p.errorf("want an integer")
	}
	text := p.s[start:p.pos]
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, p.errorf("integer %s out of range", text)
	}
	return n, nil
}

func (p *parser) value() (value, error) {
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		s, err := p.str()
		return value{kind: 's', str: s}, err
	case c == '(':
		p.pos++
		var t []int
		trailingComma := false
		for p.peek() != ')' {
			if len(t) == maxDims {
				return value{}, p.errorf("more than %d dimensions", maxDims)
			}
			n, err := p.int()
			if err != nil {
				return value{}, err
			}
			t = append(t, n)
			trailingComma = false
			if p.peek() == ',' {
				p.pos++
				trailingComma = true
				continue
			}
			if p.peek() != ')' {
				return value{}, p.errorf("want ',' or ')' in tuple")
			}
		}
		p.pos++
		if len(t) == 1 && !trailingComma {
			// (3) is the int 3 in Python, not a tuple.
			return value{kind: 'i', tuple: t}, nil
		}
		return value{kind: 't', tuple: t}, nil
	case c == '-' || c == '+' || (c >= '0' && c <= '9'):
		n, err := p.int()
		return value{kind: 'i', tuple: []int{n}}, err
	case c == 0:
		return value{}, p.errorf("want a value, found end of header")
	}
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.pos:], w) {
			p.pos += len(w)
			return value{kind: 'b', bool: w == "True"}, nil
		}
	}
	return value{}, p.errorf("unsupported value starting %q", p.s[p.pos])
}

// parseHeader parses and validates the header dict.
func parseHeader(s string) (header, error) {
	p := &parser{s: s}
	if err := p.expect('{'); err != nil {
		return header{}, err
	}
	fields := map[string]value{}
	for p.peek() != '}' {
		k, err := p.str()
		if err != nil {
			return header{}, err
		}
		if err := p.expect(':'); err != nil {
			return header{}, err
		}
		v, err := p.value()
		if err != nil {
			return header{}, err
		}
		if _, dup := fields[k]; dup {
			return header{}, fmt.Errorf("%w: header field %q appears twice", ErrFormat, k)
		}
		fields[k] = v
		if p.peek() == ',' {
			p.pos++
		} else if p.peek() != '}' {
			return header{}, p.errorf("want ',' or '}' in dict")
		}
	}
	p.pos++
	if p.peek() != 0 {
		return header{}, p.errorf("unexpected %q after the header dict", p.s[p.pos])
	}

	var h header
	for k := range fields {
		switch k {
		case "descr", "fortran_order", "shape":
		default:
			return header{}, fmt.Errorf("%w: header has unexpected field %q", ErrFormat, k)
		}
	}
	descr, ok := fields["descr"]
	switch {
	case !ok:
		return header{}, fmt.Errorf("%w: header has no 'descr' field", ErrFormat)
	case descr.kind != 's':
		return header{}, fmt.Errorf("%w: header field 'descr' is %s, want a string such as '<f4' (structured dtypes are not supported)", ErrFormat, descr.describe())
	}
	switch descr.str {
	case "<f4", ">f4", "<f8", ">f8":
		h.descr = descr.str
	default:
		return header{}, fmt.Errorf("%w: header field 'descr' is %q; only '<f4', '>f4', '<f8' and '>f8' are supported", ErrFormat, descr.str)
	}
	fo, ok := fields["fortran_order"]
	switch {
	case !ok:
		return header{}, fmt.Errorf("%w: header has no 'fortran_order' field", ErrFormat)
	case fo.kind != 'b':
		return header{}, fmt.Errorf("%w: header field 'fortran_order' is %s, want True or False", ErrFormat, fo.describe())
	case fo.bool:
		return header{}, fmt.Errorf("%w: header field 'fortran_order' is True; only C order is supported (save with np.ascontiguousarray)", ErrFormat)
	}
	shape, ok := fields["shape"]
	switch {
	case !ok:
		return header{}, fmt.Errorf("%w: header has no 'shape' field", ErrFormat)
	case shape.kind != 't':
		return header{}, fmt.Errorf("%w: header field 'shape' is %s, want a tuple of ints", ErrFormat, shape.describe())
	}
	for _, d := range shape.tuple {
		if d < 0 {
			return header{}, fmt.Errorf("%w: header field 'shape' %s has a negative dimension", ErrFormat, shapeRepr(shape.tuple))
		}
	}
	h.shape = shape.tuple
	if h.shape == nil {
		h.shape = []int{}
	}
	return h, nil
}
