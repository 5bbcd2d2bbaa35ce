#include "byoml/common/status.h"

namespace byoml {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kTransient: return "transient";
    case ErrorCode::kPermission: return "permission";
  }
  return "unknown";
}

void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "byoml internal error: check '%s' failed at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace byoml
