// End to end on raw export-format events: read → features → train → save, with the built-in
// template and all cores, and peak memory. Prints figures; asserts nothing.
//   bench_train [--events N] [--dir DIR]    (default 20 million events, about 22 GB)
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_util.h"
#include "byoml/common/parallel.h"
#include "byoml/jobs/train_job.h"
#include "byoml/models/model_file.h"

using namespace byoml;
using bench::Clock;

int main(int argc, char** argv) {
  uint64_t events = 20'000'000;
  std::string dir = "build/bench-data";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::string data = bench::ensure_sample(dir, events);
  const DetectionTemplate& t = default_template();
  TrainRequest req;
  req.paths = {data + "/export"};
  req.tmpl = &t;
  req.values = ParamSet::make(t.params).value();
  req.threads = resolve_threads(0);
  req.log = [](const std::string& s) { std::fprintf(stderr, "  %s\n", s.c_str()); };
  auto t0 = Clock::now();
  auto out = run_train(req);
  if (!out) {
    std::fprintf(stderr, "%s\n", out.status().message().c_str());
    return 1;
  }
  auto t1 = Clock::now();
  std::string path = dir + "/bench-model.byoml";
  if (Status s = save_model(*out->model, path); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  double save = bench::seconds_since(t1), total = bench::seconds_since(t0);
  const TrainReport& r = out->report;
  const nlohmann::json& figures = out->model->info["data"];
  std::printf("input        %lu records, %.2f GB, %lu modelled events, %lu pairs\n",
              static_cast<unsigned long>(r.read.records), static_cast<double>(r.read.bytes_read) / 1e9,
              figures["events"].get<unsigned long>(), figures["pairs"].get<unsigned long>());
  std::printf("read         %.1f s (%.2f M records/s, %.2f GB/s)\n", r.read_seconds,
              static_cast<double>(r.read.records) / r.read_seconds / 1e6,
              static_cast<double>(r.read.bytes_read) / 1e9 / r.read_seconds);
  std::printf("fit          %.2f s (%lu users, %lu resources, %u threads)\n", r.fit_seconds,
              figures["users"].get<unsigned long>(), figures["resources"].get<unsigned long>(), req.threads);
  std::printf("save         %.2f s\n", save);
  std::printf("end to end   %.1f s (target under 25 s warm on 2 cores); peak RSS %.0f MiB (target under 1024)\n",
              total, bench::peak_rss_mib());
  return 0;
}
