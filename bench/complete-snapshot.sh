#!/usr/bin/env bash
# Makes a complete repository out of an incomplete one, so that tools that
# read `git log -p` (gitleaks) can scan its whole history.
#
# The `fetch` tool's stored snapshots of large public repositories leave out
# a few of their largest blobs (`git fsck` reports broken links; 55 of
# prometheus/prometheus's 64,902 reachable blobs). `git log -p` stops at the
# first one it cannot read, so gitleaks stops too. This script rewrites the
# history with every missing blob's path deleted where a commit would have
# added or changed it, and everything else kept: the same commits (new IDs:
# their trees change), merges, branches, tags, authors and dates. Both tools
# then scan the same, complete history.
#
#   bench/complete-snapshot.sh SRC.git DST.git
#
# SRC is a bare clone of the snapshot (branches and tags). DST is created
# (replaced if it exists); it holds its own objects (no alternates). It takes
# seconds: fast-export --no-data writes no blob, the blobs are shared while
# importing, and the repack reuses the snapshot's deltas.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 SRC.git DST.git" >&2; exit 2; }
src=$(cd "$1" && pwd)
dst=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

git -C "$src" rev-list --objects --all --missing=print | sed -n 's/^?//p' > "$tmp/missing"
echo "== $(wc -l < "$tmp/missing") missing objects in $src"
rm -rf "$dst"
git init -q --bare "$dst"
echo "$src/objects" > "$dst/objects/info/alternates"
# A change line is "M MODE SHA PATH": one naming a missing blob becomes
# "D PATH" (the path is kept quoted as fast-export wrote it).
git -C "$src" fast-export --all --no-data --signed-tags=strip --reencode=no |
  awk 'FILENAME == ARGV[1] { missing[$1] = 1; next }
       /^M / && ($3 in missing) { $0 = "D " substr($0, length($1 FS $2 FS $3 FS) + 1) }
       { print }' "$tmp/missing" - |
  git -C "$dst" fast-import --quiet
# the snapshot's default branch
if head=$(git -C "$src" symbolic-ref -q HEAD); then
  git -C "$dst" symbolic-ref HEAD "$head"
fi
git -C "$dst" repack -a -d -q
rm "$dst/objects/info/alternates"
left=$(git -C "$dst" rev-list --objects --all --missing=print | grep -c '^?' || true)
[ "$left" = 0 ] || { echo "$dst still misses $left objects" >&2; exit 1; }
echo "== $dst: $(git -C "$dst" rev-list --all | wc -l) commits, $(git -C "$dst" for-each-ref | wc -l) refs, complete"
