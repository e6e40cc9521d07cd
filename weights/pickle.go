package weights

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
)

// This file is a pickle virtual machine cut down to what torch.save writes
// for a state dict. It builds plain values (below), never resolves a global
// to code, and refuses every opcode it does not list. Callers decide what
// globals, persistent ids, REDUCE and BUILD mean through pickleHooks.
//
// The machine is iterative, so nesting costs no Go stack. Its stack, its
// mark stack and its memo are capped; a pop below the innermost MARK is an
// error, as in CPython's C unpickler; strings are capped and checked
// against the input that remains before they are allocated.

// Opcodes understood by the machine (protocols 2 to 5, plus the text INT
// that Python 2 wrote for large ints).
const (
	opMark            = '('
	opStop            = '.'
	opInt             = 'I'
	opBinInt          = 'J'
	opBinInt1         = 'K'
	opBinInt2         = 'M'
	opNone            = 'N'
	opBinPersID       = 'Q'
	opReduce          = 'R'
	opBinString       = 'T'
	opShortBinString  = 'U'
	opBinUnicode      = 'X'
	opAppend          = 'a'
	opBuild           = 'b'
	opGlobal          = 'c'
	opAppends         = 'e'
	opBinFloat        = 'G'
	opBinGet          = 'h'
	opLongBinGet      = 'j'
	opBinPut          = 'q'
	opLongBinPut      = 'r'
	opSetItem         = 's'
	opTuple           = 't'
	opSetItems        = 'u'
	opEmptyDict       = '}'
	opEmptyList       = ']'
	opEmptyTuple      = ')'
	opProto           = 0x80
	opTuple1          = 0x85
	opTuple2          = 0x86
	opTuple3          = 0x87
	opNewTrue         = 0x88
	opNewFalse        = 0x89
	opLong1           = 0x8a
	opShortBinUnicode = 0x8c
	opBinUnicode8     = 0x8d
	opStackGlobal     = 0x93
	opMemoize         = 0x94
	opFrame           = 0x95
)

// opNames names every pickle opcode, so that a refusal says which one.
var opNames = map[byte]string{
	'(': "MARK", '.': "STOP", '0': "POP", '1': "POP_MARK", '2': "DUP",
	'F': "FLOAT", 'I': "INT", 'J': "BININT", 'K': "BININT1", 'L': "LONG",
	'M': "BININT2", 'N': "NONE", 'P': "PERSID", 'Q': "BINPERSID", 'R': "REDUCE",
	'S': "STRING", 'T': "BINSTRING", 'U': "SHORT_BINSTRING", 'V': "UNICODE",
	'X': "BINUNICODE", 'a': "APPEND", 'b': "BUILD", 'c': "GLOBAL", 'd': "DICT",
	'}': "EMPTY_DICT", 'e': "APPENDS", 'g': "GET", 'h': "BINGET", 'i': "INST",
	'j': "LONG_BINGET", 'l': "LIST", ']': "EMPTY_LIST", 'o': "OBJ", 'p': "PUT",
	'q': "BINPUT", 'r': "LONG_BINPUT", 's': "SETITEM", 't': "TUPLE",
	')': "EMPTY_TUPLE", 'u': "SETITEMS", 'G': "BINFLOAT",
	0x80: "PROTO", 0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4",
	0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x88: "NEWTRUE",
	0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4", 'B': "BINBYTES",
	'C': "SHORT_BINBYTES", 0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8",
	0x8e: "BINBYTES8", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS", 0x91: "FROZENSET",
	0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
	0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

func opName(op byte) string {
	if n, ok := opNames[op]; ok {
		return fmt.Sprintf("%s 0x%02x", n, op)
	}
	return fmt.Sprintf("0x%02x", op)
}

// errBadOp marks an opcode outside the machine's list.
var errBadOp = errors.New("unknown opcode")

// Limits on the machine. A torchvision state dict needs a stack of a few
// dozen items, a dozen marks and a memo of a few thousand entries.
const (
	maxStack  = 1 << 20
	maxMarks  = 1 << 10
	maxMemo   = 1 << 20
	maxString = 1 << 20 // bytes in one pickled string
	maxLine   = 256     // bytes in a GLOBAL module or name, or an INT
)

// Pickle values. Python ints become int64, or *big.Int past 64 bits;
// str and Python 2 byte strings become string; floats float64.
type (
	pyNone  struct{}
	pyTuple []any
	pyList  struct{ items []any }
	// pyDict keeps insertion order, like an OrderedDict. Keys are
	// hashable scalars: string, int64, float64, bool or pyNone.
	pyDict struct {
		keys []any
		vals map[any]any
	}
	// pyGlobal is a global the hooks let through, by name only.
	pyGlobal struct{ module, name string }
)

func newDict() *pyDict { return &pyDict{vals: map[any]any{}} }

func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case string, int64, float64, bool, pyNone:
	default:
		return errf(ErrUnsupported, "pickle dict key of type %s", typeName(k))
	}
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
	return nil
}

// typeName names a value's Python type for error messages.
func typeName(v any) string {
	switch v := v.(type) {
	case pyNone:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case pyGlobal:
		return v.module + "." + v.name
	case *tensorRef:
		return "tensor"
	case *storageView:
		return "storage"
	case storageType:
		return "torch." + v.name
	}
	return fmt.Sprintf("%T", v)
}

// shortValue renders a scalar for an error message, and only the type of
// anything else: printing a container could recurse without bound.
func shortValue(v any) string {
	switch v := v.(type) {
	case int64, float64, bool:
		return fmt.Sprint(v)
	case string:
		return quote(v)
	}
	return typeName(v)
}

// pickleHooks gives meaning to the opcodes that reach outside plain data.
type pickleHooks interface {
	// global resolves GLOBAL or STACK_GLOBAL; refusing is the default.
	global(module, name string) (any, error)
	// persistent resolves BINPERSID.
	persistent(pid any) (any, error)
	// reduce applies a callable (a value global returned) to args.
	reduce(fn any, args pyTuple) (any, error)
	// build applies BUILD's state to obj.
	build(obj, state any) error
}

// plainHooks allows no globals and no persistent ids: plain data only.
type plainHooks struct{}

func (plainHooks) global(module, name string) (any, error) {
	return nil, errf(ErrUnsupported, "refuses pickle global %s.%s", module, name)
}
func (plainHooks) persistent(any) (any, error) {
	return nil, errf(ErrFormat, "unexpected persistent id in a plain pickle")
}
func (plainHooks) reduce(fn any, _ pyTuple) (any, error) {
	return nil, errf(ErrUnsupported, "cannot call %s", typeName(fn))
}
func (plainHooks) build(obj, _ any) error {
	return errf(ErrUnsupported, "BUILD on %s", typeName(obj))
}

type unpickler struct {
	src   *source
	hooks pickleHooks
	stack []any
	marks []int
	memo  map[uint32]any
}

func newUnpickler(src *source, hooks pickleHooks) *unpickler {
	return &unpickler{src: src, hooks: hooks}
}

// load runs one pickle, up to and including its STOP, and returns its
// value. The memo is fresh for each pickle, as for Python's pickle.load.
func (u *unpickler) load() (any, error) {
	u.stack, u.marks, u.memo = u.stack[:0], u.marks[:0], map[uint32]any{}
	for {
		at := u.src.off
		op, err := u.src.ReadByte()
		if err != nil {
			return nil, err
		}
		v, stop, err := u.step(op)
		if err == errBadOp {
			return nil, errf(ErrUnsupported, "refuses pickle opcode %s at byte %d", opName(op), at)
		}
		if err != nil {
			return nil, fmt.Errorf("%w (opcode %s at byte %d)", err, opNames[op], at)
		}
		if stop {
			return v, nil
		}
	}
}

func (u *unpickler) push(v any) error {
	if len(u.stack) >= maxStack {
		return errf(ErrUnsupported, "pickle stack exceeds %d items", maxStack)
	}
	u.stack = append(u.stack, v)
	return nil
}

// floor is the lowest stack index a pop may reach: the innermost MARK.
func (u *unpickler) floor() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, errf(ErrFormat, "pickle stack underflow")
	}
	v := u.stack[len(u.stack)-1]
	u.stack[len(u.stack)-1] = nil
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, errf(ErrFormat, "pickle stack underflow")
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark pops everything above the innermost MARK, and the MARK.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errf(ErrFormat, "pickle has no MARK to pop to")
	}
	k := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := slices.Clone(u.stack[k:])
	clear(u.stack[k:])
	u.stack = u.stack[:k]
	return items, nil
}

func (u *unpickler) readN(n int) ([]byte, error) {
	b := make([]byte, n) // n is at most 8
	return b, u.src.full(b)
}

// readLine reads up to '\n' (not included), refusing lines over maxLine.
func (u *unpickler) readLine() (string, error) {
	var b []byte
	for {
		c, err := u.src.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return string(b), nil
		}
		if len(b) >= maxLine {
			return "", errf(ErrFormat, "pickle text line longer than %d bytes", maxLine)
		}
		b = append(b, c)
	}
}

func (u *unpickler) readString(n uint64) (string, error) {
	if n > math.MaxInt64 {
		return "", errf(ErrFormat, "pickle string length %d out of range", n)
	}
	b, err := u.src.bytes(int64(n), maxString, "pickle string")
	return string(b), err
}

func (u *unpickler) memoPut(idx uint32) error {
	v, err := u.top()
	if err != nil {
		return err
	}
	if _, ok := u.memo[idx]; !ok && len(u.memo) >= maxMemo {
		return errf(ErrUnsupported, "pickle memo exceeds %d entries", maxMemo)
	}
	u.memo[idx] = v
	return nil
}

func (u *unpickler) memoGet(idx uint32) error {
	v, ok := u.memo[idx]
	if !ok {
		return errf(ErrFormat, "pickle memo has no entry %d", idx)
	}
	return u.push(v)
}

// validName accepts dotted Python identifiers, as GLOBAL names are.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (u *unpickler) global(module, name string) error {
	if !validName(module) || !validName(name) {
		return errf(ErrFormat, "malformed pickle global %s %s", quote(module), quote(name))
	}
	v, err := u.hooks.global(module, name)
	if err != nil {
		return err
	}
	return u.push(v)
}

// step executes one opcode. It returns stop=true and the result at STOP.
func (u *unpickler) step(op byte) (result any, stop bool, err error) {
	switch op {
	case opProto:
		p, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		if p > 5 {
			return nil, false, errf(ErrUnsupported, "pickle protocol %d", p)
		}
	case opFrame: // protocol 4 framing: the frame's contents follow inline
		if _, err := u.readN(8); err != nil {
			return nil, false, err
		}
	case opStop:
		v, err := u.pop()
		return v, err == nil, err
	case opMark:
		if len(u.marks) >= maxMarks {
			return nil, false, errf(ErrUnsupported, "pickle nests more than %d MARKs", maxMarks)
		}
		u.marks = append(u.marks, len(u.stack))
	case opNone:
		return nil, false, u.push(pyNone{})
	case opNewTrue:
		return nil, false, u.push(true)
	case opNewFalse:
		return nil, false, u.push(false)
	case opBinInt:
		b, err := u.readN(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(int64(int32(binary.LittleEndian.Uint32(b))))
	case opBinInt1:
		b, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(int64(b))
	case opBinInt2:
		b, err := u.readN(2)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(int64(binary.LittleEndian.Uint16(b)))
	case opLong1:
		n, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		b, err := u.src.bytes(int64(n), 255, "LONG1")
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(decodeLong(b))
	case opInt: // text, as Python 2 wrote ints beyond 32 bits
		line, err := u.readLine()
		if err != nil {
			return nil, false, err
		}
		switch line {
		case "00":
			return nil, false, u.push(false)
		case "01":
			return nil, false, u.push(true)
		}
		v, perr := strconv.ParseInt(line, 10, 64)
		if perr != nil {
			return nil, false, errf(ErrFormat, "pickle INT %s", quote(line))
		}
		return nil, false, u.push(v)
	case opBinFloat:
		b, err := u.readN(8)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
	case opShortBinUnicode, opShortBinString:
		n, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		s, err := u.readString(uint64(n))
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(s)
	case opBinUnicode, opBinString:
		b, err := u.readN(4)
		if err != nil {
			return nil, false, err
		}
		n := binary.LittleEndian.Uint32(b)
		if op == opBinString && int32(n) < 0 {
			return nil, false, errf(ErrFormat, "negative BINSTRING length")
		}
		s, err := u.readString(uint64(n))
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(s)
	case opBinUnicode8:
		b, err := u.readN(8)
		if err != nil {
			return nil, false, err
		}
		s, err := u.readString(binary.LittleEndian.Uint64(b))
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(s)
	case opEmptyTuple:
		return nil, false, u.push(pyTuple{})
	case opEmptyList:
		return nil, false, u.push(&pyList{})
	case opEmptyDict:
		return nil, false, u.push(newDict())
	case opTuple:
		items, err := u.popMark()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(pyTuple(items))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(u.stack)-u.floor() < n {
			return nil, false, errf(ErrFormat, "pickle stack underflow")
		}
		items := slices.Clone(u.stack[len(u.stack)-n:])
		clear(u.stack[len(u.stack)-n:])
		u.stack = u.stack[:len(u.stack)-n]
		return nil, false, u.push(pyTuple(items))
	case opAppend, opAppends:
		var items []any
		if op == opAppend {
			v, err := u.pop()
			if err != nil {
				return nil, false, err
			}
			items = []any{v}
		} else if items, err = u.popMark(); err != nil {
			return nil, false, err
		}
		t, err := u.top()
		if err != nil {
			return nil, false, err
		}
		l, ok := t.(*pyList)
		if !ok {
			return nil, false, errf(ErrUnsupported, "append to %s", typeName(t))
		}
		l.items = append(l.items, items...)
	case opSetItem, opSetItems:
		var items []any
		if op == opSetItem {
			v, err := u.pop()
			if err != nil {
				return nil, false, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, false, err
			}
			items = []any{k, v}
		} else if items, err = u.popMark(); err != nil {
			return nil, false, err
		}
		if len(items)%2 != 0 {
			return nil, false, errf(ErrFormat, "SETITEMS with an odd number of items")
		}
		t, err := u.top()
		if err != nil {
			return nil, false, err
		}
		d, ok := t.(*pyDict)
		if !ok {
			return nil, false, errf(ErrUnsupported, "set item on %s", typeName(t))
		}
		for i := 0; i < len(items); i += 2 {
			if err := d.set(items[i], items[i+1]); err != nil {
				return nil, false, err
			}
		}
	case opBinPut:
		b, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.memoPut(uint32(b))
	case opLongBinPut:
		b, err := u.readN(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.memoPut(binary.LittleEndian.Uint32(b))
	case opMemoize:
		return nil, false, u.memoPut(uint32(len(u.memo)))
	case opBinGet:
		b, err := u.src.ReadByte()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.memoGet(uint32(b))
	case opLongBinGet:
		b, err := u.readN(4)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.memoGet(binary.LittleEndian.Uint32(b))
	case opGlobal:
		module, err := u.readLine()
		if err != nil {
			return nil, false, err
		}
		name, err := u.readLine()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.global(module, name)
	case opStackGlobal:
		name, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		module, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		m, ok1 := module.(string)
		n, ok2 := name.(string)
		if !ok1 || !ok2 {
			return nil, false, errf(ErrFormat, "STACK_GLOBAL of %s and %s", typeName(module), typeName(name))
		}
		return nil, false, u.global(m, n)
	case opBinPersID:
		pid, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		v, err := u.hooks.persistent(pid)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(v)
	case opReduce:
		a, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		fn, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		args, ok := a.(pyTuple)
		if !ok {
			return nil, false, errf(ErrFormat, "REDUCE arguments are a %s, not a tuple", typeName(a))
		}
		v, err := u.hooks.reduce(fn, args)
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.push(v)
	case opBuild:
		state, err := u.pop()
		if err != nil {
			return nil, false, err
		}
		obj, err := u.top()
		if err != nil {
			return nil, false, err
		}
		return nil, false, u.hooks.build(obj, state)
	default:
		return nil, false, errBadOp
	}
	return nil, false, nil
}

// decodeLong decodes LONG1's little-endian two's complement bytes.
func decodeLong(b []byte) any {
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		if n := uint(len(b)) * 8; n > 0 && n < 64 && b[len(b)-1]&0x80 != 0 {
			v |= ^uint64(0) << n // sign-extend
		}
		return int64(v)
	}
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}
