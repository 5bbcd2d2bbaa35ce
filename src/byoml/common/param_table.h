// A ParamTable: the tunables of a typed options struct, declared once (see params.h).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "byoml/common/params.h"

namespace byoml {

// The tunables of a typed options struct S, each bound to one of its fields (a member of S or
// of a base of S). S{}'s field values are the defaults that specs() declares; bind() reads a
// resolved ParamSet of these specs back into an S.
template <typename S>
class ParamTable {
 public:
  // int, real and bool fields; a std::string field (a choice when `choices` are given); an enum
  // field whose values number its `choices`.
  template <typename Field>
  ParamTable& add(std::string name, Field field, std::string help, double min = 0, double max = 0,
                  std::vector<std::string> choices = {}) {
    using T = std::remove_cvref_t<decltype(std::declval<S&>().*field)>;
    ParamSpec spec{std::move(name), ParamType::kString, "", min, max, std::move(choices), std::move(help)};
    Entry e;
    if constexpr (std::is_enum_v<T>) {
      spec.type = ParamType::kChoice;
      e.show = [field, c = spec.choices](const S& s) { return c.at(static_cast<size_t>(s.*field)); };
      e.load = [field, c = spec.choices, n = spec.name](S& s, const ParamSet& p) {
        s.*field = static_cast<T>(std::find(c.begin(), c.end(), p.get_string(n)) - c.begin());
      };
    } else if constexpr (std::is_same_v<T, bool>) {
      spec.type = ParamType::kBool;
      e.show = [field](const S& s) { return std::string(s.*field ? "true" : "false"); };
      e.load = [field, n = spec.name](S& s, const ParamSet& p) { s.*field = p.get_bool(n); };
    } else if constexpr (std::is_integral_v<T>) {
      spec.type = ParamType::kInt;
      e.show = [field](const S& s) { return std::to_string(s.*field); };
      e.load = [field, n = spec.name](S& s, const ParamSet& p) { s.*field = static_cast<T>(p.get_int(n)); };
    } else if constexpr (std::is_floating_point_v<T>) {
      spec.type = ParamType::kReal;
      e.show = [field](const S& s) { return fmt::format("{}", s.*field); };
      e.load = [field, n = spec.name](S& s, const ParamSet& p) { s.*field = static_cast<T>(p.get_real(n)); };
    } else {
      static_assert(std::is_same_v<T, std::string>, "a field of a type ParamTable does not bind");
      spec.type = spec.choices.empty() ? ParamType::kString : ParamType::kChoice;
      e.show = [field](const S& s) { return s.*field; };
      e.load = [field, n = spec.name](S& s, const ParamSet& p) { s.*field = p.get_string(n); };
    }
    e.spec = std::move(spec);
    entries_.push_back(std::move(e));
    return *this;
  }
  // Fields with a unit: a duration or a time (Ticks), a size in bytes (any unsigned integer).
  template <typename Field>
  ParamTable& with_unit(ParamType type, std::string name, Field field, std::string help, double min = 0, double max = 0) {
    using T = std::remove_cvref_t<decltype(std::declval<S&>().*field)>;
    Entry e;
    e.spec = {std::move(name), type, "", min, max, {}, std::move(help)};
    const std::string n = e.spec.name;
    if (type == ParamType::kBytes) {
      e.show = [field](const S& s) { return format_bytes(static_cast<uint64_t>(s.*field)); };
      e.load = [field, n](S& s, const ParamSet& p) { s.*field = static_cast<T>(p.get_bytes(n)); };
    } else if (type == ParamType::kDuration) {
      e.show = [field](const S& s) { return format_duration(static_cast<Ticks>(s.*field)); };
      e.load = [field, n](S& s, const ParamSet& p) { s.*field = static_cast<T>(p.get_duration(n)); };
    } else {
      BYOML_CHECK(type == ParamType::kTime);
      e.show = [field](const S& s) { return format_timestamp(static_cast<Ticks>(s.*field), 0); };
      e.load = [field, n](S& s, const ParamSet& p) { s.*field = static_cast<T>(p.get_time(n)); };
    }
    entries_.push_back(std::move(e));
    return *this;
  }

  std::vector<ParamSpec> specs() const {
    const S defaults{};
    std::vector<ParamSpec> out;
    for (const auto& e : entries_) {
      out.push_back(e.spec);
      out.back().default_value = e.show(defaults);
    }
    return out;
  }
  // `values` holds (at least) these specs, possibly with other defaults (a template's).
  S bind(const ParamSet& values) const {
    S s{};
    for (const auto& e : entries_) e.load(s, values);
    return s;
  }

 private:
  struct Entry {
    ParamSpec spec;
    std::function<std::string(const S&)> show;
    std::function<void(S&, const ParamSet&)> load;
  };
  std::vector<Entry> entries_;
};

}  // namespace byoml
