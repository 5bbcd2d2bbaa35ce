// The Event Hubs source through the Kafka protocol, against librdkafka's built-in mock cluster
// (started here; no broker installed): {"records":[...]} messages on two partitions are
// scored; a consumer that runs again reads only what arrived since its group's committed
// offsets, so across restarts every record is scored once; a pretty-printed message is read
// and a garbage one rejected with its place.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;
constexpr const char* kHub = "am-securityevent";

class MockKafka {
 public:
  MockKafka() {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk_) throw std::runtime_error(err);
    rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(rk_);
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster);
    if (rd_kafka_mock_topic_create(cluster, kHub, 2, 1)) throw std::runtime_error("mock topic");
  }
  ~MockKafka() {
    rd_kafka_flush(rk_, 10000);
    rd_kafka_destroy(rk_);
  }
  void send(int partition, const std::string& body) {
    auto err = rd_kafka_producev(rk_, RD_KAFKA_V_TOPIC(kHub), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(body.data()), body.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) throw std::runtime_error(rd_kafka_err2str(err));
  }
  void flush() { rd_kafka_flush(rk_, 10000); }
  std::string url(const std::string& group = "byoml-test") const {
    return "kafka://" + bootstraps_ + "/" + kHub + "?group=" + group;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  std::string bootstraps_;
};

std::set<std::string> ids_in(const std::string& path) {
  std::set<std::string> ids;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) ids.insert(nlohmann::json::parse(line)["EventOriginId"].get<std::string>());
  return ids;
}

TEST(EventHubs, AConsumerThatRestartsNeitherLosesNorRepeatsARecord) {
  test::TempDir dir;
  ASSERT_EQ(test::run("sample -q --events 6000 --train-days 3 --test-days 1 --output " + dir.file("sample")).code, 0);
  auto manifest = nlohmann::json::parse(test::file_text(dir.file("sample/manifest.json")));
  const std::string from = manifest["test_window"]["from"];
  ASSERT_EQ(test::run("train -q --no-store --input " + dir.file("sample/export") + " --to " + from + " --model " +
                      dir.file("models")).code,
            0);
  // The test window's rows, as the export would send them: messages of up to 40 records.
  std::vector<std::string> rows;
  for (const auto& line : test::lines_under(dir.path() / "sample/export"))
    if (line.find("\"TimeGenerated\":\"" + from.substr(0, 10)) != std::string::npos) rows.push_back(line);
  ASSERT_GT(rows.size(), 200u);
  std::ofstream(dir.file("all.jsonl")) << [&] {
    std::string all;
    for (const auto& r : rows) all += r + "\n";
    return all;
  }();
  auto message = [&](size_t from_row, size_t to_row, bool pretty) {
    nlohmann::json records = nlohmann::json::array();
    for (size_t i = from_row; i < to_row; ++i) records.push_back(nlohmann::json::parse(rows[i]));
    return nlohmann::json({{"records", records}}).dump(pretty ? 2 : -1);
  };
  MockKafka kafka;
  const size_t half = rows.size() / 2;
  for (size_t i = 0, m = 0; i < half; i += 40, ++m) kafka.send(static_cast<int>(m % 2), message(i, std::min(i + 40, half), m == 1));
  kafka.send(1, "{\"records\": [ this is not json");
  kafka.flush();

  const std::string score = "score --no-store --model " + dir.file("models") + " --per-event --input ";
  test::Run first = test::run(score + kafka.url() + " --output " + dir.file("1.jsonl"));
  ASSERT_EQ(first.code, 0) << first.out;
  auto ids1 = ids_in(dir.file("1.jsonl"));
  EXPECT_NE(first.out.find("1 rejected"), std::string::npos) << "the garbage message, with its place: " << first.out;

  // Nothing new: the group's offsets were committed after the first run's results.
  test::Run idle = test::run(score + kafka.url() + " --output " + dir.file("0.jsonl"));
  ASSERT_EQ(idle.code, 0) << idle.out;
  EXPECT_TRUE(ids_in(dir.file("0.jsonl")).empty()) << idle.out;

  for (size_t i = half, m = 0; i < rows.size(); i += 40, ++m) kafka.send(static_cast<int>(m % 2), message(i, std::min(i + 40, rows.size()), false));
  kafka.flush();
  test::Run second = test::run(score + kafka.url() + " --output " + dir.file("2.jsonl"));
  ASSERT_EQ(second.code, 0) << second.out;
  auto ids2 = ids_in(dir.file("2.jsonl"));

  test::Run whole = test::run(score + dir.file("all.jsonl") + " --output " + dir.file("all-scores.jsonl"));
  ASSERT_EQ(whole.code, 0) << whole.out;
  auto expected = ids_in(dir.file("all-scores.jsonl"));
  ASSERT_GT(expected.size(), 100u);
  for (const auto& id : ids1) EXPECT_EQ(ids2.count(id), 0u) << "scored twice: " << id;
  std::set<std::string> both = ids1;
  both.insert(ids2.begin(), ids2.end());
  EXPECT_EQ(both, expected) << "every record once, across the restart";
  EXPECT_GT(ids1.size(), 0u);
  EXPECT_GT(ids2.size(), 0u);

  // Another consumer group starts from the beginning.
  test::Run other = test::run(score + kafka.url("another-group") + " --output " + dir.file("other.jsonl"));
  ASSERT_EQ(other.code, 0) << other.out;
  EXPECT_EQ(ids_in(dir.file("other.jsonl")), expected);

  // (The mock cluster makes any topic asked for, as Event Hubs does not: no test of a missing hub.)
  test::Run no_hub = test::run("inspect eventhubs://ns.servicebus.windows.net/");
  EXPECT_EQ(no_hub.code, 2) << no_hub.out;
  EXPECT_NE(no_hub.out.find("name the hub"), std::string::npos) << no_hub.out;
  test::Run no_secret = test::run("inspect eventhubs://127.0.0.1:1/am-securityevent", "BYOML_EVENTHUBS_CONNECTION_STRING=");
  EXPECT_EQ(no_secret.code, 77) << no_secret.out;
}

}  // namespace
}  // namespace byoml
