#!/usr/bin/env bash
# Builds bench/.work/corpus-mods: module versions picked at random (SEED)
# from this machine's Go module cache until MB megabytes of content, every
# file kept (testdata, archives, binaries), hard-linked. Run
# DIR=bench/.work/corpus-mods bench/compare-gitleaks.sh on it. What it
# holds depends on the machine's module cache: the figures in
# docs/performance.md name the count and size it gave there.
#
#   bench/mkcorpus-mods.sh        # SEED=4 MB=460
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/.work/corpus-mods}
rm -rf "$OUT"
mkdir -p "$OUT"
python3 - "$(go env GOMODCACHE)" "$OUT" "${SEED:-4}" "${MB:-460}" <<'PY'
import os, random, shutil, sys
mc, out, seed, mb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
mods = []
for d, dirs, _ in os.walk(mc):
    rel = os.path.relpath(d, mc)
    if rel == "cache":
        dirs[:] = []
        continue
    if "@" in os.path.basename(d):
        mods.append("./" + rel)
        dirs[:] = []  # a module version: nothing nested is another
    elif rel.count(os.sep) >= 3:
        dirs[:] = []  # module versions are looked for 4 levels deep
mods.sort()
random.seed(seed)
random.shuffle(mods)
budget, total, picked = mb * 1000 * 1000, 0, 0
for m in mods:
    src = os.path.join(mc, m)
    files = [(os.path.join(d, f), os.path.join(out, m, os.path.relpath(d, src), f))
             for d, _, fs in os.walk(src) for f in fs if not os.path.islink(os.path.join(d, f))]
    size = sum(os.path.getsize(s) for s, _ in files)
    if total + size > budget:
        continue
    for s, t in files:
        os.makedirs(os.path.dirname(t), exist_ok=True)
        try:
            os.link(s, t)
        except OSError:
            shutil.copy2(s, t)
    total += size
    picked += 1
    if total > budget * 0.98:
        break
print(f"{picked} module versions, {total // 1000000} MB in {out}")
PY
