// libFuzzer target: KQL → SQL, run against a small in-memory store with the result table.
#include <string>

#include "byoml/rules/rule_engine.h"
#include "byoml/templates/detection_template.h"

namespace {

byoml::ResultStore& store() {
  static byoml::ResultStore s = [] {
    auto opened = byoml::ResultStore::open(":memory:");
    if (!opened) __builtin_trap();
    std::vector<nlohmann::json> rows;
    for (int i = 0; i < 3; ++i)
      rows.push_back({{"TimeGenerated", "2026-11-02T10:00:00.0000000Z"}, {"User", "user" + std::to_string(i)},
                      {"Resource", "\\\\fs\\r"}, {"AnomalyScore", i * 1.5}, {"Severity", 90.0 + i},
                      {"Reasons", {"new_pair"}}, {"AccessCount", i}, {"RunId", "r"}});
    if (!opened->insert(byoml::default_template().output, rows)) __builtin_trap();
    return std::move(opened).value();
  }();
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string query(reinterpret_cast<const char*>(data), size);
  (void)byoml::run_kql(store(), query, byoml::make_ticks(2026, 11, 2, 12), 0);
  return 0;
}
