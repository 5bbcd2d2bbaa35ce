#include "byoml/common/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace byoml {
namespace {

Status invalid(const ParamSpec& s, const std::string& text, const std::string& why) {
  return {ErrorCode::kInvalidArgument,
          fmt::format("{} = \"{}\": {}", s.name, text.substr(0, 80), why)};
}

Status check_range(const ParamSpec& s, const std::string& text, double v) {
  if (s.min == s.max || (v >= s.min && v <= s.max)) return {};
  return invalid(s, text, fmt::format("must be between {} and {}", s.min, s.max));
}

}  // namespace

bool parse_double(std::string_view t, double& out) {
  auto r = std::from_chars(t.data(), t.data() + t.size(), out);
  return r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(out);
}

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::kInt: return "int";
    case ParamType::kReal: return "real";
    case ParamType::kBool: return "bool";
    case ParamType::kString: return "string";
    case ParamType::kChoice: return "choice";
    case ParamType::kDuration: return "duration";
    case ParamType::kBytes: return "bytes";
    case ParamType::kTime: return "time";
  }
  return "?";
}

Result<uint64_t> parse_bytes(std::string_view t) {
  size_t digits_end = 0;
  while (digits_end < t.size() && std::isdigit(static_cast<unsigned char>(t[digits_end]))) ++digits_end;
  uint64_t v = 0;
  auto r = std::from_chars(t.data(), t.data() + digits_end, v);
  if (digits_end == 0 || r.ec != std::errc())
    return Status(ErrorCode::kInvalidArgument, fmt::format("invalid size \"{}\"", t));
  std::string unit(t.substr(digits_end));
  std::transform(unit.begin(), unit.end(), unit.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  uint64_t mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else return Status(ErrorCode::kInvalidArgument, fmt::format("invalid size \"{}\": units are KiB, MiB, GiB", t));
  if (v > (1ull << 50) / mult) return Status(ErrorCode::kInvalidArgument, fmt::format("size \"{}\" too large", t));
  return v * mult;
}

std::string format_bytes(uint64_t n) {
  for (auto [shift, unit] : {std::pair{30, "GiB"}, std::pair{20, "MiB"}, std::pair{10, "KiB"}})
    if (n != 0 && n % (uint64_t{1} << shift) == 0) return fmt::format("{}{}", n >> shift, unit);
  return std::to_string(n);
}

ParamSet::ParamSet(std::vector<ParamSpec> specs) {
  auto made = make(std::move(specs));
  BYOML_CHECK(made.is_ok());
  *this = std::move(made).value();
}

Result<ParamSet> ParamSet::make(std::vector<ParamSpec> specs) {
  ParamSet p;
  p.specs_ = std::move(specs);
  for (const auto& s : p.specs_) {
    if (s.type == ParamType::kChoice && s.choices.empty())
      return Status(ErrorCode::kInvalidArgument, fmt::format("parameter {}: a choice needs choices", s.name));
    if (p.has(s.name)) return Status(ErrorCode::kInvalidArgument, fmt::format("parameter {} declared twice", s.name));
    Status st = p.set(s.name, s.default_value);
    if (!st) return st.with_context("default");
  }
  return p;
}

const ParamSpec& ParamSet::spec(const std::string& name) const {
  auto it = std::find_if(specs_.begin(), specs_.end(), [&](const ParamSpec& s) { return s.name == name; });
  BYOML_CHECK(it != specs_.end());
  return *it;
}

Status ParamSet::set(const std::string& name, const std::string& text) {
  auto it = std::find_if(specs_.begin(), specs_.end(), [&](const ParamSpec& s) { return s.name == name; });
  if (it == specs_.end()) return {ErrorCode::kInvalidArgument, fmt::format("unknown parameter \"{}\"", name)};
  const ParamSpec& s = *it;
  std::string canonical = text;
  std::variant<int64_t, double, bool, std::string, uint64_t> typed = text;
  switch (s.type) {
    case ParamType::kInt: {
      int64_t v = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), v);
      if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return invalid(s, text, "not an integer");
      BYOML_RETURN_IF_ERROR(check_range(s, text, static_cast<double>(v)));
      canonical = std::to_string(v);
      typed = v;
      break;
    }
    case ParamType::kReal: {
      double v = 0;
      if (!parse_double(text, v)) return invalid(s, text, "not a finite number");
      BYOML_RETURN_IF_ERROR(check_range(s, text, v));
      typed = v;
      break;
    }
    case ParamType::kBool:
      if (text == "true" || text == "1" || text == "yes" || text == "on") canonical = "true";
      else if (text == "false" || text == "0" || text == "no" || text == "off") canonical = "false";
      else return invalid(s, text, "expected true or false");
      typed = canonical == "true";
      break;
    case ParamType::kString:
      break;
    case ParamType::kChoice:
      if (std::find(s.choices.begin(), s.choices.end(), text) == s.choices.end())
        return invalid(s, text, fmt::format("expected one of: {}", fmt::join(s.choices, ", ")));
      break;
    case ParamType::kDuration: {
      auto d = parse_duration(text);
      if (!d) return invalid(s, text, d.status().message());
      BYOML_RETURN_IF_ERROR(check_range(s, text, static_cast<double>(*d / kTicksPerSecond)));
      canonical = format_duration(*d);
      typed = int64_t{*d};
      break;
    }
    case ParamType::kBytes: {
      auto b = parse_bytes(text);
      if (!b) return invalid(s, text, b.status().message());
      BYOML_RETURN_IF_ERROR(check_range(s, text, static_cast<double>(*b)));
      canonical = std::to_string(*b);
      typed = *b;
      break;
    }
    case ParamType::kTime: {
      auto t = parse_timestamp(text);
      if (!t) return invalid(s, text, t.status().message());
      canonical = format_timestamp(*t, 0);
      typed = int64_t{*t};
      break;
    }
  }
  values_[name] = canonical;
  typed_[name] = std::move(typed);
  return {};
}

template <typename T>
const T& ParamSet::typed(const std::string& name, std::initializer_list<ParamType> types) const {
  const ParamType t = spec(name).type;
  BYOML_CHECK(std::find(types.begin(), types.end(), t) != types.end());
  return std::get<T>(typed_.at(name));
}

int64_t ParamSet::get_int(const std::string& name) const { return typed<int64_t>(name, {ParamType::kInt}); }
double ParamSet::get_real(const std::string& name) const { return typed<double>(name, {ParamType::kReal}); }
bool ParamSet::get_bool(const std::string& name) const { return typed<bool>(name, {ParamType::kBool}); }
const std::string& ParamSet::get_string(const std::string& name) const {
  return typed<std::string>(name, {ParamType::kString, ParamType::kChoice});
}
Ticks ParamSet::get_duration(const std::string& name) const { return typed<int64_t>(name, {ParamType::kDuration}); }
uint64_t ParamSet::get_bytes(const std::string& name) const { return typed<uint64_t>(name, {ParamType::kBytes}); }
Ticks ParamSet::get_time(const std::string& name) const { return typed<int64_t>(name, {ParamType::kTime}); }

std::string cli_option_name(const std::string& param_name) {
  std::string out = "--" + param_name;
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string params_markdown(const std::vector<ParamSpec>& specs) {
  std::string out = "| option | type | default | range | meaning |\n|---|---|---|---|---|\n";
  for (const auto& s : specs) {
    std::string range;
    if (s.type == ParamType::kChoice) range = fmt::format("{}", fmt::join(s.choices, " \\| "));
    else if (s.min != s.max) range = fmt::format("{} – {}", s.min, s.max);
    out += fmt::format("| `{}` | {} | `{}` | {} | {} |\n", cli_option_name(s.name), param_type_name(s.type),
                       s.default_value, range, s.help);
  }
  return out;
}

}  // namespace byoml
