#!/bin/bash
# The cluster path on a real Slurm (CI runs this; so can you, as root on
# Debian or Ubuntu): starts a single-node cluster (local-cluster.sh),
# then
#
#  1. runs the demo unsharded, the reference;
#  2. submits the same command with submit.sh -n 3 and no -t or -m, so
#     that it sizes every job from reproduce -estimate; checks that Slurm
#     holds each job with the --time and --mem submit.sh said it chose;
#     waits for every job, checks each job's final state (prepare, the 3
#     shards and the merge COMPLETED, the failure report CANCELLED) and
#     compares the outputs with the reference byte for byte;
#  3. submits it again (with -t and -m) into a new output directory, cancels shard 1 while
#     it runs, checks that the merge was cancelled, that no report and no
#     merged table was written, that the failure report names shard 1/3
#     and prints a command; runs that command, waits, and compares the
#     outputs with the reference byte for byte again.
#
# The daemons are stopped by PID at the end, pass or fail. The final
# states come from scontrol (no accounting database: MinJobAge keeps
# finished jobs for an hour).
#
# The comparison. Every file of the outputs must be byte-identical to the
# unsharded run's (tables, figures, selectivity outputs, recorded
# activations, units, readouts), except:
#  - manifest.json: per-stage seconds, the command line, which stages
#    were reused, the thread count;
#  - stages/*.json: each stage's seconds and finish time;
#  - report.md, report.html, selectivity/report.txt: compared line by
#    line without the lines that hold the date, the thread count, the
#    command line, the stage timings and the recording times (provenance
#    below); every other line must be identical;
#  - manipulate/features/*.npy, the unsharded run's cache of the readout
#    features: a sharded run keeps it in each shard, shards/*/features,
#    and each shard's copy must be byte-identical to the unsharded one;
#  - shards/ and slurm/, which only sharded runs have (the shards' own
#    files; the binary and the job logs).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/emosel-slurm-test.XXXXXX)
export EMOSEL_SLURM_DIR=$work/cluster
say() { printf '[slurm-test %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

cleanup() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -d "$EMOSEL_SLURM_DIR/log" ]; then
    say "exit $rc; job logs and the end of the daemons' logs:"
    for f in "$work"/*/slurm/logs/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    tail -n 30 "$EMOSEL_SLURM_DIR"/log/*.log || true
  fi
  "$here/local-cluster.sh" stop || true
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT

"$here/local-cluster.sh" install
"$here/local-cluster.sh" start
eval "$("$here/local-cluster.sh" env)"

bin=$work/bin/reproduce
(cd "$repo" && CGO_ENABLED=0 go build -o "$bin" ./examples/reproduce)
export REPRODUCE=$bin
flags=(-quiet)

# state JOB: the job's final state per scontrol.
state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n 1; }
# wait_jobs JOB...: waits until none is pending or running.
wait_jobs() {
  local j s busy
  for _ in $(seq 1 900); do
    busy=""
    for j in "$@"; do
      s=$(state "$j")
      case "$s" in PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|"") busy=1 ;; esac
    done
    [ -z "$busy" ] && return 0
    sleep 1
  done
  squeue
  fail "jobs $* still running after 15 min"
}
# expect STATE JOB...: every job (every task of an array) ended in STATE.
expect() {
  local want=$1 j s
  shift
  for j in "$@"; do
    while read -r id s; do
      [ "$s" = "$want" ] || fail "job $id ended $s, want $want"
      say "job $id: $s"
    done < <(scontrol show job "$j" | awk '/^JobId=/ {id=$1; sub("JobId=", "", id); for (i = 1; i <= NF; i++) if ($i ~ /^ArrayTaskId=/) id = id " (task " substr($i, 13) ")"} /JobState=/ {match($0, /JobState=[A-Z_]+/); print id, substr($0, RSTART + 9, RLENGTH - 9)}' | tr -s ' ' | sed 's/ (task /_/; s/)//')
  done
}
# submit OUT ARGS...: runs submit.sh -c 1 ARGS and sets the job ids and log.
submit() {
  local o=$1 s0
  shift
  s0=$(date +%s)
  log=$("$here/submit.sh" -c 1 "$@" -- -out "$o" "${flags[@]}")
  echo "$log"
  say "submit.sh took $(($(date +%s) - s0)) s"
  read -r prepare shard merge failed < <(sed -n 's/^submitted: prepare \([^,]*\), shards \([0-9]*\) .*, merge \([0-9]*\), failure report \([0-9]*\)$/\1 \2 \3 \4/p' <<<"$log")
  [ -n "$failed" ] || fail "could not read the job ids from submit.sh's output"
}
# provenance FILE: the file without the lines that say when, how fast and
# by which command a run ran (see the top of this script).
provenance() {
  sed -E '/reproduced by emosel/d; /Command: /d; /^\| (stimuli|selectivity|manipulate|report) \|/d;
    /<tr><td>(stimuli|selectivity|manipulate|report)<\/td>/d; 1{/^emosel selectivity, /d}; / images recorded in /d' "$1"
}
# same REF OUT: the outputs are byte for byte the reference's.
same() {
  local d f n=0
  d=$(diff -r -q -x manifest.json -x stages -x shards -x slurm -x features -x report.md -x report.html -x report.txt "$1" "$2") ||
    fail "outputs differ from the unsharded run's:"$'\n'"$d"
  n=$(cd "$2" && find . -type f -not -path './stages/*' -not -path './shards/*' -not -path './slurm/*' -not -path '*/features/*' \
    -not -name manifest.json -not -name 'report.*' | wc -l)
  for f in report.md report.html selectivity/report.txt; do
    cmp -s <(provenance "$1/$f") <(provenance "$2/$f") || fail "$f differs beyond its date, timings and command line:"$'\n'"$(diff <(provenance "$1/$f") <(provenance "$2/$f") | head -n 20)"
  done
  for f in "$1"/manipulate/features/*.npy; do
    for g in "$2"/shards/*/features/"$(basename "$f")"; do
      [ -f "$g" ] || continue
      cmp -s "$f" "$g" || fail "$g differs from the unsharded run's readout features"
      n=$((n + 1))
    done
  done
  say "byte comparison passed: $n files byte-identical to the unsharded run's, and its 3 reports but for date, timings and command line ($2)"
}

say "0. submit.sh's refusals"
mkdir -p "$work/nobin"
for t in dirname basename; do ln -s "$(command -v "$t")" "$work/nobin/$t"; done
if msg=$(PATH=$work/nobin "$here/submit.sh" -n 3 -- -out "$work/x" 2>&1); then fail "submit.sh ran without sbatch"; fi
grep -q "sbatch not found" <<<"$msg" || fail "without sbatch, submit.sh says: $msg"
say "without sbatch: $msg"
if msg=$("$here/submit.sh" -n 3 -c 64 -m 4G -t 0:30:00 -- -out "$work/x" 2>&1); then fail "a job of 64 CPUs on a 2-CPU node was accepted"; fi
grep -q "sbatch refused the prepare job" <<<"$msg" || fail "a refused job: $msg"
[ -z "$(squeue -h)" ] || fail "jobs left queued after a refusal: $(squeue)"
say "a refused job: $(grep -A 1 "sbatch refused" <<<"$msg" | tr '\n' ' ')"

say "1. the unsharded reference run"
t0=$(date +%s)
GOMAXPROCS=$(nproc) "$bin" -out "$work/ref" "${flags[@]}"
t1=$(date +%s)
say "unsharded demo: $((t1 - t0)) s on $(nproc) cores"

say "2. the sharded study: submit.sh -n 3, sized by its estimate"
submit "$work/sharded" -n 3
t1s=$(date +%s)
# limit JOB FIELD: TimeLimit or MinMemoryNode as Slurm holds it.
limit() { scontrol show job "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
# slurm_mem 2G -> MiB, as scontrol may print 2G or 2048M.
slurm_mem() { case "$1" in *G) echo $((${1%G} * 1024)) ;; *M) echo "${1%M}" ;; *) echo "$1" ;; esac; }
times=$(sed -n 's/^submit.sh: --time: prepare \([^,]*\), shards \([^,]*\), merge \([^ ]*\) .*/\1 \2 \3/p' <<<"$log")
mems=$(sed -n 's/^submit.sh: --mem: prepare \([^,]*\), shards \([^,]*\), merge \([^ ]*\) .*/\1 \2 \3/p' <<<"$log")
if [ -z "$times" ] || [ -z "$mems" ]; then fail "submit.sh did not say which --time and --mem it chose"; fi
read -r pt st mt <<<"$times"
read -r pm sm mm <<<"$mems"
for x in "prepare $prepare $pt $pm" "shard $shard $st $sm" "merge $merge $mt $mm" "failed $failed $mt $mm"; do
  read -r name j t m <<<"$x"
  [ "$(limit "$j" TimeLimit)" = "$t" ] || fail "the $name job's TimeLimit is $(limit "$j" TimeLimit), submit.sh said --time=$t"
  [ "$(slurm_mem "$(limit "$j" MinMemoryNode)")" = "$(slurm_mem "$m")" ] || fail "the $name job's MinMemoryNode is $(limit "$j" MinMemoryNode), submit.sh said --mem=$m"
done
say "Slurm holds the sizes submit.sh chose: --time $times, --mem $mems"
wait_jobs "$prepare" "$shard" "$merge" "$failed"
t2=$(date +%s)
say "sharded demo (prepare, 3 shards, merge), submission to merge end: $((t2 - t1s)) s ($((t2 - t1)) s with submit.sh and its estimate)"
expect COMPLETED "$prepare" "$shard" "$merge"
expect CANCELLED "$failed"
same "$work/ref" "$work/sharded"

say "3. a failed task and its recovery"
# The stimuli and the selectivity stage are the same study's: start from
# them (the prepare job then reuses them), to spend the time on the shards.
mkdir -p "$work/failed"
cp -r "$work/sharded/stimuli" "$work/sharded/selectivity" "$work/failed/"
mkdir -p "$work/failed/stages"
cp "$work/sharded/stages/stimuli.json" "$work/sharded/stages/selectivity.json" "$work/failed/stages/"
submit "$work/failed" -n 3 -m 4G -t 0:30:00
unitdir=$work/failed/shards/shard-1-of-3/units
for _ in $(seq 1 600); do
  [ -n "$(find "$unitdir" -name '*.json' 2>/dev/null | head -n 1)" ] && break
  # One reading per round: three could straddle PENDING -> RUNNING. Only an
  # ended job is a failure; transient states (CONFIGURING, ...) are not.
  st1=$(state "${shard}_1")
  case "$st1" in
  COMPLETED | FAILED | CANCELLED | TIMEOUT | OUT_OF_MEMORY | NODE_FAIL | BOOT_FAIL | DEADLINE | PREEMPTED)
    fail "shard 1 ended $st1 before it could be cancelled" ;;
  esac
  sleep 0.2
done
say "shard 1 running, $(find "$unitdir" -name '*.json' | wc -l) units finished: scancel ${shard}_1"
scancel "${shard}_1"
wait_jobs "$prepare" "$shard" "$merge" "$failed"
expect COMPLETED "$prepare" "${shard}_0" "${shard}_2"
expect CANCELLED "${shard}_1" "$merge"
expect FAILED "$failed"
[ ! -e "$work/failed/report.md" ] || fail "a report was written from incomplete shards"
[ ! -e "$work/failed/manipulate/table1.csv" ] || fail "the incomplete shards were merged"
flog=$work/failed/slurm/logs/emosel-failed-$failed.log
cat "$flog"
grep -q "shard 1/3: " "$flog" || fail "the failure report does not name shard 1/3"
if grep -q "shard [02]/3: " "$flog"; then fail "the failure report names a shard that finished"; fi
rerun=$(grep -A1 '^Rerun it and then the merge, on the cluster, with:$' "$flog" | tail -n 1 | sed 's/^  //')
[ -n "$rerun" ] || fail "the failure report prints no rerun command"
say "no merge, no report; the failure report names shard 1/3; running its command:"
echo "$rerun"
log=$(cd / && env -u REPRODUCE bash -c "$rerun")
echo "$log"
read -r shard merge failed < <(sed -n 's/^submitted: prepare [^,]*, shards \([0-9]*\) .*, merge \([0-9]*\), failure report \([0-9]*\)$/\1 \2 \3/p' <<<"$log")
[ -n "$failed" ] || fail "could not read the job ids of the rerun"
wait_jobs "$shard" "$merge" "$failed"
expect COMPLETED "$shard" "$merge"
expect CANCELLED "$failed"
same "$work/ref" "$work/failed"
say "failed-task recovery passed"
say "PASS: cluster started, 3 shards + prepare + merge completed, byte comparison passed, recovery passed ($(($(date +%s) - t0)) s in all)"
