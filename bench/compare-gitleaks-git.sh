#!/usr/bin/env bash
# Compares full-history scanning: gitleaks v8.30.1 (`gitleaks git`, built as
# its releases are, -tags gore2regex) and `credscan scan git`, on a
# repository of real content: the files of the bench corpus (Go's source
# tree, the module cache, public modules) committed a few at a time over
# COMMITS commits, with 200 planted credential files added along the way
# and half of them deleted again later (history only). Prints commits/s,
# MB/s (unique blob bytes), peak RSS, the ratio and planted files found.
#
# HISTORY=versions builds the history from successive releases of real
# Go modules instead (VERSIONS of each of MODULES, fetched through the module
# proxy into $WORK/modcache): each release's changes against the previous
# one are committed a few files at a time, so most files have many versions
# that differ in a few lines, as in a real repository, and gitleaks (which
# scans `git log -p`) reads far fewer bytes than the unique blobs hold.
#
# REPO=PATH runs both on an existing repository instead (a real one: a
# clone, or a bare mirror such as the `fetch` tool's), all refs, nothing
# planted; the planted column then shows "-".
#
#   bench/compare-gitleaks-git.sh     # RUNS=3 COMMITS=5000 HISTORY_MB=300
#   HISTORY=versions bench/compare-gitleaks-git.sh
#   REPO=/work/.mirror/prometheus+prometheus/repo bench/compare-gitleaks-git.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-3}
COMMITS=${COMMITS:-5000}
HISTORY_MB=${HISTORY_MB:-300}
HISTORY=${HISTORY:-files}
MODULES=${MODULES:-golang.org/x/net golang.org/x/sys golang.org/x/tools golang.org/x/crypto golang.org/x/text k8s.io/client-go}
VERSIONS=${VERSIONS:-40}
TOOLS=$WORK/tools
if [ -n "${REPO:-}" ]; then
  HISTORY=real
  REPO=$(cd "$REPO" && pwd)
else
  REPO=$WORK/history
  [ "$HISTORY" = files ] || REPO=$WORK/history-$HISTORY
fi
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$TOOLS" "$WORK/out"

if [ ! -x "$TOOLS/gitleaks" ]; then
  echo "== installing gitleaks v8.30.1 (-tags gore2regex)"
  GOBIN=$TOOLS go install -tags gore2regex github.com/zricethezav/gitleaks/v8@v8.30.1
fi
echo "== building credscan"
go build -o "$TOOLS/credscan" ./cmd/credscan

if [ "$HISTORY" != real ] && [ ! -f "$WORK/corpus/.done" ]; then
  echo "== the corpus is missing: building it with bench/compare-gitleaks.sh's first step"
  RUNS=0 bench/compare-gitleaks.sh >/dev/null
fi
if [ "$HISTORY" = real ]; then
  echo "== the repository at $REPO, as it is"
elif [ "$HISTORY" = versions ]; then
  want="versions $COMMITS $VERSIONS $MODULES"
  if [ "$(cat "$REPO/.credscan-bench" 2>/dev/null)" != "$want" ]; then
    echo "== fetching the last $VERSIONS releases of $MODULES"
    : > "$WORK/states.txt"
    for m in $MODULES; do
      for v in $(GOFLAGS=-mod=mod go list -m -versions "$m" | tr ' ' '\n' | tail -n +2 | grep -v -- '-' | tail -n "$VERSIONS"); do
        dir=$(cd "$WORK" && GOMODCACHE=$WORK/modcache GOFLAGS=-modcacherw go mod download -json "$m@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        echo "$m $dir" >> "$WORK/states.txt"
      done
    done
    echo "== building a history of $COMMITS commits from $(wc -l < "$WORK/states.txt") releases"
    rm -rf "$REPO"; git init -q -b main "$REPO"
    go run ./bench/mkhistory -states "$WORK/states.txt" -planted "$WORK/corpus/planted" -commits "$COMMITS" | git -C "$REPO" fast-import --quiet
    git -C "$REPO" repack -adq
    echo "$want" > "$REPO/.credscan-bench"
  fi
elif [ "$(cat "$REPO/.credscan-bench" 2>/dev/null)" != "$COMMITS $HISTORY_MB" ]; then
  echo "== building a history of $COMMITS commits and $HISTORY_MB MB of real files"
  rm -rf "$REPO"; git init -q -b main "$REPO"
  go run ./bench/mkhistory -real "$WORK/corpus/real" -planted "$WORK/corpus/planted" \
    -commits "$COMMITS" -bytes $((HISTORY_MB * 1000 * 1000)) | git -C "$REPO" fast-import --quiet
  git -C "$REPO" repack -adq
  echo "$COMMITS $HISTORY_MB" > "$REPO/.credscan-bench"
fi
commits=$(git -C "$REPO" rev-list --all | wc -l)
# (the reachable blobs: a repository may hold more objects than its refs reach)
blob_bytes=$(git -C "$REPO" rev-list --objects --all | cut -d' ' -f1 | git -C "$REPO" cat-file --batch-check='%(objecttype) %(objectsize)' | awk '$1=="blob" {t+=$2} END {printf "%.0f\n", t}')
planted=$(ls "$WORK/corpus/planted" 2>/dev/null | wc -l)
[ "$HISTORY" = real ] && planted=0
# (a repository with missing blobs, as stored snapshots that leave out the
# largest files are, makes git log -p stop: the count is then partial, and
# gitleaks, which reads git log -p, cannot scan it; the script says so)
rm -f "$WORK/out/git-log-failed"
added_bytes=$( { git -C "$REPO" log --all -p -U0 --no-color --no-ext-diff --format= 2>/dev/null || touch "$WORK/out/git-log-failed"; } | LC_ALL=C awk '/^\+/ && !/^\+\+\+ / {t+=length($0)} END {printf "%.0f\n", t}')
if [ -f "$WORK/out/git-log-failed" ]; then
  echo "!! git log -p fails on this repository (missing objects): gitleaks cannot scan it; its figures below are not comparable"
fi
echo "== history: $commits commits, $((blob_bytes / 1000000)) MB of unique blobs, $((added_bytes / 1000000)) MB of added lines, $planted planted files (half deleted later)"

rm -f "$WORK"/out/git_*.times
export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef
for i in $(seq "$RUNS"); do
  timeit git_gitleaks "$TOOLS/gitleaks" git "$REPO" --no-banner --exit-code 0 --report-format json --report-path "$WORK/out/git_gitleaks.json"
  timeit git_credscan "$TOOLS/credscan" scan git "$REPO" --format json -o "$WORK/out/git_credscan.json"
done
[ "$RUNS" -gt 0 ] || exit 0

if [ "$planted" = 0 ]; then
  found_gl=-; found_cs=-; hist_cs=-
else
found_gl=$(python3 -c "import json; d=json.load(open('$WORK/out/git_gitleaks.json')); print(len({f['File'] for f in d if f['File'].startswith('planted/')}))")
found_cs=$(python3 -c "import json; d=json.load(open('$WORK/out/git_credscan.json')); print(len({f['origin']['path'] for f in d['findings'] if f['origin']['path'].startswith('planted/')}))")
hist_cs=$(python3 -c "import json; d=json.load(open('$WORK/out/git_credscan.json')); print(len({f['origin']['path'] for f in d['findings'] if f['origin']['path'].startswith('planted/') and 'git:history-only' in (f.get('tags') or [])}))")
fi

printf '\n%-14s %9s %10s %9s %9s %10s\n' tool seconds commits/s "MB/s" peakRSS planted
report() {
  local secs rss
  read -r secs rss < <(medstats "$1")
  printf '%-14s %9.2f %10.0f %9.1f %7dMB %10s\n' "$1" "$secs" "$(echo "$commits / $secs" | bc -l)" "$(echo "$blob_bytes / 1000000 / $secs" | bc -l)" "$rss" "$2"
}
report git_gitleaks "$found_gl/$planted"
report git_credscan "$found_cs/$planted"
python3 - "$WORK/out/git_gitleaks.json" "$WORK/out/git_credscan.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
print(f"findings: gitleaks {len(g)}, credscan {len(c['findings'])} ({len({f['fingerprint'] for f in c['findings']})} distinct secrets)")
PY
echo "credscan marked $hist_cs planted files as history-only (deleted later)"
printf '\nratio credscan / gitleaks: %.1fx\n' "$(echo "$(cat "$WORK/out/git_gitleaks.median") / $(cat "$WORK/out/git_credscan.median")" | bc -l)"
