#include "model/tokenizer.h"

#include "model/config.h"

namespace llm {

std::vector<int32_t> encode(std::string_view text, bool add_bos) {
  std::vector<int32_t> ids;
  ids.reserve(text.size() + 1);
  if (add_bos) ids.push_back(kBosToken);
  for (char ch : text) ids.push_back(static_cast<unsigned char>(ch));
  return ids;
}

std::string decode(std::span<const int32_t> ids) {
  std::string text;
  text.reserve(ids.size());
  for (int32_t id : ids) {
    if (id >= 0 && id < 256) text.push_back(static_cast<char>(id));
  }
  return text;
}

}  // namespace llm
