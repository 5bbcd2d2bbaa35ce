// The Sentinel side against local servers that enforce the documented protocol: Entra ID
// tokens (client credentials, managed identity; audience, expiry, refresh), the Logs Ingestion
// API (429 with Retry-After, 413, 503, answers too slow to wait for: every row arrives, and a
// batch sent twice carries the same request id and row ids), Blob storage with a bearer token
// (Azurite over HTTPS with OAuth), and secrets that appear in no output, file, store row or
// report.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "azure_test_util.h"
#include "byoml/results/logs_ingestion_sink.h"
#include "byoml/sources/query_transport.h"
#include "local_cloud.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;

const std::set<std::string> kStreamColumns = {"TimeGenerated", "TimeStamp", "User", "Resource", "AnomalyScore",
                                              "Explanation", "Seq", "ByomlRowId"};

std::vector<nlohmann::json> make_rows(size_t n) {
  std::vector<nlohmann::json> rows;
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json usual = nlohmann::json::array();
    for (int k = 0; k < 8; ++k) usual.push_back({{"resource", fmt::format("\\\\fs{:02}.contoso.local\\share{}", k, i % 97)}, {"likelihood", 1.0 / (k + 1)}});
    rows.push_back({{"TimeGenerated", "2026-11-28T10:00:00.0000000Z"},
                    {"User", fmt::format("contoso\\user{:05}", i)},
                    {"Resource", fmt::format("\\\\fs01.contoso.local\\share{}", i % 211)},
                    {"AnomalyScore", 1.5 + static_cast<double>(i % 100) / 10},
                    {"Explanation", {{"usual_resources", usual}}},
                    {"Seq", i}});
  }
  return rows;
}

class LogsIngestion : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<test::LogsIngestionServer>(entra_);
    server_->columns = kStreamColumns;
  }
  std::shared_ptr<const CloudContext> cloud(Ticks timeout = 5 * kTicksPerSecond) const {
    CloudCredentials c;
    c.tenant_id = entra_.tenant;
    c.client_id = entra_.client_id;
    c.client_secret = entra_.client_secret;
    c.authority_host = entra_.url();
    HttpOptions h;
    h.timeout = timeout;
    h.backoff = kTicksPerSecond / 20;
    return CloudContext::make(c, h);
  }
  Status send(const std::vector<nlohmann::json>& rows, std::shared_ptr<const CloudContext> c,
              IngestionFigures* figures = nullptr, const std::string& run = "score-0123456789abcdef") {
    auto target = parse_logs_ingestion_url(server_->stream_url());
    if (!target) return target.status();
    auto sink = logs_ingestion_sink(*target, std::move(c), figures);
    BYOML_RETURN_IF_ERROR(sink->begin(run, OutputSchema{}));
    BYOML_RETURN_IF_ERROR(sink->write(rows));
    return sink->commit(nlohmann::json::object());
  }
  // Seq of every row that arrived, once per arrival.
  std::multiset<uint64_t> arrived() const {
    std::multiset<uint64_t> s;
    for (const auto& r : server_->rows()) s.insert(r["Seq"].get<uint64_t>());
    return s;
  }

  test::EntraServer entra_;
  std::unique_ptr<test::LogsIngestionServer> server_;
};

TEST_F(LogsIngestion, EveryRowArrivesOnceThroughThrottlingSplitsAndOutages) {
  auto rows = make_rows(4000);  // about 4 MB: several calls of at most 1 MB
  server_->plan({429, 1});
  server_->plan({503, -1});
  server_->plan({413});
  server_->plan({0, -1, 1500});  // slow, but within the client's patience
  IngestionFigures figures;
  Status st = send(rows, cloud(), &figures);
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto got = arrived();
  ASSERT_EQ(got.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(got.count(i), 1u) << "row " << i;
  std::set<std::string> ids;
  for (const auto& r : server_->rows()) {
    ids.insert(r["ByomlRowId"].get<std::string>());
    EXPECT_EQ(r["TimeStamp"], r["TimeGenerated"]) << "the original table's time column";
  }
  EXPECT_EQ(ids.size(), rows.size()) << "every row has its own id";
  EXPECT_GE(server_->waited_after_429(), 0.95) << "Retry-After: 1 was honoured";
  EXPECT_EQ(figures.splits, 1u);
  EXPECT_GE(figures.batches, 5u);
  auto statuses = server_->statuses();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 204), static_cast<long>(figures.batches));
  EXPECT_EQ(entra_.tokens_issued.load(), 1) << "the token is cached";
}

TEST_F(LogsIngestion, ABatchWhoseAnswerWasLostIsSentAgainWithTheSameIds) {
  auto rows = make_rows(50);
  // Stored, but answered after the client stopped waiting: the client cannot know, and sends
  // the batch again; downstream tells the copies apart by their ids.
  server_->plan({0, -1, 2500, true});
  Status st = send(rows, cloud(kTicksPerSecond));
  ASSERT_TRUE(st.is_ok()) << st.message();
  auto ids = server_->request_ids();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], ids[1]) << "a stable x-ms-client-request-id";
  EXPECT_EQ(ids[0].size(), 36u);
  auto got = server_->rows();
  ASSERT_EQ(got.size(), 100u) << "the service does not remove duplicates";
  std::map<std::string, std::set<uint64_t>> by_id;
  for (const auto& r : got) by_id[r["ByomlRowId"].get<std::string>()].insert(r["Seq"].get<uint64_t>());
  EXPECT_EQ(by_id.size(), 50u) << "the copies share their row ids";
  for (const auto& [id, seqs] : by_id) EXPECT_EQ(seqs.size(), 1u) << id;
  // Sending the same run again gives the same ids: a retried run is recognisable too.
  Status again = send(rows, cloud());
  ASSERT_TRUE(again.is_ok()) << again.message();
  EXPECT_EQ(server_->request_ids().back(), ids[0]);
}

TEST_F(LogsIngestion, TokensAreRenewedBeforeTheyExpire) {
  entra_.lifetime = 4;  // renewed after half of it
  auto c = cloud();
  ASSERT_TRUE(send(make_rows(10), c).is_ok());
  ASSERT_TRUE(send(make_rows(10), c).is_ok());
  EXPECT_EQ(entra_.tokens_issued.load(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2300));
  ASSERT_TRUE(send(make_rows(10), c).is_ok());
  EXPECT_EQ(entra_.tokens_issued.load(), 2);
  auto statuses = server_->statuses();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 401), 0) << "no expired token was ever sent";
}

TEST_F(LogsIngestion, RefusalsSayWhatIsWrongAndNeverShowTheSecret) {
  // A column the stream does not declare.
  auto rows = make_rows(3);
  rows[1]["Surprise"] = 1;
  Status column = send(rows, cloud());
  EXPECT_EQ(column.code(), ErrorCode::kInvalidArgument) << column.message();
  EXPECT_NE(column.message().find("column not in the stream: Surprise"), std::string::npos) << column.message();
  EXPECT_TRUE(server_->rows().empty()) << "nothing of a refused batch is stored";

  server_->forbidden = true;
  Status role = send(make_rows(3), cloud());
  EXPECT_EQ(role.code(), ErrorCode::kPermission) << role.message();
  EXPECT_NE(role.message().find("Monitoring Metrics Publisher"), std::string::npos) << role.message();
  server_->forbidden = false;

  CloudCredentials c;
  c.tenant_id = entra_.tenant;
  c.client_id = entra_.client_id;
  c.client_secret = "wrong-secret-value-123";
  c.authority_host = entra_.url();
  Status secret = send(make_rows(3), CloudContext::make(c, HttpOptions()));
  EXPECT_EQ(secret.code(), ErrorCode::kInvalidArgument) << secret.message();
  EXPECT_NE(secret.message().find("AADSTS7000215"), std::string::npos) << secret.message();
  EXPECT_EQ(secret.message().find("wrong-secret-value-123"), std::string::npos) << secret.message();

  auto bad = parse_logs_ingestion_url("https://dce.example/dataCollectionRules//streams/x");
  EXPECT_FALSE(bad.is_ok());
  EXPECT_FALSE(parse_logs_ingestion_url("http://example.com/dataCollectionRules/d/streams/s").is_ok())
      << "bearer tokens over plain HTTP to a remote host";
}

TEST_F(LogsIngestion, AManagedIdentityTokenWorksToo) {
  CloudCredentials c;
  c.managed_identity_endpoint = entra_.url() + "/metadata/identity/oauth2/token";
  Status st = send(make_rows(5), CloudContext::make(c, HttpOptions()));
  ASSERT_TRUE(st.is_ok()) << st.message();
  EXPECT_EQ(server_->rows().size(), 5u);
}

// The CLI end to end: score a generated week from Blob storage read with an Entra ID token
// (Azurite over HTTPS with OAuth), write the results back through Logs Ingestion, run the rules
// and the report; then look for every secret of the configuration everywhere.
TEST(CloudCli, ScoresFromBlobsWithATokenWritesBackAndLeaksNoSecret) {
  test::TempDir dir;
  test::TestCertificate cert(dir);
  test::EntraServer entra;
  test::LogsIngestionServer ingestion(entra);
  test::Azurite azurite(&cert);
  ASSERT_EQ(test::run("sample -q --events 8000 --train-days 4 --test-days 1 --output " + dir.file("sample")).code, 0);
  auto manifest = nlohmann::json::parse(test::file_text(dir.file("sample/manifest.json")));
  std::string from = manifest["test_window"]["from"];
  test::BlobWriter writer(azurite.endpoint(), cert.cert);
  writer.create_container("am-securityevent");
  writer.upload_tree("am-securityevent", dir.path() / "sample/export");

  // Every secret of the configuration, in a file only its owner reads.
  std::string conf = dir.write("credentials.yaml", "tenant_id: " + entra.tenant + "\nclient_id: " + entra.client_id +
                                                       "\nclient_secret: " + entra.client_secret +
                                                       "\nauthority_host: " + entra.url() + "\nca_bundle: " + cert.cert +
                                                       "\neventhubs_connection_string: \"Endpoint=sb://ns.servicebus.windows.net/;"
                                                       "SharedAccessKeyName=listen;SharedAccessKey=eh-secret-key-0123456789\"\n");
  fs::permissions(conf, fs::perms::owner_read | fs::perms::owner_write);
  const std::string blobs = azurite.endpoint() + "/am-securityevent";
  const std::string store = dir.file("byoml.db");
  std::string log;
  auto step = [&](const std::string& args, bool reads = true) {
    test::Run r = test::run(args + (reads ? " --credentials " + conf : ""));
    log += r.out;
    return r;
  };
  test::Run train = step("train --input " + blobs + " --to " + from + " --model " + dir.file("models") + " --store " + store);
  ASSERT_EQ(train.code, 0) << train.out;
  // The disk gives the same model data.
  test::Run disk = test::run("train -q --no-store --input " + dir.file("sample/export") + " --to " + from + " --model " +
                             dir.file("models-disk"));
  ASSERT_EQ(disk.code, 0) << disk.out;
  test::Run show_blob = test::run("models show --json --model " + dir.file("models"));
  test::Run show_disk = test::run("models show --json --model " + dir.file("models-disk"));
  EXPECT_EQ(nlohmann::json::parse(show_blob.out)["data"]["fingerprint"],
            nlohmann::json::parse(show_disk.out)["data"]["fingerprint"]);

  ingestion.columns.clear();  // the stream takes the template's columns and byoml's own
  test::Run score = step("score -q --json --input " + blobs + " --from " + from + " --model " + dir.file("models") +
                         " --store " + store + " --threshold 0 --output " + ingestion.stream_url());
  ASSERT_EQ(score.code, 0) << score.out;
  auto rows = ingestion.rows();
  ASSERT_GT(rows.size(), 3u);
  for (const char* column : {"TimeStamp", "User", "Resource", "AnomalyScore", "Severity", "Reasons", "ByomlRowId"})
    EXPECT_TRUE(rows[0].contains(column)) << column;
  EXPECT_EQ(rows.size(), nlohmann::json::parse(score.out.substr(score.out.find('{')))["results"].size());
  EXPECT_EQ(step("rules run --rules " + std::string(BYOML_SOURCE_DIR) + "/rules --store " + store, false).code, 0);
  EXPECT_EQ(step("report --store " + store + " --output " + dir.file("report.html"), false).code, 0);
  EXPECT_EQ(step("query --store " + store + " byoml_runs", false).code, 0);

  std::vector<std::string> secrets = entra.issued();  // the tokens byoml was given
  ASSERT_GE(secrets.size(), 2u) << "storage and monitor tokens";
  secrets.push_back(entra.client_secret);
  secrets.push_back("eh-secret-key-0123456789");
  for (const auto& s : secrets) EXPECT_EQ(log.find(s), std::string::npos) << "in the output: " << s;
  for (const auto& e : fs::recursive_directory_iterator(dir.path())) {
    if (!e.is_regular_file() || e.path() == conf || e.path().string().find("sample/") != std::string::npos) continue;
    std::string text = test::file_text(e.path().string());
    for (const auto& s : secrets) EXPECT_EQ(text.find(s), std::string::npos) << s << " in " << e.path();
  }
  for (const auto& r : rows)
    for (const auto& s : secrets) EXPECT_EQ(r.dump().find(s), std::string::npos);
}

// History from the workspace: the query API, sliced by day and halved where an answer is
// partial, trains the same model as the export files of the same days.
TEST(QueryApi, HistoryFromTheWorkspaceTrainsTheModelTheFilesTrain) {
  test::TempDir dir;
  test::EntraServer entra;
  test::QueryServer query(entra);
  ASSERT_EQ(test::run("sample -q --events 8000 --train-days 4 --test-days 1 --output " + dir.file("sample")).code, 0);
  auto manifest = nlohmann::json::parse(test::file_text(dir.file("sample/manifest.json")));
  const std::string from = manifest["train_window"]["from"], to = manifest["test_window"]["from"];
  for (const auto& line : test::lines_under(dir.path() / "sample/export")) query.table.push_back(nlohmann::json::parse(line));
  const std::string env = "AZURE_TENANT_ID=" + entra.tenant + " AZURE_CLIENT_ID=" + entra.client_id +
                          " AZURE_CLIENT_SECRET=" + entra.client_secret + " AZURE_AUTHORITY_HOST=" + entra.url();
  test::Run remote = test::run("train -q --no-store --input " + query.workspace_url() + " --from " + from + " --to " + to +
                                   " --model " + dir.file("models-query"), env);
  ASSERT_EQ(remote.code, 0) << remote.out;
  EXPECT_GT(query.partial.load(), 0) << "some day was more than one answer holds, and was halved";
  test::Run disk = test::run("train -q --no-store --input " + dir.file("sample/export") + " --from " + from + " --to " + to +
                             " --model " + dir.file("models-disk"));
  ASSERT_EQ(disk.code, 0) << disk.out;
  auto a = nlohmann::json::parse(test::run("models show --json --model " + dir.file("models-query")).out)["data"];
  auto b = nlohmann::json::parse(test::run("models show --json --model " + dir.file("models-disk")).out)["data"];
  EXPECT_EQ(a["events"], b["events"]);
  EXPECT_EQ(a["fingerprint"], b["fingerprint"]);
  EXPECT_EQ(a["pairs"], b["pairs"]);

  test::Run no_window = test::run("inspect " + query.workspace_url(), env);
  EXPECT_EQ(no_window.code, 2) << no_window.out;
  EXPECT_NE(no_window.out.find("give --from"), std::string::npos) << no_window.out;
  test::Run wrong = test::run("inspect --from " + from + " " + query.url() + "/v1/workspaces/nosuch", env);
  EXPECT_EQ(wrong.code, 4) << wrong.out;
  EXPECT_EQ(std::string(slice_query("SecurityEvent", {make_ticks(2026, 10, 1), make_ticks(2026, 10, 2)}, {5140}, {"Account", "Hostname"})),
            "SecurityEvent\n| where TimeGenerated >= datetime(2026-10-01T00:00:00.0000000Z) and TimeGenerated < "
            "datetime(2026-10-02T00:00:00.0000000Z)\n| where EventID in (5140)\n| project Account, Hostname, TimeGenerated, "
            "EventID, EventOriginId");
}

}  // namespace
}  // namespace byoml
