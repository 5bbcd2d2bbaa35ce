// The access-anomaly detector: access_anomaly.h's model (who uses which resource) and
// access_scorer.h's scoring behind the Detector interface, with its own model-file sections:
// tenants, calibration (optional), users, resources, user_factors, resource_factors,
// components, pairs.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "byoml/models/access_anomaly.h"
#include "byoml/models/detector.h"

namespace byoml {

std::shared_ptr<const Detector> access_anomaly_detector();

// Its model-file encoding (access_anomaly_file.cpp). Decoding checks every count, index and
// number against the others.
EncodedModel encode_access_anomaly(const AccessAnomalyModel& m);
Result<std::unique_ptr<Model>> decode_access_anomaly(ParamSet params, const nlohmann::json& meta,
                                                     const ModelSections& sections, const std::string& source);

// XXH3-64 (hex) over the training data in canonical order: tenants, users, resources and
// each pair's count, first and last access. Equal data gives an equal fingerprint.
std::string data_fingerprint(const AccessAnomalyModel& m);

// "\\fs01\hr" → "\\*\hr" (how SecurityEvent's ShareName shows it); other names unchanged.
std::string share_of(std::string_view resource);

}  // namespace byoml
