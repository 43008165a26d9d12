#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/engine.h"
#include "model/tokenizer.h"

namespace llm {
namespace {

class Recorder : public KernelObserver {
 public:
  void on_kernel(const KernelRecord& r) noexcept override {
    std::lock_guard lock(mu_);
    records.push_back(r);
  }
  std::mutex mu_;
  std::vector<KernelRecord> records;
};

ModelConfig config(int devices) {
  ModelConfig c;
  c.d_model = 64;
  c.n_layers = 2;
  c.n_heads = 4;
  c.head_dim = 32;  // 2 heads x 32 per device: one group of 64.
  c.ffn_dim = 128;
  c.group_size = 64;
  c.block_size = 8;
  c.num_kv_blocks = 64;
  c.max_seq_len = 128;
  c.devices = devices;
  c.workers_per_device = 2;
  return c;
}

TEST(Observer, ReportsEveryKernelWithContextStreamsAndAttrs) {
  for (int devices : {1, 2}) {
    Engine engine(config(devices));
    Recorder rec;
    engine.set_observer(&rec);
    Batch batch{{{1, encode("hello there"), 0}, {2, encode("hi"), 0, false}}};
    const int64_t before = monotonic_ns();
    engine.forward(batch, 42);
    const int64_t after = monotonic_ns();
    ASSERT_FALSE(rec.records.empty());

    const std::set<std::string> known = {"Embedding", "RMSNorm", "RoPE",     "PagedAttention",
                                         "Int4Gemm",  "SwiGLU",  "Sampling", "AllReduce"};
    std::map<std::string, int> count;
    for (const KernelRecord& r : rec.records) {
      EXPECT_TRUE(known.count(r.name)) << r.name;
      ++count[r.name];
      EXPECT_EQ(r.context, 42u);
      EXPECT_GE(r.device, 0);
      EXPECT_LT(r.device, devices);
      EXPECT_GE(r.stream, 0);
      EXPECT_LT(r.stream, engine.workers_per_device());
      EXPECT_LE(before, r.start_ns);
      EXPECT_LE(r.start_ns, r.end_ns);
      EXPECT_LE(r.end_ns, after);
      EXPECT_GT(r.attrs.tokens, 0) << r.name;
      EXPECT_GT(r.attrs.batch, 0) << r.name;
      EXPECT_GT(r.attrs.bytes, 0) << r.name;
      const std::string name = r.name;
      if (name == "Int4Gemm") {
        EXPECT_EQ(r.attrs.group_size, 64);
        EXPECT_GT(r.attrs.flops, 0);
      } else {
        EXPECT_EQ(r.attrs.group_size, 0);
      }
      if (name == "PagedAttention") {
        EXPECT_EQ(r.attrs.block_size, 8);
        EXPECT_GT(r.attrs.flops, 0);
      } else {
        EXPECT_EQ(r.attrs.block_size, 0);
      }
    }
    // 2 layers x 4 GEMMs + LM head, each split over 2 workers on every device.
    const int slices = 2 * devices;
    EXPECT_EQ(count["Int4Gemm"], 2 * 4 * slices + 2);
    EXPECT_EQ(count["PagedAttention"], 2 * slices);
    EXPECT_EQ(count["AllReduce"], devices > 1 ? 2 * 2 * slices : 0);
    EXPECT_EQ(count["Sampling"], 1);  // One sequence samples: one non-empty slice.
    EXPECT_EQ(count["Embedding"], slices);

    // Launches run one after another, so the first Int4Gemm slices are the QKV projection's:
    // together they cover exactly 2 * M * K * N flops (N = 3 * attn_dim over all devices).
    const ModelConfig& c = engine.config();
    const int m = 12 + 3;  // BOS + bytes of both prompts.
    double qkv_flops = 0;
    int seen = 0;
    for (const KernelRecord& r : rec.records) {
      if (std::string(r.name) != "Int4Gemm" || seen == slices) continue;
      EXPECT_EQ(r.attrs.tokens, m);
      EXPECT_EQ(r.attrs.batch, 2);
      qkv_flops += r.attrs.flops;
      ++seen;
    }
    EXPECT_EQ(qkv_flops, 2.0 * m * c.d_model * 3 * c.attn_dim());

    // Observer off: nothing more is reported.
    const size_t n = rec.records.size();
    engine.set_observer(nullptr);
    engine.forward(Batch{{{3, encode("x"), 0}}}, 43);
    EXPECT_EQ(rec.records.size(), n);
  }
}

}  // namespace
}  // namespace llm
