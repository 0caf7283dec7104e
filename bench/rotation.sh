#!/usr/bin/env bash
# Measures the rotation on the real parts (Vault, PostgreSQL 15 blue and
# green, PgBouncer), with 20 clients through PgBouncer and 4 through the
# Vault pointer reconnecting continuously: credscan rotate cutover and
# rollback end to end, the peer (PAUSE, swap, RELOAD, RESUME by hand), and
# the refusal of revoke-legacy while a straggler logs in to blue. Prints
# each benchmark's figures: cutover-ms, rollback-ms, failed logins and
# transactions through each path, the worst client wait.
#
#   bench/rotation.sh            # COUNT=10 switches of each kind
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-10}
export CREDSCAN_VAULT_BIN=${CREDSCAN_VAULT_BIN:-$HOME/.cache/credscan-tools/vault-1.21.0}
[ -x "$CREDSCAN_VAULT_BIN" ] || { echo "needs the Vault test server (.ci/run builds it into $CREDSCAN_VAULT_BIN)"; exit 2; }
command -v pgbouncer >/dev/null || { echo "needs pgbouncer (apt-get install pgbouncer)"; exit 2; }
go test -run x -bench Rotation -benchtime "${COUNT}x" -count 1 ./rotation/ | grep -E '^Benchmark' | sed 's/-2 / /' | awk '{
  printf "%s (%s runs): %.0f ms per run\n", $1, $2, $3 / 1e6
  for (i = 5; i < NF; i += 2) printf "  %-18s %s\n", $(i+1), $i
}'
