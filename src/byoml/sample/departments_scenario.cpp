#include "byoml/sample/departments_scenario.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "byoml/common/rng.h"

namespace byoml {

DepartmentsSpec DepartmentsSpec::reference() { return {{{"hr", 7, 30}, {"fin", 5, 25}, {"eng", 10, 50}}, 0.25}; }
DepartmentsSpec DepartmentsSpec::quickstart() { return {{{"hr", 25, 50}, {"fin", 35, 75}, {"eng", 15, 25}}, 0.4}; }

const char* pair_split_name(PairSplit s) {
  switch (s) {
    case PairSplit::kTrain: return "train";
    case PairSplit::kIntra: return "intra";
    case PairSplit::kInter: return "inter";
  }
  return "?";
}

std::vector<LikelihoodRow> make_departments_scenario(const DepartmentsSpec& spec) {
  std::vector<LikelihoodRow> one;  // one tenant's rows, tenant filled in below
  Rng rng(spec.seed);
  auto user = [](const Department& d, int i) { return fmt::format("{}_user_{}", d.name, i); };
  auto res = [](const Department& d, int i) { return fmt::format("{}_res_{}", d.name, i); };
  for (const auto& d : spec.departments) {
    for (int u = 0; u < d.users; ++u) {
      for (int r = 0; r < d.resources; ++r) {
        bool train = rng.chance(spec.train_ratio);
        one.push_back({"", user(d, u), res(d, r), train ? rng.uniform(500, 1000) : 0.0,
                       train ? PairSplit::kTrain : PairSplit::kIntra});
      }
      if (spec.shared_resource) one.push_back({"", user(d, u), "shared_res", rng.uniform(500, 1000), PairSplit::kTrain});
      for (const auto& other : spec.departments) {
        if (other.name == d.name) continue;
        for (int r = 0; r < other.resources; ++r) one.push_back({"", user(d, u), res(other, r), 0.0, PairSplit::kInter});
      }
    }
  }
  std::vector<LikelihoodRow> rows;
  for (int t = 0; t < spec.tenants; ++t)
    for (auto row : one) {
      row.tenant = std::to_string(t);
      rows.push_back(std::move(row));
    }
  return rows;
}

Status write_departments_csv(const std::vector<LikelihoodRow>& rows, const std::string& path) {
  fmt::memory_buffer csv;
  fmt::format_to(std::back_inserter(csv), "tenant,user,resource,likelihood,split\n");
  for (const auto& r : rows)
    fmt::format_to(std::back_inserter(csv), "{},{},{},{:.6f},{}\n", r.tenant, r.user, r.resource, r.likelihood,
                   pair_split_name(r.split));
  return write_file_atomic(path, {csv.data(), csv.size()});
}

}  // namespace byoml
