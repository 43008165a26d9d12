// Paged KV cache: a fixed pool of blocks, each holding block_size token slots of K and V for
// every layer and head, handed out to sequences through per-sequence block tables.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

namespace llm {

using SeqId = uint64_t;

class PagedKvCache {
 public:
  // heads_per_device heads of head_dim floats per layer; each device (tensor-parallel group)
  // has its own storage for its heads, addressed by the same block ids.
  PagedKvCache(int n_layers, int heads_per_device, int head_dim, int block_size, int num_blocks,
               int devices = 1);

  int block_size() const { return block_size_; }
  int num_blocks() const { return num_blocks_; }
  int num_free_blocks() const { return static_cast<int>(free_list_.size()); }
  int n_layers() const { return n_layers_; }
  int heads() const { return heads_; }
  int head_dim() const { return head_dim_; }
  int devices() const { return devices_; }

  // --- Block accounting. Not thread-safe: owned by the scheduling/launching thread. ---

  int blocks_for(int n_tokens) const { return (n_tokens + block_size_ - 1) / block_size_; }
  // True if a new sequence of n_tokens tokens fits in the free blocks.
  bool can_allocate(int n_tokens) const { return blocks_for(n_tokens) <= num_free_blocks(); }
  // Blocks that appending n_new tokens to seq (new or existing) would take from the free list.
  int blocks_needed(SeqId seq, int n_new) const;
  bool can_append(SeqId seq, int n_new) const {
    return blocks_needed(seq, n_new) <= num_free_blocks();
  }
  // Reserves slots for n_new more tokens of seq, allocating blocks as needed. Throws
  // std::runtime_error, leaving the cache unchanged, if the free blocks do not suffice.
  void append(SeqId seq, int n_new);
  // Returns all of seq's blocks to the free list (finish or preemption). No-op if unknown.
  void free(SeqId seq);

  bool contains(SeqId seq) const { return seqs_.count(seq) != 0; }
  int seq_len(SeqId seq) const;  // Tokens reserved for seq; 0 if unknown.
  std::span<const int32_t> block_table(SeqId seq) const;
  size_t num_sequences() const { return seqs_.size(); }

  // --- Storage. A (layer, block, head) page is block_size x head_dim contiguous floats. ---

  float* k_page(int device, int layer, int block, int head) {
    return page(device, layer, block, 0, head);
  }
  float* v_page(int device, int layer, int block, int head) {
    return page(device, layer, block, 1, head);
  }
  const float* k_page(int device, int layer, int block, int head) const {
    return const_cast<PagedKvCache*>(this)->page(device, layer, block, 0, head);
  }
  const float* v_page(int device, int layer, int block, int head) const {
    return const_cast<PagedKvCache*>(this)->page(device, layer, block, 1, head);
  }
  size_t bytes_per_device() const { return floats_per_device_ * sizeof(float); }

 private:
  struct Seq {
    std::vector<int32_t> blocks;
    int len = 0;
  };

  float* page(int device, int layer, int block, int kv, int head) {
    // Layout: [layer][block][K|V][head][slot][dim], so one block's pages are adjacent.
    const size_t idx =
        ((static_cast<size_t>(layer) * num_blocks_ + block) * 2 + kv) * heads_ + head;
    return storage_[device].get() + idx * page_floats_;
  }

  int n_layers_, heads_, head_dim_, block_size_, num_blocks_, devices_;
  size_t page_floats_;
  size_t floats_per_device_;
  std::vector<std::unique_ptr<float[]>> storage_;  // Uninitialized: pages are written first.
  std::vector<int32_t> free_list_;                 // LIFO: recently freed blocks are reused first.
  std::vector<uint8_t> in_use_;                    // Guards against double free / double use.
  std::unordered_map<SeqId, Seq> seqs_;
};

}  // namespace llm
