#!/usr/bin/env bash
# Installs the Debian 12 packages TroupeDB needs to build, test and cross-build for Windows.
# Idempotent: prints nothing and installs nothing when everything is present.
#
#   installers/dev/install-deps.sh [--windows] [--bench]
#
# --windows  also the mingw-w64 cross compiler and Wine (for the Windows build and its smoke test)
# --bench    also what the benchmarks need (tests/bench/run.sh: MariaDB to compare with and
#            sysbench to drive it and TroupeDB)
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config git clang-format curl ca-certificates
    qt6-base-dev qt6-base-dev-tools qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools libgl-dev
    libthrift-dev thrift-compiler libboost-dev python3-thrift libedit-dev
    libasio-dev libssl-dev liblmdb-dev lmdb-utils liblz4-dev libsqlite3-dev sqlite3
    libcli11-dev libtomlplusplus-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
    python3 openssl mariadb-client python3-pymysql python3-mysqldb libmariadb-dev sysbench
)
# Node.js and npm for the mysql2 client test, unless both are on PATH already: NodeSource's
# nodejs, for one, bundles npm and conflicts with Debian's npm package.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi
for arg in "$@"; do
    case "$arg" in
    --windows)
        packages+=(g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools
            binutils-mingw-w64-x86-64 wine tcl dpkg-dev xz-utils perl make)
        ;;
    --bench) packages+=(time sysbench mariadb-server) ;;
    *)
        echo "install-deps.sh: unknown option '$arg'" >&2
        exit 2
        ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps.sh: need root to install: ${missing[*]}" >&2
        exit 1
    fi
else
    SUDO=
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
