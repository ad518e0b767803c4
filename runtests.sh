#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds TroupeDB, cross-builds the Windows daemon,
# and runs the whole test suite through CTest. Works unattended (CI runs it as root on a
# fresh clone, with no terminal).
#
#   ./runtests.sh                 everything (dev preset: Debug + AddressSanitizer + UBSan)
#   TROUPE_PRESET=release ./runtests.sh
#   TROUPE_SKIP_WINDOWS=1 ./runtests.sh      skip the Windows cross-build and Wine smoke test
#   ./runtests.sh -L unit         extra arguments go to ctest (here: only the unit tests)
set -euo pipefail
cd "$(dirname "$0")"

preset=${TROUPE_PRESET:-dev}
jobs=$(nproc 2>/dev/null || echo 2)

if [ "${TROUPE_SKIP_WINDOWS:-0}" = 1 ]; then
    installers/dev/install-deps.sh
else
    installers/dev/install-deps.sh --windows
fi

configure_args=(-DTROUPE_WERROR=ON)
if [ "${TROUPE_SKIP_WINDOWS:-0}" != 1 ]; then
    echo "== Windows x64 cross-build (mingw-w64) =="
    installers/windows/build.sh
    configure_args+=("-DTROUPE_WINDOWS_SERVER_EXE=$PWD/build/windows/daemon/app/troupe-server.exe")
fi

echo "== Linux build (preset $preset) =="
cmake --preset "$preset" "${configure_args[@]}" >/dev/null
cmake --build --preset "$preset" -j "$jobs"

echo "== Tests =="
ctest --preset "$preset" -j "$jobs" --timeout 900 "$@"
