// Errors a user can cause (bad input, missing files, wrong options) travel as values;
// the front-end decides how to report them. Invariants use BYOML_CHECK instead.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace byoml {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  // an option or a template value is out of range or malformed
  kNotFound,         // a path or a name does not exist
  kIo,               // the operating system refused a read or a write
  kParse,            // input text does not follow its format
  kUnsupported,      // a recognisable input byoml cannot handle
  kCorrupt,          // a binary file fails its own consistency checks
  kTransient,        // may pass on retry: a busy store, a timeout, HTTP 429 or 5xx
  kPermission,       // credentials refused or missing rights (HTTP 401/403, an expired SAS)
};

const char* error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Prepends context ("reading FILE: ") so the outermost caller names where it happened.
  Status with_context(const std::string& context) const {
    return is_ok() ? *this : Status(code_, context + ": " + message_);
  }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).is_ok()) v_ = Status(ErrorCode::kInvalidArgument, "empty result");
  }

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status kOk;
    return is_ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] void check_failed(const char* expr, const char* file, int line);

}  // namespace byoml

// For invariants that no input can break; a failure is a bug in byoml.
#define BYOML_CHECK(expr) \
  ((expr) ? (void)0 : ::byoml::check_failed(#expr, __FILE__, __LINE__))

#define BYOML_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::byoml::Status _st = (expr);          \
    if (!_st.is_ok()) return _st;          \
  } while (0)
