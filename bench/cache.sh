#!/usr/bin/env bash
# Measures the scan cache (--cache) on real data, each second run against
# the first run of the same command in the same invocation:
#
# 1. history: a real repository (REPO=PATH, a clone or a bare mirror; by
#    default the history the bench builds from the corpus) whose default
#    branch is first scanned without its last 20 commits, cache cold; the
#    20 commits are put back and the history scanned again with the cache.
#    The second run's findings are compared with an uncached scan of the
#    whole history.
# 2. estate: the bench corpus (Go's source tree, the module cache, public
#    modules: bench/compare-gitleaks.sh builds it) cut into 15 apps of a
#    manifest; scanned cold, then one file of one app is edited (no
#    password) and the estate scanned again from that cache; then a
#    password is added to that app (the sweep must then search every byte
#    for it) and again. Each second run's report is compared with an
#    uncached scan. The estate's runs go in rounds (first, edit,
#    password), so that each second run is compared with the first run
#    beside it in time.
#
# Prints wall seconds and peak RSS of each run (median of RUNS, the first
# runs each from an empty cache), the ratio second/first (for the estate,
# the median of the rounds' ratios, and each), and whether the reports
# agree.
#
#   bench/cache.sh                                  # RUNS=3
#   REPO=/work/bench-repos/etcd-io+etcd.git bench/cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-3}
TOOLS=$WORK/tools
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
setup_credscan
rm -f "$WORK"/out/cache-*.times

# strip FILE: the JSON report without stats.cached, the one figure a
# cached run may differ in
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["stats"].pop("cached",None); print(json.dumps(d,sort_keys=True))' "$1"; }
# hits FILE WHAT: "N of M WHAT known clean"
hits() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stats"]; print("%d of %d %s known clean" % (s.get("cached",0), s["items"], sys.argv[2]))' "$1" "$2"; }

# ---- 1. history after 20 new commits
SRC=${REPO:-}
if [ -z "$SRC" ]; then
  SRC=$WORK/history
  if [ ! -d "$SRC" ]; then
    echo "== no history yet: building it with bench/compare-gitleaks-git.sh's first step"
    RUNS=0 bench/compare-gitleaks-git.sh >/dev/null
  fi
fi
H=$WORK/cache-history.git
rm -rf "$H"
git clone -q --bare "$SRC" "$H" 2>/dev/null || git clone -q --bare --no-local "$SRC" "$H"
BR=$(git -C "$H" symbolic-ref --short HEAD)
TIP=$(git -C "$H" rev-parse "$BR")
# one branch: the default, 20 commits back (first-parent)
git -C "$H" for-each-ref --format='%(refname)' | grep -v "^refs/heads/$BR\$" | xargs -r -n1 git -C "$H" update-ref -d
git -C "$H" update-ref "refs/heads/$BR" "$(git -C "$H" rev-parse "$TIP~20")"
commits=$(git -C "$H" rev-list --count "$TIP")
echo "== history: $SRC, branch $BR, $commits commits; first run at $BR~20"
C=$WORK/cache-dir-history
for _ in $(seq "$RUNS"); do # each first run from an empty cache; the last one's is kept
  rm -rf "$C"
  timeit cache-history-first "$CS" scan git "$H" --cache "$C" -f json -o "$WORK/out/cache-history-first.json"
done
git -C "$H" update-ref "refs/heads/$BR" "$TIP"
timeit cache-history-uncached "$CS" scan git "$H" --no-cache -f json -o "$WORK/out/cache-history-uncached.json"
for _ in $(seq "$RUNS"); do
  cp -r "$C" "$C.run" # each second run starts from the first run's cache
  timeit cache-history-second "$CS" scan git "$H" --cache "$C.run" -f json -o "$WORK/out/cache-history-second.json"
  rm -rf "$C.run"
done
if [ "$(strip "$WORK/out/cache-history-second.json")" = "$(strip "$WORK/out/cache-history-uncached.json")" ]; then hsame=identical; else hsame=DIFFERENT; fi
hcached=$(hits "$WORK/out/cache-history-second.json" blobs)

# ---- 2. estate after one app changed
E=$WORK/cache-estate
rm -rf "$E"
corpus_estate "$E" # 15 apps
estate_manifest "$E"
C2=$WORK/cache-dir-estate
# a. an edit that adds no password: a line appended to a Go file of app-03
# (a new file: the corpus is hard-linked); b. then a new password in
# app-03 (the sweep must search every byte for it)
f=$(find "$E/apps/app-03" -name '*.go' -size +2k -print -quit)
cp "$f" "$WORK/out/cache-estate-orig"
pw="DB_PASSWORD=Cache-bench-pw-$RANDOM"
# Each round: the estate as it was, a first run from an empty cache, the
# edit and a second run from a copy of that cache, the password and
# another. A round's runs follow each other, so the machine's drift (a
# fifth, or more, within an hour here) falls on the first run and its
# second runs alike; the share reported is the median of the rounds'.
for _ in $(seq "$RUNS"); do
  rm -f "$E/apps/app-03/changed.env"
  cp "$WORK/out/cache-estate-orig" "$f.new" && mv "$f.new" "$f"
  sleep 3 # a file changed within 2 s of a scan is read, whatever the cache says
  rm -rf "$C2"
  timeit cache-estate-first "$CS" scan estate -m "$E/credscan.yaml" --cache "$C2" -f json -o "$WORK/out/cache-estate-first.json"
  cp "$f" "$f.new" && echo "// edited" >> "$f.new" && mv "$f.new" "$f"
  rm -rf "$C2.run"; cp -r "$C2" "$C2.run"
  timeit cache-estate-edit "$CS" scan estate -m "$E/credscan.yaml" --cache "$C2.run" -f json -o "$WORK/out/cache-estate-edit.json"
  printf 'DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\n%s\n' "$pw" > "$E/apps/app-03/changed.env"
  rm -rf "$C2.run"; cp -r "$C2" "$C2.run"
  timeit cache-estate-password "$CS" scan estate -m "$E/credscan.yaml" --cache "$C2.run" -f json -o "$WORK/out/cache-estate-password.json"
done
rm -rf "$C2.run"
# each second run's report against an uncached scan of the same estate
uncached() { # NAME
  timeit "cache-estate-$1-uncached" "$CS" scan estate -m "$E/credscan.yaml" --no-cache -f json -o "$WORK/out/cache-estate-$1-uncached.json"
  if [ "$(strip "$WORK/out/cache-estate-$1.json")" = "$(strip "$WORK/out/cache-estate-$1-uncached.json")" ]; then echo identical; else echo DIFFERENT; fi > "$WORK/out/cache-estate-$1.same"
}
uncached password
rm -f "$E/apps/app-03/changed.env"
uncached edit
printf 'DB_HOST=arp-db.prod.internal\nDB_USER=arp_app\n%s\n' "$pw" > "$E/apps/app-03/changed.env"
mb=$(du -sm "$WORK/corpus" | cut -f1)

echo
printf '%-34s %9s %9s\n' run seconds peakRSS
for n in cache-history-first cache-history-uncached cache-history-second cache-estate-first cache-estate-edit-uncached cache-estate-edit cache-estate-password-uncached cache-estate-password; do
  read -r s r < <(medstats "$n")
  printf '%-34s %9s %7sMB\n' "$n" "$s" "$r"
done
pct() { awk -v a="$(cat "$WORK/out/$1.median")" -v b="$(cat "$WORK/out/$2.median")" 'BEGIN {printf "%.1f", 100*a/b}'; }
# roundpct A B: the median over rounds of A's time as a share of B's (the
# runs of a round side by side)
roundpct() { paste -d' ' <(cut -d' ' -f1 "$WORK/out/$1.times") <(cut -d' ' -f1 "$WORK/out/$2.times") | awk '{printf "%.1f\n", 100*$1/$2}' | median; }
# allpct A B: every round's share, in order
allpct() { paste -d' ' <(cut -d' ' -f1 "$WORK/out/$1.times") <(cut -d' ' -f1 "$WORK/out/$2.times") | awk '{printf "%s%.1f%%", (NR>1?", ":""), 100*$1/$2}'; }
echo
echo "history ($commits commits, 20 new): second run $(pct cache-history-second cache-history-first)% of the first; $hcached; report vs uncached: $hsame"
echo "estate (${mb} MB in 15 apps), one file of one app edited: second run $(roundpct cache-estate-edit cache-estate-first)% of the first (median of the rounds: $(allpct cache-estate-edit cache-estate-first)); $(hits "$WORK/out/cache-estate-edit.json" items); report vs uncached: $(cat "$WORK/out/cache-estate-edit.same")"
echo "estate, a new password in one app (the sweep reads every byte for it): second run $(roundpct cache-estate-password cache-estate-first)% of the first (rounds: $(allpct cache-estate-password cache-estate-first)); $(hits "$WORK/out/cache-estate-password.json" items); report vs uncached: $(cat "$WORK/out/cache-estate-password.same")"
