// Package weights reads PyTorch state dicts from torch.save files and from
// safetensors files into float32 tensors, refusing anything else a pickle
// could ask for.
//
// # Use
//
//	sd, err := weights.LoadFile("vgg16-397923af.pth")
//	w := sd["features.0.weight"] // *tensor.Tensor, [64 3 3 3]
//	for _, k := range sd.Keys() { ... } // natural order: features.2 before features.10
//
// LoadFile, Load (an io.ReaderAt and its size) and Read (an io.Reader) all
// sniff the format. A StateDict maps the file's keys, verbatim, to
// tensors. MapTimmVGG renames timm's VGG keys (vgg16.tv_in1k) to
// torchvision's.
//
// # Formats
//
//   - torch.save zip archives (PyTorch ≥ 1.6): <dir>/data.pkl, whatever
//     the directory is called, plus one <dir>/data/<key> entry per storage,
//     stored or deflated; a "big" <dir>/byteorder is refused.
//   - legacy torch.save files (PyTorch < 1.6, or
//     _use_new_zipfile_serialization=False), such as torchvision's
//     vgg16-397923af.pth: pickles of the
//     magic number, the protocol version 1001 and sys_info, then the state
//     dict, then the list of storage keys, then each storage as an int64
//     element count and its elements. The Python 2 dialect of the 2017
//     files (byte strings, OrderedDict built from a list of pairs,
//     torch._utils._rebuild_tensor, storage views) is read too. The older
//     tar-based format is refused.
//   - safetensors: an 8-byte little-endian header length, a JSON header
//     of dtype, shape and data_offsets per tensor (and __metadata__, which
//     is ignored), then the data.
//
// Element types are converted to float32: float32, float16 and bfloat16
// exactly; integer and bool types exactly up to 2^24 in magnitude (larger
// integers round); float64 to nearest. Integer storages appear in state
// dicts as BatchNorm's num_batches_tracked.
//
// A tensor stored as a strided or offset view of a storage is supported:
// a contiguous run shares the storage's memory, as tensors that share
// storage in PyTorch do; any other layout is copied into a new contiguous
// tensor after its extent is checked against the storage. A top-level dict
// that holds anything but tensors is taken for a training checkpoint, and
// its first entry among CheckpointKeys ("state_dict", "model_state_dict",
// "model") that is a dict is loaded; without one, the error lists the
// dict's entries. Any other value that is not a tensor is an error. (A
// DataParallel "module." prefix is stripped by nn.Model.LoadFile, which
// says so in Model.Notices.)
//
// # Pickles
//
// torch.save files are Python pickles, and unpickling runs whatever code
// the file names. This package therefore does not implement pickle: it has
// a small virtual machine for the opcodes torch.save writes (protocols 2
// to 5), whose values are plain data, and it admits only the globals
// collections.OrderedDict, torch._utils._rebuild_tensor(_v2),
// torch._utils._rebuild_parameter(_with_state) and the torch.<Type>Storage
// classes. Any other global is refused by name ("refuses pickle global
// os.system"), as is any other opcode.
//
// Why focused readers rather than a general Go unpickler such as
// github.com/nlpodyssey/gopickle: a general unpickler models arbitrary
// Python objects and classes through reflection, which is a large attack
// surface for files downloaded from the internet. The focused machine
// refuses everything a state dict does not need, bounds every allocation by
// the bytes actually present, has no object model to confuse, and is small
// enough to fuzz as a unit. It adds no dependency.
//
// # Memory
//
// Storage bytes are decoded straight into the final float32 slices through
// a small buffer, so a file is never held twice: the legacy format is
// streamed, and each zip entry is read once. Every length read from a file
// is checked against the input that remains before anything is allocated
// (Load and LoadFile know the size; Read grows a tensor as its bytes
// arrive instead, holding at most about twice the bytes read). The pickle
// machine caps its stack, marks, memo, string lengths and work; safetensors
// tensors may not overlap, nor stored zip entries; deflated zip entries
// (torch.save never writes them) may declare at most 64× the archive; copies
// made for strided views may not exceed the elements the file stores.
// Allocations are thus bounded by a small multiple of the input size (4×
// for 1-byte element types converted to float32). A 528 MB VGG-16 file
// loads in about 0.6 s with a peak RSS of 545 MB.
//
// # Errors and panics
//
// Malformed, truncated or hostile input returns an error, never a panic.
// Errors wrap ErrFormat, ErrTruncated or ErrUnsupported, begin with
// "weights: ", name the file when LoadFile is used, and name the tensor
// key, storage or zip entry where there is one, for example
//
//	weights: evil.pt: unsupported: refuses pickle global os.system (opcode GLOBAL at byte 121)
//
// A failing Close in LoadFile is reported. Load panics on a negative size,
// which is programmer misuse.
package weights
