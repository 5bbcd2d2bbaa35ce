// libFuzzer target: the model-file loader. Each input is tried as it is (the container's checks)
// and with its header made consistent (magic, length, XXH3 checksum), so that mutations reach
// the sections and every index check behind the checksum.
#include <xxhash.h>

#include <cstring>
#include <string>
#include <string_view>

#include "byoml/models/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  (void)byoml::parse_model(raw, "fuzz.byoml");
  constexpr size_t kHeader = 32;  // magic, version, reserved, payload length, payload checksum
  if (size < kHeader) return 0;
  std::string fixed(raw);
  std::memcpy(fixed.data(), "BYOMLMDL", 8);
  uint64_t length = size - kHeader, checksum = XXH3_64bits(fixed.data() + kHeader, length);
  std::memcpy(fixed.data() + 16, &length, 8);
  std::memcpy(fixed.data() + 24, &checksum, 8);
  (void)byoml::parse_model(fixed, "fuzz.byoml");
  return 0;
}
