#!/bin/bash
# Same-run rounds for BENCHMARKS.md: the new and old AlexNet and VGG-16
# forward passes, PyTorch's, and the host's kernel rate, ROUNDS times.
#
#   go test -c -o /tmp/alex_new.test ./alexnet; go test -c -o /tmp/vgg_new.test ./vgg
#   (the same at the old commit, in a worktree, as /tmp/alex_old.test and /tmp/vgg_old.test)
#   go test -c -o /tmp/simd.test ./internal/simd
#   testdata/bench/rounds.sh 3 /tmp/alex_new.test /tmp/alex_old.test /tmp/vgg_new.test /tmp/vgg_old.test /tmp/simd.test
#
# Run from the repository root; needs /usr/bin/python3 with torch for the
# reference. Never a runtime or CI dependency of emosel.
set -eu
rounds=$1 alexNew=$2 alexOld=$3 vggNew=$4 vggOld=$5 simd=$6
for r in $(seq 1 "$rounds"); do
	echo "== round $r $(date +%H:%M:%S)"
	(cd alexnet && "$alexNew" -test.run '^$' -test.bench 'Forward' -test.benchtime 20x -test.cpu 2 | grep Bench)
	(cd alexnet && "$alexOld" -test.run '^$' -test.bench 'Forward/batch=16' -test.benchtime 20x -test.cpu 2 | grep Bench | sed 's/^/old /')
	/usr/bin/python3 testdata/bench/torch_forward.py 2
	(cd vgg && "$vggNew" -test.run '^$' -test.bench 'Forward' -test.benchtime 3x -test.cpu 2 | grep Bench)
	(cd vgg && "$vggOld" -test.run '^$' -test.bench 'Forward/batch=16' -test.benchtime 3x -test.cpu 2 | grep Bench | sed 's/^/old /')
	(cd internal/simd && "$simd" -test.run x -test.bench 'Kernel/AVX2' -test.benchtime 200x -test.count 3 -test.cpu 1 | grep Bench | awk '{print "kernel", $5}')
done
