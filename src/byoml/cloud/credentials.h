// The secrets and endpoints of the cloud connectors, from three places, later ones winning:
//   1. environment variables, named as the Azure SDKs name them (AZURE_TENANT_ID,
//      AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST, AZURE_STORAGE_KEY,
//      AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_SAS_TOKEN, ...);
//   2. NAME_FILE variables naming a file that holds the value (container and systemd secrets);
//   3. a YAML config file (--credentials FILE) with the same names in lower case
//      (tenant_id: ...), refused unless only its owner can read it.
// Every secret is registered for redaction (common/text.h) the moment it is loaded, so it
// shows in no log, error, store row, model file or report.
#pragma once

#include <string>
#include <vector>

#include "byoml/common/status.h"

namespace byoml {

struct CloudCredentials {
  // Entra ID: an app registration's client credentials, or a managed identity.
  std::string tenant_id;
  std::string client_id;
  std::string client_secret;  // secret
  std::string authority_host = "https://login.microsoftonline.com";
  // A managed identity's token endpoint (Azure VMs: http://169.254.169.254/metadata/identity/
  // oauth2/token); used when no client secret is given.
  std::string managed_identity_endpoint;
  // Blob storage: an account key (or a connection string holding one), or a SAS token.
  std::string storage_key;                // secret
  std::string storage_connection_string;  // secret
  std::string storage_sas_token;          // secret
  // Event Hubs: the namespace or hub connection string (SASL PLAIN password).
  std::string eventhubs_connection_string;  // secret
  // Token scopes; sovereign clouds have their own.
  std::string storage_scope = "https://storage.azure.com/.default";
  std::string monitor_scope = "https://monitor.azure.com//.default";
  std::string query_scope = "https://api.loganalytics.io/.default";
  // A CA bundle to trust instead of the system's (a TLS-inspecting proxy, a test server).
  std::string ca_bundle;

  bool has_client_credentials() const { return !tenant_id.empty() && !client_id.empty() && !client_secret.empty(); }
  bool has_token_source() const { return has_client_credentials() || !managed_identity_endpoint.empty(); }
};

// One setting: its environment variable, its config-file key, and whether it is a secret.
struct CredentialSetting {
  const char* env;
  const char* key;
  bool secret;
  std::string CloudCredentials::*field;
};
const std::vector<CredentialSetting>& credential_settings();

// Environment, *_FILE variables, then `config_file` (empty: none).
Result<CloudCredentials> load_credentials(const std::string& config_file);

// "Name=value;Name=value" (a storage or Event Hubs connection string): the value of `name`
// (case-insensitive), empty when absent.
std::string connection_string_field(const std::string& connection_string, const std::string& name);

}  // namespace byoml
