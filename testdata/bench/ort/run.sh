#!/bin/bash
# Same-run rounds of emosel, onnxruntime-node and PyTorch on VGG-16:
# the full forward at batch 16 and the suffix re-runs from cached
# conv1_2, conv3_3 and conv5_1 activations at the study's chunk sizes.
#
#   testdata/bench/ort/run.sh [ROUNDS]        (from the repository root)
#
# Installs what is missing: Debian's python3-torch/python3-torchvision
# (apt) and onnxruntime-node (npm, --ignore-scripts: the package ships its
# CPU binding; the script only fetches CUDA libraries). Exports the
# random-init models into a temporary directory. Never a runtime or CI
# dependency of emosel.
set -eu
rounds=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null
fi
[ -d "$here/node_modules/onnxruntime-node" ] || (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/export.py" "$tmp" >/dev/null
(cd "$root" && go test -c -o "$tmp/vgg.test" ./vgg && go test -c -o "$tmp/manip.test" ./manipulate)
# The chunk sizes the study uses at 224 px (Suffix.Chunk of DefaultBudget).
chunks=$(cd "$root/manipulate" && "$tmp/manip.test" -test.run '^$' -test.bench 'SuffixChunk/.*/direct' -test.benchtime 1x -test.cpu 2 |
	sed -n 's#.*SuffixChunk/\([a-z0-9_]*\)/direct/b=\([0-9]*\).*#\1=\2#p' | tr '\n' ' ')
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); flags: $(grep -m1 -o -w 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# $(go version); torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'); onnxruntime-node $(node -p "require('$here/node_modules/onnxruntime-node/package.json').version")"
echo "# chunks: $chunks; load: $(uptime | sed 's/.*load/load/')"
for r in $(seq 1 "$rounds"); do
	echo "== round $r $(date +%H:%M:%S)"
	(cd "$root/vgg" && "$tmp/vgg.test" -test.run '^$' -test.bench 'Forward/batch=16' -test.benchtime 3x -test.cpu 2 | grep Bench | sed 's/^/emosel /')
	(cd "$root/manipulate" && "$tmp/manip.test" -test.run '^$' -test.bench 'SuffixChunk' -test.benchtime 3x -test.cpu 2 | grep Bench | sed 's/^/emosel /')
	(cd "$here" && node bench.mjs "$tmp" full=16 $chunks)
	/usr/bin/python3 "$here/export.py" "$tmp" --torch full=16 $chunks
	(cd "$root/internal/simd" && go test -run x -bench 'Kernel/AVX' -benchtime 200x -count 1 -cpu 1 2>/dev/null | grep Bench | awk '{print "kernel", $0}' | head -4) || true
done
echo "# load after: $(uptime | sed 's/.*load/load/')"
