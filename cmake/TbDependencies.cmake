# Every dependency is a Debian 12 package installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.81.0 EXACT REQUIRED CONFIG COMPONENTS url)
find_package(simdjson REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(pqxx REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(sodium REQUIRED IMPORTED_TARGET libsodium)

# Beast/Asio configuration is global so that every translation unit agrees on it: with separate
# compilation a unit built without the define would carry its own inline copy of functions that
# src/net/boost_impl.cpp defines (an ODR violation). tb_asio holds that compiled half; every
# target that talks to a socket links it.
# No BOOST_BEAST_USE_STD_STRING_VIEW: since Boost 1.81 beast::string_view is
# boost::core::string_view, which converts to and from std::string_view, and the macro only
# prints a deprecation note in every Beast translation unit.
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE
                        BOOST_ASIO_SEPARATE_COMPILATION BOOST_BEAST_SEPARATE_COMPILATION)
add_library(tb_asio STATIC ${PROJECT_SOURCE_DIR}/src/net/boost_impl.cpp)
target_link_libraries(tb_asio PUBLIC Boost::headers Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
# Boost's code, not ours: tb_set_warnings is not applied to it.
# Sanitizer build: UBSan's checks that instrument every pointer access (alignment, null, vptr,
# pointer-overflow) made translation units built around Beast's TLS templates 1.5x slower to
# compile, for checks that ASan's own instrumentation of every access largely covers there.
# They stay on for the modules without Asio (book, market, oms, risk, strategy, store, the
# decoders), where integer, shift, alignment and null bugs in our own logic would hide.
if(TB_SANITIZE)
  target_compile_options(tb_asio PUBLIC -fno-sanitize=alignment,null,vptr,pointer-overflow)
endif()

if(TB_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
endif()
if(TB_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
