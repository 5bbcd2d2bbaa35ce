// Read + parse + intern throughput on generated export-format events, beside a bare simdjson
// walk of the same lines, for 1 and N threads, with the files in the page cache (warm) and
// dropped from it (cold, posix_fadvise DONTNEED). Passes alternate (bare, byoml, bare, ...)
// and each figure is the median of the rounds. Prints figures; asserts nothing.
//   bench_read [--events N] [--dir DIR] [--rounds R] [--cold-rounds R] [--threads N]
//              [--only bare|byoml]     (data is generated into DIR once and reused)
#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

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
  uint64_t events = 0, bytes = 0;
  double seconds = 0;
  double rate() const { return static_cast<double>(events) / seconds; }
};

// The least simdjson must do to look at every field of every line, the files shared out
// among `threads` threads.
Pass bare_simdjson(const InputPlan& plan, unsigned threads) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> events{0}, bytes{0};
  auto work = [&] {
    simdjson::ondemand::parser parser;
    uint64_t n = 0;
    for (size_t i; (i = next++) < plan.files.size();) {
      LineReader lines(4u << 20);
      if (!lines.open(plan.files[i].object)) continue;
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
        n += fields > 0;
      }
      bytes += lines.bytes_read();
    }
    events += n;
  };
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return {events, bytes, seconds_since(t0)};
}

Pass byoml_read(const InputPlan& plan, unsigned threads, size_t* vocab_bytes = nullptr) {
  Pass p;
  auto mapping = FieldMapping::compile(default_template().mapping).value();
  Vocabulary vocab;
  RejectLog rejects;
  ReadOptions options;
  options.read_threads = threads;
  auto t0 = Clock::now();
  ReadContext ctx(mapping, vocab, options, rejects, [&](const EventBatch& b) { p.events += b.size(); });
  if (Status st = read_inputs(plan, ctx); !st) throw std::runtime_error(st.message());
  p.seconds = seconds_since(t0);
  p.bytes = ctx.stats().bytes_read;
  if (ctx.stats().rejected) std::fprintf(stderr, "unexpected: %lu rejected\n", static_cast<unsigned long>(ctx.stats().rejected));
  if (vocab_bytes) *vocab_bytes = vocab.bytes_used();
  return p;
}

// Drops the files from the page cache; returns the fraction of a sample still resident.
double drop_cache(const InputPlan& plan) {
  for (const auto& f : plan.files) {
    int fd = ::open(f.object.local_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  size_t resident = 0, pages = 0;
  long page = ::sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < plan.files.size(); i += std::max<size_t>(1, plan.files.size() / 50)) {
    int fd = ::open(plan.files[i].object.local_path.c_str(), O_RDONLY | O_CLOEXEC);
    size_t size = plan.files[i].object.size;
    if (fd < 0 || size == 0) continue;
    void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED) continue;
    std::vector<unsigned char> vec((size + page - 1) / page);
    if (::mincore(m, size, vec.data()) == 0)
      for (unsigned char v : vec) resident += v & 1, ++pages;
    ::munmap(m, size);
  }
  return pages ? static_cast<double>(resident) / static_cast<double>(pages) : 0;
}

Pass median(std::vector<Pass> v) {
  std::sort(v.begin(), v.end(), [](const Pass& a, const Pass& b) { return a.rate() < b.rate(); });
  return v[v.size() / 2];
}

void print(const char* name, unsigned threads, const char* cache, const Pass& p, size_t rounds) {
  std::printf("%-8s %2u thr  %-4s %11lu events %6.2f GB %7.2f s %10.0f events/s %6.3f GB/s  (median of %zu)\n", name,
              threads, cache, static_cast<unsigned long>(p.events), static_cast<double>(p.bytes) / 1e9, p.seconds,
              p.rate(), static_cast<double>(p.bytes) / 1e9 / p.seconds, rounds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 10'000'000;
  std::string dir = "build/bench-data", only;
  size_t rounds = 3, cold_rounds = 1;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events")) events = std::stoull(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1ul, std::stoul(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--cold-rounds")) cold_rounds = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
  }
  std::string data = bench::ensure_sample(dir, events);
  auto plan = plan_inputs({data + "/export"}, {}).value();
  InputPlan tenth = plan;
  tenth.files.resize(plan.files.size() / 10);
  bool bare_on = only != "byoml", byoml_on = only != "bare";

  size_t vocab_small = 0, vocab_all = 0;
  double rss_small = 0;
  if (byoml_on) {
    byoml_read(tenth, 1, &vocab_small);
    rss_small = peak_rss_mib();
  }
  std::vector<unsigned> counts = {1};
  if (threads > 1) counts.push_back(threads);
  struct Row {
    unsigned threads;
    bool cold;
    Pass bare, byoml;
  };
  std::vector<Row> rows;
  for (bool cold : {false, true}) {
    size_t n = cold ? cold_rounds : rounds;
    if (n == 0) continue;
    if (cold) std::printf("cold: files dropped from the page cache before each pass\n");
    else std::printf("warm: files in the page cache (a first untimed pass loads them)\n");
    if (!cold) bare_on ? bare_simdjson(plan, threads) : byoml_read(plan, threads);
    for (unsigned t : counts) {
      std::vector<Pass> bare, ours;
      for (size_t r = 0; r < n; ++r) {
        // Alternate, so that drift in the machine's speed hits both alike.
        if (bare_on) {
          if (cold && drop_cache(plan) > 0.05) std::printf("  (the page cache kept some files: cold figures are optimistic)\n");
          bare.push_back(bare_simdjson(plan, t));
        }
        if (byoml_on) {
          if (cold) drop_cache(plan);
          ours.push_back(byoml_read(plan, t, &vocab_all));
        }
      }
      Row row{t, cold, {}, {}};
      if (bare_on) print("bare", t, cold ? "cold" : "warm", row.bare = median(bare), n);
      if (byoml_on) print("byoml", t, cold ? "cold" : "warm", row.byoml = median(ours), n);
      rows.push_back(row);
    }
  }
  std::printf("\n");
  for (const auto& r : rows) {
    if (bare_on && byoml_on)
      std::printf("ratio byoml / bare simdjson, %u thr %s: %.2f\n", r.threads, r.cold ? "cold" : "warm",
                  r.byoml.rate() / r.bare.rate());
    if (r.threads > 1)
      for (const auto& one : rows)
        if (one.threads == 1 && one.cold == r.cold) {
          if (byoml_on)
            std::printf("byoml speed-up 1 -> %u threads %s: %.2fx\n", r.threads, r.cold ? "cold" : "warm",
                        r.byoml.rate() / one.byoml.rate());
          if (bare_on)
            std::printf("bare speed-up 1 -> %u threads %s: %.2fx\n", r.threads, r.cold ? "cold" : "warm",
                        r.bare.rate() / one.bare.rate());
        }
  }
  if (byoml_on) {
    std::printf("peak RSS: %.1f MiB after a tenth of the input (1 thread), %.1f MiB after every pass\n", rss_small,
                peak_rss_mib());
    std::printf("vocabulary: %.1f MiB after a tenth, %.1f MiB after all (grows with distinct strings, not events)\n",
                static_cast<double>(vocab_small) / 1048576.0, static_cast<double>(vocab_all) / 1048576.0);
  }
  return 0;
}
