#include "byoml/cloud/shared_key.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>

namespace byoml {

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  std::string padded(text);
  while (padded.size() % 4 != 0) padded += '=';
  for (char c : padded)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=')
      return Status(ErrorCode::kInvalidArgument, "not base64");
  std::string out(3 * padded.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(padded.data()), static_cast<int>(padded.size()));
  if (n < 0) return Status(ErrorCode::kInvalidArgument, "not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = static_cast<size_t>(std::count(padded.end() - std::min<size_t>(2, padded.size()), padded.end(), '='));
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

Status sign_shared_key(HttpRequest& request, const std::string& account, const std::string& key) {
  auto secret = base64_decode(key);
  if (!secret) return Status(ErrorCode::kInvalidArgument, "the storage account key is not base64 (copy it whole from the portal)");
  auto url = parse_url(request.url);
  if (!url) return url.status();
  auto has = [&](std::string_view name) { return !request.header(name).empty(); };
  if (!has("x-ms-date")) {
    char date[64];
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    request.headers.emplace_back("x-ms-date", date);
  }
  std::string length = request.body.empty() ? "" : std::to_string(request.body.size());
  std::string sts = request.method + "\n";
  for (const char* h : {"content-encoding", "content-language"}) sts += request.header(h) + "\n";
  sts += length + "\n";
  for (const char* h : {"content-md5", "content-type"}) sts += request.header(h) + "\n";
  sts += "\n";  // Date: x-ms-date is used instead
  for (const char* h : {"if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"})
    sts += request.header(h) + "\n";
  std::map<std::string, std::string> ms;
  for (const auto& [name, value] : request.headers) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.rfind("x-ms-", 0) == 0) ms[lower] = value;
  }
  for (const auto& [name, value] : ms) sts += name + ":" + value + "\n";
  sts += "/" + account + (url->path.empty() ? "/" : url->path);
  std::map<std::string, std::vector<std::string>> params;
  for (auto& [name, value] : url->query_params()) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    params[lower].push_back(value);
  }
  for (auto& [name, values] : params) {
    std::sort(values.begin(), values.end());
    sts += "\n" + name + ":";
    for (size_t i = 0; i < values.size(); ++i) sts += (i ? "," : "") + values[i];
  }
  request.headers.emplace_back("Authorization",
                               fmt::format("SharedKey {}:{}", account, base64_encode(hmac_sha256(*secret, sts))));
  return {};
}

}  // namespace byoml
