// The connectors' throughput against local peers: blobs read from a real Azurite (blobs/s and
// MB/s, 1 and N parallel downloads), and rows/s accepted by the local Logs Ingestion server
// (gzip'd batches of at most 1 MB, a bearer token from the local Entra ID). Prints figures;
// asserts nothing. Azurite comes from tests/azurite (npm ci there first; `make bench` does).
//   bench_cloud [--blobs N] [--blob-kib K] [--rows N]
#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "../tests/azure_test_util.h"
#include "../tests/local_cloud.h"
#include "bench_util.h"
#include "byoml/results/logs_ingestion_sink.h"
#include "byoml/sources/input_set.h"
#include "byoml/templates/detection_template.h"

using namespace byoml;
using bench::Clock;
using bench::seconds_since;

namespace {

// One export row, repeated with a new EventOriginId and user, until a blob holds `bytes`.
std::string blob_of(size_t bytes, size_t seed) {
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i)
    out += fmt::format(
        R"({{"TimeGenerated":"2026-11-28T10:{:02}:{:02}.0000000Z","EventID":5140,"Account":"CONTOSO\\u{:05}","AccountType":"User","Computer":"FS{:02}.contoso.local","ShareName":"\\\\*\\share{}","EventOriginId":"{:08x}-0000-4000-8000-{:012x}","Activity":"5140 - A network share object was accessed.","Type":"SecurityEvent"}})"
        "\n",
        (i / 60) % 60, i % 60, (seed * 7 + i) % 5000, i % 20, i % 300, seed, i);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t blobs = 200, blob_kib = 1024, rows = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--blobs")) blobs = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--blob-kib")) blob_kib = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows")) rows = std::stoul(argv[i + 1]);
  }
  test::Azurite azurite;
  test::BlobWriter writer(azurite.endpoint());
  writer.create_container("am-securityevent");
  std::vector<std::string> names;
  auto t0 = Clock::now();
  test::TempDir tree;
  for (size_t b = 0; b < blobs; ++b)
    tree.write(fmt::format("y=2026/m=11/d=28/h={:02}/m={:02}/PT05M.json", b / 12 % 24, b % 12 * 5), blob_of(blob_kib * 1024, b));
  size_t uploaded = writer.upload_tree("am-securityevent", tree.path());
  std::printf("uploaded %zu blobs of %zu KiB to Azurite in %.1f s\n", uploaded, blob_kib, seconds_since(t0));

  CloudCredentials c;
  c.storage_key = test::kDevKey;
  auto cloud = CloudContext::make(c, HttpOptions());
  auto mapping = FieldMapping::compile(default_template().mapping).value();
  for (unsigned threads : {1u, 4u, 8u}) {
    ReadOptions o;
    o.cloud = cloud;
    o.download_threads = threads;
    Vocabulary vocab;
    RejectLog rejects;
    uint64_t events = 0;
    auto t = Clock::now();
    auto plan = plan_inputs({azurite.endpoint() + "/am-securityevent"}, o);
    if (!plan) return std::fprintf(stderr, "%s\n", plan.status().message().c_str()), 1;
    ReadContext ctx(mapping, vocab, o, rejects, [&](const EventBatch& batch) { events += batch.size(); });
    if (Status st = read_inputs(*plan, ctx); !st) return std::fprintf(stderr, "%s\n", st.message().c_str()), 1;
    double s = seconds_since(t);
    std::printf("blob read, %u download threads: %zu blobs, %.1f MB, %lu events in %.2f s: %.0f blobs/s, %.1f MB/s, %.0f events/s\n",
                threads, static_cast<size_t>(ctx.stats().files_read), static_cast<double>(ctx.stats().bytes_read) / 1e6,
                static_cast<unsigned long>(events), s, static_cast<double>(ctx.stats().files_read) / s,
                static_cast<double>(ctx.stats().bytes_read) / 1e6 / s, static_cast<double>(events) / s);
  }
  azurite.stop();

  test::EntraServer entra;
  test::LogsIngestionServer ingestion(entra);
  CloudCredentials a;
  a.tenant_id = entra.tenant;
  a.client_id = entra.client_id;
  a.client_secret = entra.client_secret;
  a.authority_host = entra.url();
  std::vector<nlohmann::json> result_rows;
  for (size_t i = 0; i < rows; ++i)
    result_rows.push_back({{"TimeGenerated", "2026-11-28T10:00:00.0000000Z"}, {"User", fmt::format("contoso\\u{:06}", i)},
                           {"Resource", fmt::format("\\\\fs01\\share{}", i % 300)}, {"AnomalyScore", 1.0 + static_cast<double>(i % 7)},
                           {"Severity", 90.5}, {"Reasons", {"new_pair"}}, {"RunId", "score-0123456789abcdef"}});
  IngestionFigures figures;
  auto sink = logs_ingestion_sink(*parse_logs_ingestion_url(ingestion.stream_url()), CloudContext::make(a, HttpOptions()), &figures);
  auto t = Clock::now();
  if (Status st = sink->begin("score-0123456789abcdef", OutputSchema{}); !st) return 1;
  if (Status st = sink->write(result_rows); !st) return 1;
  if (Status st = sink->commit(nlohmann::json::object()); !st) return std::fprintf(stderr, "%s\n", st.message().c_str()), 1;
  double s = seconds_since(t);
  std::printf("logs ingestion: %lu rows in %lu batches (%lu requests) in %.2f s: %.0f rows/s accepted; server holds %zu rows\n",
              static_cast<unsigned long>(figures.rows), static_cast<unsigned long>(figures.batches),
              static_cast<unsigned long>(figures.requests), s, static_cast<double>(figures.rows) / s, ingestion.rows().size());
  std::printf("peak RSS %.0f MiB\n", bench::peak_rss_mib());
  return 0;
}
