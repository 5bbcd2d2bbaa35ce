// `byoml sample`: a realistic share-access dataset in the Log Analytics export layout, with
// ground truth in a separate file. A company of departments and teams uses team, department
// and company-wide shares on weekdays; admins and service accounts touch many shares. Every
// week from the second brings novelty (new hires, new shares, a share of another team in one's
// own department, a cross-department project); in the test window it is labelled, joined by
// transfers and by labelled anomalies (compromised accounts, share sweeps, single reads of another
// department's restricted share, non-admins on admin shares). A second structure, a flatter
// company that works in projects (CompanyStructure::kProjects), has the same kinds of anomaly
// over different normal behaviour, so that detection is not tuned to one company. Seeded and
// deterministic; written day by day, so memory depends on one day's events, not on the total.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "byoml/common/params.h"
#include "byoml/common/status.h"
#include "byoml/common/time.h"

namespace byoml {

// How the generated company works. kDepartments: departments of teams, each on its own shares.
// kProjects: a flatter company on project shares, with contractors, heavy service-account
// traffic and a reorganisation halfway through the window.
enum class CompanyStructure { kDepartments, kProjects };

struct EnterpriseSampleSpec {
  CompanyStructure structure = CompanyStructure::kDepartments;  // chosen by `byoml sample --scenario`
  uint64_t seed = 7;
  uint64_t events = 200'000;   // approximate number of rows written (5140 and 5145)
  uint32_t users = 0;          // people; 0 derives it from `events`
  Ticks start = make_ticks(2026, 10, 5);  // a Monday
  int train_days = 28;
  int test_days = 7;
  double detail_ratio = 0.15;     // fraction of rows that are 5145 (detailed share access), not modelled
  uint32_t max_blob_events = 20000;  // rows beyond this in a 5-minute blob spill into PT05M_1.json, ...
};

struct EnterpriseSampleSummary {
  uint64_t rows = 0, rows_5140 = 0, blobs = 0, bytes = 0;
  uint32_t people = 0, contractors = 0, service_accounts = 0, machine_accounts = 0, shares = 0, servers = 0, departments = 0;
  Ticks train_from = 0, train_to = 0, test_from = 0, test_to = 0;
  std::map<std::string, uint64_t> labelled_events;  // "anomaly/share_sweep" -> events
  std::map<std::string, uint64_t> incidents;        // "anomaly/share_sweep" -> incidents
  std::string export_dir, labels_path, manifest_path, identity_path;
};

// The generator's tunables, declared once (CLI options and docs come from here).
const ParamTable<EnterpriseSampleSpec>& enterprise_sample_params();
std::vector<ParamSpec> enterprise_sample_param_specs();  // enterprise_sample_params().specs()
// The spec of resolved values; the start is taken to its UTC day.
EnterpriseSampleSpec enterprise_sample_spec_from(const ParamSet& params);

using ProgressFn = std::function<void(int day, int days)>;

// Writes OUT/export/WorkspaceResourceId=.../y=.../PT05M.json, OUT/labels.csv (every test-window
// row: EventOriginId,TimeGenerated,User,Computer,ShareName,Label,Kind,Incident with Label in
// normal|novelty|anomaly) and OUT/manifest.json (the spec, windows and counts).
Result<EnterpriseSampleSummary> write_enterprise_sample(const EnterpriseSampleSpec& spec, const std::string& out_dir,
                                                        const ProgressFn& progress = {});

}  // namespace byoml
