#include "byoml/sources/query_transport.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "byoml/common/text.h"

namespace byoml {
namespace {

constexpr Ticks kMinSlice = kTicksPerMinute;
constexpr size_t kMaxRows = 500000;  // the API's row limit per answer

// SecurityEvent's columns (formats.md §2): a mapping may name other renderings' fields
// (NXLog's Hostname, say), which the query must not ask for.
const std::set<std::string>& security_event_columns() {
  static const std::set<std::string> c = {
      "TimeGenerated", "TenantId", "Computer", "EventID", "Activity", "Account", "AccountType", "SubjectUserName",
      "SubjectDomainName", "SubjectUserSid", "SubjectLogonId", "IpAddress", "IpPort", "ObjectType", "ShareName",
      "ShareLocalPath", "RelativeTargetName", "AccessMask", "EventData", "EventOriginId", "_ResourceId", "Type",
      "TargetUserName", "TargetDomainName", "TargetUserSid", "WorkstationName", "LogonType", "SourceComputerId"};
  return c;
}

class MemoryStream final : public ByteStream {
 public:
  explicit MemoryStream(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> read(char* dst, size_t n) override {
    n = std::min(n, bytes_.size() - at_);
    std::memcpy(dst, bytes_.data() + at_, n);
    at_ += n;
    return n;
  }

 private:
  std::string bytes_;
  size_t at_ = 0;
};

class QueryTransport final : public Transport {
 public:
  QueryTransport(Url url, std::string workspace, std::string table, Ticks slice, std::shared_ptr<const CloudContext> cloud)
      : url_(std::move(url)), workspace_(std::move(workspace)), table_(std::move(table)), slice_(slice),
        cloud_(std::move(cloud)) {}

  Result<std::vector<InputObject>> list(const std::string& text, const ListHint& hint,
                                        std::vector<SkippedObject>&) const override {
    if (hint.window.from == kMinTicks)
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: a query needs a window: give --from (and --to; default now)", url_without_secrets(text)));
    event_ids_ = hint.event_ids;
    columns_.clear();
    for (const auto& c : hint.columns)
      if (security_event_columns().count(c)) columns_.push_back(c);
    Ticks to = std::min(hint.window.to, now_ticks());
    // One empty query first: a wrong workspace, table or permission is one clear error, not
    // one per slice.
    std::string ignored;
    BYOML_RETURN_IF_ERROR(run_query(table_ + " | take 0", {hint.window.from, std::max(to, hint.window.from + 1)}, ignored));
    std::vector<InputObject> out;
    for (Ticks t = hint.window.from; t < to; t += slice_) {
      InputObject o;
      o.transport = shared_from_this();
      o.source = url_without_secrets(text);
      o.name = fmt::format("{} {}/{}", table_, format_timestamp(t, 0), format_timestamp(std::min(t + slice_, to), 0));
      o.size = 1;  // one slice: read whole, or not at all
      o.byte_offsets = false;
      o.format = "json";
      out.push_back(std::move(o));
    }
    return out;
  }

  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override {
    if (offset > 0) return std::unique_ptr<ByteStream>(std::make_unique<MemoryStream>(""));
    // Decoders open an object more than once (to tell a document from lines, then to read it):
    // the last slice's answer is kept so it is asked for once.
    if (object.name == cached_name_) return std::unique_ptr<ByteStream>(std::make_unique<MemoryStream>(cached_));
    size_t space = object.name.find(' '), slash = object.name.find('/', space);
    auto from = parse_timestamp(object.name.substr(space + 1, slash - space - 1));
    auto to = parse_timestamp(object.name.substr(slash + 1));
    if (!from || !to) return Status(ErrorCode::kInvalidArgument, object.name + ": not a slice");
    std::string lines;
    BYOML_RETURN_IF_ERROR(fetch({*from, *to}, lines));
    cached_name_ = object.name;
    cached_ = lines;
    return std::unique_ptr<ByteStream>(std::make_unique<MemoryStream>(std::move(lines)));
  }
  bool remote() const override { return true; }

 private:
  std::string where() const { return fmt::format("workspace {} ({})", workspace_, url_.host); }

  // One slice's rows as JSON Lines; a partial answer halves the slice.
  Status fetch(TimeWindow slice, std::string& out) const {
    return run_query(slice_query(table_, slice, event_ids_, columns_), slice, out);
  }

  Status run_query(const std::string& query, TimeWindow slice, std::string& out) const {
    nlohmann::json body = {{"query", query},
                           {"timespan", format_timestamp(slice.from, 0) + "/" + format_timestamp(slice.to, 0)}};
    std::string text = body.dump();
    auto make = [&]() -> Result<HttpRequest> {
      auto token = cloud_->tokens->token(cloud_->credentials.query_scope);
      if (!token) return token.status();
      HttpRequest r;
      r.method = "POST";
      r.url = fmt::format("{}/v1/workspaces/{}/query", url_.origin(), percent_encode(workspace_));
      r.headers = {{"Authorization", "Bearer " + *token}, {"Content-Type", "application/json"}, {"Prefer", "wait=600"}};
      r.body = text;
      return r;
    };
    auto r = send_with_retry(make, cloud_->http, cloud_->on_retry);
    if (!r) return r.status().with_context(where());
    auto answer = nlohmann::json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      std::string why = answer.is_object() && answer.contains("error") ? answer["error"].value("message", "") : r->body.substr(0, 300);
      ErrorCode code = r->status == 401 || r->status == 403 ? ErrorCode::kPermission
                       : r->status == 400                   ? ErrorCode::kInvalidArgument
                       : r->status == 404                   ? ErrorCode::kNotFound
                                                            : ErrorCode::kIo;
      std::string hint = code == ErrorCode::kPermission ? "; the app needs the Log Analytics Reader role on the workspace" : "";
      return Status(code, redact_secrets(display_safe(fmt::format("{}: HTTP {}: {}{}", where(), r->status, why, hint))));
    }
    if (!answer.is_object() || !answer.contains("tables") || !answer["tables"].is_array() || answer["tables"].empty())
      return Status(ErrorCode::kParse, fmt::format("{}: the answer has no tables", where()));
    const auto& table = answer["tables"][0];
    if (!table.contains("columns") || !table.contains("rows") || !table["columns"].is_array() || !table["rows"].is_array())
      return Status(ErrorCode::kParse, fmt::format("{}: the answer's table has no columns or rows", where()));
    const bool partial = answer.contains("error") || table["rows"].size() >= kMaxRows;
    if (partial) {
      if (slice.to - slice.from <= kMinSlice) {
        std::string why = answer.contains("error") ? answer["error"].dump() : "too many rows";
        return Status(ErrorCode::kUnsupported,
                      display_safe(fmt::format("{}: even {} of data is more than one answer may hold: {}", where(),
                                               format_duration(slice.to - slice.from), why.substr(0, 300))));
      }
      Ticks mid = slice.from + (slice.to - slice.from) / 2;
      BYOML_RETURN_IF_ERROR(fetch({slice.from, mid}, out));
      return fetch({mid, slice.to}, out);
    }
    std::vector<std::string> names;
    for (const auto& c : table["columns"]) names.push_back(c.value("name", ""));
    for (const auto& row : table["rows"]) {
      if (!row.is_array() || row.size() != names.size())
        return Status(ErrorCode::kParse, fmt::format("{}: a row does not have {} values", where(), names.size()));
      nlohmann::json o = nlohmann::json::object();
      for (size_t i = 0; i < names.size(); ++i) {
        const auto& v = row[i];
        if (v.is_null() || (v.is_string() && v.get_ref<const std::string&>().empty())) continue;
        o[names[i]] = v;
      }
      out += o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      out += '\n';
    }
    return {};
  }

  Url url_;
  std::string workspace_, table_;
  Ticks slice_;
  std::shared_ptr<const CloudContext> cloud_;
  // From the last list(): what every slice asks for.
  mutable std::vector<uint32_t> event_ids_;
  mutable std::vector<std::string> columns_;
  mutable std::string cached_name_, cached_;
};

}  // namespace

std::string slice_query(const std::string& table, const TimeWindow& slice, const std::vector<uint32_t>& event_ids,
                        const std::vector<std::string>& columns) {
  std::string q = fmt::format("{}\n| where TimeGenerated >= datetime({}) and TimeGenerated < datetime({})", table,
                              format_timestamp(slice.from), format_timestamp(slice.to));
  if (!event_ids.empty()) q += fmt::format("\n| where EventID in ({})", fmt::join(event_ids, ", "));
  if (!columns.empty()) {
    std::vector<std::string> keep = columns;
    for (const char* c : {"TimeGenerated", "EventID", "EventOriginId"})
      if (std::find(keep.begin(), keep.end(), c) == keep.end()) keep.emplace_back(c);
    q += fmt::format("\n| project {}", fmt::join(keep, ", "));
  }
  return q;
}

Result<std::shared_ptr<const Transport>> make_query_transport(const std::string& text,
                                                             const std::shared_ptr<const CloudContext>& cloud) {
  auto url = parse_url(text);
  if (!url) return url.status();
  const std::string marker = "/v1/workspaces/";
  if ((url->scheme != "https" && url->scheme != "http") || url->path.rfind(marker, 0) != 0)
    return std::shared_ptr<const Transport>();
  std::string workspace = url->path.substr(marker.size());
  workspace = workspace.substr(0, workspace.find('/'));
  if (workspace.empty())
    return Status(ErrorCode::kInvalidArgument, fmt::format("{}: name the workspace id", url_without_secrets(text)));
  std::string table = "SecurityEvent";
  Ticks slice = kTicksPerDay;
  for (const auto& [name, value] : url->query_params()) {
    if (name == "table") {
      table = value;
      bool ident = !table.empty() && std::all_of(table.begin(), table.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      if (!ident) return Status(ErrorCode::kInvalidArgument, fmt::format("table=\"{}\" is not a table name", display_safe(value)));
    } else if (name == "slice") {
      auto d = parse_duration(value);
      if (!d || *d < kMinSlice) return Status(ErrorCode::kInvalidArgument, fmt::format("slice={}: a duration of 1m or more", display_safe(value)));
      slice = *d;
    } else {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: unknown query parameter \"{}\" (table, slice)", url_without_secrets(text), display_safe(name)));
    }
  }
  return std::shared_ptr<const Transport>(std::make_shared<QueryTransport>(*url, workspace, table, slice, cloud));
}

}  // namespace byoml
