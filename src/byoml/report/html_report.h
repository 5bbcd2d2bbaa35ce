// The report: one self-contained HTML file (ECharts inlined, data inlined as JSON) that
// works offline: the notebook's Sankey of users → resources (usual access grey, anomalous
// red, each anomalous user's usual resources), the score distribution with the threshold,
// the top anomalies with explanations, a drill-down per user, run health, open incidents.
#pragma once

#include <string>

#include "byoml/common/time.h"
#include "byoml/results/result_store.h"

namespace byoml {

struct ReportOptions {
  std::string title = "byoml report";
  std::string results_table;  // empty: the table that holds the run's rows
  std::string run_id;  // the scoring run shown; empty: the latest successful one
  Ticks now = 0;       // when the report was made
};

Result<std::string> render_report(ResultStore& store, const ReportOptions& options);

}  // namespace byoml
