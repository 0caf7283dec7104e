# Shared by the bench scripts (sourced; WORK must be set).

# every run reads everything: a figure is never a cache hit (bench/cache.sh
# measures the cache itself)
export CREDSCAN_CACHE=off

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timeit NAME COMMAND...: runs COMMAND, appends "seconds peak_rss_kb" to
# $WORK/out/NAME.times
timeit() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/out/$name.time1" "$@" >/dev/null 2>"$WORK/out/$name.stderr" || true
  tail -n1 "$WORK/out/$name.time1" >> "$WORK/out/$name.times"
}

# medstats NAME: prints "median_seconds max_peak_rss_mb" of NAME's runs and
# keeps the median in $WORK/out/NAME.median
medstats() {
  local secs rss
  secs=$(cut -d' ' -f1 "$WORK/out/$1.times" | median)
  rss=$(cut -d' ' -f2 "$WORK/out/$1.times" | sort -n | tail -1)
  echo "$secs" > "$WORK/out/$1.median"
  echo "$secs $((rss / 1024))"
}

# corpus_estate DIR: DIR/apps/app-00 … app-14, the corpus's directories
# (those holding files) dealt round robin, their files hard-linked at the
# same relative paths (an edit must replace a file, not write into it)
corpus_estate() {
  mkdir -p "$1/apps"
  python3 - "$WORK/corpus" "$1/apps" <<'PY'
import os, sys, shutil
src, dst = sys.argv[1], sys.argv[2]
dirs = sorted(d for d, _, fs in os.walk(src) if fs)
for i, d in enumerate(dirs):
    out = os.path.join(dst, "app-%02d" % (i % 15), os.path.relpath(d, src))
    os.makedirs(out, exist_ok=True)
    for f in os.listdir(d):
        p = os.path.join(d, f)
        if os.path.isfile(p) and not os.path.islink(p):
            try:
                os.link(p, os.path.join(out, f))
            except OSError:
                shutil.copy2(p, os.path.join(out, f))
PY
}

# estate_manifest DIR [EXTRA]: DIR/credscan.yaml naming each DIR/apps/*
# as a directory app (EXTRA: more app lines)
estate_manifest() {
  {
    echo "version: 1"
    echo "targets:"
    echo "  - name: ARP"
    echo "    hosts: [\"arp-db.prod.internal\"]"
    echo "apps:"
    for a in "$1"/apps/*; do
      echo "  - name: $(basename "$a")"
      echo "    sources: [{dir: apps/$(basename "$a")}]"
    done
    [ -z "${2:-}" ] || printf '%s\n' "$2"
  } > "$1/credscan.yaml"
}

# setup_credscan: builds credscan into $TOOLS (CS names it), fixes the
# fingerprint key, and builds the corpus when it is missing
setup_credscan() {
  mkdir -p "$TOOLS" "$WORK/out"
  export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef
  echo "== building credscan"
  go build -o "$TOOLS/credscan" ./cmd/credscan
  CS=$TOOLS/credscan
  if [ ! -f "$WORK/corpus/.done" ]; then
    echo "== the corpus is missing: building it with bench/compare-gitleaks.sh's first step"
    RUNS=0 bench/compare-gitleaks.sh >/dev/null
  fi
}
