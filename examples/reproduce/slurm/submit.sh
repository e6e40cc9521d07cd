#!/bin/bash
# Runs the whole study on a Slurm cluster: builds reproduce, then submits
# three jobs that depend on each other:
#
#   prepare  reproduce FLAGS -until selectivity    (one task)
#   shard    reproduce FLAGS -shard i/n            (an sbatch --array of n tasks)
#   merge    reproduce FLAGS -merge                (one task; writes the report)
#
# usage, from the repository root, with OUT on a file system every node sees:
#
#   examples/reproduce/slurm/submit.sh [-n SHARDS] -- -model vgg16 \
#       -weights vgg16-397923af.pth -sets iaps=DIR,naps=DIR -out OUT
#
# SHARDS defaults to 16. Extra sbatch options (partition, account) go in
# SBATCH_PARTITION, SBATCH_ACCOUNT and the other SBATCH_* variables that
# sbatch reads. Set REPRODUCE to a built binary to skip the build. To see
# how long a shard will take first, run the same flags with -estimate
# -shard 0/SHARDS on a compute node.
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)
shards=16
if [ "${1:-}" = "-n" ]; then
  shards=$2
  shift 2
fi
if [ "${1:-}" = "--" ]; then
  shift
fi
if [ $# -eq 0 ]; then
  echo "usage: $0 [-n SHARDS] -- REPRODUCE_FLAGS (at least -weights, -sets and -out)" >&2
  exit 2
fi
if [ -z "${REPRODUCE:-}" ]; then
  mkdir -p bin
  go build -o bin/reproduce ./examples/reproduce
  REPRODUCE=$PWD/bin/reproduce
fi
export REPRODUCE
prepare=$(sbatch --parsable "$dir/prepare.sbatch" "$@")
shard=$(sbatch --parsable --dependency="afterok:$prepare" --array="0-$((shards - 1))" "$dir/shard.sbatch" "$@")
merge=$(sbatch --parsable --dependency="afterok:$shard" "$dir/merge.sbatch" "$@")
echo "submitted: prepare $prepare, shards $shard (array 0-$((shards - 1))), merge $merge"
