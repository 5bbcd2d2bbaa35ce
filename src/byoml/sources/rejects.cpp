#include "byoml/sources/rejects.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace byoml {

std::string Reject::to_string() const {
  std::string where = origin.to_string();
  if (field.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: field \"{}\": {}", where, field, message);
}

Status RejectLog::open_sink(const std::string& path) {
  auto out = AtomicFile::create(path);
  if (!out) return out.status().with_context("rejects");
  sink_.emplace(std::move(out).value());
  return {};
}

Status RejectLog::close() {
  if (!sink_) return {};
  Status st = sink_->commit();
  sink_.reset();
  return st.with_context("rejects");
}

void RejectLog::add(Reject r) {
  ++total_;
  ++by_kind_[r.kind];
  if (r.raw.size() > kMaxRawBytes) r.raw.resize(kMaxRawBytes);
  if (sink_) {
    // The raw record may be any bytes; replace invalid UTF-8 rather than fail the log.
    nlohmann::json j = {{"source", r.origin.source}, {"file", r.origin.object}, {"line", r.origin.at.line},
                        {"offset", r.origin.at.offset}, {"kind", r.kind},
                        {"field", r.field}, {"message", r.message}, {"raw", r.raw}};
    sink_->write(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n');
  }
  if (samples_.size() < keep_samples_) samples_.push_back(std::move(r));
}

}  // namespace byoml
