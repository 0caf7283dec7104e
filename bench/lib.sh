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
