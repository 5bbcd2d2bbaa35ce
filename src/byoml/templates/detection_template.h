// A detection template: declared parameters, a field mapping and the events it applies to,
// in a YAML file a user can copy and edit. The built-in one is compiled into the binary.
#pragma once

#include <string>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/common/status.h"
#include "byoml/events/field_mapping.h"
#include "byoml/models/detector.h"
#include "byoml/common/output_schema.h"

namespace byoml {

struct DetectionTemplate {
  std::string name;
  int version = 0;
  std::string description;
  std::string source;  // file path, or "built-in"
  std::string text;    // the YAML itself, recorded in every model trained with it
  std::string algorithm;  // the detector's name
  std::vector<uint32_t> event_ids;
  // The detector's training and scoring tunables (with the template's `defaults`), then
  // the template's own `parameters`.
  std::vector<ParamSpec> params;
  OutputSchema output;
  MappingSpec mapping;  // resource_scope is set from the parameters by mapping_for()
};

Result<DetectionTemplate> parse_template(const std::string& yaml_text, const std::string& source);
Result<DetectionTemplate> load_template(const std::string& path);
// The template shipped with byoml (templates/anomalous-resource-access.yaml).
const DetectionTemplate& default_template();
const std::string& default_template_text();

// The template's detector (parsing checked that it exists).
const Detector& template_detector(const DetectionTemplate& t);

// The mapping with parameter values applied.
MappingSpec mapping_for(const DetectionTemplate& t, const ParamSet& values);

}  // namespace byoml
