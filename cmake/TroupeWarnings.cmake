# Compiler warnings, sanitizers and fuzzing coverage, applied to every TroupeDB target through
# troupe_target().
add_library(troupe_options INTERFACE)
add_library(troupe::options ALIAS troupe_options)
target_compile_options(troupe_options INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wpedantic>)
if(TROUPE_WERROR)
    target_compile_options(troupe_options INTERFACE -Werror)
endif()
if(TROUPE_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "TROUPE_FUZZ needs clang and libFuzzer: configure with --preset fuzz")
    endif()
    # Coverage feedback for libFuzzer from every TroupeDB target (the fuzz binaries themselves
    # link with -fsanitize=fuzzer, tests/fuzz), and sanitizer findings abort so that libFuzzer
    # records them as crashes instead of printing and carrying on. The sanitizer runtime also
    # provides the coverage callbacks for the targets linked without libFuzzer.
    if(NOT TROUPE_SANITIZE)
        set(TROUPE_SANITIZE address undefined)
    endif()
    target_compile_options(troupe_options INTERFACE -fsanitize=fuzzer-no-link
                                                    -fno-sanitize-recover=all)
endif()
if(TROUPE_SANITIZE)
    string(REPLACE ";" "," _troupe_san "${TROUPE_SANITIZE}")
    target_compile_options(troupe_options INTERFACE -fsanitize=${_troupe_san} -fno-omit-frame-pointer)
    target_link_options(troupe_options INTERFACE -fsanitize=${_troupe_san})
endif()
if(WIN32)
    target_compile_definitions(troupe_options INTERFACE _WIN32_WINNT=0x0A00 WIN32_LEAN_AND_MEAN NOMINMAX)
endif()

# troupe_target(<target>): the project-wide options for a target of ours (not for generated code).
function(troupe_target target)
    target_link_libraries(${target} PRIVATE troupe::options)
endfunction()
