// The reference implementation's own synthetic "departments" data (shared/reference):
// training edges within departments plus one resource everybody uses, "intra" test pairs
// (unseen, same department) and "inter" test pairs (cross-department: the anomalies).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "byoml/common/status.h"

namespace byoml {

struct Department {
  std::string name;
  int users;
  int resources;
};

struct DepartmentsSpec {
  std::vector<Department> departments;
  double train_ratio;
  int tenants = 2;  // identical copies
  bool shared_resource = true;
  uint64_t seed = 42;
  static DepartmentsSpec reference();   // hr 7/30, fin 5/25, eng 10/50, ratio 0.25
  static DepartmentsSpec quickstart();  // hr 25/50, fin 35/75, eng 15/25, ratio 0.4
};

enum class PairSplit { kTrain, kIntra, kInter };
const char* pair_split_name(PairSplit s);

struct LikelihoodRow {
  std::string tenant, user, resource;
  double likelihood;  // training rows: uniform 500..1000; test rows: 0
  PairSplit split;
};

std::vector<LikelihoodRow> make_departments_scenario(const DepartmentsSpec& spec);
Status write_departments_csv(const std::vector<LikelihoodRow>& rows, const std::string& path);

}  // namespace byoml
