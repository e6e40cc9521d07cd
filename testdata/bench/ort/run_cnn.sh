#!/bin/bash
# Same-run rounds of emosel and onnxruntime-node on full-size random-init
# torchvision ResNet-50 and MobileNet-v2 (batch 16, 2 threads), with each
# engine's peak resident memory for loading the model and one forward.
#
#   testdata/bench/ort/run_cnn.sh [ROUNDS] [MODELS]   (from the repository root)
#
# MODELS defaults to "resnet50 mobilenet_v2". Installs what is missing as
# run.sh does (Debian's python3-torch/torchvision; onnxruntime-node with
# npm --ignore-scripts). Exports the models with export_cnn.py into a
# temporary directory. Never a runtime or CI dependency of emosel.
set -eu
rounds=${1:-3}
models=${2:-resnet50 mobilenet_v2}
batch=${EMOSEL_ONNX_BATCH:-16}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision >/dev/null
fi
[ -d "$here/node_modules/onnxruntime-node" ] || (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/export_cnn.py" "$tmp" $models >/dev/null
(cd "$root" && go test -c -o "$tmp/onnx.test" ./onnx)
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); flags: $(grep -m1 -o -w 'avx512f\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# $(go version); onnxruntime-node $(node -p "require('$here/node_modules/onnxruntime-node/package.json').version"); load: $(uptime | sed 's/.*load/load/')"
cases=""
for m in $models; do cases="$cases $m=$batch"; done
# Peak RSS: one process per engine and model that loads it and runs one
# warm-up forward at batch 1 and one at the batch (bench.mjs's pattern).
for m in $models; do
	kb=$(cd "$root/onnx" && EMOSEL_ONNX_BENCH="$tmp/$m.onnx" EMOSEL_ONNX_BATCH=$batch /usr/bin/time -f %M "$tmp/onnx.test" \
		-test.run '^$' -test.bench Full -test.benchtime 1x -test.cpu 2 2>&1 >/dev/null | tail -1)
	echo "peak emosel $m batch=$batch $((kb / 1024)) MiB (weights file $(($(stat -c %s "$tmp/$m.onnx") / 1048576)) MiB)"
	kb=$( (cd "$here" && /usr/bin/time -f %M node bench.mjs "$tmp" "$m=$batch" 2>&1 >/dev/null) | tail -1)
	echo "peak ort $m batch=$batch $((kb / 1024)) MiB"
done
for r in $(seq 1 "$rounds"); do
	echo "== round $r $(date +%H:%M:%S)"
	for m in $models; do
		(cd "$root/onnx" && EMOSEL_ONNX_BENCH="$tmp/$m.onnx" EMOSEL_ONNX_BATCH=$batch "$tmp/onnx.test" \
			-test.run '^$' -test.bench Full -test.benchtime 3x -test.cpu 2 | grep Bench | sed 's/^/emosel /')
	done
	(cd "$here" && node bench.mjs "$tmp" $cases)
done
echo "# load after: $(uptime | sed 's/.*load/load/')"
