# Shared compile settings and helpers for gpupool targets.

# gp_target_settings(TARGET [NO_SANITIZE]): NO_SANITIZE for code that must load without the
# sanitizer runtime (the CUDA shim, preloaded into programs that do not have it).
function(gp_target_settings target)
  cmake_parse_arguments(ARG "NO_SANITIZE" "" "" ${ARGN})
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror -Wshadow
                                           -Wnon-virtual-dtor -Wconversion -Wno-sign-conversion
                                           # GCC 12 false positive on std::string operator+ (PR105651)
                                           -Wno-restrict)
  if(GPUPOOL_SANITIZE AND NOT ARG_NO_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# gp_module(NAME SOURCES ... DEPS ...): a static library gp_<NAME> whose headers are
# included from src/ ("placement/policy.h").
function(gp_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(gp_${name} STATIC ${ARG_SOURCES})
  target_include_directories(gp_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(gp_${name} PUBLIC ${ARG_DEPS})
  gp_target_settings(gp_${name})
  if(GPUPOOL_SANITIZE)
    target_link_options(gp_${name} INTERFACE -fsanitize=address,undefined)
  endif()
endfunction()

# gp_test(NAME SOURCES ... DEPS ... [LABELS ...]): one GoogleTest executable registered with ctest.
function(gp_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gp_target_settings(${name})
  target_compile_definitions(${name} PRIVATE GPUPOOL_SOURCE_DATA_DIR="${GPUPOOL_SOURCE_DATA_DIR}"
                                             GPUPOOL_TEST_DATA_DIR="${CMAKE_SOURCE_DIR}/tests/data")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
