// A test-only source plugged in through the transport registry: in-memory byte strings in
// partitions, as an Event Hub would deliver them. Nothing in the library knows it; it runs
// through train, score, the results store, rules and the report like files do, rejects name
// their partition and offset, and a read resumed at an offset reads only the tail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "byoml/api/session.h"
#include "byoml/sources/line_reader.h"
#include "test_util.h"

namespace byoml {
namespace {

namespace fs = std::filesystem;

// "mem://NAME" lists the partitions of NAME; each is one object, read from any offset.
class MemoryTransport final : public Transport {
 public:
  std::map<std::string, std::vector<std::string>> sources;  // name -> partition bytes

  Result<std::vector<InputObject>> list(const std::string& url, const ListHint&, std::vector<SkippedObject>&) const override {
    auto it = sources.find(url.substr(6));
    if (it == sources.end()) return Status(ErrorCode::kNotFound, url + ": no such source");
    std::vector<InputObject> out;
    for (size_t p = 0; p < it->second.size(); ++p) {
      InputObject o;
      o.transport = shared_from_this();
      o.source = url;
      o.name = "partition-" + std::to_string(p);
      o.size = it->second[p].size();
      o.version = "v1";
      out.push_back(std::move(o));
    }
    return out;
  }
  Result<std::unique_ptr<ByteStream>> open(const InputObject& o, uint64_t offset) const override {
    const std::string& bytes = sources.at(o.source.substr(6)).at(std::stoul(o.name.substr(10)));
    struct Stream final : ByteStream {
      std::string_view rest;
      Result<size_t> read(char* dst, size_t n) override {
        n = std::min(n, rest.size());
        std::copy_n(rest.data(), n, dst);
        rest.remove_prefix(n);
        return n;
      }
    };
    auto s = std::make_unique<Stream>();
    s->rest = std::string_view(bytes).substr(std::min<uint64_t>(offset, bytes.size()));
    return std::unique_ptr<ByteStream>(std::move(s));
  }
};

class MemorySource : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    ASSERT_EQ(test::run("sample -q --events 6000 --output " + dir_->path().string()).code, 0);
    // Every export row, dealt round-robin into three partitions.
    transport_ = std::make_shared<MemoryTransport>();
    auto& parts = transport_->sources["hub"];
    parts.resize(3);
    std::vector<std::string> blobs;
    for (const auto& e : fs::recursive_directory_iterator(dir_->file("export")))
      if (e.is_regular_file()) blobs.push_back(e.path().string());
    std::sort(blobs.begin(), blobs.end());
    size_t n = 0;
    for (const auto& b : blobs) {
      std::ifstream in(b);
      for (std::string line; std::getline(in, line);) parts[n++ % 3] += line + "\n";
    }
    register_transport("mem", transport_);
  }
  static void TearDownTestSuite() { delete dir_; }

  static test::TempDir* dir_;
  static std::shared_ptr<MemoryTransport> transport_;
};
test::TempDir* MemorySource::dir_ = nullptr;
std::shared_ptr<MemoryTransport> MemorySource::transport_;

TEST_F(MemorySource, RejectsNameTheirPartitionAndOffsetAndAResumedReadReadsOnlyTheTail) {
  auto& parts = transport_->sources["bad"];
  const std::string good = transport_->sources["hub"][0].substr(0, transport_->sources["hub"][0].find('\n') + 1);
  parts = {good + good, good + "{\"TimeGenerated\": oops}\n" + good};
  auto r = test::read_all({"mem://bad"});
  EXPECT_EQ(r->stats.files_read, 2u);
  EXPECT_EQ(r->stats.records, 5u);
  ASSERT_EQ(r->rejects.samples().size(), 1u);
  const Origin& o = r->rejects.samples()[0].origin;
  EXPECT_EQ(o.source, "mem://bad");
  EXPECT_EQ(o.object, "partition-1");
  EXPECT_EQ(o.at.line, 2u);
  EXPECT_EQ(o.at.offset, good.size()) << "the byte where the bad record starts";
  EXPECT_EQ(r->rejects.samples()[0].to_string().rfind("partition-1:2: ", 0), 0u) << r->rejects.samples()[0].to_string();

  // Resuming partition-1 after its bad record: only the last row is read, and offsets stay
  // those of the whole object.
  std::vector<SkippedObject> skipped;
  auto objects = transport_->list("mem://bad", {}, skipped);
  ASSERT_TRUE(objects);
  const InputObject& p1 = (*objects)[1];
  LineReader lines(1 << 20);
  const uint64_t resume = good.size() + std::string("{\"TimeGenerated\": oops}\n").size();
  ASSERT_TRUE(lines.open(p1, resume));
  Line line;
  ASSERT_TRUE(lines.next(line));
  EXPECT_EQ(line.offset, resume);
  EXPECT_EQ(std::string(line.text) + "\n", good);
  EXPECT_FALSE(lines.next(line));
}

TEST_F(MemorySource, TrainScoreStoreRulesAndReportRunOnItAsOnFiles) {
  test::TempDir out;
  Session session({out.file("s.db"), {}, {}, {}});
  auto tmpl = std::make_shared<DetectionTemplate>(default_template());
  auto values = ParamSet::make(tmpl->params);
  ASSERT_TRUE(values);
  auto train = [&](const std::string& input, const std::string& models) {
    TrainJob job;
    job.input.paths = {input};
    job.input.read.filter.window.to = make_ticks(2026, 11, 2);
    job.tmpl = tmpl;
    job.values = *values;
    job.model_dir = out.file(models);
    return session.train(job);
  };
  auto score = [&](const std::string& input, const std::string& models) {
    ScoreJob job;
    job.input.paths = {input};
    job.input.read.filter.window.from = make_ticks(2026, 11, 2);
    job.model_dir = out.file(models);
    return session.score(job);
  };
  auto from_memory = train("mem://hub", "memory-models");
  ASSERT_TRUE(from_memory) << from_memory.status().message();
  auto from_files = train(dir_->file("export"), "file-models");
  ASSERT_TRUE(from_files) << from_files.status().message();
  EXPECT_EQ(from_memory->report.read.files_read, 3u) << "three partitions";
  const nlohmann::json& memory_data = from_memory->model->info["data"];
  EXPECT_GT(memory_data["events"], 1000);
  EXPECT_EQ(memory_data["events"], from_files->model->info["data"]["events"]);
  EXPECT_EQ(memory_data["fingerprint"], from_files->model->info["data"]["fingerprint"])
      << "the same events make the same model, whatever brought them";

  auto scored = score("mem://hub", "memory-models");
  ASSERT_TRUE(scored) << scored.status().message();
  // Scored into a store of their own: in the same one, every pair would already be reported.
  Session files_session({out.file("files.db"), {}, {}, {}});
  ScoreJob files_job;
  files_job.input.paths = {dir_->file("export")};
  files_job.input.read.filter.window.from = make_ticks(2026, 11, 2);
  files_job.model_dir = out.file("file-models");
  auto scored_files = files_session.score(files_job);
  ASSERT_TRUE(scored_files) << scored_files.status().message();
  ASSERT_FALSE(scored->outcome.results.empty());
  auto without_run_id = [](std::vector<nlohmann::json> rows) {
    for (auto& r : rows) r.erase("RunId");
    return nlohmann::json(rows);
  };
  EXPECT_EQ(without_run_id(scored->outcome.results), without_run_id(scored_files->outcome.results));

  // byoml's rule over the whole week, not the last two hours of it.
  std::string rule = test::file_text(std::string(BYOML_SOURCE_DIR) + "/rules/anomalous-resource-access.yaml");
  rule.replace(rule.find("queryPeriod: 2h"), 15, "queryPeriod: 7d");
  auto ran = session.rules(out.write("rules/week.yaml", rule), make_ticks(2026, 11, 9), true);
  ASSERT_TRUE(ran) << ran.status().message();
  ASSERT_EQ(ran->size(), 1u);
  EXPECT_TRUE((*ran)[0].error.empty()) << (*ran)[0].error;
  EXPECT_GT((*ran)[0].alerts, 0);
  ReportOptions ro;
  ro.run_id = scored->run_id;
  auto html = session.report(ro);
  ASSERT_TRUE(html) << html.status().message();
  EXPECT_NE(html->find(scored->run_id), std::string::npos) << "the report shows the run";
}

}  // namespace
}  // namespace byoml
