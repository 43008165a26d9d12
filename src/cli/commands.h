// One function per CLI verb; main.cc only declares the options (CLI11) and dispatches.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace huoyan::cli {

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string to;  // chrome | folded | speedscope; "" = from the output name
  std::string request_id;
  std::string mode = "apportioned";
};
int run_convert(const ConvertArgs& args);

struct TopArgs {
  std::vector<std::string> inputs;
  std::string by = "name";
  std::string kind;  // empty: kernel rows by name, device work by stream or device
  size_t limit = 20;
  bool json = false;
  std::string request_id;
  std::string mode = "shared";
  bool stream = false;  // one pass in bounded memory (also chosen for inputs of 2 GiB or more)
};
int run_top(const TopArgs& args);

struct ServeArgs {
  std::vector<std::string> inputs;
  std::string listen = "127.0.0.1:8080";
  std::string token;
  std::string token_file;  // --token-file: the token is its first line (kept off the command line)
  std::vector<std::string> allow_hosts;  // --allow-host: Host names accepted besides addresses
  size_t threads = 8;
  bool open = false;
  std::vector<std::string> baseline;  // --baseline: the base of the differential flame graph
};
int run_serve(const ServeArgs& args);

struct CalibrateArgs {
  bool json = false;
  bool cached = false;  // print the cached figures when there are some, else measure
  bool no_save = false;
  int threads = 0;  // 0: every hardware thread
};
int run_calibrate(const CalibrateArgs& args);

struct FormatsArgs {
  bool json = false;
};
int run_formats(const FormatsArgs& args);

}  // namespace huoyan::cli
