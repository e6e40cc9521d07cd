#!/bin/bash
# Pairs a forward-pass benchmark with the host's current FMA rate.
#
#   go test -c -o /tmp/simd.test ./internal/simd
#   go test -c -o /tmp/new.test ./alexnet        # and /tmp/old.test at another commit
#   testdata/bench/monitor.sh 12 /tmp/simd.test /tmp/new.test /tmp/old.test
#
# Each round prints the best of three runs of the cache-resident AVX2
# micro-kernel on one core (GFLOP/s; 90-92 on an idle Zen 3 host) and then
# BenchmarkForward/batch=16 (img/s) of each network binary, so that
# throughput can be read against how fast the shared host is right now.
# Run from the repository root. Never a runtime or CI dependency of emosel.
set -eu
rounds=$1 simd=$2
shift 2
for i in $(seq 1 "$rounds"); do
	k=$(cd internal/simd && "$simd" -test.run x -test.bench 'Kernel/AVX2' -test.benchtime 200x -test.count 3 -test.cpu 1 | awk '/^Benchmark/ {print $5}' | sort -n | tail -1)
	line="$(date +%H:%M:%S) kernel=$k"
	for b in "$@"; do
		r=$(cd alexnet && "$b" -test.run '^$' -test.bench 'Forward/batch=16' -test.benchtime 20x -test.cpu 2 | awk '/^Benchmark/ {print $5}')
		line="$line $(basename "$b")=$r"
	done
	echo "$line"
	sleep 20
done
