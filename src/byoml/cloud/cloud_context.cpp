#include "byoml/cloud/cloud_context.h"

namespace byoml {

std::shared_ptr<const CloudContext> CloudContext::make(CloudCredentials credentials, HttpOptions http, RetryNotice on_retry) {
  auto c = std::make_shared<CloudContext>();
  if (http.ca_file.empty()) http.ca_file = credentials.ca_bundle;
  c->tokens = std::make_shared<TokenSource>(credentials, http);
  c->credentials = std::move(credentials);
  c->http = std::move(http);
  c->on_retry = std::move(on_retry);
  return c;
}

std::shared_ptr<const CloudContext> CloudContext::from_environment() {
  auto credentials = load_credentials("");
  return make(credentials ? std::move(credentials).value() : CloudCredentials(), HttpOptions());
}

}  // namespace byoml
