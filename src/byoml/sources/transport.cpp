#include "byoml/sources/transport.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

#include "byoml/sources/blob_transport.h"
#include "byoml/sources/eventhubs_transport.h"
#include "byoml/sources/file_transport.h"
#include "byoml/sources/query_transport.h"

namespace byoml {

std::string Origin::to_string() const {
  if (at.line) return fmt::format("{}:{}", object, at.line);
  if (at.offset) return fmt::format("{}@{}", object, at.offset);
  return object;
}

Result<std::unique_ptr<ByteStream>> InputObject::open(uint64_t offset) const { return transport->open(*this, offset); }

Result<std::string> InputObject::read_all(uint64_t max_bytes) const {
  if (size > max_bytes)
    return Status(ErrorCode::kInvalidArgument, fmt::format("{} bytes is more than the limit of {}", size, max_bytes));
  auto in = open();
  if (!in) return in.status();
  std::string out;
  out.resize(size);
  size_t at = 0;
  for (;;) {
    if (at == out.size()) out.resize(std::max<size_t>(out.size() * 2, 64 * 1024));
    auto n = (*in)->read(out.data() + at, out.size() - at);
    if (!n) return n.status();
    if (*n == 0) break;
    at += *n;
    if (at > max_bytes)
      return Status(ErrorCode::kInvalidArgument, fmt::format("more than the limit of {} bytes", max_bytes));
  }
  out.resize(at);
  return out;
}

namespace {

struct Registry {
  std::mutex mu;
  // Per scheme, the factories newest first.
  std::map<std::string, std::vector<TransportFactory>> by_scheme;
  Registry() {
    auto file = std::make_shared<FileTransport>();
    by_scheme["file"] = {[file](const std::string&, const std::shared_ptr<const CloudContext>&) {
      return Result<std::shared_ptr<const Transport>>(file);
    }};
    for (const char* scheme : {"https", "http"}) by_scheme[scheme] = {make_query_transport, make_blob_transport};
    for (const char* scheme : {"eventhubs", "kafka"}) by_scheme[scheme] = {make_eventhubs_transport};
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::string url_scheme(const std::string& url) {
  auto at = url.find("://");
  if (at == std::string::npos || at == 0) return "file";
  for (size_t i = 0; i < at; ++i)
    if (!std::isalnum(static_cast<unsigned char>(url[i])) && url[i] != '+' && url[i] != '-' && url[i] != '.') return "file";
  std::string s = url.substr(0, at);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void register_transport_factory(const std::string& scheme, TransportFactory factory) {
  std::lock_guard<std::mutex> lock(registry().mu);
  auto& list = registry().by_scheme[scheme];
  list.insert(list.begin(), std::move(factory));
}

void register_transport(const std::string& scheme, std::shared_ptr<const Transport> transport) {
  std::lock_guard<std::mutex> lock(registry().mu);
  registry().by_scheme[scheme] = {[transport](const std::string&, const std::shared_ptr<const CloudContext>&) {
    return Result<std::shared_ptr<const Transport>>(transport);
  }};
}

Result<std::shared_ptr<const Transport>> transport_for(const std::string& url, std::shared_ptr<const CloudContext> cloud) {
  std::string scheme = url_scheme(url);
  std::vector<TransportFactory> factories;
  std::string known;
  {
    std::lock_guard<std::mutex> lock(registry().mu);
    if (auto it = registry().by_scheme.find(scheme); it != registry().by_scheme.end()) factories = it->second;
    for (const auto& [s, f] : registry().by_scheme) known += (known.empty() ? "" : ", ") + s + "://";
  }
  if (!cloud && scheme != "file") cloud = CloudContext::from_environment();
  for (const auto& factory : factories) {
    auto t = factory(url, cloud);
    if (!t || *t) return t;
  }
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("{}: no transport for \"{}://\" (this byoml reads {} and plain paths)",
                            url_without_secrets(url), scheme, known));
}

}  // namespace byoml
