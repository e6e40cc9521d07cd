#!/usr/bin/python3
"""Generate the fixtures under weights/testdata/ for package weights.

Run from the repository root:

    /usr/bin/python3 testdata/gen/weights.py

Made with: Python 3.11.2, torch 1.13.0a0 (Debian python3-torch), numpy 1.24.2.
Seed: torch.manual_seed(20240603). The script never unpickles or executes the
hostile fixtures it writes; it assembles their bytes by hand.

Fixtures (all tiny, little-endian):

  small.pt              torch.save(sd, f)  (zip format, PyTorch >= 1.6)
  small_legacy.pt       torch.save(sd, f, _use_new_zipfile_serialization=False)
  small_legacy_p4.pt    the same with pickle_protocol=4 (FRAME, MEMOIZE,
                        STACK_GLOBAL, SHORT_BINUNICODE)
  small.safetensors     the same tensors, written here by hand per the
                        safetensors spec (contiguous copies, F32)
  py2_legacy.pt         legacy format assembled opcode by opcode the way
                        PyTorch 0.1-0.3 under Python 2 wrote it (the layout of
                        torchvision's vgg16-397923af.pth): SHORT_BINSTRING /
                        BINSTRING strings, OrderedDict reduced from a list of
                        [key, value] lists, torch._utils._rebuild_tensor (v1),
                        a storage view (view_metadata) and a text INT opcode.
                        Checked here with torch.load(..., encoding="latin1").
  dtypes.pt             zip format with float16/bfloat16/float64/int64 tensors
  dtypes.safetensors    F16/BF16/F64/I64 tensors
  evil_legacy.pt        legacy header + a pickle calling os.system (never run)
  evil_zip.pt           zip whose data.pkl calls posix.system (never run)
  expected.json +       key -> shape and offset (in float32 elements) into
  expected.bin          expected.bin, the values converted to float32 by torch
"""

import collections
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

SEED = 20240603
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "weights", "testdata")


def small_state_dict():
    """A state dict with the features the readers must handle."""
    torch.manual_seed(SEED)
    model = torch.nn.Module()
    model.features = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))
    model.classifier = torch.nn.Linear(8, 2)
    sd = model.state_dict()  # OrderedDict carrying a _metadata attribute
    sd["scalar"] = torch.tensor(3.5)  # 0-d tensor
    sd["empty"] = torch.zeros(0, 5)  # no elements
    base = torch.randn(3, 4)
    sd["shared.base"] = base
    sd["shared.t"] = base.t()  # non-contiguous view of base's storage
    sd["shared.row"] = base[1]  # contiguous view at storage offset 4
    sd["shared.col"] = base[:, 2]  # offset 2, stride 4
    sd["param"] = torch.nn.Parameter(torch.randn(2, 3))  # _rebuild_parameter
    return sd


def dtype_state_dict():
    torch.manual_seed(SEED + 1)
    sd = collections.OrderedDict()
    sd["half"] = torch.randn(2, 3).half()
    sd["bf16"] = torch.randn(5).bfloat16()
    sd["double"] = torch.randn(3, 2, dtype=torch.float64)
    sd["long"] = torch.tensor([0, 7, -3, 1 << 20], dtype=torch.int64)
    sd["half_special"] = torch.tensor(
        [0.0, -0.0, 1.0, 65504.0, 6e-8, float("inf"), float("-inf")], dtype=torch.float16
    )
    return sd


# safetensors dtype names for the torch dtypes used here.
ST_DTYPE = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret as int16 to get the raw bits.
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()


def write_safetensors(path, sd, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    off = 0
    for k, t in sd.items():
        b = tensor_bytes(t)
        header[k] = {"dtype": ST_DTYPE[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # the reference writer pads to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# --- hand-assembled pickles (protocol 2 opcodes) ---------------------------

class P:
    """A tiny pickle emitter: it writes opcodes, it never imports anything."""

    def __init__(self):
        self.b = bytearray()
        self.memo = 0

    def op(self, code, arg=b""):
        self.b += code + arg
        return self

    def put(self):
        self.op(b"q", bytes([self.memo]))
        self.memo += 1
        return self

    def proto(self):
        return self.op(b"\x80\x02")

    def str2(self, s):  # Python 2 str: SHORT_BINSTRING or BINSTRING
        s = s.encode("latin1")
        if len(s) < 256:
            return self.op(b"U", bytes([len(s)]) + s).put()
        return self.op(b"T", struct.pack("<i", len(s)) + s).put()

    def int_(self, v):
        if 0 <= v < 256:
            return self.op(b"K", bytes([v]))
        if 0 <= v < 65536:
            return self.op(b"M", struct.pack("<H", v))
        return self.op(b"J", struct.pack("<i", v))

    def global_(self, mod, name):
        return self.op(b"c", mod.encode() + b"\n" + name.encode() + b"\n").put()

    def stop(self):
        return self.op(b".")


LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def legacy_header(p):
    """The three header pickles torch.save's legacy format writes."""
    mag = LEGACY_MAGIC.to_bytes(10, "little")
    p.proto().op(b"\x8a\x0a", mag).stop()
    p.memo = 0
    p.proto().op(b"M", struct.pack("<H", 1001)).stop()
    p.memo = 0
    p.proto().op(b"}").put().op(b"(")
    p.str2("little_endian").op(b"\x88")
    p.str2("type_sizes").op(b"}").put().op(b"(")
    p.str2("short").int_(2).str2("int").int_(4).str2("long").int_(4)
    p.op(b"u")
    p.str2("protocol_version").op(b"M", struct.pack("<H", 1001))
    p.op(b"u").stop()
    p.memo = 0


def py2_legacy(path):
    """Legacy file as PyTorch 0.x under Python 2 wrote it (see module doc)."""
    torch.manual_seed(SEED + 2)
    w = torch.randn(2, 3, 2, 2)
    b = torch.randn(2)
    big = torch.randn(30)  # root storage; two tensors view parts of it
    p = P()
    legacy_header(p)
    p.proto()
    p.global_("collections", "OrderedDict")
    p.op(b"]").put()  # the items list

    keys = {}
    memo = {}  # repeated objects are fetched with BINGET, as pickle does

    def once(name, emit):
        if name in memo:
            p.op(b"h", bytes([memo[name]]))
        else:
            emit()
            memo[name] = p.memo - 1

    def storage(root, numel, view=None):
        # ('storage', torch.FloatStorage, root_key, 'cpu', numel, view_metadata)
        p.op(b"(").str2("storage")
        once("FloatStorage", lambda: p.global_("torch", "FloatStorage"))
        p.str2(root)
        once("cpu", lambda: p.str2("cpu"))
        p.op(b"I", b"%d\n" % numel)  # Python 2 text INT opcode
        if view is None:
            p.op(b"N")
        else:
            vkey, voff, vsize = view
            p.str2(vkey).int_(voff).int_(vsize).op(b"\x87").put()
        p.op(b"t").put().op(b"Q")

    def tensor(key, root, numel, off, size, stride, view=None):
        keys[root] = numel
        p.op(b"]").put().op(b"(")  # [key, tensor] pair as a list
        p.str2(key)
        once("rebuild", lambda: p.global_("torch._utils", "_rebuild_tensor"))
        p.op(b"(")
        storage(root, numel, view)
        p.int_(off)
        p.op(b"(")
        for s in size:
            p.int_(s)
        p.op(b"t").put().op(b"(")
        for s in stride:
            p.int_(s)
        p.op(b"t").put()
        p.op(b"t").put().op(b"R").put()
        p.op(b"e")  # APPENDS the pair's two items

    p.op(b"(")  # MARK for the item-list APPENDS
    tensor("features.0.weight", "140200000000001", 24, 0, [2, 3, 2, 2], [12, 4, 2, 1])
    tensor("features.0.bias", "140200000000002", 2, 0, [2], [1])
    # A storage view: elements [10, 22) of root 3, then a 3x4 tensor in it
    # at offset 1 with transposed strides (non-contiguous).
    tensor("view.t", "140200000000003", 30, 1, [3, 3], [1, 3], view=("140200000000004", 10, 12))
    # Same root, no view, contiguous slice at offset 25.
    tensor("view.tail", "140200000000003", 30, 25, [5], [1])
    p.op(b"e")  # APPENDS the pairs to the item list
    p.op(b"\x85").put().op(b"R").put().stop()  # OrderedDict((items,))

    # Storage keys list, then raw storages with int64 element counts.
    p.memo = 0
    roots = sorted(keys)
    p.proto().op(b"]").put().op(b"(")
    for k in roots:
        p.str2(k)
    p.op(b"e").stop()
    data = {"140200000000001": w, "140200000000002": b, "140200000000003": big}
    for k in roots:
        arr = data[k].contiguous().numpy().astype("<f4")
        p.b += struct.pack("<q", arr.size) + arr.tobytes()
    with open(path, "wb") as f:
        f.write(p.b)

    # Check that torch itself reads it (Python 2 str -> latin1).
    got = torch.load(path, encoding="latin1")
    want = collections.OrderedDict()
    want["features.0.weight"] = w
    want["features.0.bias"] = b
    want["view.t"] = torch.as_strided(big, (3, 3), (1, 3), 10 + 1)  # offset is absolute
    want["view.tail"] = big[25:30]
    assert list(got) == list(want), list(got)
    for k in want:
        assert torch.equal(got[k], want[k]), k
    return want


def evil_legacy(path):
    p = P()
    legacy_header(p)
    # os.system("true"): GLOBAL, a 1-tuple argument, REDUCE. Never executed.
    p.proto().global_("os", "system")
    p.op(b"X", struct.pack("<I", 4) + b"true").put().op(b"\x85").put().op(b"R").put().stop()
    with open(path, "wb") as f:
        f.write(p.b)


def evil_zip(path):
    p = P()
    p.proto().global_("posix", "system")
    p.op(b"X", struct.pack("<I", 4) + b"true").put().op(b"\x85").put().op(b"R").put().stop()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("evil_zip/data.pkl", bytes(p.b))
        z.writestr("evil_zip/version", b"3\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = collections.OrderedDict()

    sd = small_state_dict()
    torch.save(sd, os.path.join(OUT, "small.pt"))
    torch.save(sd, os.path.join(OUT, "small_legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(sd, os.path.join(OUT, "small_legacy_p4.pt"), pickle_protocol=4, _use_new_zipfile_serialization=False)
    write_safetensors(
        os.path.join(OUT, "small.safetensors"),
        collections.OrderedDict((k, v.detach().contiguous().clone()) for k, v in sd.items()),
        {"format": "pt", "seed": str(SEED)},
    )
    for name in ("small.pt", "small_legacy.pt", "small_legacy_p4.pt"):
        got = torch.load(os.path.join(OUT, name))
        assert list(got) == list(sd)
        for k in sd:
            assert torch.equal(got[k], sd[k]), (name, k)
    expected["small"] = sd

    expected["py2_legacy"] = py2_legacy(os.path.join(OUT, "py2_legacy.pt"))

    dsd = dtype_state_dict()
    torch.save(dsd, os.path.join(OUT, "dtypes.pt"))
    write_safetensors(os.path.join(OUT, "dtypes.safetensors"), dsd, {"format": "pt"})
    expected["dtypes"] = dsd

    evil_legacy(os.path.join(OUT, "evil_legacy.pt"))
    evil_zip(os.path.join(OUT, "evil_zip.pt"))

    # Expected values as float32, converted by torch (round to nearest).
    blob = bytearray()
    manifest = {"torch": torch.__version__, "numpy": np.__version__, "seed": SEED, "sets": {}}
    for set_name, d in expected.items():
        entries = []
        for k, t in d.items():
            v = t.detach().to(torch.float32).contiguous().numpy().astype("<f4")
            entries.append({"key": k, "shape": list(t.shape), "offset": len(blob) // 4})
            blob += v.tobytes()
        manifest["sets"][set_name] = entries
    with open(os.path.join(OUT, "expected.bin"), "wb") as f:
        f.write(blob)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")

    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT) if os.path.isfile(os.path.join(OUT, n)))
    print("wrote", OUT, total, "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
