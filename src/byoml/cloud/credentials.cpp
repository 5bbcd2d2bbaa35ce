#include "byoml/cloud/credentials.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>
#include <fmt/format.h>

#include <cstdlib>

#include "byoml/common/atomic_file.h"
#include "byoml/common/text.h"

namespace byoml {
namespace {

using C = CloudCredentials;

Result<std::string> read_secret_file(const std::string& path, const char* what) {
  auto text = read_whole_file(path, what);
  if (!text) return text.status();
  std::string v = std::move(text).value();
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) v.pop_back();
  return v;
}

void set(CloudCredentials& c, const CredentialSetting& s, std::string value) {
  if (s.secret) {
    register_secret(value);
    // A connection string's key is a secret on its own too (it is sent, signed with, logged by name).
    for (const char* part : {"AccountKey", "SharedAccessKey", "SharedAccessSignature"})
      register_secret(connection_string_field(value, part));
  }
  c.*s.field = std::move(value);
}

}  // namespace

const std::vector<CredentialSetting>& credential_settings() {
  static const std::vector<CredentialSetting> settings = {
      {"AZURE_TENANT_ID", "tenant_id", false, &C::tenant_id},
      {"AZURE_CLIENT_ID", "client_id", false, &C::client_id},
      {"AZURE_CLIENT_SECRET", "client_secret", true, &C::client_secret},
      {"AZURE_AUTHORITY_HOST", "authority_host", false, &C::authority_host},
      {"BYOML_MANAGED_IDENTITY_ENDPOINT", "managed_identity_endpoint", false, &C::managed_identity_endpoint},
      {"AZURE_STORAGE_KEY", "storage_key", true, &C::storage_key},
      {"AZURE_STORAGE_CONNECTION_STRING", "storage_connection_string", true, &C::storage_connection_string},
      {"AZURE_STORAGE_SAS_TOKEN", "storage_sas_token", true, &C::storage_sas_token},
      {"BYOML_EVENTHUBS_CONNECTION_STRING", "eventhubs_connection_string", true, &C::eventhubs_connection_string},
      {"BYOML_STORAGE_SCOPE", "storage_scope", false, &C::storage_scope},
      {"BYOML_MONITOR_SCOPE", "monitor_scope", false, &C::monitor_scope},
      {"BYOML_QUERY_SCOPE", "query_scope", false, &C::query_scope},
      {"BYOML_CA_BUNDLE", "ca_bundle", false, &C::ca_bundle},
  };
  return settings;
}

Result<CloudCredentials> load_credentials(const std::string& config_file) {
  CloudCredentials c;
  for (const auto& s : credential_settings()) {
    if (const char* v = std::getenv(s.env); v && *v) set(c, s, v);
    std::string file_var = std::string(s.env) + "_FILE";
    if (const char* f = std::getenv(file_var.c_str()); f && *f) {
      auto v = read_secret_file(f, file_var.c_str());
      if (!v) return v.status();
      set(c, s, std::move(v).value());
    }
  }
  if (config_file.empty()) return c;
  struct stat st {};
  if (::stat(config_file.c_str(), &st) != 0)
    return Status(ErrorCode::kNotFound, fmt::format("credentials file {}: no such file", config_file));
  if ((st.st_mode & 077) != 0)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("credentials file {} can be read by others (mode {:03o}); it holds secrets: chmod 600 it",
                              config_file, st.st_mode & 0777));
  YAML::Node doc;
  try {
    doc = YAML::LoadFile(config_file);
  } catch (const YAML::Exception& e) {
    // The message may quote the file's text, which holds secrets: give the place only.
    return Status(ErrorCode::kParse, fmt::format("credentials file {}: not YAML (line {}, column {})", config_file,
                                                 e.mark.line + 1, e.mark.column + 1));
  }
  if (doc.IsNull()) return c;
  if (!doc.IsMap()) return Status(ErrorCode::kParse, fmt::format("credentials file {}: expected name: value lines", config_file));
  for (const auto& kv : doc) {
    std::string key = kv.first.as<std::string>("");
    const CredentialSetting* s = nullptr;
    for (const auto& candidate : credential_settings())
      if (key == candidate.key) s = &candidate;
    if (s == nullptr) {
      std::string known;
      for (const auto& candidate : credential_settings()) known += (known.empty() ? "" : ", ") + std::string(candidate.key);
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("credentials file {}: unknown setting \"{}\" (known: {})", config_file, key, known));
    }
    if (!kv.second.IsScalar())
      return Status(ErrorCode::kInvalidArgument, fmt::format("credentials file {}: {} is not a single value", config_file, key));
    set(c, *s, kv.second.as<std::string>());
  }
  return c;
}

std::string connection_string_field(const std::string& connection_string, const std::string& name) {
  size_t at = 0;
  while (at < connection_string.size()) {
    size_t end = connection_string.find(';', at);
    if (end == std::string::npos) end = connection_string.size();
    std::string_view part(connection_string.data() + at, end - at);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && eq == name.size()) {
      bool same = true;
      for (size_t i = 0; i < eq; ++i)
        same = same && std::tolower(static_cast<unsigned char>(part[i])) == std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return std::string(part.substr(eq + 1));
    }
    at = end + 1;
  }
  return {};
}

}  // namespace byoml
