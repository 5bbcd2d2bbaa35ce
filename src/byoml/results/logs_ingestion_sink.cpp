#include "byoml/results/logs_ingestion_sink.h"

#include <fmt/format.h>
#include <xxhash.h>
#include <zlib.h>

#include <deque>

#include "byoml/common/text.h"

namespace byoml {
namespace {

constexpr size_t kMaxValueBytes = 64 * 1024;
constexpr const char* kApiVersion = "2023-01-01";

Result<std::string> gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Status(ErrorCode::kIo, "gzip: cannot start");
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status(ErrorCode::kIo, "gzip: did not finish");
  return out;
}

std::string hex128(std::string_view text) {
  XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

// A value the service takes: nested values as JSON text when they would pass 64 KB, long
// strings cut there.
nlohmann::json bounded(const nlohmann::json& v) {
  if (v.is_string() && v.get_ref<const std::string&>().size() > kMaxValueBytes)
    return v.get_ref<const std::string&>().substr(0, kMaxValueBytes - 3) + "...";
  if (v.is_structured()) {
    std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > kMaxValueBytes) return text.substr(0, kMaxValueBytes - 3) + "...";
  }
  return v;
}

class LogsIngestionSink final : public ResultSink {
 public:
  LogsIngestionSink(LogsIngestionTarget t, std::shared_ptr<const CloudContext> cloud, IngestionFigures* figures)
      : t_(std::move(t)), cloud_(std::move(cloud)), figures_(figures) {}

  Status begin(const std::string& run_id, const OutputSchema& schema) override {
    run_id_ = run_id;
    schema_ = schema;
    rows_.clear();
    return {};
  }
  Status write(const std::vector<nlohmann::json>& rows) override {
    for (const auto& r : rows) {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, v] : r.items()) out[k] = bounded(v);
      if (out.contains("TimeGenerated") && !out.contains("TimeStamp")) out["TimeStamp"] = out["TimeGenerated"];
      std::string text = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out["ByomlRowId"] = hex128(run_id_ + "\n" + text);
      rows_.push_back(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      if (rows_.back().size() + 2 > t_.max_batch_bytes)
        return Status(ErrorCode::kInvalidArgument,
                      fmt::format("a result row of {} bytes is larger than a Logs Ingestion call may be ({} bytes)",
                                  rows_.back().size(), t_.max_batch_bytes));
    }
    return {};
  }
  Status commit(const nlohmann::json&) override {
    // Batches of whole rows under the size limit, in row order.
    std::deque<std::pair<size_t, size_t>> batches;
    size_t start = 0, bytes = 2;
    for (size_t i = 0; i < rows_.size(); ++i) {
      if (i > start && bytes + rows_[i].size() + 1 > t_.max_batch_bytes) {
        batches.emplace_back(start, i);
        start = i;
        bytes = 2;
      }
      bytes += rows_[i].size() + 1;
    }
    if (start < rows_.size()) batches.emplace_back(start, rows_.size());
    while (!batches.empty()) {
      auto [from, to] = batches.front();
      batches.pop_front();
      auto sent = send(from, to);
      if (!sent) return sent.status();
      if (!*sent) {
        // 413: the service wants less at a time.
        if (to - from < 2)
          return Status(ErrorCode::kInvalidArgument,
                        fmt::format("{}: one row is too large for the service (HTTP 413)", describe()));
        size_t mid = from + (to - from) / 2;
        batches.emplace_front(mid, to);
        batches.emplace_front(from, mid);
        if (figures_) ++figures_->splits;
        continue;
      }
      if (figures_) {
        ++figures_->batches;
        figures_->rows += to - from;
      }
    }
    rows_.clear();
    return {};
  }
  std::string describe() const override { return fmt::format("Logs Ingestion stream {} of rule {}", t_.stream, t_.rule_id); }

 private:
  // Rows [from, to) in one call: true when accepted, false on 413.
  Result<bool> send(size_t from, size_t to) {
    std::string body = "[";
    for (size_t i = from; i < to; ++i) body += (i > from ? "," : "") + rows_[i];
    body += "]";
    auto zipped = gzip(body);
    if (!zipped) return zipped.status();
    // The same batch gets the same id on every try and every run.
    std::string h = hex128(body);
    std::string request_id = fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4),
                                         h.substr(16, 4), h.substr(20, 12));
    const std::string& scope = cloud_->credentials.monitor_scope;
    bool refreshed = false;
    for (;;) {
      auto make = [&]() -> Result<HttpRequest> {
        auto token = cloud_->tokens->token(scope);
        if (!token) return token.status();
        HttpRequest r;
        r.method = "POST";
        r.url = fmt::format("{}/dataCollectionRules/{}/streams/{}?api-version={}", t_.endpoint,
                            percent_encode(t_.rule_id), percent_encode(t_.stream), kApiVersion);
        r.headers = {{"Authorization", "Bearer " + *token},
                     {"Content-Type", "application/json"},
                     {"Content-Encoding", "gzip"},
                     {"x-ms-client-request-id", request_id}};
        r.body = *zipped;
        if (figures_) ++figures_->requests;
        return r;
      };
      auto r = send_with_retry(make, cloud_->http, cloud_->on_retry);
      if (!r) return r.status().with_context(describe());
      if (r->status == 204 || r->status == 200) return true;
      if (r->status == 413) return false;
      if (r->status == 401 && !refreshed) {
        cloud_->tokens->invalidate(scope);  // expired or revoked early: one fresh token
        refreshed = true;
        continue;
      }
      std::string why = r->body.substr(0, 300);
      ErrorCode code = ErrorCode::kIo;
      std::string hint;
      if (r->status == 401 || r->status == 403) {
        code = ErrorCode::kPermission;
        hint = "; give the app registration the Monitoring Metrics Publisher role on the data collection rule";
      } else if (is_retryable_status(r->status)) {
        code = ErrorCode::kTransient;
      } else if (r->status == 400) {
        code = ErrorCode::kInvalidArgument;
        hint = "; the stream's columns in the rule must match the template's output columns (docs/azure.md)";
      }
      return Status(code, redact_secrets(display_safe(fmt::format("{}: HTTP {}: {}{}", describe(), r->status, why, hint))));
    }
  }

  LogsIngestionTarget t_;
  std::shared_ptr<const CloudContext> cloud_;
  IngestionFigures* figures_;
  std::string run_id_;
  OutputSchema schema_;
  std::vector<std::string> rows_;
};

}  // namespace

bool is_logs_ingestion_url(const std::string& url) {
  auto u = parse_url(url);
  return u && (u->scheme == "https" || u->scheme == "http") && u->path.find("/dataCollectionRules/") != std::string::npos &&
         u->path.find("/streams/") != std::string::npos;
}

Result<LogsIngestionTarget> parse_logs_ingestion_url(const std::string& url) {
  auto u = parse_url(url);
  if (!u) return u.status();
  auto bad = [&] {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: expected https://ENDPOINT/dataCollectionRules/DCR-ID/streams/STREAM", url_without_secrets(url)));
  };
  size_t rules = u->path.find("/dataCollectionRules/"), streams = u->path.find("/streams/");
  if (rules == std::string::npos || streams == std::string::npos || streams < rules) return bad();
  LogsIngestionTarget t;
  t.endpoint = u->origin() + u->path.substr(0, rules);
  t.rule_id = percent_decode(u->path.substr(rules + 21, streams - rules - 21));
  t.stream = percent_decode(u->path.substr(streams + 9));
  while (!t.stream.empty() && t.stream.back() == '/') t.stream.pop_back();
  if (t.rule_id.empty() || t.stream.empty() || t.stream.find('/') != std::string::npos) return bad();
  if (u->scheme != "https" && !(u->host == "127.0.0.1" || u->host == "localhost"))
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: Logs Ingestion takes bearer tokens over https only", url_without_secrets(url)));
  return t;
}

std::unique_ptr<ResultSink> logs_ingestion_sink(LogsIngestionTarget target, std::shared_ptr<const CloudContext> cloud,
                                                IngestionFigures* figures) {
  return std::make_unique<LogsIngestionSink>(std::move(target), std::move(cloud), figures);
}

}  // namespace byoml
