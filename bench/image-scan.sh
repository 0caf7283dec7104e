#!/usr/bin/env bash
# Times `credscan scan image` on a large image of real files (Go's toolchain
# tree and the module caches, cut at BASE_MB, as several gzip layers) with
# the planted credential files on top: from an OCI layout and from the real
# registry server of the docker-registry Debian package on loopback, against
# `credscan scan dir` of the same files; then 15 app images that share the
# base against one of them. Prints MB/s, peak RSS and the ratios.
#
#   bench/image-scan.sh        # RUNS=3 BASE_MB=520
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-3}
BASE_MB=${BASE_MB:-520}
TOOLS=$WORK/tools
IMG=$WORK/image
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$TOOLS" "$WORK/out"
command -v docker-registry >/dev/null || { echo "needs the docker-registry Debian package (apt-get install docker-registry)"; exit 2; }
[ -f "$WORK/corpus/.done" ] || RUNS=0 bench/compare-gitleaks.sh >/dev/null
go build -o "$TOOLS/credscan" ./cmd/credscan

# the registry, on a free loopback port with its own storage
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
rm -rf "$IMG"; mkdir -p "$IMG/registry"
cat > "$IMG/registry.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $IMG/registry}}
http: {addr: $REG}
YML
docker-registry serve "$IMG/registry.yml" >"$IMG/registry.log" 2>&1 &
REGPID=$!
trap 'kill $REGPID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://$REG/v2/" >/dev/null && break; sleep 0.1; done

GOROOT=$(go env GOROOT); MODS=$(go env GOMODCACHE)
echo "== building the images (base of $BASE_MB MB) and pushing them to $REG"
go run ./bench/mkimage -budget $((BASE_MB << 20)) -planted "$WORK/corpus/planted" -out "$IMG/layout" -extract "$IMG/files" -push "$REG" \
  -layer "$GOROOT/src" -layer "$GOROOT/pkg" -layer "$MODS/github.com" -layer "$MODS/golang.org" -layer "$WORK/modcache"
files_bytes=$(du -sb "$IMG/files" | cut -f1)

rm -f "$WORK"/out/img_*.times
export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef
apps=(); for i in $(seq -w 0 14); do apps+=("$REG/app$i:1"); done
for _ in $(seq "$RUNS"); do
  timeit img_dir "$TOOLS/credscan" scan dir "$IMG/files" --format json -o "$WORK/out/img_dir.json"
  timeit img_layout "$TOOLS/credscan" scan image "oci:$IMG/layout" --format json -o "$WORK/out/img_layout.json"
  timeit img_registry "$TOOLS/credscan" scan image "$REG/big:1" --insecure --format json -o "$WORK/out/img_registry.json"
  timeit img_one_app "$TOOLS/credscan" scan image "${apps[0]}" --insecure --format json -o "$WORK/out/img_one_app.json"
  timeit img_15_apps "$TOOLS/credscan" scan image "${apps[@]}" --insecure --format json -o "$WORK/out/img_15_apps.json"
done
planted=$(ls "$WORK/corpus/planted" | wc -l)
found() { python3 -c "import json; d=json.load(open('$WORK/out/$1.json')); print(len({f['origin']['path'].split('/')[-1] for f in d['findings'] if 'planted/' in f['origin']['path']}))"; }
printf '\n%-14s %9s %9s %9s %9s\n' run seconds "MB/s" peakRSS planted
report() {
  local secs rss
  read -r secs rss < <(medstats "$1")
  printf '%-14s %9.2f %9.1f %7dMB %9s\n' "$1" "$secs" "$(echo "$files_bytes / 1000000 / $secs" | bc -l)" "$rss" "$2"
}
report img_dir "$(found img_dir)/$planted"
report img_layout "$(found img_layout)/$planted"
report img_registry "$(found img_registry)/$planted"
report img_one_app "-"
report img_15_apps "-"
m() { cat "$WORK/out/$1.median"; }
printf '\nimage (layout) / dir: %.2fx   image (registry) / dir: %.2fx   15 images / 1 image: %.2fx\n' \
  "$(echo "$(m img_layout) / $(m img_dir)" | bc -l)" "$(echo "$(m img_registry) / $(m img_dir)" | bc -l)" "$(echo "$(m img_15_apps) / $(m img_one_app)" | bc -l)"
