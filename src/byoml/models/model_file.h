// The model file: self-describing, versioned and checksummed, the same for every detector.
//
//   "BYOMLMDL"  u32 format version  u32 reserved  u64 payload bytes  u64 XXH3-64 of payload
//   payload = sections, each: u32 name length, name, u64 length, bytes (little-endian)
//     meta (JSON: format, algorithm, resolved parameters, info, and what the detector adds),
//     then the detector's own sections
//
// Loading checks the magic, the version and the checksum, finds the detector named by meta's
// algorithm and lets it decode and check its sections, so a corrupt, truncated or foreign file
// is an error value, never a crash.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "byoml/models/detector.h"

namespace byoml {

inline constexpr uint32_t kModelFormatVersion = 1;

std::string serialize_model(const Model& m);
Result<std::unique_ptr<Model>> parse_model(std::string_view bytes, const std::string& source);

// Writes to a temporary file and renames it, so a crash never leaves half a model behind.
Status save_model(const Model& m, const std::string& path);
Result<std::unique_ptr<Model>> load_model(const std::string& path);

}  // namespace byoml
