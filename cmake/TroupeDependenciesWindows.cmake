# The troupe::<name> dependency targets for the Windows x64 cross-build (mingw-w64), included by
# TroupeDependencies.cmake when WIN32. Static libraries come from the private prefix that
# installers/windows/build-deps.sh fills from Debian's source packages; header-only libraries are
# Debian's own headers, reached through <prefix>/headers, a folder of symlinks (never
# /usr/include itself: glibc's headers would shadow mingw's). Everything links statically, so
# troupe-server.exe needs only Windows' own DLLs.
if(NOT TROUPE_WINDOWS_PREFIX)
    message(FATAL_ERROR "TROUPE_WINDOWS_PREFIX is not set: configure the Windows build with "
        "-DCMAKE_TOOLCHAIN_FILE=installers/windows/mingw-w64-x86_64.cmake (the `windows` preset)")
endif()
set(_troupe_win ${TROUPE_WINDOWS_PREFIX})

set(_troupe_win_missing "")
foreach(_f lib/libsqlite3.a lib/liblmdb.a lib/liblz4.a lib/libssl.a lib/libcrypto.a
        lib/libthrift.a include/thrift/Thrift.h headers/asio.hpp headers/boost wincase/Windows.h)
    if(NOT EXISTS ${_troupe_win}/${_f})
        list(APPEND _troupe_win_missing ${_f})
    endif()
endforeach()
if(_troupe_win_missing)
    list(JOIN _troupe_win_missing ", " _troupe_win_missing)
    message(FATAL_ERROR "The Windows dependencies in ${_troupe_win} are incomplete (missing: "
        "${_troupe_win_missing}). Run installers/windows/build-deps.sh (or set "
        "TROUPE_WINDOWS_PREFIX to where it installed them).")
endif()

# Windows system libraries the static libraries below need. GCC ignores Thrift's and asio's
# `#pragma comment(lib, ...)`, so they are named here.
set(TROUPE_WINDOWS_SYSTEM_LIBS ws2_32 mswsock crypt32 advapi32 shlwapi user32 gdi32)

# troupe_windows_static_library(<name> <file>): an imported static library from the prefix.
function(troupe_windows_static_library name file)
    add_library(troupe_win_${name} STATIC IMPORTED)
    set_target_properties(troupe_win_${name} PROPERTIES IMPORTED_LOCATION ${_troupe_win}/lib/${file}
        INTERFACE_INCLUDE_DIRECTORIES ${_troupe_win}/include)
endfunction()

troupe_windows_static_library(sqlite3 libsqlite3.a)
troupe_windows_static_library(lmdb liblmdb.a)
troupe_windows_static_library(lz4 liblz4.a)
troupe_windows_static_library(crypto libcrypto.a)
troupe_windows_static_library(ssl libssl.a)
troupe_windows_static_library(thrift libthrift.a)
set_property(TARGET troupe_win_crypto PROPERTY INTERFACE_LINK_LIBRARIES ws2_32 crypt32 advapi32 user32)
set_property(TARGET troupe_win_ssl PROPERTY INTERFACE_LINK_LIBRARIES troupe_win_crypto)
set_property(TARGET troupe_win_thrift PROPERTY INTERFACE_LINK_LIBRARIES
    troupe_win_ssl troupe_win_crypto ${TROUPE_WINDOWS_SYSTEM_LIBS})

# Header-only libraries (Debian's) and the Windows header spellings Thrift uses (Windows.h, ...).
add_library(troupe_win_headers INTERFACE)
target_include_directories(troupe_win_headers SYSTEM INTERFACE
    ${_troupe_win}/headers ${_troupe_win}/wincase)

troupe_interface_target(sqlite3)
target_link_libraries(troupe_dep_sqlite3 INTERFACE troupe_win_sqlite3)
troupe_interface_target(lmdb)
target_link_libraries(troupe_dep_lmdb INTERFACE troupe_win_lmdb)
troupe_interface_target(lz4)
target_link_libraries(troupe_dep_lz4 INTERFACE troupe_win_lz4)
troupe_interface_target(openssl)
target_link_libraries(troupe_dep_openssl INTERFACE troupe_win_ssl troupe_win_crypto)

# spdlog and fmt header-only. Debian's spdlog headers are configured for an external fmt
# (tweakme.h: SPDLOG_FMT_EXTERNAL); Debian ships no fmt source to compile, so fmt is
# header-only too.
troupe_interface_target(spdlog)
target_link_libraries(troupe_dep_spdlog INTERFACE troupe_win_headers)
target_compile_definitions(troupe_dep_spdlog INTERFACE
    SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)

troupe_interface_target(cli11)
target_link_libraries(troupe_dep_cli11 INTERFACE troupe_win_headers)
troupe_interface_target(toml)
target_link_libraries(troupe_dep_toml INTERFACE troupe_win_headers)
troupe_interface_target(json)
target_link_libraries(troupe_dep_json INTERFACE troupe_win_headers)

troupe_interface_target(asio)
target_link_libraries(troupe_dep_asio INTERFACE troupe_win_headers Threads::Threads
    ${TROUPE_WINDOWS_SYSTEM_LIBS})
target_compile_definitions(troupe_dep_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED
    _WIN32_WINNT=0x0A00)

troupe_interface_target(thrift)
target_link_libraries(troupe_dep_thrift INTERFACE troupe_win_thrift troupe_win_headers
    Threads::Threads)
target_link_options(troupe_dep_thrift INTERFACE -static)

# Thrift's code generator runs on the build machine: the host's thrift-compiler package.
find_program(THRIFT_COMPILER thrift REQUIRED)

unset(_troupe_win)
unset(_troupe_win_missing)
unset(_f)
