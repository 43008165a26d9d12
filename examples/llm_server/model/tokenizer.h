// Byte-level tokenizer: one token per byte, plus BOS and EOS specials.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace llm {

// Token ids of text's bytes, preceded by BOS when add_bos.
std::vector<int32_t> encode(std::string_view text, bool add_bos = true);

// Bytes of the byte tokens of ids; special and out-of-range ids are skipped.
std::string decode(std::span<const int32_t> ids);

}  // namespace llm
