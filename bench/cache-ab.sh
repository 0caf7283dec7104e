#!/usr/bin/env bash
# Compares credscan binaries on bench/cache.sh's estate edit case, runs
# interleaved (A B A B ...) so that the machine's drift falls on all of
# them alike: for each binary, a first run from an empty cache, then one
# Go file of app-03 edited, then RUNS second runs each from a copy of that
# binary's first-run cache. Prints, per binary, the median and minimum
# wall seconds and CPU seconds (user + system) of the second runs, and
# whether its report equals the first binary's uncached one.
#
#   bench/cache.sh                       # builds the estate (once)
#   RUNS=20 bench/cache-ab.sh /tmp/credscan-old /tmp/credscan-new
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-20}
E=$WORK/cache-estate
[ -f "$E/credscan.yaml" ] || { echo "no estate: run bench/cache.sh first" >&2; exit 2; }
[ $# -ge 1 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["stats"].pop("cached",None); print(json.dumps(d,sort_keys=True))' "$1"; }

rm -f "$E/apps/app-03/changed.env" # (bench/cache.sh's last case)
sleep 3                            # a file changed within 2 s of a scan is read whatever the cache says
i=0
for b in "$@"; do
  "$b" scan estate -m "$E/credscan.yaml" --cache "$T/cold-$i" -f json -o "$T/first.json" >/dev/null 2>&1 || true
  i=$((i + 1))
done
f=$(find "$E/apps/app-03" -name '*.go' -size +2k -print -quit)
cp "$f" "$f.new" && echo "// edited by cache-ab.sh" >>"$f.new" && mv "$f.new" "$f"
"$1" scan estate -m "$E/credscan.yaml" --no-cache -f json -o "$T/uncached.json" >/dev/null 2>&1 || true
strip "$T/uncached.json" >"$T/want"
for _ in $(seq "$RUNS"); do
  i=0
  for b in "$@"; do
    rm -rf "$T/run" && cp -r "$T/cold-$i" "$T/run"
    /usr/bin/time -f "%e %U %S" -o "$T/t" "$b" scan estate -m "$E/credscan.yaml" --cache "$T/run" -f json -o "$T/out-$i.json" >/dev/null 2>&1 || true
    echo "$i $(tail -1 "$T/t")" >>"$T/times"
    i=$((i + 1))
  done
done
i=0
for b in "$@"; do
  if [ "$(strip "$T/out-$i.json")" = "$(cat "$T/want")" ]; then same=identical; else same=DIFFERENT; fi
  python3 - "$T/times" "$i" "$b" "$same" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split()[0] == sys.argv[2]]
wall = [float(r[1]) for r in rows]
cpu = [float(r[2]) + float(r[3]) for r in rows]
print("%s: wall median %.3f s (min %.3f), CPU median %.3f s (min %.3f), %d runs; report vs uncached: %s"
      % (sys.argv[3], statistics.median(wall), min(wall), statistics.median(cpu), min(cpu), len(rows), sys.argv[4]))
EOF
  i=$((i + 1))
done
