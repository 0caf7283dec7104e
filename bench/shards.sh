#!/usr/bin/env bash
# Splits one estate scan into N shards run as N local processes at once
# (as N pods of the Helm chart's Indexed Job would run), for N = 1, 2, 4,
# and merges their reports: wall time of the whole fan-out (the slowest
# shard) and of the merge, each shard's wall and CPU time (user + system:
# what it would take on a node of its own, divided by that node's cores),
# and whether the merged report is the single run's.
#
# The estate: the bench corpus (Go's source tree, the module cache, public
# modules: bench/compare-gitleaks.sh builds it) cut into 15 directory apps,
# plus one app holding a real git history (REPO=PATH, a clone or a bare
# mirror; by default the history bench/compare-gitleaks-git.sh builds). The
# cache is off and the sweep's second pass too (a shard cannot run it), so
# every run does the same work.
#
# REPO=none leaves the history out (the directories alone divide evenly).
#
#   bench/shards.sh                       # RUNS=1
#   REPO=/work/bench-repos/etcd-io+etcd.git bench/shards.sh
#   REPO=none bench/shards.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-1}
TOOLS=$WORK/tools
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
setup_credscan
SRC=${REPO:-$WORK/history}
if [ "$SRC" != none ] && [ ! -d "$SRC" ]; then
  echo "== no history yet: building it with bench/compare-gitleaks-git.sh's first step"
  RUNS=0 bench/compare-gitleaks-git.sh >/dev/null
fi
E=$WORK/shards-estate
rm -rf "$E"
corpus_estate "$E" # 15 apps
mb=$(du -sm "$WORK/corpus" | cut -f1)
if [ "$SRC" = none ]; then
  estate_manifest "$E"
  echo "== estate: ${mb} MB of files in 15 apps"
else
  git clone -q --bare "$SRC" "$E/history.git" 2>/dev/null || git clone -q --bare --no-local "$SRC" "$E/history.git"
  estate_manifest "$E" "  - name: history
    sources: [{git: history.git}]"
  commits=$(git -C "$E/history.git" rev-list --all --count)
  echo "== estate: ${mb} MB of files in 15 apps, and $SRC ($commits commits) as one app"
fi

"$CS" scan estate -m "$E/credscan.yaml" --no-cache --sweep=false -q -f json -o "$WORK/out/shards-single.json" || true

results=()
for n in 1 2 4; do
  for _ in $(seq "$RUNS"); do
    rm -f "$WORK"/out/shard-*.json "$WORK"/out/shard-*.time
    start=$(date +%s.%N)
    for i in $(seq 0 $((n - 1))); do
      /usr/bin/time -f "%e %M %U %S" -o "$WORK/out/shard-$i.time" \
        "$CS" scan estate -m "$E/credscan.yaml" --shard "$i/$n" --no-cache --report-only -q -f json -o "$WORK/out/shard-$i.json" 2>/dev/null &
    done
    wait
    fan=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e-s}')
    mstart=$(date +%s.%N)
    args=()
    for i in $(seq 0 $((n - 1))); do args+=("$WORK/out/shard-$i.json"); done
    "$CS" merge -f json -o "$WORK/out/shards-merged-$n.json" --report-only "${args[@]}"
    mt=$(awk -v s="$mstart" -v e="$(date +%s.%N)" 'BEGIN {printf "%.2f", e-s}')
    per=""
    for i in $(seq 0 $((n - 1))); do
      per="$per $(awk '{printf "%.2fs (cpu %.2fs)", $1, $3+$4}' "$WORK/out/shard-$i.time")"
    done
    if cmp -s "$WORK/out/shards-merged-$n.json" "$WORK/out/shards-single.json"; then same=identical; else same=DIFFERENT; fi
    results+=("N=$n: fan-out ${fan}s (shards:${per}), merge ${mt}s; merged report vs the single run: $same")
  done
done
echo
printf '%s\n' "${results[@]}"
