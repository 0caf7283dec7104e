#!/usr/bin/env bash
# Compares credscan with gitleaks v8.30.1 (built as its releases are, with
# -tags gore2regex) on a corpus of real files from this machine (Go's source
# tree, the Go module cache, and a few large public modules fetched through
# the module proxy into $WORK/modcache) with planted credentials of every format the
# DB pack covers. Prints MB/s (median of RUNS), the ratio, peak RSS and how
# many planted credentials each tool found; with the known-secret sweep on
# (--sweep, and --known-from-vault with KNOWN=100 passwords in a Vault dev
# server when the Vault test binary is there) and what it adds.
#
# DIR=PATH runs them on any directory instead (a module cache sample, a
# project's work tree), nothing planted: the planted column shows "-".
#
#   bench/compare-gitleaks.sh            # RUNS=3 CORPUS_MB=320 by default
#   DIR=/path/to/tree bench/compare-gitleaks.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-$ROOT/bench/.work}
RUNS=${RUNS:-3}
CORPUS_MB=${CORPUS_MB:-320}
# real, public Go sources added to the corpus (a fresh machine has too few)
EXTRA_MODULES=${EXTRA_MODULES:-"k8s.io/api@v0.37.2 k8s.io/client-go@v0.37.2 github.com/hashicorp/vault/api@v1.23.0 github.com/aws/aws-sdk-go-v2/service/ec2@v1.344.2 github.com/prometheus/prometheus@v0.316.0"}
TOOLS=$WORK/tools
CORPUS=$WORK/corpus
[ -z "${DIR:-}" ] || CORPUS=$(cd "$DIR" && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
mkdir -p "$TOOLS" "$WORK/out"

if [ ! -x "$TOOLS/gitleaks" ]; then
  echo "== installing gitleaks v8.30.1 (-tags gore2regex)"
  GOBIN=$TOOLS go install -tags gore2regex github.com/zricethezav/gitleaks/v8@v8.30.1
fi
if ! command -v rg >/dev/null && command -v apt-get >/dev/null; then
  echo "== installing ripgrep (Debian package) for the DB pack comparison"
  (apt-get install -y ripgrep >/dev/null 2>&1 || sudo -n apt-get install -y ripgrep >/dev/null 2>&1) || echo "   ripgrep not installed: its line is skipped"
fi
echo "== building credscan"
go build -o "$TOOLS/credscan" ./cmd/credscan

if [ -z "${DIR:-}" ] && [ "$(cat "$CORPUS/.done" 2>/dev/null)" != "$CORPUS_MB $EXTRA_MODULES" ]; then
  echo "== building a ${CORPUS_MB} MB corpus from Go's source tree and module cache"
  rm -rf "$CORPUS"; mkdir -p "$CORPUS/real"
  # shellcheck disable=SC2086
  GOMODCACHE=$WORK/modcache GOFLAGS=-modcacherw go mod download $EXTRA_MODULES
  budget=$((CORPUS_MB * 1000 * 1000))
  find "$(go env GOROOT)/src" "$(go env GOMODCACHE)" "$WORK/modcache" -path '*/cache/download' -prune -o -type f -size -2000k \( -name '*.go' -o -name '*.md' -o -name '*.txt' -o -name '*.yml' -o -name '*.yaml' -o -name '*.json' -o -name '*.sh' -o -name '*.s' -o -name '*.c' -o -name '*.h' -o -name '*.html' -o -name '*.js' -o -name '*.toml' -o -name '*.xml' -o -name '*.py' \) -printf '%s\t%p\n' \
    | sort -t$'\t' -k2 | awk -F'\t' -v b="$budget" '{ if (t < b) print $2; t += $1 }' \
    | tar -cf - -T - 2>/dev/null | tar -xf - -C "$CORPUS/real"
  echo "   copied $(($(du -sb "$CORPUS/real" | cut -f1) / 1000000)) MB"
  go run ./bench/plant -dir "$CORPUS/planted" -n 200
  echo "$CORPUS_MB $EXTRA_MODULES" > "$CORPUS/.done"
fi
corpus_bytes=$(du -sb "$CORPUS" | cut -f1)
planted=$({ ls "$CORPUS/planted" 2>/dev/null || true; } | wc -l)
echo "== corpus: $((corpus_bytes / 1000000)) MB, $planted planted credential files"

[ "$RUNS" -gt 0 ] || exit 0 # the corpus only (bench/compare-gitleaks-git.sh)


rm -f "$WORK"/out/*.times "$WORK"/out/*.median
export CREDSCAN_FINGERPRINT_KEY=bench-key-0123456789abcdef

# The known-secret sweep (issue 17): --sweep, and --known-from-vault with
# KNOWN (default 100) random passwords in a real Vault dev server (the
# Vault test binary .ci/run builds), when one is there.
KNOWN=${KNOWN:-100}
VAULT_BIN=${CREDSCAN_VAULT_BIN:-$HOME/.cache/credscan-tools/vault-1.21.0}
sweep_vault=""
if [ -x "$VAULT_BIN" ] && [ "$KNOWN" -gt 0 ]; then
  port=$((18000 + RANDOM % 1000))
  "$VAULT_BIN" server -dev -dev-root-token-id=bench -dev-listen-address="127.0.0.1:$port" >"$WORK/out/vault.log" 2>&1 &
  vault_pid=$!
  trap 'kill $vault_pid 2>/dev/null || true' EXIT
  export VAULT_ADDR="http://127.0.0.1:$port" VAULT_TOKEN=bench
  for _ in $(seq 50); do "$VAULT_BIN" status >/dev/null 2>&1 && break; sleep 0.2; done
  echo "== writing $KNOWN known passwords to Vault (secret/bench/known/)"
  for i in $(seq "$KNOWN"); do
    "$VAULT_BIN" kv put -mount=secret "bench/known/k$i" username="u$i" password="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" >/dev/null
  done
  sweep_vault=1
elif [ "$KNOWN" -gt 0 ]; then
  echo "   no Vault binary at $VAULT_BIN: the --known-from-vault line is skipped"
fi
# credscan opens archives (jar, war, zip, tar, tar.gz) three deep; gitleaks
# opens none unless told: on a corpus that holds archives, gitleaks also
# runs with --max-archive-depth 3, the same work
archives=$(find "$CORPUS" -type f \( -iname '*.zip' -o -iname '*.jar' -o -iname '*.war' -o -iname '*.ear' -o -iname '*.tar' -o -iname '*.tgz' -o -iname '*.tar.gz' \) | wc -l)
for i in $(seq "$RUNS"); do
  timeit gitleaks "$TOOLS/gitleaks" dir "$CORPUS" --no-banner --exit-code 0 --report-format json --report-path "$WORK/out/gitleaks.json"
  if [ "$archives" -gt 0 ]; then
    timeit gitleaks_arch3 "$TOOLS/gitleaks" dir "$CORPUS" --max-archive-depth 3 --no-banner --exit-code 0 --report-format json --report-path "$WORK/out/gitleaks_arch3.json"
  fi
  timeit credscan_all "$TOOLS/credscan" scan dir "$CORPUS" --format json -o "$WORK/out/credscan_all.json"
  timeit credscan_db "$TOOLS/credscan" scan dir "$CORPUS" --rules db --format json -o "$WORK/out/credscan_db.json"
  timeit credscan_sweep "$TOOLS/credscan" scan dir "$CORPUS" --sweep --format json -o "$WORK/out/credscan_sweep.json"
  if [ -n "$sweep_vault" ]; then
    timeit credscan_known "$TOOLS/credscan" scan dir "$CORPUS" --known-from-vault bench/known/ --format json -o "$WORK/out/credscan_known.json"
  fi
  if command -v rg >/dev/null; then
    timeit ripgrep rg -c -e 'postgres(ql)?://' -e 'jdbc:[a-z]+:' -e '[Pp][Aa][Ss][Ss][Ww]([Oo][Rr])?[Dd]\s*[=:]' -e 'PGPASSWORD' -e '[Pp]wd=' -e 'mysql://' -e 'mongodb(\+srv)?://' -e 'redis://' -e 'sqlserver://' -e '[Uu]ser [Ii]d=' -e 'PASSWORD\s+'"'" -e 'new\s+PDO' -e 'DATABASE_URL' -e 'datasource' -e 'DB_PASS' -e 'POSTGRES_PASSWORD' -e 'MYSQL_PASSWORD' -e 'kind: Secret' -e 'pgpass' -e 'Server=' "$CORPUS"
  fi
done

found_gl=$(python3 -c "import json,sys; d=json.load(open('$WORK/out/gitleaks.json')); print(len({f['File'] for f in d if '/planted/' in f['File']}))")
found_cs() { python3 -c "import json; d=json.load(open('$1')); print(len({f['origin']['path'] for f in d['findings'] if f['origin']['path'].startswith('planted/')}))"; }
# pl N: "N/planted", or "-" when nothing is planted (DIR=)
pl() { if [ "$planted" = 0 ]; then echo -; else echo "$1/$planted"; fi; }

printf '\n%-14s %9s %9s %10s %8s\n' tool seconds "MB/s" "peakRSS" planted
report() { # name, planted
  local secs rss
  read -r secs rss < <(medstats "$1")
  printf '%-14s %9.2f %9.1f %8dMB %8s\n' "$1" "$secs" "$(echo "$corpus_bytes / 1000000 / $secs" | bc -l)" "$rss" "$2"
}
report gitleaks "$(pl "$found_gl")"
[ -f "$WORK/out/gitleaks_arch3.times" ] && report gitleaks_arch3 "-"
report credscan_all "$(pl "$(found_cs "$WORK/out/credscan_all.json")")"
report credscan_db "$(pl "$(found_cs "$WORK/out/credscan_db.json")")"
report credscan_sweep "$(pl "$(found_cs "$WORK/out/credscan_sweep.json")")"
[ -f "$WORK/out/credscan_known.times" ] && report credscan_known "$(pl "$(found_cs "$WORK/out/credscan_known.json")")"
[ -f "$WORK/out/ripgrep.times" ] && report ripgrep "-"
gl=$(cat "$WORK/out/gitleaks.median"); ca=$(cat "$WORK/out/credscan_all.median"); cd_=$(cat "$WORK/out/credscan_db.median")
printf '\nratio credscan (all rules) / gitleaks: %.1fx\n' "$(echo "$gl / $ca" | bc -l)"
printf 'ratio credscan (--rules db) / gitleaks: %.1fx\n' "$(echo "$gl / $cd_" | bc -l)"
if [ -f "$WORK/out/gitleaks_arch3.median" ]; then
  printf 'ratio credscan (all rules) / gitleaks --max-archive-depth 3 (both open the %s archives): %.1fx\n' "$archives" "$(echo "$(cat "$WORK/out/gitleaks_arch3.median") / $ca" | bc -l)"
fi
cs=$(cat "$WORK/out/credscan_sweep.median")
printf 'ratio credscan (all rules, --sweep) / gitleaks: %.1fx; the sweep adds %.0f%%\n' "$(echo "$gl / $cs" | bc -l)" "$(echo "($cs / $ca - 1) * 100" | bc -l)"
if [ -f "$WORK/out/credscan_known.median" ]; then
  ck=$(cat "$WORK/out/credscan_known.median")
  printf 'with %s passwords from Vault (--known-from-vault, one pass, Vault reads included): %.1fx gitleaks; the sweep adds %.0f%%\n' "$KNOWN" "$(echo "$gl / $ck" | bc -l)" "$(echo "($ck / $ca - 1) * 100" | bc -l)"
fi
if [ -f "$WORK/out/ripgrep.median" ]; then
  printf 'ratio ripgrep / credscan (--rules db): %.1fx\n' "$(echo "$cd_ / $(cat "$WORK/out/ripgrep.median")" | bc -l)"
fi

# agreement on the real (unplanted) files: gitleaks' file:line locations
# that credscan reports too
python3 - "$WORK/out/gitleaks.json" "$WORK/out/credscan_all.json" "$CORPUS/" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2])); root = sys.argv[3]
gl = {(f['File'].replace(root, ''), f['StartLine']) for f in g if '/planted/' not in f['File']}
cl = {(f['origin']['path'], f['origin']['line']) for f in c['findings'] if not f['origin']['path'].startswith('planted/')}
print(f"real files: credscan reports {len(gl & cl)} of gitleaks' {len(gl)} file:line locations, and {len(cl - gl)} more")
for p, l in sorted(gl - cl):
    print(f"  missed: {p}:{l}")
PY
