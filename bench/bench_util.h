// What the benchmarks share: timing, peak memory, and generated export data reused across runs.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "byoml/sample/enterprise_sample.h"

namespace byoml::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// DIR/export-N holds `events` generated rows (the enterprise sample); generated once.
inline std::string ensure_sample(const std::string& dir, uint64_t events) {
  std::string data = dir + "/export-" + std::to_string(events);
  if (std::filesystem::exists(data + "/manifest.json")) return data;
  std::printf("generating %lu events into %s ...\n", static_cast<unsigned long>(events), data.c_str());
  EnterpriseSampleSpec spec;
  spec.events = events;
  auto t0 = Clock::now();
  auto s = write_enterprise_sample(spec, data);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.status().message().c_str());
    std::exit(1);
  }
  std::printf("generated %lu rows, %.2f GB (%.0f bytes/row) in %.1f s\n", static_cast<unsigned long>(s->rows),
              static_cast<double>(s->bytes) / 1e9, static_cast<double>(s->bytes) / static_cast<double>(s->rows),
              seconds_since(t0));
  return data;
}

}  // namespace byoml::bench
