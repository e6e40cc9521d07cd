#!/usr/bin/python3
"""Regenerates the arithmetic-coded fixtures here and their references.

Run with Debian bookworm's /usr/bin/python3 and python3-pil 9.4.0 (JPEG
through libjpeg62-turbo 2.1.5), with libjpeg-turbo-progs (cjpeg, jpegtran,
djpeg) and gcc with libjpeg62-turbo-dev installed:

    /usr/bin/python3 imagenet/internal/jpeg/testdata/arith/gen.py

Each X.jpg gets X.pnm beside it: the samples PIL holds after
Image.open(X.jpg).load() (mode "L" as a PGM, "RGB" as a PPM). The script
checks that each file's frame is SOF9 or SOF10 and that djpeg decodes it
to the same samples.
"""
import math
import os
import subprocess
import sys
import tempfile

from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
os.chdir(here)
tmp = tempfile.mkdtemp()


def picture(w, h, seed):
    """Smooth colour ramps, edges and deterministic noise, as RGB bytes."""
    rgb = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(3):
                seed = (seed * 1103515245 + 12345) % 2**31
                v = (128 + 80 * math.sin(0.21 * (c + 1) * x + 0.07 * y)
                     + 30 * math.cos(0.3 * (c + 2) * y) + seed % 41 - 20)
                if (x // 9 + y // 7) % 3 == c:
                    v += 60  # hard edges: large DC and AC values
                rgb.append(max(0, min(255, int(v))))
    return bytes(rgb)


def smooth(w, h, seed):
    """Slow ramps with a little noise: small DC differences."""
    rgb = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(3):
                seed = (seed * 1103515245 + 12345) % 2**31
                v = (128 + 50 * math.sin(0.03 * (c + 1) * x + 0.02 * y)
                     + 40 * math.cos(0.025 * (c + 2) * y) + seed % 5 - 2)
                rgb.append(max(0, min(255, int(v))))
    return bytes(rgb)


def pnm(path, w, h, data, ch):
    with open(path, "wb") as f:
        f.write(b"P%d\n%d %d\n255\n" % (5 if ch == 1 else 6, w, h) + data)


def run(*args, out=None):
    with open(out, "wb") if out else open(os.devnull, "wb") as f:
        subprocess.run(args, stdout=f, check=True)


w, h = 49, 35
rgb = picture(w, h, 12345)
pnm(f"{tmp}/src.ppm", w, h, rgb, 3)
pnm(f"{tmp}/src.pgm", w, h, rgb[1::3], 1)
pnm(f"{tmp}/smooth.ppm", 64, 48, smooth(64, 48, 99), 3)
gw, gh = 40, 33
grgb = picture(gw, gh, 777)
pnm(f"{tmp}/grey.pgm", gw, gh, grgb[1::3], 1)

# A script with spectral selection, successive approximation of DC and AC
# (refinement scans), and non-interleaved DC scans.
with open(f"{tmp}/scans.txt", "w") as f:
    f.write("""0,1,2: 0-0, 0, 2;
0: 1-5, 0, 2;
2: 1-63, 0, 1;
1: 1-63, 0, 1;
0: 6-63, 0, 2;
0: 1-63, 2, 1;
0: 0-0, 2, 1;
1: 0-0, 2, 1;
2: 0-0, 2, 1;
0,1,2: 0-0, 1, 0;
2: 1-63, 1, 0;
1: 1-63, 1, 0;
0: 1-63, 1, 0;
""")

subprocess.run(["gcc", "-O2", "-o", f"{tmp}/dacenc", "dacenc.c", "-ljpeg"], check=True)

# Sequential (SOF9).
run("cjpeg", "-arithmetic", "-quality", "80", f"{tmp}/grey.pgm", out="grey.jpg")
run("cjpeg", "-arithmetic", "-sample", "2x2", "-restart", "2B", "-quality", "90", f"{tmp}/src.ppm", out="rst420.jpg")
run("cjpeg", "-arithmetic", "-sample", "1x1", "-quality", "95", f"{tmp}/src.ppm", out="c444.jpg")
# Progressive (SOF10): libjpeg's default script (successive approximation
# of DC and AC) converted from a Huffman file, and the script above.
run("cjpeg", "-sample", "2x2", "-quality", "85", f"{tmp}/src.ppm", out=f"{tmp}/base420.jpg")
run("jpegtran", "-arithmetic", "-progressive", f"{tmp}/base420.jpg", out="prog420.jpg")
run("cjpeg", "-arithmetic", "-sample", "2x1", "-restart", "1B", "-scans", f"{tmp}/scans.txt", f"{tmp}/src.ppm", out="progrst.jpg")
run("cjpeg", "-quality", "90", f"{tmp}/grey.pgm", out=f"{tmp}/grey90.jpg")
run("jpegtran", "-arithmetic", "-progressive", "-restart", "3B", f"{tmp}/grey90.jpg", out="greyprog.jpg")
# DAC segments with conditioning other than the defaults (L=0, U=1, Kx=5):
# L0 U0 K0 (luminance tables) then L1 U1 K1 (chrominance). dacsmooth.jpg
# is a smooth picture, whose small DC differences fall in every class.
run(f"{tmp}/dacenc", f"{tmp}/src.ppm", "dac.jpg", "0", "2", "5", "2", "1", "3", "20", "1")
run(f"{tmp}/dacenc", f"{tmp}/smooth.ppm", "dacsmooth.jpg", "0", "2", "4", "5", "1", "2", "5")
run(f"{tmp}/dacenc", f"{tmp}/src.ppm", "dacprog.jpg", "1", "3", "9", "12", "0", "0", "1")

# 2000x2000 flat grey: 4 million pixels in about 128 bytes, which no
# Huffman-coded file can hold. No reference file: every sample is 77.
with open(f"{tmp}/flat.pgm", "wb") as f:
    f.write(b"P5\n2000 2000\n255\n" + bytes([77]) * 2000 * 2000)
run("cjpeg", "-arithmetic", f"{tmp}/flat.pgm", out="flat2000.jpg")
assert Image.open("flat2000.jpg").getextrema() == (77, 77)

# Damage, which PIL reads past with warnings: in a copy of each file with
# restarts, drop the second restart marker, renumber the fourth and put
# two stray bytes before the fifth; cut a copy of the sequential ones in
# the middle of the data, ending it with EOI (the arithmetic decoder then
# reads zeros). A cut progressive file is left out: libjpeg would smooth
# its blocks, which our decoder does not.
for base in ["rst420", "progrst", "greyprog", "dac"]:
    data = open(base + ".jpg", "rb").read()
    sos = data.index(b"\xff\xda")
    start = sos + 2 + (data[sos + 2] << 8 | data[sos + 3])
    if base != "dac":
        rst = [i for i in range(start, len(data) - 1)
               if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
        d = bytearray(data)
        d[rst[4]:rst[4]] = b"\x12\x34"
        d[rst[3] + 1] = 0xD0 + (d[rst[3] + 1] - 0xD0 + 3) % 8
        del d[rst[1]:rst[1] + 2]
        open(f"dmg-{base}-rst.jpg", "wb").write(bytes(d))
    if base in ("rst420", "dac"):
        cut = (start + len(data)) // 2
        if data[cut - 1] == 0xFF:
            cut += 1
        open(f"dmg-{base}-cut.jpg", "wb").write(data[:cut] + b"\xff\xd9")

for name in sorted(n for n in os.listdir(".") if n.endswith(".jpg") and n != "flat2000.jpg"):
    data = open(name, "rb").read()
    sof = [b for i, b in enumerate(data[1:], 1) if data[i - 1] == 0xFF and 0xC0 <= b <= 0xCF and b not in (0xC4, 0xC8, 0xCC)]
    assert sof[0] in (0xC9, 0xCA), (name, hex(sof[0]))
    im = Image.open(name)
    im.load()
    assert im.mode in ("L", "RGB"), (name, im.mode)
    ch = 1 if im.mode == "L" else 3
    ref = name[:-4] + ".pnm"
    pnm(ref, im.width, im.height, im.tobytes(), ch)
    with open(f"{tmp}/djpeg.pnm", "wb") as f:
        rc = subprocess.run(["djpeg", "-pnm", name], stdout=f).returncode
    assert rc == 0 or rc == 2 and name.startswith("dmg-"), (name, rc)  # 2: warnings
    dj = open(f"{tmp}/djpeg.pnm", "rb").read()
    assert dj[-len(im.tobytes()):] == im.tobytes(), name
    print(f"{name}: SOF 0x{sof[0]:02X}, {im.mode} {im.width}x{im.height}, {len(data)} bytes", file=sys.stderr)

subprocess.run(["rm", "-rf", tmp], check=True)
