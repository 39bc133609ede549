# Helpers that give every module the same warnings, sanitizer flags and naming.

# Per-target warnings (spdlog style): strict on our code, never on dependencies.
function(tb_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(TB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Sanitizers apply to every target, ours and the test runners, so they are global.
if(TB_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# tb_add_module(name SOURCES ... DEPS ...): library tb_<name>, alias tb::<name>.
function(tb_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(tb_${name} STATIC ${ARG_SOURCES})
  add_library(tb::${name} ALIAS tb_${name})
  target_include_directories(tb_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(tb_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  tb_set_warnings(tb_${name})
endfunction()

# tb_add_test(name SOURCES ... DEPS ... [LABELS ...]): one Catch2 runner registered with ctest.
# Tests run from the source root so ../shared/data/binance resolves like the README says.
function(tb_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE tb_catch_main ${ARG_DEPS})
  tb_set_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
    ENVIRONMENT "TB_BINARY_DIR=${CMAKE_BINARY_DIR};TB_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
