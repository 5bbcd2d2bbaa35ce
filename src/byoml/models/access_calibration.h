// Calibration of the access-anomaly alert threshold at training time. An analyst scoring every
// hour should see about alert_budget alerts per 1,000 users per day on a normal day, whatever
// the tenant's size and habits, and a Severity of 99 should mean "higher than 99% of what a
// normal day's new pairs score". Both come from the training window itself: its last
// calibration_days are held out, a model is fitted on the pairs first seen before them, and
// the pairs first seen within them (legitimate novelty: the training window is taken as
// normal) are scored as hourly scoring would score them. Pairs already known score as usual
// and do not alert, so new pairs are the alerts a normal day raises.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "byoml/models/access_anomaly.h"

namespace byoml {

// A tenant with fewer held-out new pairs than this keeps the reference's fixed threshold.
inline constexpr uint64_t kMinCalibrationPairs = 20;

// Per tenant name; empty when calibration_days is 0 or the window is shorter than 4 days.
Result<std::map<std::string, TenantCalibration>> calibrate_access_anomaly(const std::vector<TrainingPair>& pairs,
                                                                          const ParamSet& params,
                                                                          const FitOptions& options);

}  // namespace byoml
