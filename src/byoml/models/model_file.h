// The model file: self-describing, versioned and checksummed.
//
//   "BYOMLMDL"  u32 format version  u32 reserved  u64 payload bytes  u64 XXH3-64 of payload
//   payload = sections, each: u32 name length, name, u64 length, bytes (little-endian)
//     meta (JSON: algorithm, resolved parameters, template, training window, data
//     fingerprint, counts, evaluation), tenants, users, resources, user_factors,
//     resource_factors, components, pairs
//
// Loading checks the magic, the version, the checksum and then every count, index and
// number, so a corrupt, truncated or foreign file is an error value, never a crash.
#pragma once

#include <string>
#include <string_view>

#include "byoml/models/access_anomaly.h"

namespace byoml {

inline constexpr uint32_t kModelFormatVersion = 1;

std::string serialize_model(const AccessAnomalyModel& m);
Result<AccessAnomalyModel> parse_model(std::string_view bytes, const std::string& source);

// Writes to a temporary file and renames it, so a crash never leaves half a model behind.
Status save_model(const AccessAnomalyModel& m, const std::string& path);
Result<AccessAnomalyModel> load_model(const std::string& path);

// XXH3-64 (hex) over the training data in canonical order: tenants, users, resources and
// each pair's count, first and last access. Equal data gives an equal fingerprint.
std::string data_fingerprint(const AccessAnomalyModel& m);

}  // namespace byoml
