# CMake toolchain file: cross-build for Windows x64 with Debian's mingw-w64 (posix thread model).
#
# Used by the `windows` preset (troupe-server.exe) and by installers/windows/build-deps.sh (the
# Thrift C++ library). Third-party libraries are searched only in the mingw sysroot and in the
# private prefix that build-deps.sh fills; never in the host's /usr (glibc's headers would shadow
# mingw's).
#
# The private prefix is, in order: the cache variable TROUPE_WINDOWS_PREFIX, the environment
# variable TROUPE_WINDOWS_PREFIX, or $HOME/.cache/troupe/windows-deps. build-deps.sh uses the same
# rule, so a plain `installers/windows/build.sh` needs no settings at all.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_VERSION 10.0)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(TROUPE_MINGW_TRIPLE x86_64-w64-mingw32)

# The -posix compilers use winpthreads, which std::thread / std::mutex need (the -win32 ones
# have no <thread> in GCC 12).
set(CMAKE_C_COMPILER ${TROUPE_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${TROUPE_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${TROUPE_MINGW_TRIPLE}-windres)
# CMake cannot derive the binutils prefix from a compiler name ending in "-posix"; name them so
# that the host's ar/ranlib/objdump are never used on Windows objects.
foreach(_troupe_tool AR RANLIB NM OBJDUMP OBJCOPY STRIP DLLTOOL)
    string(TOLOWER ${_troupe_tool} _troupe_tool_name)
    find_program(CMAKE_${_troupe_tool} ${TROUPE_MINGW_TRIPLE}-${_troupe_tool_name})
endforeach()
unset(_troupe_tool)
unset(_troupe_tool_name)

if(NOT TROUPE_WINDOWS_PREFIX)
    if(NOT "$ENV{TROUPE_WINDOWS_PREFIX}" STREQUAL "")
        set(_troupe_prefix "$ENV{TROUPE_WINDOWS_PREFIX}")
    else()
        set(_troupe_prefix "$ENV{HOME}/.cache/troupe/windows-deps")
    endif()
    set(TROUPE_WINDOWS_PREFIX "${_troupe_prefix}" CACHE PATH
        "Private prefix with the Windows x64 static libraries (installers/windows/build-deps.sh)")
    unset(_troupe_prefix)
endif()
# try_compile() projects read this file again: hand them the same prefix.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES TROUPE_WINDOWS_PREFIX)

set(CMAKE_FIND_ROOT_PATH /usr/${TROUPE_MINGW_TRIPLE} ${TROUPE_WINDOWS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained executables: libgcc, libstdc++ and winpthreads linked in, so that a Windows
# machine (or Wine) needs only its own system DLLs.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
