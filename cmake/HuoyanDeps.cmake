# Third-party dependencies, all from Debian packages (see README "Setup").
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(simdjson REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)

# Debian builds cpp-httplib as a library (with OpenSSL, zlib and brotli support): its pkg-config
# flags carry the matching CPPHTTPLIB_*_SUPPORT definitions, which must agree with the library.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
add_library(huoyan_httplib INTERFACE)
target_link_libraries(huoyan_httplib INTERFACE PkgConfig::CPPHTTPLIB)
# moodycamel::ConcurrentQueue is header-only and ships no CMake config in Debian.
find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)

if(HUOYAN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(HUOYAN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  find_package(nlohmann_json REQUIRED)
endif()
