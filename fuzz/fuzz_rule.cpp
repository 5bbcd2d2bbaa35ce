// libFuzzer target: the analytics-rule loader (Sentinel scheduled-rule YAML).
#include <string>

#include "byoml/rules/analytics_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)byoml::parse_rule(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  return 0;
}
