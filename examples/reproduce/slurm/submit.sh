#!/bin/bash
# Runs the whole study on a Slurm cluster. It builds reproduce once, on
# the machine you submit from (compute nodes compile nothing and need no
# network), then submits four jobs that depend on each other:
#
#   prepare  reproduce FLAGS -until selectivity   one task
#   shard    reproduce FLAGS -shard i/n           an --array of n tasks, after prepare succeeded
#   merge    reproduce FLAGS -merge               after every shard succeeded; writes the report
#   failed   reproduce FLAGS -merge               only if a shard failed: it merges nothing and
#                                                 prints, in its log, the failed shards and the
#                                                 one command that reruns them
#
# usage, from any directory, with OUT on a file system every node sees:
#
#   examples/reproduce/slurm/submit.sh [options] -- -model vgg16 \
#       -weights vgg16-397923af.pth -sets iaps=DIR,naps=DIR -out OUT
#
# options:
#   -n SHARDS      array tasks (default 16); -estimate proposes a number
#   -only LIST     resubmit only these shards (e.g. 1 or 1,4-6) and the merge: a failed,
#                  cancelled or timed-out task resumes from its finished units
#   -p PARTITION   sbatch --partition      -A ACCOUNT  sbatch --account
#   -q QOS         sbatch --qos            -c CPUS     --cpus-per-task of every job (default 8)
#   -t TIME        --time of each shard    -m MEM      --mem of each job (default 8G)
#                  (default 24:00:00; size it from -estimate -shard 0/SHARDS with a margin)
#   -logs DIR      job logs, %x-%A_%a.log (default OUT/slurm/logs; the binary goes to OUT/slurm/bin)
#   -dry           print the sbatch commands instead of running them
#
# Set REPRODUCE to a built binary to skip the build (a cluster without Go
# on the login node: build it elsewhere with GOOS=linux go build). Other
# sbatch options can come from SBATCH_* variables, which sbatch reads.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
me="submit.sh"
die() { echo "$me: $*" >&2; exit 1; }

shards=16 only="" cpus=8 mem=8G time=24:00:00 logs="" dry=""
extra=() keep=() # sbatch options; submit.sh options a rerun must repeat
while [ $# -gt 0 ]; do
  case "$1" in
    -n) shards=$2; shift 2 ;;
    -only) only=$2; shift 2 ;;
    -p) extra+=(--partition="$2"); keep+=(-p "$2"); shift 2 ;;
    -A) extra+=(--account="$2"); keep+=(-A "$2"); shift 2 ;;
    -q) extra+=(--qos="$2"); keep+=(-q "$2"); shift 2 ;;
    -c) cpus=$2; keep+=(-c "$2"); shift 2 ;;
    -t) time=$2; keep+=(-t "$2"); shift 2 ;;
    -m) mem=$2; keep+=(-m "$2"); shift 2 ;;
    -logs) logs=$2; keep+=(-logs "$2"); shift 2 ;;
    -dry) dry=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: $me [-n SHARDS] [-only LIST] [-p PARTITION] [-A ACCOUNT] [-q QOS] [-c CPUS] [-t TIME] [-m MEM] -- REPRODUCE_FLAGS" >&2
  echo "(REPRODUCE_FLAGS: at least -weights, -sets and -out; see $me -h)" >&2
  exit 2
fi
case "$shards" in ''|*[!0-9]*|0) die "-n $shards: want a number of shards ≥ 1" ;; esac

# OUT, as an absolute path: the jobs run with --chdir=OUT.
abspath() { local d; d=$(cd "$(dirname "$1")" 2>/dev/null && pwd) || die "-out $1: its parent directory does not exist"; echo "$d/$(basename "$1")"; }
out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -out|--out) out=$(abspath "${2:?-out needs a directory}"); args+=(-out "$out"); shift 2 ;;
    -out=*|--out=*) out=$(abspath "${1#*=}"); args+=(-out "$out"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || die "give reproduce's -out, on a file system every node sees"
logs=${logs:-$out/slurm/logs}

if [ -z "$dry" ] && ! command -v sbatch >/dev/null; then
  die "sbatch not found: run this on a Slurm login node (or after 'module load slurm'), or try examples/reproduce/slurm/local-cluster.sh"
fi
if [ -z "${REPRODUCE:-}" ]; then
  command -v go >/dev/null || die "go not found: load it ('module load go') or set REPRODUCE to a reproduce binary built elsewhere"
  mkdir -p "$out/slurm/bin"
  echo "$me: building reproduce into $out/slurm/bin (once; every job runs this binary)"
  (cd "$repo" && CGO_ENABLED=0 go build -o "$out/slurm/bin/reproduce" ./examples/reproduce) || die "go build failed"
  REPRODUCE=$out/slurm/bin/reproduce
fi
REPRODUCE=$(cd "$(dirname "$REPRODUCE")" && pwd)/$(basename "$REPRODUCE")
[ -x "$REPRODUCE" ] || die "REPRODUCE=$REPRODUCE is not an executable"
"$REPRODUCE" -h >/dev/null 2>&1 || die "$REPRODUCE does not run here (built for another system?)"
mkdir -p "$logs"
# The failure report prints EMOSEL_SUBMIT -n N -only LIST -- FLAGS as the
# command that reruns the failed shards: this script with this binary and
# the same sbatch options.
EMOSEL_SUBMIT=$(printf '%q ' "REPRODUCE=$REPRODUCE" "$here/submit.sh" ${keep[@]+"${keep[@]}"})
export REPRODUCE EMOSEL_SUBMIT=${EMOSEL_SUBMIT% }

# sub NAME SBATCH_ARGS...: submits a job, prints its id, or says why not.
sub() {
  local name=$1 id
  shift
  if [ -n "$dry" ]; then
    printf 'sbatch' >&2; printf ' %q' "$@" >&2; echo >&2
    echo "DRY-$name"
    return
  fi
  if ! id=$(sbatch --parsable --export=ALL --chdir="$out" ${extra[@]+"${extra[@]}"} "$@" 2>"$logs/.sbatch-err"); then
    echo "$me: sbatch refused the $name job:" >&2
    sed 's/^/  /' "$logs/.sbatch-err" >&2
    if [ -n "$submitted" ]; then
      echo "$me: cancelling the jobs already submitted:$submitted" >&2
      scancel $submitted || true
    fi
    echo "(check -p PARTITION, -A ACCOUNT, -q QOS, and that -c $cpus, -m $mem and -t $time fit the partition's limits: sinfo -s, scontrol show partition)" >&2
    exit 1
  fi
  echo "${id%%;*}"
}
submitted="" # the jobs submitted so far, cancelled if a later one is refused
common=(--cpus-per-task="$cpus" --mem="$mem")
deps=""
if [ -z "$only" ]; then
  prepare=$(sub prepare "${common[@]}" --time=04:00:00 --job-name=emosel-prepare --output="$logs/%x-%j.log" \
    "$here/prepare.sbatch" "${args[@]}")
  submitted+=" $prepare"
  deps="--dependency=afterok:$prepare"
  array="0-$((shards - 1))"
else
  array=$only
  prepare="(not resubmitted)"
fi
shard=$(sub shard "${common[@]}" --time="$time" --job-name=emosel-shard --output="$logs/%x-%A_%a.log" \
  --array="$array" ${deps:+"$deps"} --kill-on-invalid-dep=yes "$here/shard.sbatch" "$shards" "${args[@]}")
submitted+=" $shard"
merge=$(sub merge "${common[@]}" --time=01:00:00 --job-name=emosel-merge --output="$logs/%x-%j.log" \
  --dependency="afterok:$shard" --kill-on-invalid-dep=yes "$here/merge.sbatch" "${args[@]}")
submitted+=" $merge"
failed=$(sub failed --cpus-per-task=1 --mem=2G --time=00:30:00 --job-name=emosel-failed --output="$logs/%x-%j.log" \
  --dependency="afternotok:$shard" --kill-on-invalid-dep=yes "$here/merge.sbatch" "${args[@]}")
echo "submitted: prepare $prepare, shards $shard (array $array of $shards), merge $merge, failure report $failed"
echo "logs: $logs; watch: squeue -u ${USER:-$(id -un)}; when it is done: cat $logs/emosel-merge-$merge.log"
echo "if a shard fails, the merge is cancelled and $logs/emosel-failed-$failed.log names it and the command that reruns it"
