// Soak: a simulated day of 5-minute export blobs through the watcher, in compressed time. The
// model is trained on the sample's training weeks; then each 5-minute folder of the first test
// day lands in the input and one watch cycle runs (per-event storage on), as `byoml watch`
// would every 5 minutes. Prints, per hour of data: cycles, events, cycle latency, throughput,
// resident and peak memory. Asserts nothing.
//   bench_watch [--events N] [--dir DIR]    (default 3.5 million events: 100k a day)
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "bench_util.h"
#include "byoml/api/watcher.h"
#include "byoml/common/parallel.h"

using namespace byoml;
namespace fs = std::filesystem;
using bench::Clock;

namespace {

double resident_mib() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 3'500'000;
  std::string dir = "build/bench-data";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::string data = bench::ensure_sample(dir, events);
  const fs::path work = fs::path(dir) / "watch-soak";
  fs::remove_all(work);
  fs::create_directories(work / "in");
  const std::string store = (work / "byoml.db").string(), models = (work / "models").string();

  // The first test day's blobs, in time order, grouped by 5-minute folder.
  const std::string day = "/y=2026/m=11/d=02/";
  std::map<std::string, std::vector<fs::path>> folders;
  for (const auto& e : fs::recursive_directory_iterator(data + "/export")) {
    std::string p = e.path().string();
    if (e.is_regular_file() && p.find(day) != std::string::npos) folders[e.path().parent_path().string()].push_back(e.path());
  }

  Session session({store, {}, {}, {}});
  auto t = std::make_shared<const DetectionTemplate>(default_template());
  TrainJob train;
  train.input.paths = {data + "/export"};
  train.input.read.filter.window.to = make_ticks(2026, 11, 2);
  train.tmpl = t;
  train.values = ParamSet::make(t->params).value();
  train.model_dir = models;
  train.threads = resolve_threads(0);
  auto t0 = Clock::now();
  auto trained = session.train(train);
  if (!trained) {
    std::fprintf(stderr, "%s\n", trained.status().message().c_str());
    return 1;
  }
  std::printf("trained      %.1f s on the training weeks; %zu five-minute folders in the day\n",
              bench::seconds_since(t0), folders.size());

  WatchOptions w;
  w.input.paths = {(work / "in").string()};
  w.model_dir = models;
  w.per_event = true;
  Watcher watcher(session, w);
  if (Status st = watcher.prepare(); !st) {
    std::fprintf(stderr, "%s\n", st.message().c_str());
    return 1;
  }
  std::printf("%-6s %7s %9s %10s %10s %10s %12s %10s %9s\n", "hour", "cycles", "events", "median ms", "p95 ms",
              "max ms", "events/s", "RSS MiB", "peak MiB");
  std::vector<double> latencies;
  uint64_t hour_events = 0, total_events = 0, cycles = 0;
  double busy = 0;
  int hour = 0;
  auto flush_hour = [&]() {
    if (latencies.empty()) return;
    std::vector<double> l = latencies;
    std::sort(l.begin(), l.end());
    double sum = 0;
    for (double x : l) sum += x;
    std::printf("%02d:00  %7zu %9lu %10.1f %10.1f %10.1f %12.0f %10.0f %9.0f\n", hour, l.size(),
                static_cast<unsigned long>(hour_events), 1000 * l[l.size() / 2], 1000 * l[l.size() * 95 / 100],
                1000 * l.back(), static_cast<double>(hour_events) / sum, resident_mib(), bench::peak_rss_mib());
    latencies.clear();
    hour_events = 0;
    ++hour;
  };
  const fs::path root = data + "/export";
  for (const auto& [folder, files] : folders) {
    for (const auto& f : files) {
      fs::path to = work / "in" / fs::relative(f, root);
      fs::create_directories(to.parent_path());
      fs::copy_file(f, to);
    }
    CycleOutcome c = watcher.cycle();
    if (!c.status) {
      std::fprintf(stderr, "cycle failed: %s\n", c.status.message().c_str());
      return 1;
    }
    latencies.push_back(c.seconds);
    busy += c.seconds;
    hour_events += c.events_stored;
    total_events += c.events_stored;
    ++cycles;
    if (latencies.size() == 12) flush_hour();
  }
  flush_hour();
  std::printf("day          %lu cycles, %lu scored events stored, %.1f s busy (%.0f events/s), peak RSS %.0f MiB\n",
              static_cast<unsigned long>(cycles), static_cast<unsigned long>(total_events), busy,
              static_cast<double>(total_events) / busy, bench::peak_rss_mib());
  return 0;
}
