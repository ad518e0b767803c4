# Third-party libraries, each exposed as one interface target troupe::<name> so that the module
# CMakeLists never care where a dependency came from. On Linux everything is a Debian package
# (installers/dev/install-deps.sh); the Windows cross-build gets the same targets from
# TroupeDependenciesWindows.cmake (static libraries built by installers/windows/build-deps.sh).
find_package(Threads REQUIRED)

function(troupe_interface_target name)
    add_library(troupe_dep_${name} INTERFACE)
    add_library(troupe::${name} ALIAS troupe_dep_${name})
endfunction()

if(WIN32)
    include(TroupeDependenciesWindows)
    return()
endif()

find_package(PkgConfig REQUIRED)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(LZ4 REQUIRED IMPORTED_TARGET liblz4)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(nlohmann_json REQUIRED)
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)

troupe_interface_target(lmdb)
target_link_libraries(troupe_dep_lmdb INTERFACE PkgConfig::LMDB)
troupe_interface_target(lz4)
target_link_libraries(troupe_dep_lz4 INTERFACE PkgConfig::LZ4)
troupe_interface_target(sqlite3)
target_link_libraries(troupe_dep_sqlite3 INTERFACE SQLite::SQLite3)
troupe_interface_target(openssl)
target_link_libraries(troupe_dep_openssl INTERFACE OpenSSL::SSL OpenSSL::Crypto)
troupe_interface_target(spdlog)
target_link_libraries(troupe_dep_spdlog INTERFACE spdlog::spdlog fmt::fmt)
troupe_interface_target(cli11)
target_link_libraries(troupe_dep_cli11 INTERFACE CLI11::CLI11)
troupe_interface_target(toml)
target_link_libraries(troupe_dep_toml INTERFACE tomlplusplus::tomlplusplus)
troupe_interface_target(json)
target_link_libraries(troupe_dep_json INTERFACE nlohmann_json::nlohmann_json)
troupe_interface_target(asio)
target_include_directories(troupe_dep_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
target_compile_definitions(troupe_dep_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED)
target_link_libraries(troupe_dep_asio INTERFACE Threads::Threads)

# Thrift has no CMake package in Debian; its headers need Boost's.
pkg_check_modules(THRIFT REQUIRED IMPORTED_TARGET thrift)
find_package(Boost REQUIRED)
troupe_interface_target(thrift)
target_link_libraries(troupe_dep_thrift INTERFACE PkgConfig::THRIFT Boost::headers)
find_program(THRIFT_COMPILER thrift REQUIRED)

if(TROUPE_BUILD_TESTS)
    find_package(Qt6 6.4 REQUIRED COMPONENTS Core Test)
endif()
