// `huoyan formats`: the input formats and folder layouts huoyan reads, in sniffing order.
#include <algorithm>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "src/cli/cli_common.h"
#include "src/cli/commands.h"
#include "src/io/sink.h"
#include "src/readers/sniff.h"
#include "src/writers/json_out.h"

namespace huoyan::cli {
namespace {

void print_json() {
  StringSink sink;
  {
    BufferedOut out(&sink);
    auto list = [&out](const char* kind, auto formats, bool& first) {
      for (const auto& f : formats) {
        out.put(std::string_view(first ? "\n  {\"kind\":" : ",\n  {\"kind\":"));
        first = false;
        json_string(out, kind);
        out.put(std::string_view(",\"name\":"));
        json_string(out, f.name);
        out.put(std::string_view(",\"description\":"));
        json_string(out, f.description);
        out.put(std::string_view("}"));
      }
    };
    bool first = true;
    out.put(std::string_view("["));
    list("file", file_formats(), first);
    list("folder", folder_formats(), first);
    out.put(std::string_view("\n]\n"));
    out.flush();
  }
  std::fwrite(sink.str().data(), 1, sink.str().size(), stdout);
}

}  // namespace

int run_formats(const FormatsArgs& args) {
  if (args.json) {
    print_json();
    return kExitOk;
  }
  size_t width = 0;
  for (const auto& f : file_formats()) width = std::max(width, f.name.size());
  for (const auto& f : folder_formats()) width = std::max(width, f.name.size());
  std::string out = "File formats (detected by content, in this order; .gz is read too):\n";
  for (const auto& f : file_formats())
    out += fmt::format("  {:<{}}  {}\n", f.name, width, f.description);
  out += "Folder layouts (asked before a folder is walked file by file):\n";
  if (folder_formats().empty())
    out += "  (none: folders are walked and every recognised file is read)\n";
  for (const auto& f : folder_formats())
    out += fmt::format("  {:<{}}  {}\n", f.name, width, f.description);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace huoyan::cli
