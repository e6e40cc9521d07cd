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
#   -n SHARDS      array tasks (default 16); reproduce FLAGS -estimate -tasks 16,64,256
#                  predicts each and shows where more tasks stop helping
#   -only LIST     resubmit only these shards (e.g. 1 or 1,4-6) and the merge: a failed,
#                  cancelled or timed-out task resumes from its finished units
#   -p PARTITION   sbatch --partition      -A ACCOUNT  sbatch --account
#   -q QOS         sbatch --qos            -c CPUS     --cpus-per-task of every job (default 8)
#   -t TIME        --time of each shard    -m MEM      --mem of every job
#                  (default for both: sized from the estimate, below)
#   -estimate FILE read the sizing from FILE, the output of reproduce FLAGS -estimate -tasks SHARDS
#                  made elsewhere (e.g. in an interactive job on a compute node), instead of
#                  measuring on this machine
#   -logs DIR      job logs, %x-%A_%a.log (default OUT/slurm/logs; the binary goes to OUT/slurm/bin)
#   -dry           print the sbatch commands instead of running them
#
# Sizing. Unless both -m and -t are given, submit.sh first runs
# reproduce FLAGS -estimate -tasks SHARDS here, with GOMAXPROCS=CPUS (a
# few minutes of CPU for VGG-16; the output is kept in
# OUT/slurm/estimate-SHARDS.txt), and gives each job 1.5× its predicted
# time (at least 10 minutes; the shards: the slowest shard's) and 1.5×
# its predicted peak memory (rounded up to a GiB), and prints what it
# chose and why. -t and -m override the shards' time and every job's
# memory; with both, nothing is measured and prepare and merge get 4 and
# 1 hours. The prediction is this machine's speed: if the compute nodes
# are slower, give -t, or make the estimate on one (-estimate FILE).
#
# Set REPRODUCE to a built binary to skip the build (a cluster without Go
# on the login node: build it elsewhere with GOOS=linux go build). Other
# sbatch options can come from SBATCH_* variables, which sbatch reads.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
me="submit.sh"
die() { echo "$me: $*" >&2; exit 1; }

shards=16 only="" cpus=8 mem="" time="" logs="" dry="" estimate=""
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
    -estimate) estimate=$2; shift 2 ;;
    -logs) logs=$2; keep+=(-logs "$2"); shift 2 ;;
    -dry) dry=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  echo "usage: $me [-n SHARDS] [-only LIST] [-p PARTITION] [-A ACCOUNT] [-q QOS] [-c CPUS] [-t TIME] [-m MEM] [-estimate FILE] -- REPRODUCE_FLAGS" >&2
  echo "(REPRODUCE_FLAGS: at least -weights, -sets and -out; see $me -h)" >&2
  exit 2
fi
case "$shards" in ''|*[!0-9]*|0) die "-n $shards: want a number of shards ≥ 1" ;; esac
case "$cpus" in ''|*[!0-9]*|0) die "-c $cpus: want a number of CPUs ≥ 1" ;; esac
if [ -n "$estimate" ]; then
  [ -r "$estimate" ] || die "-estimate $estimate: no such file"
  estimate=$(cd "$(dirname "$estimate")" && pwd)/$(basename "$estimate")
fi

# OUT, the weights and the sets as absolute paths: the jobs run with
# --chdir=OUT, and submit.sh may run from any directory.
# abspath FLAG PATH: PATH made absolute (its parent must exist).
abspath() { local d; d=$(cd "$(dirname "$2")" 2>/dev/null && pwd) || die "$1 $2: its parent directory does not exist"; echo "$d/$(basename "$2")"; }
# abssets LIST: -sets NAME=DIR[,NAME=DIR...] with each DIR absolute.
abssets() {
  local part dir list="" IFS=,
  for part in $1; do
    case "$part" in
      *=*) dir=$(abspath -sets "${part#*=}") || exit 1; list+="${list:+,}${part%%=*}=$dir" ;;
      *) dir=$(abspath -sets "$part") || exit 1; list+="${list:+,}$dir" ;;
    esac
  done
  echo "$list"
}
out="" args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -out|--out) out=$(abspath -out "${2:?-out needs a directory}"); args+=(-out "$out"); shift 2 ;;
    -out=*|--out=*) out=$(abspath -out "${1#*=}"); args+=(-out "$out"); shift ;;
    -weights|--weights) args+=(-weights "$(abspath -weights "${2:?-weights needs a file}")"); shift 2 ;;
    -weights=*|--weights=*) args+=(-weights "$(abspath -weights "${1#*=}")"); shift ;;
    -sets|--sets) args+=(-sets "$(abssets "${2:?-sets needs NAME=DIR,...}")"); shift 2 ;;
    -sets=*|--sets=*) args+=(-sets "$(abssets "${1#*=}")"); shift ;;
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

# Sizing: --time and --mem of each job from the estimate, with a margin,
# unless -t and -m say.
# slurm_time SECONDS: Slurm's [D-]HH:MM:SS, rounded up to a minute.
slurm_time() {
  local m=$((($1 + 59) / 60)) d
  d=$((m / 1440))
  if [ "$d" -gt 0 ]; then printf '%d-%02d:%02d:00' "$d" $((m % 1440 / 60)) $((m % 60)); else printf '%02d:%02d:00' $((m / 60)) $((m % 60)); fi
}
hms() { printf '%d:%02d:%02d' $(($1 / 3600)) $(($1 % 3600 / 60)) $(($1 % 60)); }
# with_margin SECONDS: 1.5× the predicted time, at least 10 minutes.
with_margin() { local s=$((($1 * 3 + 1) / 2)); [ "$s" -ge 600 ] || s=600; slurm_time "$s"; }
# mem_margin MIB: 1.5× the predicted peak, rounded up to a GiB.
mem_margin() { echo "$(((($1 * 3 + 1) / 2 + 1023) / 1024))G"; }
prepare_time=04:00:00 merge_time=01:00:00
if [ -n "$mem" ] && [ -n "$time" ]; then
  echo "$me: -t $time and -m $mem given: no estimate; prepare gets --time=$prepare_time, the merge --time=$merge_time"
  prepare_mem=$mem shard_mem=$mem merge_mem=$mem
else
  if [ -z "$estimate" ]; then
    estimate=$out/slurm/estimate-$shards.txt
    mkdir -p "$out/slurm"
    host=$(hostname -s 2>/dev/null || hostname)
    echo "$me: sizing the jobs: $REPRODUCE ... -estimate -tasks $shards on $host with GOMAXPROCS=$cpus (-t and -m skip this)"
    if [ "$(nproc 2>/dev/null || echo "$cpus")" -lt "$cpus" ]; then
      echo "$me: note: $host has $(nproc) CPUs, fewer than -c $cpus: the estimate is this machine's, not a $cpus-CPU node's"
    fi
    GOMAXPROCS=$cpus "$REPRODUCE" "${args[@]}" -estimate -tasks "$shards" >"$estimate" 2>"$estimate.err" ||
      die "the estimate failed (the flags after -- are wrong?):"$'\n'"$(tail -n 5 "$estimate.err")"
  fi
  line=$(grep -m 1 "^sizing: tasks=$shards " "$estimate") ||
    die "$estimate has no line 'sizing: tasks=$shards ...' (make it with reproduce FLAGS -estimate -tasks $shards); it says:"$'\n'"$(head -n 3 "$estimate")"
  field() { sed -n "s/.* $1=\([0-9][0-9]*\).*/\1/p" <<<"$line"; }
  p_s=$(field prepare_s) p_mib=$(field prepare_mib) s_s=$(field shard_s) s_mib=$(field shard_mib) m_s=$(field merge_s) m_mib=$(field merge_mib)
  for v in "$p_s" "$p_mib" "$s_s" "$s_mib" "$m_s" "$m_mib"; do
    [ -n "$v" ] || die "$estimate: cannot read '$line'"
  done
  echo "$me: predicted ($estimate): prepare $(hms "$p_s") and $p_mib MiB, slowest of $shards shards $(hms "$s_s") and $s_mib MiB, merge $(hms "$m_s") and $m_mib MiB"
  prepare_time=$(with_margin "$p_s") merge_time=$(with_margin "$m_s")
  if [ -n "$time" ]; then
    echo "$me: --time: prepare $prepare_time, merge $merge_time (1.5× predicted, at least 10 min); shards $time (-t)"
  else
    time=$(with_margin "$s_s")
    echo "$me: --time: prepare $prepare_time, shards $time, merge $merge_time (1.5× predicted, at least 10 min)"
  fi
  if [ -n "$mem" ]; then
    prepare_mem=$mem shard_mem=$mem merge_mem=$mem
    echo "$me: --mem: $mem for every job (-m)"
  else
    prepare_mem=$(mem_margin "$p_mib") shard_mem=$(mem_margin "$s_mib") merge_mem=$(mem_margin "$m_mib")
    echo "$me: --mem: prepare $prepare_mem, shards $shard_mem, merge $merge_mem (1.5× the predicted peak, rounded up to a GiB)"
  fi
  keep+=(-estimate "$estimate") # a rerun sizes its jobs as these
fi
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
      # shellcheck disable=SC2086 # the job ids, one word each
      scancel $submitted || true
    fi
    echo "(check -p PARTITION, -A ACCOUNT, -q QOS, and that -c $cpus, --mem ${shard_mem:-} and --time ${time:-} fit the partition's limits: sinfo -s, scontrol show partition)" >&2
    exit 1
  fi
  echo "${id%%;*}"
}
submitted="" # the jobs submitted so far, cancelled if a later one is refused
deps=""
if [ -z "$only" ]; then
  prepare=$(sub prepare --cpus-per-task="$cpus" --mem="$prepare_mem" --time="$prepare_time" --job-name=emosel-prepare --output="$logs/%x-%j.log" \
    "$here/prepare.sbatch" "${args[@]}")
  submitted+=" $prepare"
  deps="--dependency=afterok:$prepare"
  array="0-$((shards - 1))"
else
  array=$only
  prepare="(not resubmitted)"
fi
shard=$(sub shard --cpus-per-task="$cpus" --mem="$shard_mem" --time="$time" --job-name=emosel-shard --output="$logs/%x-%A_%a.log" \
  --array="$array" ${deps:+"$deps"} --kill-on-invalid-dep=yes "$here/shard.sbatch" "$shards" "${args[@]}")
submitted+=" $shard"
merge=$(sub merge --cpus-per-task="$cpus" --mem="$merge_mem" --time="$merge_time" --job-name=emosel-merge --output="$logs/%x-%j.log" \
  --dependency="afterok:$shard" --kill-on-invalid-dep=yes "$here/merge.sbatch" "${args[@]}")
submitted+=" $merge"
# The failure report loads the network and the sets as the merge does.
failed=$(sub failed --cpus-per-task=1 --mem="$merge_mem" --time="$merge_time" --job-name=emosel-failed --output="$logs/%x-%j.log" \
  --dependency="afternotok:$shard" --kill-on-invalid-dep=yes "$here/merge.sbatch" "${args[@]}")
echo "submitted: prepare $prepare, shards $shard (array $array of $shards), merge $merge, failure report $failed"
echo "logs: $logs; watch: squeue -u ${USER:-$(id -un)}; when it is done: cat $logs/emosel-merge-$merge.log"
echo "if a shard fails, the merge is cancelled and $logs/emosel-failed-$failed.log names it and the command that reruns it"
