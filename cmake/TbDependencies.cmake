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
pkg_check_modules(systemd REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(pqxx REQUIRED IMPORTED_TARGET libpqxx)

# Beast/Asio: header-only; one place decides how Asio is configured so every target agrees.
# No BOOST_BEAST_USE_STD_STRING_VIEW: since Boost 1.81 beast::string_view is
# boost::core::string_view, which converts to and from std::string_view, and the macro only
# prints a deprecation note in every Beast translation unit.
add_library(tb_asio INTERFACE)
target_link_libraries(tb_asio INTERFACE Boost::headers Threads::Threads)
target_compile_definitions(tb_asio INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_ASIO_DISABLE_BOOST_COROUTINE)

if(TB_BUILD_TESTS)
  find_package(Catch2 2.13 REQUIRED)
endif()
if(TB_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
