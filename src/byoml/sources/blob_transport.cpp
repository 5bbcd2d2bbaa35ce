#include "byoml/sources/blob_transport.h"

#include <fmt/format.h>
#include <pugixml.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <set>

#include "byoml/cloud/shared_key.h"
#include "byoml/common/text.h"

namespace byoml {
namespace {

constexpr size_t kRangeBytes = 4u << 20;
constexpr int kMaxListDays = 400;  // a longer window lists the export tree whole

enum class Auth { kSas, kSharedKey, kBearer, kAnonymous };

const char* auth_name(Auth a) {
  switch (a) {
    case Auth::kSas: return "SAS token";
    case Auth::kSharedKey: return "account key";
    case Auth::kBearer: return "Entra ID token";
    case Auth::kAnonymous: return "anonymous access";
  }
  return "";
}

struct Listed {
  std::vector<InputObject> blobs;
  std::vector<std::string> prefixes;
};

class BlobTransport final : public Transport {
 public:
  BlobTransport(Url url, std::string account, std::string container, std::string prefix,
                std::shared_ptr<const CloudContext> cloud)
      : url_(std::move(url)), account_(std::move(account)), container_(std::move(container)),
        prefix_(std::move(prefix)), cloud_(std::move(cloud)) {}

  Status choose_auth();

  Result<std::vector<InputObject>> list(const std::string& url, const ListHint& hint,
                                        std::vector<SkippedObject>& skipped) const override;
  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override;
  bool remote() const override { return true; }

  // One range of a blob into `out`.
  Status read_range(const InputObject& object, uint64_t from, uint64_t to, std::string& out) const;

 private:
  // base/container[/blob] (blob name percent-encoded, "/" kept) with the query parameters.
  std::string request_url(const std::string& blob, const std::vector<std::pair<std::string, std::string>>& query) const;
  Result<HttpResponse> send(const std::string& method, const std::string& blob,
                            const std::vector<std::pair<std::string, std::string>>& query, HttpHeaders headers) const;
  Result<Listed> list_page_set(const std::string& prefix, bool delimited, std::vector<SkippedObject>& skipped) const;
  Status error_of(const HttpResponse& r, const std::string& what) const;
  std::string where() const { return fmt::format("{}/{}", url_.origin() + base_path_, container_); }

  Url url_;
  std::string account_, container_, prefix_;
  std::string base_path_;  // "" for account.blob.core..., "/ACCOUNT" for path-style URLs
  std::shared_ptr<const CloudContext> cloud_;
  Auth auth_ = Auth::kAnonymous;
  std::string sas_;  // the SAS query string, without "?"
  std::string key_;

  friend Result<std::shared_ptr<const Transport>> byoml::make_blob_transport(const std::string&,
                                                                             const std::shared_ptr<const CloudContext>&);
};

bool is_ip_or_local(const std::string& host) {
  return host == "localhost" || host.find_first_not_of("0123456789.") == std::string::npos || host.front() == '[';
}

std::string text_of(const pugi::xml_node& n, const char* child) { return n.child(child).text().as_string(); }

Status BlobTransport::choose_auth() {
  const CloudCredentials& c = cloud_->credentials;
  std::string sas = url_.query;
  if (sas.find("sig=") == std::string::npos) sas = c.storage_sas_token;
  if (sas.empty()) sas = connection_string_field(c.storage_connection_string, "SharedAccessSignature");
  while (!sas.empty() && sas.front() == '?') sas.erase(0, 1);
  std::string key = c.storage_key;
  if (key.empty() && !c.storage_connection_string.empty()) {
    std::string name = connection_string_field(c.storage_connection_string, "AccountName");
    if (!name.empty() && name != account_)
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("the storage connection string is for account {}, the URL names account {}", name, account_));
    key = connection_string_field(c.storage_connection_string, "AccountKey");
  }
  if (!sas.empty()) {
    auth_ = Auth::kSas;
    sas_ = sas;
    register_secret(sas);
    Url q;
    q.query = sas;
    for (const auto& [name, value] : q.query_params()) {
      if (name == "sig") register_secret(value);
      if (name != "se") continue;
      auto expiry = parse_timestamp(value);
      if (expiry && *expiry <= now_ticks())
        return Status(ErrorCode::kPermission,
                      fmt::format("the SAS token for {} expired at {}: make a new one (read and list rights)", where(), value));
    }
  } else if (!key.empty()) {
    auth_ = Auth::kSharedKey;
    key_ = key;
  } else if (cloud_->tokens && cloud_->tokens->configured()) {
    auth_ = Auth::kBearer;
  }
  return {};
}

std::string BlobTransport::request_url(const std::string& blob,
                                       const std::vector<std::pair<std::string, std::string>>& query) const {
  std::string u = url_.origin() + base_path_ + "/" + percent_encode(container_);
  if (!blob.empty()) u += "/" + percent_encode(blob, "/");
  std::string q;
  for (const auto& [name, value] : query) q += (q.empty() ? "" : "&") + name + "=" + percent_encode(value);
  if (auth_ == Auth::kSas) q += (q.empty() ? "" : "&") + sas_;
  return q.empty() ? u : u + "?" + q;
}

Result<HttpResponse> BlobTransport::send(const std::string& method, const std::string& blob,
                                         const std::vector<std::pair<std::string, std::string>>& query,
                                         HttpHeaders headers) const {
  auto make = [&]() -> Result<HttpRequest> {
    HttpRequest r;
    r.method = method;
    r.url = request_url(blob, query);
    r.headers = headers;
    r.headers.emplace_back("x-ms-version", kStorageApiVersion);
    if (auth_ == Auth::kSharedKey) {
      BYOML_RETURN_IF_ERROR(sign_shared_key(r, account_, key_));
    } else if (auth_ == Auth::kBearer) {
      auto token = cloud_->tokens->token(cloud_->credentials.storage_scope);
      if (!token) return token.status();
      r.headers.emplace_back("Authorization", "Bearer " + *token);
    }
    return r;
  };
  auto response = send_with_retry(make, cloud_->http, cloud_->on_retry);
  if (!response) return response.status().with_context(where());
  return response;
}

Status BlobTransport::error_of(const HttpResponse& r, const std::string& what) const {
  pugi::xml_document doc;
  std::string code = r.header("x-ms-error-code"), message, detail;
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    pugi::xml_node e = doc.child("Error");
    if (code.empty()) code = text_of(e, "Code");
    message = text_of(e, "Message");
    detail = text_of(e, "AuthenticationErrorDetail");
  }
  message = message.substr(0, message.find('\n'));
  std::string text = fmt::format("{}: {} answered HTTP {}{}{}{}", what, where(), r.status, code.empty() ? "" : " " + code,
                                 message.empty() ? "" : ": " + message, detail.empty() ? "" : " (" + detail + ")");
  ErrorCode ec = ErrorCode::kIo;
  if (r.status == 401 || r.status == 403) {
    ec = ErrorCode::kPermission;
    text += fmt::format(". byoml used the {}; check it is right and current, and that it may read and list", auth_name(auth_));
  } else if (r.status == 404) {
    ec = ErrorCode::kNotFound;
  } else if (is_retryable_status(r.status)) {
    ec = ErrorCode::kTransient;
  }
  return Status(ec, redact_secrets(display_safe(text)));
}

Result<Listed> BlobTransport::list_page_set(const std::string& prefix, bool delimited,
                                            std::vector<SkippedObject>& skipped) const {
  Listed out;
  std::string marker;
  do {
    std::vector<std::pair<std::string, std::string>> q = {{"restype", "container"}, {"comp", "list"}};
    if (!prefix.empty()) q.emplace_back("prefix", prefix);
    if (delimited) q.emplace_back("delimiter", "/");
    if (!marker.empty()) q.emplace_back("marker", marker);
    q.emplace_back("maxresults", "5000");
    auto r = send("GET", "", q, {});
    if (!r) return r.status();
    if (r->status == 404 && r->header("x-ms-error-code") != "ResourceNotFound")
      return Status(ErrorCode::kNotFound,
                    fmt::format("{}: no container \"{}\" in storage account {} (the export rule makes am-securityevent)",
                                where(), container_, account_));
    if (r->status != 200) return error_of(*r, "listing blobs");
    pugi::xml_document doc;
    if (!doc.load_buffer(r->body.data(), r->body.size()))
      return Status(ErrorCode::kParse, fmt::format("{}: the blob listing is not XML", where()));
    pugi::xml_node res = doc.child("EnumerationResults");
    if (!res) return Status(ErrorCode::kParse, fmt::format("{}: the blob listing has no EnumerationResults", where()));
    for (pugi::xml_node b : res.child("Blobs").children("Blob")) {
      pugi::xml_node p = b.child("Properties");
      InputObject o;
      o.transport = shared_from_this();
      o.source = url_without_secrets(url_.origin() + url_.path);
      o.name = text_of(b, "Name");
      std::string length = text_of(p, "Content-Length");
      if (o.name.empty() || length.empty() || length.find_first_not_of("0123456789") != std::string::npos) {
        skipped.push_back({o.name.empty() ? where() : o.name, "listed without a name or size"});
        continue;
      }
      o.size = std::stoull(length);
      o.version = text_of(p, "Etag");
      o.growing = text_of(p, "BlobType") == "AppendBlob";
      out.blobs.push_back(std::move(o));
    }
    for (pugi::xml_node b : res.child("Blobs").children("BlobPrefix")) out.prefixes.push_back(text_of(b, "Name"));
    marker = text_of(res, "NextMarker");
  } while (!marker.empty());
  return out;
}

// The day folders of an export tree under `y_prefix` (".../y=2026/") that the window touches.
std::vector<std::string> day_prefixes(const std::string& y_prefix, const TimeWindow& w) {
  std::vector<std::string> out;
  size_t at = y_prefix.rfind("y=", y_prefix.size() - 2);
  int year = std::atoi(y_prefix.c_str() + at + 2);
  Ticks to = std::min(w.to, now_ticks() + 2 * kTicksPerDay);
  for (Ticks d = day_floor(w.from); d < to; d += kTicksPerDay) {
    std::string date = format_timestamp(d, 0);  // YYYY-MM-DDT...
    if (std::atoi(date.c_str()) == year) out.push_back(fmt::format("{}m={}/d={}/", y_prefix, date.substr(5, 2), date.substr(8, 2)));
  }
  return out;
}

Result<std::vector<InputObject>> BlobTransport::list(const std::string&, const ListHint& hint,
                                                     std::vector<SkippedObject>& skipped) const {
  std::vector<InputObject> found;
  const TimeWindow& w = hint.window;
  const bool bounded = w.from != kMinTicks && w.to != kMaxTicks &&
                       (std::min(w.to, now_ticks()) - w.from) / kTicksPerDay < kMaxListDays;
  std::string root = prefix_.empty() || prefix_.back() == '/' ? prefix_ : prefix_ + "/";
  auto take = [&](Listed&& l) {
    for (auto& b : l.blobs) found.push_back(std::move(b));
  };
  if (!bounded) {
    auto all = list_page_set(root, false, skipped);
    if (!all) return all.status();
    take(std::move(*all));
  } else {
    // Walk down folder by folder until the export layout's year folders, then list the
    // window's days only.
    std::deque<std::string> folders = {root};
    while (!folders.empty()) {
      std::string folder = std::move(folders.front());
      folders.pop_front();
      auto level = list_page_set(folder, true, skipped);
      if (!level) return level.status();
      for (const auto& p : level->prefixes) {
        size_t start = p.rfind('/', p.size() - 2);
        std::string_view last = std::string_view(p).substr(start == std::string::npos ? 0 : start + 1);
        if (last.size() == 7 && last.rfind("y=", 0) == 0) {
          for (const auto& day : day_prefixes(p, w)) {
            auto blobs = list_page_set(day, false, skipped);
            if (!blobs) return blobs.status();
            take(std::move(*blobs));
          }
        } else {
          folders.push_back(p);
        }
      }
      take(std::move(*level));
    }
  }
  if (found.empty() && !prefix_.empty() && prefix_.back() != '/') {
    // The URL may name one blob (or a name prefix) rather than a folder.
    auto exact = list_page_set(prefix_, false, skipped);
    if (!exact) return exact.status();
    take(std::move(*exact));
  }
  std::sort(found.begin(), found.end(), [](const InputObject& a, const InputObject& b) { return a.name < b.name; });
  return found;
}

Status BlobTransport::read_range(const InputObject& object, uint64_t from, uint64_t to, std::string& out) const {
  HttpHeaders h = {{"x-ms-range", fmt::format("bytes={}-{}", from, to - 1)}};
  // A block blob is replaced whole: make sure every range comes from the version listed. An
  // append blob only grows, and the listed size bounds what is read.
  if (!object.growing && !object.version.empty()) h.emplace_back("If-Match", object.version);
  auto r = send("GET", object.name, {}, h);
  if (!r) return r.status().with_context(object.name);
  if (r->status == 412)
    return Status(ErrorCode::kTransient, fmt::format("{} was replaced while it was read; read it again", object.name));
  if (r->status == 404)
    return Status(ErrorCode::kNotFound, fmt::format("{} was deleted after it was listed", object.name));
  if (r->status != 206 && r->status != 200) return error_of(*r, "reading " + object.name);
  if (r->body.size() != to - from)
    return Status(ErrorCode::kTransient, fmt::format("{}: asked for bytes {}-{}, got {} bytes", object.name, from, to - 1,
                                                     r->body.size()));
  out = std::move(r->body);
  return {};
}

class BlobStream final : public ByteStream {
 public:
  BlobStream(std::shared_ptr<const BlobTransport> t, InputObject o, uint64_t at)
      : t_(std::move(t)), o_(std::move(o)), next_(at) {}
  Result<size_t> read(char* dst, size_t n) override {
    if (used_ == buf_.size()) {
      if (next_ >= o_.size) return size_t{0};
      uint64_t to = std::min<uint64_t>(o_.size, next_ + kRangeBytes);
      BYOML_RETURN_IF_ERROR(t_->read_range(o_, next_, to, buf_));
      next_ = to;
      used_ = 0;
    }
    size_t k = std::min(n, buf_.size() - used_);
    std::memcpy(dst, buf_.data() + used_, k);
    used_ += k;
    return k;
  }

 private:
  std::shared_ptr<const BlobTransport> t_;
  InputObject o_;
  uint64_t next_;
  std::string buf_;
  size_t used_ = 0;
};

Result<std::unique_ptr<ByteStream>> BlobTransport::open(const InputObject& object, uint64_t offset) const {
  auto self = std::static_pointer_cast<const BlobTransport>(shared_from_this());
  return std::unique_ptr<ByteStream>(std::make_unique<BlobStream>(std::move(self), object, offset));
}

}  // namespace

Result<std::shared_ptr<const Transport>> make_blob_transport(const std::string& text,
                                                            const std::shared_ptr<const CloudContext>& cloud) {
  auto url = parse_url(text);
  if (!url) return url.status();
  if (url->scheme != "https" && url->scheme != "http") return std::shared_ptr<const Transport>();
  std::vector<std::string> parts;
  for (size_t at = 1; at <= url->path.size();) {
    size_t end = url->path.find('/', at);
    if (end == std::string::npos) end = url->path.size();
    parts.push_back(percent_decode(std::string_view(url->path).substr(at, end - at)));
    at = end + 1;
  }
  std::string account, base_path;
  size_t dot = url->host.find(".blob.");
  if (dot != std::string::npos) {
    account = url->host.substr(0, dot);
  } else if (is_ip_or_local(url->host) && !parts.empty()) {
    account = parts.front();
    base_path = "/" + percent_encode(account);
    parts.erase(parts.begin());
  } else {
    return std::shared_ptr<const Transport>();
  }
  if (parts.empty() || parts.front().empty())
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: name the container (https://ACCOUNT.blob.core.windows.net/am-securityevent)",
                              url_without_secrets(text)));
  std::string container = parts.front(), prefix;
  for (size_t i = 1; i < parts.size(); ++i) prefix += (i > 1 ? "/" : "") + parts[i];
  if (url->path.size() > 1 && url->path.back() == '/' && !prefix.empty()) prefix += "/";
  auto t = std::make_shared<BlobTransport>(*url, account, container, prefix, cloud);
  t->base_path_ = base_path;
  BYOML_RETURN_IF_ERROR(t->choose_auth());
  return std::shared_ptr<const Transport>(std::move(t));
}

}  // namespace byoml
