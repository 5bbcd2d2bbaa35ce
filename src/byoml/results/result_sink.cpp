#include "byoml/results/result_sink.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <optional>

#include "byoml/common/atomic_file.h"
#include "byoml/results/logs_ingestion_sink.h"
#include "byoml/results/result_store.h"

namespace byoml {

namespace {

class StoreSink final : public ResultSink {
 public:
  StoreSink(ResultStore& store, std::function<Status()> before_commit)
      : store_(store), before_commit_(std::move(before_commit)) {}
  Status begin(const std::string& run_id, const OutputSchema& schema) override {
    auto txn = store_.begin_write();
    if (!txn) return txn.status();
    txn_.emplace(std::move(txn).value());
    run_id_ = run_id;
    schema_ = schema;
    return store_.delete_run_rows(schema_, run_id_);
  }
  Status write(const std::vector<nlohmann::json>& rows) override {
    BYOML_CHECK(txn_.has_value());
    return store_.append_rows(schema_, rows);
  }
  Status commit(const nlohmann::json& health) override {
    BYOML_CHECK(txn_.has_value());
    BYOML_RETURN_IF_ERROR(store_.record_run(health));
    if (before_commit_) BYOML_RETURN_IF_ERROR(before_commit_());
    Status st = txn_->commit();
    txn_.reset();
    return st;
  }
  std::string describe() const override { return fmt::format("{} table {}", store_.path(), schema_.table); }

 private:
  ResultStore& store_;
  std::function<Status()> before_commit_;
  std::optional<WriteTransaction> txn_;
  std::string run_id_;
  OutputSchema schema_;
};

class JsonLinesSink final : public ResultSink {
 public:
  explicit JsonLinesSink(std::string path) : path_(std::move(path)) {}
  Status begin(const std::string&, const OutputSchema&) override {
    auto f = AtomicFile::create(path_);
    if (!f) return f.status();
    file_.emplace(std::move(f).value());
    return {};
  }
  Status write(const std::vector<nlohmann::json>& rows) override {
    BYOML_CHECK(file_.has_value());
    for (const auto& r : rows) file_->write(r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n');
    return {};
  }
  Status commit(const nlohmann::json&) override {
    BYOML_CHECK(file_.has_value());
    Status st = file_->commit();
    file_.reset();
    return st;
  }
  std::string describe() const override { return path_; }

 private:
  std::string path_;
  std::optional<AtomicFile> file_;
};

}  // namespace

std::unique_ptr<ResultSink> store_sink(ResultStore& store, std::function<Status()> before_commit) {
  return std::make_unique<StoreSink>(store, std::move(before_commit));
}
std::unique_ptr<ResultSink> jsonl_sink(const std::string& path) { return std::make_unique<JsonLinesSink>(path); }

Result<std::unique_ptr<ResultSink>> output_sink(const std::string& target, std::shared_ptr<const CloudContext> cloud) {
  if (is_logs_ingestion_url(target)) {
    auto t = parse_logs_ingestion_url(target);
    if (!t) return t.status();
    return logs_ingestion_sink(std::move(t).value(), cloud ? std::move(cloud) : CloudContext::from_environment());
  }
  if (target.find("://") != std::string::npos)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: byoml writes results to a file, - (standard output) or a Logs Ingestion stream "
                              "(https://ENDPOINT/dataCollectionRules/DCR-ID/streams/STREAM)",
                              url_without_secrets(target)));
  return jsonl_sink(target);
}

std::string stable_run_id(const std::string& kind, const nlohmann::json& identity) {
  std::string text = identity.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return fmt::format("{}-{:016x}", kind, h.high64);
}

}  // namespace byoml
