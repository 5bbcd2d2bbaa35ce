// Tunables are declared once, as ParamSpecs. The CLI options, `byoml params` documentation,
// template files and model metadata are all derived from these declarations. byoml's own
// tunables are declared in a ParamTable (param_table.h), bound to the fields of a typed options struct whose
// initialisers are the only defaults; templates may declare more (read by name).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

enum class ParamType { kInt, kReal, kBool, kString, kChoice, kDuration, kBytes, kTime };

const char* param_type_name(ParamType type);

struct ParamSpec {
  std::string name;           // snake_case; the CLI option is --name-with-dashes
  ParamType type = ParamType::kString;
  std::string default_value;  // in the same text form a user would type
  double min = 0;             // inclusive range for numeric types (kInt, kReal, kDuration
  double max = 0;             // in seconds, kBytes); ignored when min == max
  std::vector<std::string> choices;  // kChoice only
  std::string help;
};

// Validated values for a list of specs. Each value is parsed once, when it is set, and kept
// both typed and as its canonical text, so a resolved configuration can be written out and
// read back unchanged.
class ParamSet {
 public:
  ParamSet() = default;
  // For byoml's own declarations: a default outside its own range is a bug.
  explicit ParamSet(std::vector<ParamSpec> specs);
  // For declarations from files (templates): bad defaults are the author's error.
  static Result<ParamSet> make(std::vector<ParamSpec> specs);

  Status set(const std::string& name, const std::string& text);
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  // The typed value; asking for a name that is not declared, or for the wrong type, is a bug.
  int64_t get_int(const std::string& name) const;
  double get_real(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;  // kString and kChoice
  Ticks get_duration(const std::string& name) const;
  uint64_t get_bytes(const std::string& name) const;
  Ticks get_time(const std::string& name) const;

  const std::vector<ParamSpec>& specs() const { return specs_; }
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  const ParamSpec& spec(const std::string& name) const;
  template <typename T>
  const T& typed(const std::string& name, std::initializer_list<ParamType> types) const;
  std::vector<ParamSpec> specs_;
  std::map<std::string, std::string> values_;
  // Durations and times as ticks, bytes as uint64_t.
  std::map<std::string, std::variant<int64_t, double, bool, std::string, uint64_t>> typed_;
};

// Declared in param_table.h, which only the files that declare tables need.
template <typename S>
class ParamTable;

bool parse_double(std::string_view text, double& out);  // the whole text, a finite number
Result<uint64_t> parse_bytes(std::string_view text);  // "4MiB", "512k", "1048576"
std::string format_bytes(uint64_t n);                 // 4194304 -> "4MiB", 1000 -> "1000"
std::string cli_option_name(const std::string& param_name);  // max_record_bytes -> --max-record-bytes
std::string params_markdown(const std::vector<ParamSpec>& specs);

}  // namespace byoml
