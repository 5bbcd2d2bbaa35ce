// The detectors byoml has: one line each.
#include "byoml/models/detector.h"

#include <mutex>

#include "byoml/models/access_anomaly_detector.h"

namespace byoml {

namespace {

struct Registry {
  Registry() {
    add(access_anomaly_detector());
  }
  std::mutex mu;
  std::map<std::string, const Detector*, std::less<>> by_name;
  // Every detector ever registered stays alive: callers hold plain pointers to them.
  std::vector<std::shared_ptr<const Detector>> owned;

  void add(std::shared_ptr<const Detector> d) {
    by_name[d->name()] = d.get();
    owned.push_back(std::move(d));
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::string default_algorithm() { return access_anomaly_detector()->name(); }

const Detector* find_detector(std::string_view algorithm) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_name.find(algorithm);
  return it == r.by_name.end() ? nullptr : it->second;
}

std::vector<std::string> detector_names() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> out;
  for (const auto& [name, d] : r.by_name) out.push_back(name);
  return out;
}

void register_detector(std::shared_ptr<const Detector> detector) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.add(std::move(detector));
}

}  // namespace byoml
