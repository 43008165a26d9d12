// Collectors by name: the one place that knows which backends exist.
//
// The built-in table holds "host" and "fake"; other backends ("cupti", "cann") are added with
// register_collector_factory() before a profiler starts — explicitly, from code that is linked
// anyway (a static library drops self-registering objects nobody references).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "huoyan/huoyan.h"
#include "src/collect/collector.h"

namespace huoyan {

// Builds a collector for a profiler; reads whatever options concern it. `settings` is what
// followed the first ':' of the collector's name ("cann:aclprof,dir=/x" → "aclprof,dir=/x"),
// empty when there was none; a factory that takes no settings returns nullptr for non-empty
// ones.
using CollectorFactory =
    std::function<std::unique_ptr<Collector>(const ProfilerOptions&, std::string_view settings)>;

// Adds (or replaces) the factory of `name`. Thread-safe.
void register_collector_factory(std::string name, CollectorFactory factory);
// `name` is "<collector>" or "<collector>:<settings>". nullptr for an unknown collector (or
// settings its factory does not take). Thread-safe.
std::unique_ptr<Collector> make_collector(std::string_view name, const ProfilerOptions& options);
std::vector<std::string> collector_names();

}  // namespace huoyan
