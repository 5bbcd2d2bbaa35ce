// libFuzzer target: the detection-template loader (YAML, mapping, parameters, output schema).
#include <string>

#include "byoml/templates/detection_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = byoml::parse_template(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  if (t) (void)byoml::FieldMapping::compile(t->mapping);
  return 0;
}
