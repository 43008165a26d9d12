#include "src/collect/cpu_peaks.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace huoyan {
namespace {

// Points the cache at a fresh folder for the test's life.
class CacheDir {
 public:
  CacheDir() {
    dir_ = std::filesystem::temp_directory_path() / ("huoyan-peaks-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    const char* old = std::getenv("HUOYAN_CACHE_DIR");
    if (old != nullptr) old_ = old;
    setenv("HUOYAN_CACHE_DIR", dir_.c_str(), 1);
  }
  ~CacheDir() {
    if (old_.empty()) {
      unsetenv("HUOYAN_CACHE_DIR");
    } else {
      setenv("HUOYAN_CACHE_DIR", old_.c_str(), 1);
    }
    std::filesystem::remove_all(dir_);
  }

 private:
  std::filesystem::path dir_;
  std::string old_;
};

TEST(CpuPeaks, MeasuresBothFiguresOnThisHost) {
  const CpuPeaks p = measure_cpu_peaks(1);
  EXPECT_GT(p.bandwidth_gbps, 0.1);
  EXPECT_GT(p.gflops, 0.1);
  EXPECT_EQ(p.threads, 1);
  EXPECT_FALSE(p.isa.empty());
  EXPECT_GE(p.triad_bytes, int64_t{3} << 25);  // beyond the last-level caches of most servers
  EXPECT_LT(p.seconds, 10.0);
  EXPECT_NE(p.method().find("triad over 96 MiB, 1 thread;"), std::string::npos) << p.method();
}

TEST(CpuPeaks, JsonRoundTripAndStrictParsing) {
  CpuPeaks p;
  p.bandwidth_gbps = 27.5;
  p.gflops = 310.25;
  p.threads = 8;
  p.isa = "avx2+fma";
  p.cpu = "Test \"CPU\"";
  p.host = "h";
  p.measured_at = 1796699533;
  p.triad_bytes = 100663296;
  const auto back = parse_cpu_peaks(cpu_peaks_json(p));
  ASSERT_TRUE(back.has_value());
  EXPECT_DOUBLE_EQ(back->bandwidth_gbps, 27.5);
  EXPECT_DOUBLE_EQ(back->gflops, 310.25);
  EXPECT_EQ(back->threads, 8);
  EXPECT_EQ(back->cpu, "Test \"CPU\"");
  EXPECT_EQ(back->measured_at, 1796699533);
  for (const char* bad : {"", "[]", "{}",
                          "{\"bandwidth_gbps\":-1,\"gflops\":1,\"threads\":1,"
                          "\"isa\":\"\",\"cpu\":\"\",\"host\":\"\",\"measured_at\":0}",
                          "{\"bandwidth_gbps\":\"1\",\"gflops\":1,\"threads\":1,\"isa\":\"\","
                          "\"cpu\":\"\",\"host\":\"\",\"measured_at\":0}",
                          "{\"bandwidth_gbps\":1e999}", "not json"}) {
    EXPECT_FALSE(parse_cpu_peaks(bad).has_value()) << bad;
  }
}

TEST(CpuPeaks, CacheIsPerHostAndSurvivesGarbage) {
  CacheDir dir;
  std::string why;
  EXPECT_FALSE(cached_cpu_peaks(&why).has_value());
  EXPECT_NE(why.find("no cache"), std::string::npos);
  CpuPeaks p = measure_cpu_peaks(1);
  ASSERT_TRUE(save_cpu_peaks(p));
  auto cached = cached_cpu_peaks(&why);
  ASSERT_TRUE(cached.has_value()) << why;
  EXPECT_DOUBLE_EQ(cached->bandwidth_gbps, p.bandwidth_gbps);
  // Written on another host, or for another thread count: measured again, not reused.
  CpuPeaks other = p;
  other.host = p.host + "-elsewhere";
  ASSERT_TRUE(save_cpu_peaks(other));
  EXPECT_FALSE(cached_cpu_peaks(&why).has_value());
  EXPECT_NE(why.find("another host"), std::string::npos);
  // A corrupt file is not a cache; cpu_peaks() measures and replaces it.
  std::ofstream(cpu_peaks_cache_path(), std::ios::trunc) << "{\"bandwidth_gbps\":";
  EXPECT_FALSE(cached_cpu_peaks(&why).has_value());
  const CpuPeaks fresh = cpu_peaks();
  EXPECT_GT(fresh.bandwidth_gbps, 0);
  EXPECT_TRUE(cached_cpu_peaks().has_value());
}

}  // namespace
}  // namespace huoyan
