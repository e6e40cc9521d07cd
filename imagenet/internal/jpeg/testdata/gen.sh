#!/bin/sh
# Regenerates the fixtures here with libjpeg-turbo's tools (Debian
# bookworm's libjpeg-turbo-progs 2.1.5, the libjpeg-turbo PIL 9.4 uses
# there) and python3. Each X.jpg has X.pnm beside it: what djpeg (islow
# IDCT, fancy upsampling: PIL's settings) decodes it to. djpeg's warnings
# about damaged data are expected; PIL ignores them too.
set -e
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A 49x35 picture: smooth colour ramps plus deterministic noise.
python3 - "$tmp" <<'PY'
import math, sys
w, h, seed = 49, 35, 12345
def noise():
    global seed
    seed = (seed * 1103515245 + 12345) % 2**31
    return seed % 41 - 20
rgb, grey = bytearray(), bytearray()
for y in range(h):
    for x in range(w):
        for c in range(3):
            v = 128 + 80*math.sin(0.21*(c+1)*x + 0.07*y) + 30*math.cos(0.3*(c+2)*y) + noise()
            rgb.append(max(0, min(255, int(v))))
        grey.append(rgb[-2])
open(sys.argv[1] + "/src.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + bytes(rgb))
open(sys.argv[1] + "/src.pgm", "wb").write(b"P5\n%d %d\n255\n" % (w, h) + bytes(grey))
PY

# A progressive script with spectral selection, successive approximation
# of DC and AC (refinement scans with EOB runs) and non-interleaved DC.
cat > "$tmp/scans.txt" <<'SC'
0,1,2: 0-0, 0, 2;
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
SC
cat > "$tmp/gscans.txt" <<'SC'
0: 0-0, 0, 3;
0: 1-63, 0, 4;
0: 0-0, 3, 2;
0: 1-63, 4, 3;
0: 1-63, 3, 2;
0: 0-0, 2, 1;
0: 1-63, 2, 1;
0: 0-0, 1, 0;
0: 1-63, 1, 0;
SC

cjpeg -sample 2x2 -restart 1B -quality 80 "$tmp/src.ppm" > rst420.jpg
cjpeg -sample 2x1 -restart 1B -scans "$tmp/scans.txt" "$tmp/src.ppm" > progrst.jpg
cjpeg -restart 3B -scans "$tmp/gscans.txt" "$tmp/src.pgm" > greyprog.jpg
cjpeg -sample 3x2,1x1,1x1 -optimize "$tmp/src.ppm" > s32.jpg
cjpeg -sample 1x1,2x2,1x2 "$tmp/src.ppm" > mixed.jpg

# Damage: in rst420.jpg, drop the second restart marker, renumber the
# fourth and put two stray bytes before the sixth; cut the entropy-coded
# data of a copy short, ending it with EOI.
python3 - <<'PY'
data = open("rst420.jpg", "rb").read()
sos = data.index(b"\xff\xda")
start = sos + 2 + (data[sos + 2] << 8 | data[sos + 3])
rst = [i for i in range(start, len(data) - 1)
       if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
d = bytearray(data)
d[rst[5]:rst[5]] = b"\x12\x34"
d[rst[3] + 1] = 0xD0 + (d[rst[3] + 1] - 0xD0 + 3) % 8
del d[rst[1]:rst[1] + 2]
open("rstdamaged.jpg", "wb").write(bytes(d))
cut = (start + len(data)) // 2
if data[cut - 1] == 0xFF:
    cut += 1
open("cut.jpg", "wb").write(data[:cut] + b"\xff\xd9")
PY

for f in rst420 progrst greyprog s32 mixed rstdamaged cut; do
	djpeg -pnm $f.jpg > $f.pnm || [ $? = 2 ] # 2: warnings
done
