// Read + parse + intern throughput on generated export-format events, against a bare simdjson
// walk of the same lines, and peak memory (flat in the input size: measured on a tenth of the
// input, then on all of it). Prints figures; asserts nothing.
//   bench_read [--events N] [--dir DIR]     (data is generated into DIR once and reused)
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench_util.h"
#include "byoml/sources/input_set.h"
#include "byoml/sources/line_reader.h"
#include "byoml/templates/detection_template.h"

using namespace byoml;
using bench::Clock;

namespace {

using bench::peak_rss_mib;
using bench::seconds_since;

struct Pass {
  uint64_t events = 0, bytes = 0, files = 0;
  double seconds = 0;
};

// The least simdjson must do to look at every field of every line.
Pass bare_simdjson(const InputPlan& plan) {
  Pass p;
  simdjson::ondemand::parser parser;
  auto t0 = Clock::now();
  for (const auto& f : plan.files) {
    LineReader lines(4u << 20);
    if (!lines.open(f.object)) continue;
    Line line;
    while (lines.next(line)) {
      simdjson::ondemand::document doc;
      if (parser.iterate(line.text.data(), line.text.size(), line.capacity).get(doc)) continue;
      simdjson::ondemand::object obj;
      if (doc.get_object().get(obj)) continue;
      size_t fields = 0;
      for (auto field : obj) {
        simdjson::ondemand::raw_json_string key;
        if (field.key().get(key) == simdjson::SUCCESS) ++fields;
      }
      p.events += fields > 0;
    }
    p.bytes += lines.bytes_read();
    ++p.files;
  }
  p.seconds = seconds_since(t0);
  return p;
}

Pass byoml_read(const InputPlan& plan, size_t* vocab_bytes) {
  Pass p;
  auto mapping = FieldMapping::compile(default_template().mapping).value();
  Vocabulary vocab;
  RejectLog rejects;
  auto t0 = Clock::now();
  ReadContext ctx(mapping, vocab, {}, rejects, [&](const EventBatch& b) { p.events += b.size(); });
  if (Status st = read_inputs(plan, ctx); !st) throw std::runtime_error(st.message());
  p.seconds = seconds_since(t0);
  p.bytes = ctx.stats().bytes_read;
  p.files = ctx.stats().files_read;
  if (ctx.stats().rejected) std::fprintf(stderr, "unexpected: %lu rejected\n", static_cast<unsigned long>(ctx.stats().rejected));
  *vocab_bytes = vocab.bytes_used();
  return p;
}

void print(const char* name, const Pass& p) {
  std::printf("%-28s %11lu events %8.2f GB %7.2f s %10.0f events/s %6.3f GB/s\n", name,
              static_cast<unsigned long>(p.events), static_cast<double>(p.bytes) / 1e9, p.seconds,
              static_cast<double>(p.events) / p.seconds, static_cast<double>(p.bytes) / 1e9 / p.seconds);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  std::string dir = "build/bench-data";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::string data = bench::ensure_sample(dir, events);
  auto plan = plan_inputs({data + "/export"}, {}).value();
  InputPlan tenth = plan;
  tenth.files.resize(plan.files.size() / 10);

  std::printf("single thread (one core); the bare parse runs first and warms the page cache\n");
  Pass bare = bare_simdjson(plan);
  print("bare simdjson walk", bare);
  size_t vocab_small = 0, vocab_all = 0;
  Pass small = byoml_read(tenth, &vocab_small);
  double rss_small = peak_rss_mib();
  print("byoml read, 1/10 of input", small);
  Pass all = byoml_read(plan, &vocab_all);
  double rss_all = peak_rss_mib();
  print("byoml read + parse + intern", all);
  std::printf("ratio to bare simdjson        %.2f (events/s)\n",
              (static_cast<double>(all.events) / all.seconds) / (static_cast<double>(bare.events) / bare.seconds));
  std::printf("peak RSS                      %.1f MiB after 1/10 of the input, %.1f MiB after all of it\n", rss_small,
              rss_all);
  std::printf("vocabulary                    %.1f MiB (grows with distinct strings, not with events)\n",
              static_cast<double>(vocab_all) / 1048576.0);
  return 0;
}
