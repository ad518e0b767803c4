#!/usr/bin/env bash
# Cross-builds TroupeDB for Windows x64 with mingw-w64: the static dependencies first (if not
# already built, installers/windows/build-deps.sh), then the `windows` preset into build/windows.
# Checks that build/windows/daemon/app/troupe-server.exe imports only Windows' own DLLs.
#
#   installers/windows/build.sh
#
# Environment: TROUPE_WINDOWS_PREFIX (where the dependencies live, see build-deps.sh),
# TROUPE_JOBS (parallel jobs, default 2). Prints the path of the executable on the last line.
set -Eeuo pipefail
trap 'echo "build.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
jobs=${TROUPE_JOBS:-2}
objdump=x86_64-w64-mingw32-objdump

die() {
    echo "build.sh: error: $*" >&2
    exit 1
}

[ $# -eq 0 ] || die "no arguments expected (see the header of $0)"

start=$SECONDS
"$here/build-deps.sh" || die "building the Windows dependencies failed (installers/windows/build-deps.sh)"
TROUPE_WINDOWS_PREFIX=$("$here/build-deps.sh" --print-prefix)
export TROUPE_WINDOWS_PREFIX
deps_done=$SECONDS

cd "$repo"
build_dir=$repo/build/windows
mkdir -p "$build_dir"
cmake --preset windows "-DTROUPE_WINDOWS_PREFIX=$TROUPE_WINDOWS_PREFIX" >"$build_dir/configure.log" 2>&1 || {
    cat "$build_dir/configure.log" >&2
    die "configuring the windows preset failed"
}
cmake --build --preset windows -j "$jobs" || die "the Windows build failed"

exe=$build_dir/daemon/app/troupe-server.exe
[ -f "$exe" ] || die "$exe was not produced"

# Only Windows' own DLLs may be imported: anything else (libstdc++-6.dll, libwinpthread-1.dll,
# libcrypto-3-x64.dll, ...) would be missing on a customer's machine.
system_dlls='^(kernel32|kernelbase|ntdll|user32|gdi32|advapi32|shell32|shlwapi|ole32|oleaut32|rpcrt4|ws2_32|mswsock|iphlpapi|crypt32|bcrypt|ncrypt|secur32|userenv|psapi|dbghelp|version|msvcrt|ucrtbase|api-ms-win-[a-z0-9-]+)\.dll$'
mapfile -t dlls < <("$objdump" -p "$exe" | sed -n 's/^[[:space:]]*DLL Name:[[:space:]]*//p')
[ ${#dlls[@]} -gt 0 ] || die "objdump -p found no imported DLLs in $exe (not a PE executable?)"
bad=()
for dll in "${dlls[@]}"; do
    [[ ${dll,,} =~ $system_dlls ]] || bad+=("$dll")
done
[ ${#bad[@]} -eq 0 ] || die "$exe imports non-system DLLs: ${bad[*]} (link -static)"

echo "build.sh: deps $((deps_done - start)) s, build $((SECONDS - deps_done)) s;" \
    "imports only system DLLs: ${dlls[*]}"
echo "$exe"
