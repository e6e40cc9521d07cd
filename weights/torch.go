package weights

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"path"
	"slices"
	"strings"

	"github.com/emosel/emosel/tensor"
)

// storageType is an allowed torch.<X>Storage global.
type storageType struct {
	name string
	dt   dtype
}

// storageTypes lists the storage classes torch.save names in persistent
// ids, and the element type each holds. Every one converts to float32;
// integer and bool storages appear in state dicts as BatchNorm's
// num_batches_tracked. Complex and quantized storages are refused by name.
var storageTypes = map[string]dtype{
	"FloatStorage":    dtF32,
	"DoubleStorage":   dtF64,
	"HalfStorage":     dtF16,
	"BFloat16Storage": dtBF16,
	"LongStorage":     dtI64,
	"IntStorage":      dtI32,
	"ShortStorage":    dtI16,
	"CharStorage":     dtI8,
	"ByteStorage":     dtU8,
	"BoolStorage":     dtBool,
}

// storage is one storage record. The pickle declares it; its bytes follow
// the pickle (legacy) or sit in their own zip entry, and are read once.
type storage struct {
	key  string
	dt   dtype
	n    int64     // elements, as the persistent id declares
	data []float32 // converted to float32 once read
	read bool
}

// storageView is what a persistent id resolves to: a whole storage, or in
// the legacy format possibly a window [off, off+n) of one.
type storageView struct {
	root   *storage
	off, n int64
}

// tensorRef is a _rebuild_tensor call, materialized once storages are read.
type tensorRef struct {
	st           *storageView
	off          int64
	size, stride []int64
}

const (
	maxRank     = 32
	maxStorages = 1 << 20
	// maxWork caps the pairs copied by OrderedDict(items) calls, which a
	// pickle can repeat cheaply on one memoized list.
	maxWork = 1 << 24
	// maxInflate caps how much compressed zip entries may expand.
	maxInflate = 64
)

// torchHooks admit exactly the globals a state dict needs.
type torchHooks struct {
	legacy   bool // persistent ids carry view metadata
	storages map[string]*storage
	work     int
}

func newTorchHooks(legacy bool) *torchHooks {
	return &torchHooks{legacy: legacy, storages: map[string]*storage{}}
}

func (h *torchHooks) global(module, name string) (any, error) {
	switch module {
	case "collections":
		if name == "OrderedDict" {
			return pyGlobal{module, name}, nil
		}
	case "torch._utils":
		switch name {
		case "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_parameter", "_rebuild_parameter_with_state":
			return pyGlobal{module, name}, nil
		}
	case "torch":
		if dt, ok := storageTypes[name]; ok {
			return storageType{name, dt}, nil
		}
	}
	return nil, errf(ErrUnsupported, "refuses pickle global %s.%s", module, name)
}

// persistent resolves a storage persistent id:
//
//	zip:    ('storage', torch.FloatStorage, key, location, numel)
//	legacy: ('storage', torch.FloatStorage, key, location, numel, view)
//
// where view is None or (view_key, offset, numel) in elements. The
// location (e.g. "cuda:0") is ignored: everything loads to memory.
func (h *torchHooks) persistent(pid any) (any, error) {
	t, ok := pid.(pyTuple)
	if !ok || len(t) == 0 {
		return nil, errf(ErrFormat, "persistent id is a %s, not a tuple", typeName(pid))
	}
	if kind, _ := t[0].(string); kind != "storage" {
		if kind == "module" {
			return nil, errf(ErrUnsupported, "file holds a pickled nn.Module; save model.state_dict() instead")
		}
		return nil, errf(ErrUnsupported, "persistent id of kind %s", typeName(t[0]))
	}
	want := 5
	if h.legacy {
		want = 6
	}
	if len(t) != want {
		return nil, errf(ErrFormat, "storage persistent id has %d fields, want %d", len(t), want)
	}
	st, ok1 := t[1].(storageType)
	key, ok2 := t[2].(string)
	n, ok3 := t[4].(int64)
	if !ok1 || !ok2 || !ok3 || n < 0 || n > maxElems {
		return nil, errf(ErrFormat, "malformed storage persistent id (%s, %s, %s)",
			typeName(t[1]), typeName(t[2]), typeName(t[4]))
	}
	root := h.storages[key]
	switch {
	case root == nil:
		if len(h.storages) >= maxStorages {
			return nil, errf(ErrUnsupported, "more than %d storages", maxStorages)
		}
		root = &storage{key: key, dt: st.dt, n: n}
		h.storages[key] = root
	case root.dt != st.dt || root.n != n:
		return nil, errf(ErrFormat, "storage %s declared as %d %s and as %d %s",
			quote(key), root.n, root.dt, n, st.dt)
	}
	view := &storageView{root: root, n: n}
	if h.legacy {
		if _, none := t[5].(pyNone); !none {
			vm, ok := t[5].(pyTuple)
			if !ok || len(vm) != 3 {
				return nil, errf(ErrFormat, "storage %s: view metadata is a %s", quote(key), typeName(t[5]))
			}
			_, ok1 := vm[0].(string)
			off, ok2 := vm[1].(int64)
			size, ok3 := vm[2].(int64)
			if !ok1 || !ok2 || !ok3 {
				return nil, errf(ErrFormat, "storage %s: malformed view metadata", quote(key))
			}
			if off < 0 || size < 0 || off > n || size > n-off {
				return nil, errf(ErrFormat, "storage %s: view of %d elements at %d outside its %d",
					quote(key), size, off, n)
			}
			view = &storageView{root: root, off: off, n: size}
		}
	}
	return view, nil
}

func (h *torchHooks) reduce(fn any, args pyTuple) (any, error) {
	g, ok := fn.(pyGlobal)
	if !ok {
		return nil, errf(ErrUnsupported, "cannot call %s", typeName(fn))
	}
	nargs := func(ns ...int) error {
		if !slices.Contains(ns, len(args)) {
			return errf(ErrFormat, "%s.%s called with %d arguments", g.module, g.name, len(args))
		}
		return nil
	}
	switch g.name {
	case "OrderedDict":
		return h.orderedDict(args)
	case "_rebuild_tensor": // PyTorch < 0.4: (storage, offset, size, stride)
		if err := nargs(4); err != nil {
			return nil, err
		}
		return rebuildTensor(args)
	case "_rebuild_tensor_v2": // + requires_grad, backward_hooks[, metadata]
		if err := nargs(6, 7); err != nil {
			return nil, err
		}
		return rebuildTensor(args)
	case "_rebuild_parameter", "_rebuild_parameter_with_state":
		// (data, requires_grad, backward_hooks[, state]): a Parameter is
		// its data here.
		if err := nargs(3, 4); err != nil {
			return nil, err
		}
		t, ok := args[0].(*tensorRef)
		if !ok {
			return nil, errf(ErrFormat, "parameter data is a %s, not a tensor", typeName(args[0]))
		}
		return t, nil
	}
	return nil, errf(ErrUnsupported, "cannot call %s", typeName(fn))
}

// orderedDict builds OrderedDict() (Python 3 writes the items with
// SETITEMS afterwards) or OrderedDict(items) (Python 2 passed a list of
// [key, value] pairs).
func (h *torchHooks) orderedDict(args pyTuple) (any, error) {
	d := newDict()
	switch len(args) {
	case 0:
		return d, nil
	case 1:
	default:
		return nil, errf(ErrFormat, "OrderedDict called with %d arguments", len(args))
	}
	var items []any
	switch a := args[0].(type) {
	case pyTuple:
		items = a
	case *pyList:
		items = a.items
	default:
		return nil, errf(ErrFormat, "OrderedDict of a %s", typeName(a))
	}
	h.work += len(items)
	if h.work > maxWork {
		return nil, errf(ErrUnsupported, "OrderedDict calls copy more than %d items", maxWork)
	}
	for _, it := range items {
		var pair []any
		switch p := it.(type) {
		case pyTuple:
			pair = p
		case *pyList:
			pair = p.items
		}
		if len(pair) != 2 {
			return nil, errf(ErrFormat, "OrderedDict item is not a pair")
		}
		if err := d.set(pair[0], pair[1]); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// rebuildTensor takes the first four arguments of _rebuild_tensor(_v2):
// storage, storage_offset, size, stride. Checks that need the key wait for
// materialize.
func rebuildTensor(args pyTuple) (any, error) {
	st, ok := args[0].(*storageView)
	if !ok {
		return nil, errf(ErrFormat, "tensor storage is a %s", typeName(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok {
		return nil, errf(ErrFormat, "tensor storage offset is a %s", typeName(args[1]))
	}
	size, err := intTuple(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := intTuple(args[3], "stride")
	if err != nil {
		return nil, err
	}
	return &tensorRef{st: st, off: off, size: size, stride: stride}, nil
}

func intTuple(v any, what string) ([]int64, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, errf(ErrFormat, "tensor %s is a %s, not a tuple", what, typeName(v))
	}
	if len(t) > maxRank {
		return nil, errf(ErrUnsupported, "tensor %s has %d dimensions, more than %d", what, len(t), maxRank)
	}
	out := make([]int64, len(t))
	for i, x := range t {
		if out[i], ok = x.(int64); !ok {
			return nil, errf(ErrFormat, "tensor %s holds a %s", what, typeName(x))
		}
	}
	return out, nil
}

func (h *torchHooks) build(obj, _ any) error {
	if _, ok := obj.(*pyDict); ok {
		// OrderedDict's instance dict: state_dict() stores _metadata
		// (module versions) there, which is not needed to load weights.
		return nil
	}
	return errf(ErrUnsupported, "BUILD on %s", typeName(obj))
}

// CheckpointKeys are the entries of a training checkpoint that tensorsOf
// looks in, in order, when the file's top-level dict is not itself a state
// dict: {'state_dict': …} (Lightning and many labs), {'model_state_dict':
// …, 'optimizer_state_dict': …, 'epoch': …} (PyTorch's tutorial) and
// {'model': …}.
var CheckpointKeys = []string{"state_dict", "model_state_dict", "model"}

// tensorsOf finds the state dict in an unpickled value: the top-level
// dict, or, when that holds anything but tensors, its first CheckpointKeys
// entry that is a dict. It returns keys in file order.
func tensorsOf(v any) ([]string, []*tensorRef, error) {
	d, ok := v.(*pyDict)
	if !ok {
		return nil, nil, errf(ErrUnsupported, "file holds a %s, not a state dict; save model.state_dict() instead", typeName(v))
	}
	if !allTensors(d) {
		found := false
		for _, k := range CheckpointKeys {
			if inner, ok := d.vals[k].(*pyDict); ok {
				d, found = inner, true
				break
			}
		}
		if !found {
			return nil, nil, errf(ErrUnsupported, "file holds a dict with entries %s, none of them a state dict (looked for %s); save model.state_dict() on its own",
				dictKeys(d, 8), strings.Join(CheckpointKeys, ", "))
		}
	}
	keys := make([]string, 0, len(d.keys))
	refs := make([]*tensorRef, 0, len(d.keys))
	for _, k := range d.keys {
		ks, ok := k.(string)
		if !ok {
			return nil, nil, errf(ErrFormat, "state dict key %s is a %s", shortValue(k), typeName(k))
		}
		t, ok := d.vals[k].(*tensorRef)
		if !ok {
			return nil, nil, errf(ErrUnsupported, "%s holds a %s, not a tensor", quote(ks), typeName(d.vals[k]))
		}
		keys = append(keys, ks)
		refs = append(refs, t)
	}
	return keys, refs, nil
}

// materialize turns tensor references into tensors once every storage has
// been read. A tensor that is a contiguous run of its storage shares the
// storage's memory (as in PyTorch, tensors that share storage in the file
// share it here); other layouts are copied, and the copies together may
// not exceed the elements the file stores.
func (h *torchHooks) materialize(keys []string, refs []*tensorRef) (StateDict, error) {
	var budget int64 = 1 << 16
	for _, st := range h.storages {
		budget += st.n
	}
	sd := make(StateDict, len(keys))
	for i, k := range keys {
		t, err := refs[i].materialize(k, &budget)
		if err != nil {
			return nil, err
		}
		sd[k] = t
	}
	return sd, nil
}

func (r *tensorRef) materialize(key string, budget *int64) (*tensor.Tensor, error) {
	shape, numel, err := checkShape(r.size)
	if err != nil {
		return nil, fmt.Errorf("%w (tensor %s)", err, quote(key))
	}
	if len(r.stride) != len(r.size) {
		return nil, errf(ErrFormat, "tensor %s: size %v but stride %v", quote(key), r.size, r.stride)
	}
	v := r.st
	if !v.root.read {
		return nil, errf(ErrFormat, "tensor %s: storage %s has no data", quote(key), quote(v.root.key))
	}
	if numel == 0 {
		return tensor.New(shape...), nil
	}
	outside := func() error {
		return errf(ErrFormat, "tensor %s: size %v, stride %v at offset %d reaches outside storage %s of %d elements",
			quote(key), r.size, r.stride, r.off, quote(v.root.key), v.n)
	}
	if r.off < 0 || r.off >= v.n {
		return nil, outside()
	}
	last := r.off // highest element index the tensor touches
	for i, d := range r.size {
		s := r.stride[i]
		if s < 0 {
			return nil, errf(ErrUnsupported, "tensor %s: negative stride %v", quote(key), r.stride)
		}
		if d > 1 && s > 0 {
			if d-1 > (v.n-1-last)/s {
				return nil, outside()
			}
			last += (d - 1) * s
		}
	}
	contiguous := true
	want := int64(1)
	for i := len(r.size) - 1; i >= 0; i-- {
		if r.size[i] != 1 && r.stride[i] != want {
			contiguous = false
			break
		}
		want *= r.size[i]
	}
	base := v.off + r.off
	data := v.root.data
	if contiguous {
		return tensor.From(data[base:base+numel:base+numel], shape...), nil
	}
	if numel > *budget {
		return nil, errf(ErrUnsupported, "tensor %s: strided views copy more elements than the file stores", quote(key))
	}
	*budget -= numel
	out := make([]float32, numel)
	idx := make([]int64, len(r.size))
	src := base
	for i := range out {
		out[i] = data[src]
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			src += r.stride[d]
			if idx[d] < r.size[d] {
				break
			}
			src -= r.stride[d] * r.size[d]
			idx[d] = 0
		}
	}
	return tensor.From(out, shape...), nil
}

// checkShape validates dimensions and returns them as ints with their
// product, refusing exactly the shapes tensor.New would panic on.
func checkShape(size []int64) ([]int, int64, error) {
	if len(size) > maxRank {
		return nil, 0, errf(ErrUnsupported, "%d dimensions, more than %d", len(size), maxRank)
	}
	shape := make([]int, len(size))
	n := 1
	for i, d := range size {
		if d < 0 || d > math.MaxInt32 {
			return nil, 0, errf(ErrFormat, "dimension %d in shape %v", d, size)
		}
		shape[i] = int(d)
		if d != 0 && n > math.MaxInt/int(d) {
			return nil, 0, errf(ErrFormat, "shape %v overflows", size)
		}
		n *= int(d)
	}
	return shape, int64(n), nil
}

// legacyMagic is torch.serialization.MAGIC_NUMBER.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// readLegacy reads the format torch.save wrote before PyTorch 1.6 (and
// with _use_new_zipfile_serialization=False since): five pickles in a row
// — magic number, protocol version (1001), sys_info, the state dict, the
// sorted list of storage keys — then each storage as an int64 element
// count and its raw little-endian elements.
func readLegacy(s *source) (StateDict, error) {
	plain := newUnpickler(s, plainHooks{})
	v, err := plain.load()
	if err != nil {
		return nil, err
	}
	if m, ok := v.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		return nil, errf(ErrFormat, "pickle without torch.save's magic number")
	}
	if v, err = plain.load(); err != nil {
		return nil, err
	}
	if pv, ok := v.(int64); !ok || pv != 1001 {
		return nil, errf(ErrUnsupported, "legacy torch.save protocol version %s, want 1001", shortValue(v))
	}
	if v, err = plain.load(); err != nil {
		return nil, err
	}
	info, ok := v.(*pyDict)
	if !ok {
		return nil, errf(ErrFormat, "sys_info is a %s", typeName(v))
	}
	if le, ok := info.vals["little_endian"]; ok && le != true {
		return nil, errf(ErrUnsupported, "big-endian torch.save file")
	}
	h := newTorchHooks(true)
	if v, err = newUnpickler(s, h).load(); err != nil {
		return nil, err
	}
	keys, refs, err := tensorsOf(v)
	if err != nil {
		return nil, err
	}
	if v, err = plain.load(); err != nil {
		return nil, err
	}
	list, ok := v.(*pyList)
	if !ok {
		return nil, errf(ErrFormat, "storage key list is a %s", typeName(v))
	}
	for _, k := range list.items {
		key, ok := k.(string)
		if !ok {
			return nil, errf(ErrFormat, "storage key is a %s", typeName(k))
		}
		st := h.storages[key]
		switch {
		case st == nil:
			return nil, errf(ErrFormat, "storage %s is listed but no tensor uses it", quote(key))
		case st.read:
			return nil, errf(ErrFormat, "storage %s is listed twice", quote(key))
		}
		n, err := s.uint64LE()
		if err != nil {
			return nil, err
		}
		if n != uint64(st.n) {
			return nil, errf(ErrFormat, "storage %s records %d elements, its tensors declare %d", quote(key), n, st.n)
		}
		if st.data, err = s.floats(st.n, st.dt, "storage "+quote(key)); err != nil {
			return nil, err
		}
		st.read = true
	}
	return h.materialize(keys, refs)
}

// loadZip reads the format torch.save has written since PyTorch 1.6: a zip
// archive (entries stored uncompressed) with one top-level directory,
// whatever its name, holding data.pkl and data/<key> for each storage.
func loadZip(r io.ReaderAt, size int64) (StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names are never used as paths
		return nil, fmt.Errorf("%w: zip: %w", ErrFormat, err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var pkls []*zip.File
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, errf(ErrFormat, "zip has two entries named %s", quote(f.Name))
		}
		files[f.Name] = f
		if dir, base := path.Split(f.Name); base == "data.pkl" && strings.Count(dir, "/") == 1 && dir != "/" {
			pkls = append(pkls, f)
		}
	}
	if len(pkls) != 1 {
		return nil, errf(ErrFormat, "zip has %d <dir>/data.pkl entries, want 1 (not a torch.save archive?)", len(pkls))
	}
	prefix, _ := path.Split(pkls[0].Name)
	if f := files[prefix+"byteorder"]; f != nil {
		b, err := readSmall(f, 16)
		if err != nil {
			return nil, err
		}
		switch string(b) {
		case "little":
		case "big":
			return nil, errf(ErrUnsupported, "big-endian torch.save archive")
		default:
			return nil, errf(ErrFormat, "%s is %s", quote(f.Name), quote(string(b)))
		}
	}

	h := newTorchHooks(false)
	var v any
	err = withEntry(pkls[0], size, func(s *source) error {
		var err error
		v, err = newUnpickler(s, h).load()
		return err
	})
	if err != nil {
		return nil, err
	}
	keys, refs, err := tensorsOf(v)
	if err != nil {
		return nil, err
	}

	skeys := make([]string, 0, len(h.storages))
	for k := range h.storages {
		skeys = append(skeys, k)
	}
	slices.SortFunc(skeys, compareKeys)
	// Entries are read into memory, so cap what they declare in all. Stored
	// entries cannot hold more than the archive unless they overlap (a zip
	// bomb); compressed ones (torch.save never writes them) could inflate
	// about 1000×, so they get a fixed multiple.
	storedLimit, inflateLimit := size, max(maxInflate*size, 64<<20)
	for _, k := range skeys {
		st := h.storages[k]
		name := prefix + "data/" + k
		f := files[name]
		if f == nil {
			return nil, errf(ErrFormat, "storage %s: no entry %s", quote(k), quote(name))
		}
		if nb := uint64(st.n) * uint64(st.dt.size()); f.UncompressedSize64 != nb {
			return nil, errf(ErrFormat, "storage %s: entry %s holds %d bytes, want %d %s elements",
				quote(k), quote(name), f.UncompressedSize64, st.n, st.dt)
		}
		if f.Method == zip.Store {
			if storedLimit -= int64(f.UncompressedSize64); storedLimit < 0 {
				return nil, errf(ErrFormat, "stored zip entries hold more bytes than the archive (overlapping entries?)")
			}
		} else if inflateLimit -= int64(f.UncompressedSize64); inflateLimit < 0 {
			return nil, errf(ErrUnsupported, "compressed zip entries expand to more than %d× the archive", maxInflate)
		}
		err := withEntry(f, size, func(s *source) error {
			var err error
			if st.data, err = s.floats(st.n, st.dt, "storage "+quote(k)); err != nil {
				return err
			}
			return s.expectEOF("entry " + quote(name))
		})
		if err != nil {
			return nil, err
		}
		st.read = true
	}
	return h.materialize(keys, refs)
}

// withEntry opens a zip entry as a source, runs fn, and closes it. The
// source's size is known, so allocations are checked up front, when the
// entry is stored and its bytes lie inside the archive; a compressed
// entry's declared size cannot be trusted, so its source grows instead.
func withEntry(f *zip.File, zipSize int64, fn func(*source) error) error {
	rc, err := f.Open()
	if err != nil {
		if errors.Is(err, zip.ErrAlgorithm) {
			return errf(ErrUnsupported, "zip entry %s: compression method %d", quote(f.Name), f.Method)
		}
		return errf(ErrFormat, "zip entry %s: %v", quote(f.Name), err)
	}
	known := int64(-1)
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 {
		if off, err := f.DataOffset(); err == nil && off >= 0 && off <= zipSize && f.UncompressedSize64 <= uint64(zipSize-off) {
			known = int64(f.UncompressedSize64)
		}
	}
	err = fn(newSource(rc, known))
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = errf(ErrFormat, "zip entry %s: %v", quote(f.Name), cerr)
	}
	if err != nil {
		return fmt.Errorf("%w in zip entry %s", err, quote(f.Name))
	}
	return nil
}

// readSmall reads a zip entry of at most limit bytes.
func readSmall(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, errf(ErrFormat, "zip entry %s: %v", quote(f.Name), err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, errf(ErrFormat, "zip entry %s: %v", quote(f.Name), err)
	}
	if int64(len(b)) > limit {
		return nil, errf(ErrFormat, "zip entry %s is longer than %d bytes", quote(f.Name), limit)
	}
	return b, nil
}

// allTensors reports whether every value of d is a tensor.
func allTensors(d *pyDict) bool {
	for _, k := range d.keys {
		if _, ok := d.vals[k].(*tensorRef); !ok {
			return false
		}
	}
	return true
}

// dictKeys lists up to limit of d's keys for an error message.
func dictKeys(d *pyDict, limit int) string {
	var parts []string
	for i, k := range d.keys {
		if i == limit {
			parts = append(parts, fmt.Sprintf("and %d more", len(d.keys)-limit))
			break
		}
		if ks, ok := k.(string); ok {
			parts = append(parts, quote(ks))
		} else {
			parts = append(parts, shortValue(k))
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}
