#!/usr/bin/env bash
# Times `credscan tui` from the process's start to the first frame that
# shows every app, in a real terminal (tmux, 120x40), on an estate of 15 apps
# whose tracker is the local file (each app scanned, so each has an
# inventory); and, as the peer in the same run, `credscan status` printing
# the same 15 apps. Prints the medians and the ratio.
#
#   bench/tui-first-frame.sh        # RUNS=15
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-15}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
command -v tmux >/dev/null || { echo "needs tmux (apt-get install tmux)"; exit 2; }
mkdir -p "$WORK/tools" "$WORK/out"
go build -o "$WORK/tools/credscan" ./cmd/credscan
CS=$WORK/tools/credscan
E=$WORK/tui-estate
rm -rf "$E"; mkdir -p "$E"
export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef
{
  printf 'version: 1\ntargets:\n  - name: ARP\n    hosts: [arp-db.prod.internal]\napps:\n'
  for i in $(seq -w 1 15); do
    printf '  - name: app-%s\n    owner: team-%s\n    wave: %s\n    sources: [{dir: app-%s}]\n' "$i" $((10#$i % 5)) $((1 + 10#$i % 3)) "$i"
    mkdir -p "$E/app-$i"
    printf 'DATABASE_URL=postgres://arp_app:Bench%sPw%s@arp-db.prod.internal:5432/arp\n' "$i" "$RANDOM$RANDOM" > "$E/app-$i/.env"
  done
} > "$E/credscan.yaml"
"$CS" scan estate -m "$E/credscan.yaml" --quiet >/dev/null 2>&1 || true

now_ms() { date +%s%N | cut -c1-13; }
: > "$WORK/out/tui.ms"; : > "$WORK/out/status.ms"
SOCK=credscan-bench-$$
trap 'tmux -L $SOCK kill-server 2>/dev/null || true' EXIT
for _ in $(seq "$RUNS"); do
  t0=$(now_ms)
  tmux -L "$SOCK" -f /dev/null new-session -d -s b -x 120 -y 40 env NO_COLOR=1 "$CS" tui -m "$E/credscan.yaml"
  until tmux -L "$SOCK" capture-pane -p -t b 2>/dev/null | grep -q 'app-15'; do sleep 0.002; done
  t1=$(now_ms)
  tmux -L "$SOCK" kill-server
  echo $((t1 - t0)) >> "$WORK/out/tui.ms"
  t0=$(now_ms)
  "$CS" status -m "$E/credscan.yaml" >/dev/null
  t1=$(now_ms)
  echo $((t1 - t0)) >> "$WORK/out/status.ms"
done
tui=$(median < "$WORK/out/tui.ms"); st=$(median < "$WORK/out/status.ms")
echo "credscan tui, start to the first frame with all 15 apps (tmux, median of $RUNS): ${tui} ms"
echo "credscan status, the same 15 apps (median of $RUNS):                         ${st} ms"
awk -v a="$tui" -v b="$st" 'BEGIN { printf "ratio tui/status: %.2f\n", a/b }'
