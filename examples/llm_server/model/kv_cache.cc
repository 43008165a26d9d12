#include "model/kv_cache.h"

#include <stdexcept>
#include <string>

namespace llm {

PagedKvCache::PagedKvCache(int n_layers, int heads_per_device, int head_dim, int block_size,
                           int num_blocks, int devices)
    : n_layers_(n_layers),
      heads_(heads_per_device),
      head_dim_(head_dim),
      block_size_(block_size),
      num_blocks_(num_blocks),
      devices_(devices) {
  if (n_layers < 1 || heads_per_device < 1 || head_dim < 1 || block_size < 1 || num_blocks < 1 ||
      devices < 1) {
    throw std::invalid_argument("PagedKvCache: all dimensions must be positive");
  }
  page_floats_ = static_cast<size_t>(block_size) * head_dim;
  floats_per_device_ = static_cast<size_t>(n_layers) * num_blocks * 2 * heads_ * page_floats_;
  for (int d = 0; d < devices; ++d) {
    storage_.emplace_back(new float[floats_per_device_]);
  }
  free_list_.reserve(num_blocks);
  for (int b = num_blocks - 1; b >= 0; --b) free_list_.push_back(b);  // Pops 0, 1, 2, ...
  in_use_.assign(num_blocks, 0);
}

int PagedKvCache::blocks_needed(SeqId seq, int n_new) const {
  const int len = seq_len(seq);
  return blocks_for(len + n_new) - blocks_for(len);
}

void PagedKvCache::append(SeqId seq, int n_new) {
  if (n_new < 0) throw std::invalid_argument("PagedKvCache::append: negative token count");
  const int need = blocks_needed(seq, n_new);
  if (need > num_free_blocks()) {
    throw std::runtime_error("PagedKvCache: out of blocks (need " + std::to_string(need) +
                             ", free " + std::to_string(num_free_blocks()) + ")");
  }
  Seq& s = seqs_[seq];
  for (int i = 0; i < need; ++i) {
    const int32_t b = free_list_.back();
    free_list_.pop_back();
    if (in_use_[b]) throw std::logic_error("PagedKvCache: free list holds a used block");
    in_use_[b] = 1;
    s.blocks.push_back(b);
  }
  s.len += n_new;
}

void PagedKvCache::free(SeqId seq) {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return;
  // Push in reverse so the sequence's first block is reused first.
  for (auto b = it->second.blocks.rbegin(); b != it->second.blocks.rend(); ++b) {
    if (!in_use_[*b]) throw std::logic_error("PagedKvCache: double free of a block");
    in_use_[*b] = 0;
    free_list_.push_back(*b);
  }
  seqs_.erase(it);
}

int PagedKvCache::seq_len(SeqId seq) const {
  auto it = seqs_.find(seq);
  return it == seqs_.end() ? 0 : it->second.len;
}

std::span<const int32_t> PagedKvCache::block_table(SeqId seq) const {
  auto it = seqs_.find(seq);
  if (it == seqs_.end()) return {};
  return it->second.blocks;
}

}  // namespace llm
