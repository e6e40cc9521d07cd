#!/usr/bin/python3
"""Golden fixtures for emosel's imagenet package: PIL decoding, PIL resizing
and the torchvision preprocessing pipeline.

Run from anywhere:

    /usr/bin/python3 testdata/gen/preprocess.py

Made with Debian bookworm's packages:

    python3-pil        9.4.0   (Pillow; JPEG through libjpeg62-turbo 2.1.5)
    python3-numpy      1.24.2
    python3-torch      1.13.0a0
    python3-torchvision 0.14.1a0

Every test image is drawn procedurally from numpy.random.RandomState(SEED +
image number), so rerunning the script rewrites identical files (the JPEGs
are identical as long as libjpeg-turbo's encoder is).

Outputs, all under imagenet/testdata/:

    *.png, *.jpg, bad/*      the input images (and inputs that must fail)
    golden/manifest.json     the case table the Go tests read
    golden/*.u8              raw 8-bit pixels, row-major, width*height bytes
    golden/*.f32             raw little-endian float32, C order

The manifest has four tables:

    images    file, size, PIL mode, and PIL's img.convert("L") bytes
    resize    PIL's L bytes of an image resized with
              Image.resize((w, h), Image.BILINEAR) (what torchvision's
              Resize calls on a PIL image)
    pipeline  the whole torchvision pipeline on img.convert("L"):
              Resize -> [CenterCrop] -> Grayscale(3) -> ToTensor ->
              Normalize(ImageNet mean, std), as a [3,S,S] float32 tensor
              (small S), or for S=224 as the [S,S] uint8 picture after the
              geometric steps plus the per-channel float64 sums of the
              tensor (to keep the fixtures small)
    lut       ToTensor+Normalize of every 8-bit value, [3,256] float32: it
              pins the float32 arithmetic exactly
"""
import json
import os
import struct
import warnings
import zlib

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

SEED = 20240607
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "imagenet", "testdata")
GOLD = os.path.join(OUT, "golden")
BAD = os.path.join(OUT, "bad")

assert PIL.__version__ == "9.4.0", PIL.__version__
assert torch.__version__.startswith("1.13"), torch.__version__
assert torchvision.__version__.startswith("0.14"), torchvision.__version__

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


# ---------------------------------------------------------------- drawing


def pattern(n, w, h, c, hi=255):
    """A smooth gradient plus ripples plus noise, values in [0, hi]."""
    rs = np.random.RandomState(SEED + n)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((h, w, c))
    for k in range(c):
        fx, fy, ph = rs.uniform(0.05, 0.6), rs.uniform(0.05, 0.6), rs.uniform(0, 6.3)
        v = 0.5 + 0.35 * np.sin(fx * x + fy * y + ph) + 0.15 * (x / max(w - 1, 1) - y / max(h - 1, 1))
        v += rs.normal(0, 0.08, size=(h, w))
        out[..., k] = v
    return np.clip(np.round(out * hi), 0, hi)


def u8(a):
    return np.ascontiguousarray(a, dtype=np.uint8)


# ------------------------------------------------- a tiny raw PNG writer
# PIL cannot write 16-bit RGB/RGBA/LA, 2-bit grey or grey16 with tRNS, so
# those are written by hand (filter type 0 on every row).


def png_chunk(kind, data):
    c = struct.pack(">I", len(data)) + kind + data
    return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, w, h, depth, ctype, raw_rows, extra=b""):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
    data = b"".join(b"\x00" + r for r in raw_rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", ihdr))
        f.write(extra)
        f.write(png_chunk(b"IDAT", zlib.compress(data, 9)))
        f.write(png_chunk(b"IEND", b""))


def rows16(a):
    """a: [h, w, c] integers in [0, 65535] -> big-endian rows."""
    return [a[y].astype(">u2").tobytes() for y in range(a.shape[0])]


def rows_packed(a, depth):
    """a: [h, w] values < 2**depth -> bit-packed rows."""
    per = 8 // depth
    out = []
    for y in range(a.shape[0]):
        row = bytearray((a.shape[1] + per - 1) // per)
        for x, v in enumerate(a[y]):
            row[x // per] |= int(v) << (8 - depth * (x % per + 1))
        out.append(bytes(row))
    return out


# ------------------------------------------------- JPEG segment surgery
# PIL's encoder only writes JFIF YCbCr at 4:4:4, 4:2:2 and 4:2:0, and Adobe
# CMYK. The other layouts libjpeg decodes are made by editing the headers of
# those files; the entropy-coded data stays valid because the number of
# blocks per MCU is unchanged.


def jpeg_segments(data):
    """Splits a JPEG into [(marker, payload)] up to SOS, and the rest."""
    assert data[:2] == b"\xff\xd8"
    i, segs = 2, []
    while True:
        assert data[i] == 0xFF
        m = data[i + 1]
        n = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if m == 0xDA:
            return segs, data[i:]
        segs.append((m, data[i + 4 : i + 2 + n]))
        i += 2 + n


def jpeg_join(segs, rest):
    out = b"\xff\xd8"
    for m, p in segs:
        out += bytes([0xFF, m]) + struct.pack(">H", len(p) + 2) + p
    return out + rest


def jpeg_edit(src, dst, sof=None, drop=(), add=()):
    """Rewrites src: sof(payload) -> payload edits the SOF0 segment; drop
    removes the listed markers; add inserts (marker, payload) after SOI."""
    segs, rest = jpeg_segments(open(os.path.join(OUT, src), "rb").read())
    segs = [(m, sof(p) if (sof and m == 0xC0) else p) for m, p in segs if m not in drop]
    with open(os.path.join(OUT, dst), "wb") as f:
        f.write(jpeg_join(list(add) + segs, rest))


def sof_layout(p, w, h, factors):
    """Sets the SOF0 size and each component's sampling byte."""
    p = bytearray(p)
    p[1:5] = struct.pack(">HH", h, w)
    for i, hv in enumerate(factors):
        p[6 + 3 * i + 1] = hv
    return bytes(p)


ADOBE = lambda transform: (0xEE, b"Adobe" + struct.pack(">HHHB", 100, 0, 0, transform))


# ------------------------------------------------------------ the images


def make_images():
    """Writes the test images; returns [(file, PIL mode after open)]."""
    os.makedirs(OUT, exist_ok=True)
    W, H = 37, 23
    n = iter(range(1000))
    made = []

    def pil(name, im, **kw):
        im.save(os.path.join(OUT, name), **kw)
        made.append(name)

    def raw(name, *args, **kw):
        write_png(os.path.join(OUT, name), *args, **kw)
        made.append(name)

    g = pattern(next(n), W, H, 1)[..., 0]
    pil("gray8.png", Image.fromarray(u8(g), "L"))
    pil("gray1.png", Image.fromarray(u8(g), "L").convert("1"))
    raw("gray2.png", W, H, 2, 0, rows_packed(pattern(next(n), W, H, 1, 3)[..., 0].astype(int), 2))
    raw("gray4.png", W, H, 4, 0, rows_packed(pattern(next(n), W, H, 1, 15)[..., 0].astype(int), 4))
    # 16-bit grey opens as PIL mode "I", and convert("L") clips at 255, so
    # keep the values low enough that both sides of the clip show.
    g16 = pattern(next(n), W, H, 1, 600)
    raw("gray16.png", W, H, 16, 0, rows16(g16))
    raw("gray16trns.png", W, H, 16, 0, rows16(g16), png_chunk(b"tRNS", struct.pack(">H", int(g16[0, 0, 0]))))
    raw("gray8trns.png", W, H, 8, 0, [u8(g[y]).tobytes() for y in range(H)], png_chunk(b"tRNS", struct.pack(">H", int(g[3, 3]))))

    rgb = pattern(next(n), W, H, 3)
    pil("rgb.png", Image.fromarray(u8(rgb), "RGB"))
    raw("rgbtrns.png", W, H, 8, 2, [u8(rgb[y]).tobytes() for y in range(H)],
        png_chunk(b"tRNS", struct.pack(">HHH", *[int(v) for v in rgb[2, 2]])))
    raw("rgb16.png", W, H, 16, 2, rows16(pattern(next(n), W, H, 3, 65535)))
    rgba = pattern(next(n), W, H, 4)
    rgba[..., 3][::3, ::2] = 0  # fully transparent pixels keep their colour in PIL
    pil("rgba.png", Image.fromarray(u8(rgba), "RGBA"))
    raw("rgba16.png", W, H, 16, 6, rows16(pattern(next(n), W, H, 4, 65535)))
    pil("la.png", Image.fromarray(u8(pattern(next(n), W, H, 2)), "LA"))
    raw("la16.png", W, H, 16, 4, rows16(pattern(next(n), W, H, 2, 65535)))

    rs = np.random.RandomState(SEED + next(n))
    p = Image.fromarray(u8(rs.randint(0, 256, (H, W))), "P")
    p.putpalette(list(rs.randint(0, 256, 768)))
    pil("palette.png", p)
    p4 = Image.fromarray(u8(rs.randint(0, 16, (H, W))), "P")
    p4.putpalette(list(rs.randint(0, 256, 48)))
    pil("palette4.png", p4, bits=4)
    pt = Image.fromarray(u8(rs.randint(0, 200, (H, W))), "P")
    pt.putpalette(list(rs.randint(0, 256, 600)))
    pil("palettetrns.png", pt, transparency=bytes(rs.randint(0, 256, 200).astype(np.uint8)))

    pil("one.png", Image.fromarray(u8(pattern(next(n), 1, 1, 3)), "RGB"))
    pil("tall.png", Image.fromarray(u8(pattern(next(n), 5, 301, 1)[..., 0]), "L"))
    pil("small.png", Image.fromarray(u8(pattern(next(n), 9, 7, 3)), "RGB"))

    rgbj = Image.fromarray(u8(pattern(next(n), W, H, 3)), "RGB")
    pil("rgb420.jpg", rgbj, quality=90, subsampling=2)
    pil("rgb422.jpg", rgbj, quality=90, subsampling=1)
    pil("rgb444.jpg", rgbj, quality=90, subsampling=0)
    pil("odd420.jpg", Image.fromarray(u8(pattern(next(n), 17, 9, 3)), "RGB"), quality=75, subsampling=2)
    # Chroma planes only 2 samples wide: libjpeg falls back to plain
    # (box) upsampling there.
    pil("tiny420.jpg", Image.fromarray(u8(pattern(next(n), 3, 5, 3)), "RGB"), quality=95, subsampling=2)
    pil("tiny422.jpg", Image.fromarray(u8(pattern(next(n), 4, 3, 3)), "RGB"), quality=95, subsampling=1)
    pil("gray.jpg", Image.fromarray(u8(pattern(next(n), W, H, 1)[..., 0]), "L"), quality=85)
    pil("cmyk.jpg", Image.fromarray(u8(pattern(next(n), W, H, 4)), "CMYK"), quality=90)
    pil("progressive.jpg", Image.fromarray(u8(pattern(next(n), 64, 48, 3)), "RGB"), quality=80, progressive=True)
    pil("photo.jpg", Image.fromarray(u8(pattern(next(n), 300, 200, 3)), "RGB"), quality=85)

    def edited(name, src, **kw):
        jpeg_edit(src, name, **kw)
        made.append(name)

    # 4:4:0 (h1v2 luma): the 32x16 4:2:2 picture's MCUs re-read as 16x32.
    # 4:1:1 (h4v1 luma): the 32x32 4:2:0 picture's MCUs re-read as 64x16.
    src = Image.fromarray(u8(pattern(next(n), 32, 16, 3)), "RGB")
    pil("src422.jpg", src, quality=90, subsampling=1)
    edited("rgb440.jpg", "src422.jpg", sof=lambda p: sof_layout(p, 16, 30, [0x12, 0x11, 0x11]))
    src = Image.fromarray(u8(pattern(next(n), 32, 32, 3)), "RGB")
    pil("src420.jpg", src, quality=90, subsampling=2)
    edited("rgb411.jpg", "src420.jpg", sof=lambda p: sof_layout(p, 61, 16, [0x41, 0x11, 0x11]))
    # Colour spaces chosen by markers: Adobe transform 0 on 3 components is
    # RGB (no conversion, but still upsampled), transform 2 on 4 is YCCK, and
    # 4 components without the Adobe marker are plain CMYK.
    edited("adobergb.jpg", "rgb420.jpg", drop=(0xE0,), add=[ADOBE(0)])
    edited("ycck.jpg", "cmyk.jpg", drop=(0xEE,), add=[ADOBE(2)])
    edited("cmyknoadobe.jpg", "cmyk.jpg", drop=(0xEE,))
    return made


def make_bad():
    os.makedirs(BAD, exist_ok=True)
    with open(os.path.join(BAD, "notimage.txt"), "w") as f:
        f.write("this is a text file, not an image\n")
    open(os.path.join(BAD, "empty.png"), "wb").close()
    for name in ("rgb.png", "rgb420.jpg"):
        data = open(os.path.join(OUT, name), "rb").read()
        root, ext = os.path.splitext(name)
        with open(os.path.join(BAD, "truncated" + ext), "wb") as f:
            f.write(data[: len(data) // 2])
    # A PNG whose header claims 20000x20000 pixels (400 megapixels).
    with open(os.path.join(BAD, "bomb.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)))
        f.write(png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)))
        f.write(png_chunk(b"IEND", b""))
    # A GIF: a real image, but not a format we accept.
    Image.new("L", (4, 4)).save(os.path.join(BAD, "image.gif"))


# ---------------------------------------------------------- the goldens


def save_u8(name, a):
    a = u8(a)
    with open(os.path.join(GOLD, name), "wb") as f:
        f.write(a.tobytes())
    return "golden/" + name


def save_f32(name, t):
    a = np.ascontiguousarray(t.detach().numpy().astype("<f4"))
    with open(os.path.join(GOLD, name), "wb") as f:
        f.write(a.tobytes())
    return "golden/" + name


def load_l(name):
    with Image.open(os.path.join(OUT, name)) as im:
        im.load()
        return im.mode, im.convert("L")


def pipeline(mode, size, resize):
    steps = []
    if mode == "squash":
        steps.append(T.Resize((size, size)))
    else:
        steps += [T.Resize(resize), T.CenterCrop(size)]
    geom = T.Compose(steps)
    rest = T.Compose([T.Grayscale(num_output_channels=3), T.ToTensor(), T.Normalize(MEAN, STD)])
    return geom, rest


def write_labels():
    """imagenet/labels.txt: torchvision's class names, one per line, in
    class-index order."""
    from torchvision.models._meta import _IMAGENET_CATEGORIES as names

    assert len(names) == 1000 and all("\n" not in x and x == x.strip() for x in names)
    with open(os.path.join(ROOT, "imagenet", "labels.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


def main():
    warnings.filterwarnings("ignore", "Palette images with Transparency")
    os.makedirs(GOLD, exist_ok=True)
    write_labels()
    torch.set_num_threads(1)
    made = make_images()
    make_bad()
    man = {
        "versions": {
            "PIL": PIL.__version__,
            "numpy": np.__version__,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
        },
        "mean": MEAN,
        "std": STD,
        "images": [],
        "resize": [],
        "pipeline": [],
    }
    gray = {}
    for name in made:
        mode, L = load_l(name)
        gray[name] = L
        man["images"].append({
            "file": name, "w": L.width, "h": L.height, "pil_mode": mode,
            "L": save_u8(name + ".L.u8", np.array(L)),
        })

    # Resizes of PIL's own L image, so that they test the resampler alone.
    cases = [
        ("gray8.png", 16, 16), ("gray8.png", 24, 24), ("gray8.png", 10, 31),
        ("gray8.png", 74, 46), ("gray8.png", 36, 22), ("gray8.png", 37, 11),
        ("gray8.png", 13, 23), ("gray8.png", 1, 1), ("tall.png", 16, 16),
        ("tall.png", 5, 100), ("tall.png", 24, 301), ("tall.png", 3, 7),
        ("one.png", 16, 16), ("one.png", 1, 5), ("small.png", 24, 24),
        ("small.png", 13, 5), ("progressive.jpg", 7, 5), ("photo.jpg", 224, 224),
        ("photo.jpg", 384, 256), ("photo.jpg", 333, 211),
    ]
    rs = np.random.RandomState(SEED + 999)
    for _ in range(24):
        cases.append(("photo.jpg", int(rs.randint(1, 90)), int(rs.randint(1, 90))))
    for src, w, h in cases:
        out = gray[src].resize((w, h), Image.BILINEAR)
        man["resize"].append({
            "src": src, "w": w, "h": h,
            "out": save_u8("%s_%dx%d.u8" % (src, w, h), np.array(out)),
        })

    # The whole pipeline, small sizes: full tensors.
    configs = [("squash", 16, 0), ("crop", 16, 18), ("crop", 15, 18), ("crop", 16, 12)]
    for src in ("gray8.png", "rgb420.jpg", "tall.png", "one.png", "small.png", "photo.jpg", "palette.png"):
        for mode, size, resize in configs:
            geom, rest = pipeline(mode, size, resize)
            t = rest(geom(gray[src]))
            assert t.shape == (3, size, size) and t.dtype == torch.float32
            man["pipeline"].append({
                "src": src, "mode": mode, "size": size, "resize": resize,
                "tensor": save_f32("%s_%s_%d_%d.f32" % (src, mode, size, resize), t),
            })
    # 224: the picture after the geometric steps, and the tensor's sums.
    for mode, resize in (("squash", 0), ("crop", 256)):
        geom, rest = pipeline(mode, 224, resize)
        pic = geom(gray["photo.jpg"])
        t = rest(pic)
        assert t.shape == (3, 224, 224)
        man["pipeline"].append({
            "src": "photo.jpg", "mode": mode, "size": 224, "resize": resize,
            "pixels": save_u8("photo.jpg_%s_224.u8" % mode, np.array(pic)),
            "sums": [float(t[c].double().sum()) for c in range(3)],
            "first": [float(t[c, 0, 0]) for c in range(3)],
        })

    # ToTensor + Normalize of every byte value.
    lut = Image.fromarray(u8(np.arange(256).reshape(16, 16)), "L")
    _, rest = pipeline("squash", 16, 0)
    man["lut"] = save_f32("normalize_lut.f32", rest(lut).reshape(3, 256))

    with open(os.path.join(GOLD, "manifest.json"), "w") as f:
        json.dump(man, f, indent=1)
        f.write("\n")
    total = 0
    for d, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(d, x)) for x in files)
    print("wrote %d images, %d resizes, %d pipelines; %d bytes under %s" % (
        len(man["images"]), len(man["resize"]), len(man["pipeline"]), total, OUT))


if __name__ == "__main__":
    main()
