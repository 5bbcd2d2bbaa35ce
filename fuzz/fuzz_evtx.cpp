// libFuzzer target: the evtx reader on arbitrary bytes.
#include "byoml/sources/decoder.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return byoml::fuzz::read_bytes(data, size, byoml::decode_evtx);
}
