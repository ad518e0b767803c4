#!/usr/bin/env bash
# Builds the static Windows x64 libraries troupe-server.exe links (SQLite, LMDB, LZ4, OpenSSL 3.0,
# Thrift 0.17) from Debian's own source packages with mingw-w64, into a private prefix, plus the
# folders of symlinks the cross-build needs (header-only libraries, Windows header spellings).
#
#   installers/windows/build-deps.sh [--print-prefix] [--rebuild NAME]...
#
# --print-prefix  print the prefix and exit (build nothing)
# --rebuild NAME  rebuild one dependency (sqlite3, lmdb, lz4, openssl, thrift) even if present
#
# Prefix: $TROUPE_WINDOWS_PREFIX, default $HOME/.cache/troupe/windows-deps (the toolchain file
# installers/windows/mingw-w64-x86_64.cmake applies the same rule). It survives between runs on
# one machine and is rebuilt when missing. Each dependency leaves a stamp in <prefix>/stamps;
# when every stamp is current this script prints nothing and takes a second. Build logs are in
# <prefix>/logs. Sources are fetched with `apt-get source` through a private APT_CONFIG under
# <prefix>/.work/apt: the system's apt files are never touched. Runs unattended (CI, as root).
# TROUPE_JOBS sets the parallel jobs (default 2: the machines have 2 shared cores).
set -Eeuo pipefail
trap 'echo "build-deps.sh: error: line $LINENO failed: $BASH_COMMAND" >&2' ERR

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)} # CI may run without HOME
prefix=${TROUPE_WINDOWS_PREFIX:-$home/.cache/troupe/windows-deps}
jobs=${TROUPE_JOBS:-2}
triple=x86_64-w64-mingw32
cc=$triple-gcc-posix
cxx=$triple-g++-posix
toolchain=$here/mingw-w64-x86_64.cmake
mingw_include=/usr/$triple/include

# Bump a recipe's number when its build steps change: the next run rebuilds that dependency.
declare -A recipe=([sqlite3]=2 [lmdb]=1 [lz4]=1 [openssl]=1 [thrift]=1)
deps=(sqlite3 lmdb lz4 openssl thrift)

# SQLite gets Debian's own compile options, so that SQL behaves as on Linux and an actor written
# on one opens on the other: the CFLAGS of debian/rules, plus what Debian gets from configure
# (--enable-fts4, --enable-fts5, the math functions configure enables by default, and isnan()
# found by configure). Only COMPILER and MUTEX_W32 (for MUTEX_PTHREADS) should differ. Compare
# with `sqlite3 :memory: 'pragma compile_options'` on Debian; resources/docs/security.md
# ("sql lockdown") and tests/windows/smoke.sh (fts4, fts5, sqrt on the Windows server).
sqlite_flags=(
    -DSQLITE_SECURE_DELETE -DSQLITE_ENABLE_COLUMN_METADATA
    -DSQLITE_ENABLE_FTS3 -DSQLITE_ENABLE_FTS3_PARENTHESIS
    -DSQLITE_ENABLE_RTREE=1 -DSQLITE_SOUNDEX=1
    -DSQLITE_ENABLE_UNLOCK_NOTIFY
    -DSQLITE_OMIT_LOOKASIDE=1 -DSQLITE_ENABLE_DBSTAT_VTAB
    -DSQLITE_ALLOW_ROWID_IN_VIEW
    -DSQLITE_ENABLE_UPDATE_DELETE_LIMIT=1
    -DSQLITE_ENABLE_LOAD_EXTENSION
    -DSQLITE_ENABLE_JSON1
    -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
    -DSQLITE_THREADSAFE=1
    -DSQLITE_ENABLE_FTS3_TOKENIZER=1
    -DSQLITE_USE_URI=1
    -DSQLITE_MAX_SCHEMA_RETRY=25
    -DSQLITE_ENABLE_PREUPDATE_HOOK
    -DSQLITE_ENABLE_SESSION
    -DSQLITE_ENABLE_STMTVTAB
    -DSQLITE_MAX_VARIABLE_NUMBER=250000
    -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_MATH_FUNCTIONS -DHAVE_ISNAN=1
)

# OpenSSL reads its config and default CA store below this directory. It must not be writable by
# ordinary users (a planted openssl.cnf could load code), hence a folder under Program Files.
openssl_dir='C:/Program Files/TroupeDB/ssl'

die() {
    echo "build-deps.sh: error: $*" >&2
    exit 1
}
say() { echo "build-deps.sh: $*"; }

rebuild=()
while [ $# -gt 0 ]; do
    case "$1" in
    --print-prefix)
        echo "$prefix"
        exit 0
        ;;
    --rebuild)
        [ $# -ge 2 ] || die "--rebuild needs a name (${deps[*]})"
        [ -n "${recipe[$2]:-}" ] || die "unknown dependency '$2' (${deps[*]})"
        rebuild+=("$2")
        shift 2
        ;;
    -h | --help)
        sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown option '$1' (see --help)" ;;
    esac
done

work=$prefix/.work
stamps=$prefix/stamps
logs=$prefix/logs

# --- packages, lock ----------------------------------------------------------------------------
"$repo/installers/dev/install-deps.sh" --windows ||
    die "could not install the Debian packages for the Windows build (installers/dev/install-deps.sh --windows)"
for tool in "$cc" "$cxx" "$triple-ar" tclsh dpkg-source cmake ninja make perl flock; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found after installers/dev/install-deps.sh --windows"
done

mkdir -p "$prefix" "$stamps" "$logs" "$work" || die "cannot create the prefix $prefix"
exec 9>"$prefix/.lock"
flock -w 3600 9 || die "another build-deps.sh has held $prefix/.lock for an hour"

compiler_id=$("$cc" -dumpversion)

# stamp_key NAME: what a current stamp of NAME must contain.
stamp_key() {
    local key="recipe=${recipe[$1]} cc=$compiler_id"
    # Thrift links OpenSSL: a rebuilt OpenSSL rebuilds Thrift.
    [ "$1" = thrift ] && key+=" openssl=[$(tr '\n' ' ' 2>/dev/null <"$stamps/openssl.stamp" || true)]"
    echo "$key"
}

# is_current NAME FILE...: the stamp of NAME is current and the files it built are there.
is_current() {
    local name=$1 f
    shift
    for f in "${rebuild[@]}"; do [ "$f" = "$name" ] && return 1; done
    [ -f "$stamps/$name.stamp" ] || return 1
    [ "$(head -n1 "$stamps/$name.stamp")" = "$(stamp_key "$name")" ] || return 1
    for f in "$@"; do [ -e "$prefix/$f" ] || return 1; done
}

# run LOG CMD...: run a build step with its output in LOG; on failure show the log's tail.
run() {
    local log=$1
    shift
    if ! "$@" >>"$log" 2>&1 </dev/null; then
        echo "build-deps.sh: error: '$*' failed in $PWD; last lines of $log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

# --- Debian sources through a private APT_CONFIG -----------------------------------------------
apt_dir=$work/apt
apt_ready=0
setup_apt() {
    [ "$apt_ready" = 1 ] && return 0
    rm -rf "$apt_dir/sources.list.d"
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    local n=0 f
    # Copies of the system's deb822 stanzas, with deb-src instead of deb (apt-get source needs
    # only the Sources indexes).
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        sed -E 's/^Types:.*$/Types: deb-src/' "$f" >"$apt_dir/sources.list.d/$(basename "$f")"
        n=$((n + 1))
    done
    # One-line style sources, if the machine has them.
    : >"$apt_dir/sources.list"
    if [ -f /etc/apt/sources.list ]; then
        sed -nE 's/^[[:space:]]*deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >"$apt_dir/sources.list"
        [ -s "$apt_dir/sources.list" ] && n=$((n + 1))
    fi
    [ "$n" -gt 0 ] || die "no apt sources found in /etc/apt to derive deb-src entries from"
    cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::SourceList "$apt_dir/sources.list";
Dir::Etc::SourceParts "$apt_dir/sources.list.d";
Dir::State::Lists "$apt_dir/lists";
Dir::Cache "$apt_dir/cache";
APT::Sandbox::User "root";
EOF
    say "updating the private apt source indexes ($apt_dir)"
    APT_CONFIG=$apt_dir/apt.conf run "$logs/apt.log" apt-get update -q
    apt_ready=1
}

# fetch PKG: unpack Debian's source package PKG (Debian patches applied) into $work/build/PKG/src.
# Downloads are kept in $work/dl/PKG and reused. Sets src_version.
fetch() {
    local pkg=$1 dl=$work/dl/$1 build=$work/build/$1 log=$logs/$1.log dsc
    dsc=$(find "$dl" -maxdepth 1 -name '*.dsc' 2>/dev/null | head -n1 || true)
    if [ -z "$dsc" ]; then
        setup_apt
        rm -rf "$dl"
        mkdir -p "$dl"
        # One package per call (one failure aborts a multi-package apt-get source). The mirror
        # may list a newer security upload than it holds: then take the release's version.
        if ! (cd "$dl" && APT_CONFIG=$apt_dir/apt.conf apt-get source -q --download-only "$pkg") >>"$log" 2>&1 </dev/null; then
            rm -rf "${dl:?}"/*
            (cd "$dl" && APT_CONFIG=$apt_dir/apt.conf apt-get source -q --download-only "$pkg/bookworm") >>"$log" 2>&1 </dev/null ||
                {
                    tail -n 20 "$log" >&2
                    die "apt-get source $pkg failed (log: $log)"
                }
        fi
        dsc=$(find "$dl" -maxdepth 1 -name '*.dsc' | head -n1)
        [ -n "$dsc" ] || die "apt-get source $pkg fetched no .dsc (log: $log)"
    fi
    src_version=$(sed -n 's/^Version: //p' "$dsc" | head -n1)
    rm -rf "$build"
    mkdir -p "$build"
    run "$log" dpkg-source -x "$dsc" "$build/src"
}

# begin NAME / finish NAME: log header and timing; write the stamp; drop the build tree.
begin() {
    : >"$logs/$1.log"
    start_time=$SECONDS
    say "building $1 for Windows x64 (log: $logs/$1.log)"
}
finish() {
    printf '%s\nsource=%s built=%s\n' "$(stamp_key "$1")" "$src_version" "$(date -u +%FT%TZ)" \
        >"$stamps/$1.stamp"
    rm -rf "$work/build/$1"
    say "$1 $src_version done in $((SECONDS - start_time)) s"
}

install_headers() {
    local dest=$prefix/include/$1
    shift
    mkdir -p "$dest"
    cp -f "$@" "$dest/"
}

# --- the libraries -----------------------------------------------------------------------------
build_sqlite3() {
    local log=$logs/sqlite3.log b=$work/build/sqlite3
    # Debian ships SQLite's full tree: generate the amalgamation with the host compiler and
    # tclsh (the feature flags go to configure so that the parser is generated with them), then
    # cross-compile it.
    mkdir -p "$b/host"
    cd "$b/host"
    run "$log" env CC=gcc CFLAGS="-O2 ${sqlite_flags[*]}" ../src/configure --disable-tcl
    run "$log" make sqlite3.c
    mkdir -p "$b/win"
    cd "$b/win"
    run "$log" "$cc" -O2 -fno-strict-aliasing "${sqlite_flags[@]}" -c ../host/sqlite3.c -o sqlite3.o
    run "$log" "$triple-ar" rcs libsqlite3.a sqlite3.o
    mkdir -p "$prefix/lib"
    cp -f libsqlite3.a "$prefix/lib/"
    install_headers "" ../host/sqlite3.h ../src/src/sqlite3ext.h
}

build_lmdb() {
    local log=$logs/lmdb.log b=$work/build/lmdb
    cd "$b/src/libraries/liblmdb"
    run "$log" "$cc" -O2 -c mdb.c -o mdb.o
    run "$log" "$cc" -O2 -c midl.c -o midl.o
    run "$log" "$triple-ar" rcs liblmdb.a mdb.o midl.o
    mkdir -p "$prefix/lib"
    cp -f liblmdb.a "$prefix/lib/"
    install_headers "" lmdb.h
}

build_lz4() {
    local log=$logs/lz4.log b=$work/build/lz4 f
    cd "$b/src/lib"
    for f in lz4 lz4hc lz4frame xxhash; do
        run "$log" "$cc" -O2 -c "$f.c" -o "$f.o"
    done
    run "$log" "$triple-ar" rcs liblz4.a lz4.o lz4hc.o lz4frame.o xxhash.o
    mkdir -p "$prefix/lib"
    cp -f liblz4.a "$prefix/lib/"
    install_headers "" lz4.h lz4hc.h lz4frame.h lz4frame_static.h
}

build_openssl() {
    local log=$logs/openssl.log b=$work/build/openssl
    cd "$b/src"
    # no-docs is not an option in 3.0; build_libs + install_dev skip the apps and the manuals.
    run "$log" ./Configure mingw64 no-shared no-tests "--cross-compile-prefix=$triple-" \
        CC=gcc-posix CXX=g++-posix "--prefix=$prefix" --libdir=lib "--openssldir=$openssl_dir"
    run "$log" make -j"$jobs" build_libs
    run "$log" make install_dev
}

build_thrift() {
    local log=$logs/thrift.log b=$work/build/thrift
    # Our own toolchain file (Thrift's bundled mingw one is stale). Static: Thrift defaults to
    # shared libraries on Windows. Boost (headers only) through the symlink folder.
    run "$log" cmake -S "$b/src" -B "$b/bld" -G Ninja \
        "-DCMAKE_TOOLCHAIN_FILE=$toolchain" "-DTROUPE_WINDOWS_PREFIX=$prefix" \
        -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=$prefix" \
        "-DCMAKE_CXX_FLAGS=-isystem $prefix/wincase" \
        -DBUILD_SHARED_LIBS=OFF -DBUILD_COMPILER=OFF -DBUILD_TESTING=OFF -DBUILD_TUTORIALS=OFF \
        -DBUILD_CPP=ON -DBUILD_C_GLIB=OFF -DBUILD_JAVA=OFF -DBUILD_JAVASCRIPT=OFF \
        -DBUILD_NODEJS=OFF -DBUILD_PYTHON=OFF -DBUILD_KOTLIN=OFF \
        -DWITH_QT5=OFF -DWITH_LIBEVENT=OFF -DWITH_ZLIB=OFF \
        -DWITH_OPENSSL=ON "-DOPENSSL_ROOT_DIR=$prefix" -DOPENSSL_USE_STATIC_LIBS=ON \
        "-DBoost_INCLUDE_DIR=$prefix/headers" -DBoost_NO_BOOST_CMAKE=ON
    run "$log" cmake --build "$b/bld" -j "$jobs"
    run "$log" cmake --install "$b/bld"
}

# --- symlink folders (cheap: refreshed on every run) -------------------------------------------
# Header-only libraries from Debian, without putting /usr/include (glibc) on the include path.
link_headers() {
    local dir=$prefix/headers name
    mkdir -p "$dir"
    for name in asio asio.hpp boost spdlog fmt CLI toml++ nlohmann; do
        [ -e "/usr/include/$name" ] ||
            die "/usr/include/$name is missing (installers/dev/install-deps.sh installs it)"
        ln -sfn "/usr/include/$name" "$dir/$name"
    done
}

# Windows headers as Thrift (and MSVC-style code) spell them; mingw's are lower-case.
link_windows_case() {
    local dir=$prefix/wincase name lower
    mkdir -p "$dir"
    for name in Windows.h WinSock2.h Winsock2.h WS2tcpip.h Ws2tcpip.h MSWSock.h Shlwapi.h \
        ShlObj.h Shlobj.h AccCtrl.h Aclapi.h AclAPI.h WinCrypt.h Wincrypt.h WinBase.h Winbase.h \
        WinSvc.h Winsvc.h WinError.h Psapi.h TlHelp32.h Tlhelp32.h Sddl.h UserEnv.h Userenv.h \
        IPHlpApi.h Iphlpapi.h DbgHelp.h Dbghelp.h WinIoCtl.h Winioctl.h ProcessThreadsApi.h \
        SubAuth.h NTSecAPI.h Ntsecapi.h; do
        lower=${name,,}
        [ -e "$mingw_include/$lower" ] || die "$mingw_include/$lower is missing (mingw-w64 headers)"
        ln -sfn "$mingw_include/$lower" "$dir/$name"
    done
}

link_headers
link_windows_case

# NAME → a file whose presence (with a current stamp) means NAME is installed.
declare -A product=(
    [sqlite3]=lib/libsqlite3.a [lmdb]=lib/liblmdb.a [lz4]=lib/liblz4.a
    [openssl]=lib/libssl.a [thrift]=lib/libthrift.a
)
for dep in "${deps[@]}"; do
    if is_current "$dep" "${product[$dep]}" include; then
        continue
    fi
    begin "$dep"
    fetch "$dep"
    "build_$dep"
    cd "$prefix"
    [ -e "$prefix/${product[$dep]}" ] || die "$dep built but $prefix/${product[$dep]} is missing (log: $logs/$dep.log)"
    finish "$dep"
done
