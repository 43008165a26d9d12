# Third-party dependencies, all from Debian packages (see README "Setup").
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(simdjson REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)

# cpp-httplib and moodycamel::ConcurrentQueue are header-only and ship no CMake config in Debian.
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
add_library(huoyan_httplib INTERFACE)
target_include_directories(huoyan_httplib SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
find_path(CONCURRENTQUEUE_INCLUDE_DIR concurrentqueue/concurrentqueue.h REQUIRED)

if(HUOYAN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(HUOYAN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
  find_package(nlohmann_json REQUIRED)
endif()
