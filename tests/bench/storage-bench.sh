#!/usr/bin/env bash
# The TroupeDB storage-engine benchmark (resources/docs/benchmarks.md): builds
# troupe-storage-bench in a release tree (build/bench), runs it in a temporary directory on the
# same disk as the repository, and leaves JSON + Markdown results in --out.
#
#   tests/bench/storage-bench.sh [--quick] [--actors N] [--out DIR] [other bench options]
#
# Options other than --out are passed to the program (see `troupe-storage-bench --help`).
# A benchmark, not a test: it never fails because a number is low.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$repo/build/bench"
out="$build/results"
args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --out)
        [[ $# -ge 2 ]] || { echo "--out needs a directory" >&2; exit 2; }
        out="$2"
        shift 2
        ;;
    --out=*)
        out="${1#--out=}"
        shift
        ;;
    -h | --help)
        sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        args+=("$1")
        shift
        ;;
    esac
done

echo "== building troupe-storage-bench (RelWithDebInfo) in $build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2 troupe-storage-bench

# The data must live on the disk under test, not in memory: next to the build tree.
mkdir -p "$build"
work="$(mktemp -d "$build/storage-bench.XXXXXX")"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

fstype="$(stat -f -c %T "$work")"
echo "== temporary directory $work"
echo "   file system: $fstype; $(df -hP "$work" | awk 'NR == 2 { print $1 " mounted at " $6 ", " $4 " free" }')"
case "$fstype" in
tmpfs | ramfs)
    echo "error: $work is on $fstype (memory); durable-write figures would be meaningless" >&2
    exit 2
    ;;
esac

revision="$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)"
mkdir -p "$out"
"$build/tests/bench/troupe-storage-bench" --dir "$work" --out "$out" --revision "$revision" \
    "${args[@]}"
