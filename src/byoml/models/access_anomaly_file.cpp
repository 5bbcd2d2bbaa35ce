// The access-anomaly model's sections of a model file (the container is model_file.cpp).
#include <fmt/format.h>
#include <xxhash.h>

#include <cmath>

#include "byoml/common/param_table.h"
#include "byoml/models/access_anomaly_detector.h"
#include "byoml/models/section_codec.h"

namespace byoml {

namespace {

void put_factors(SectionWriter& w, const FactorMatrix& f) {
  w.put(static_cast<uint64_t>(f.rows()));
  w.put(static_cast<uint32_t>(f.cols()));
  w.bytes(f.data(), sizeof(float) * static_cast<size_t>(f.size()));
}

FactorMatrix get_factors(SectionReader& r) {
  auto rows = r.get<uint64_t>();
  auto cols = r.get<uint32_t>();
  if (cols == 0 || cols > 4096) r.fail(fmt::format("{} factor columns", cols));
  rows = r.count(rows, sizeof(float) * std::max<size_t>(cols, 1));
  if (!r.ok()) return {};
  FactorMatrix f(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  r.raw(f.data(), sizeof(float) * static_cast<size_t>(f.size()));
  if (r.ok() && !f.allFinite()) r.fail("factors hold NaN or infinity");
  return f;
}

Status corrupt(const std::string& source, const std::string& why) {
  return Status(ErrorCode::kCorrupt, fmt::format("{}: {}", source, why));
}

// Cross-checks what the sections say about each other.
std::string validate(const AccessAnomalyModel& m) {
  uint32_t users = 0, resources = 0;
  for (const auto& t : m.tenants) {
    if (t.user_begin != users || t.user_end < t.user_begin || t.resource_begin != resources ||
        t.resource_end < t.resource_begin)
      return fmt::format("tenant \"{}\": user or resource ranges are not contiguous", t.name);
    users = t.user_end;
    resources = t.resource_end;
    if (!std::isfinite(t.mu) || !std::isfinite(t.sigma) || !(t.sigma > 0) || !std::isfinite(t.score_max) ||
        !std::isfinite(t.likelihood_min) || !std::isfinite(t.likelihood_max))
      return fmt::format("tenant \"{}\": statistics are not finite numbers", t.name);
    if (!t.quantiles.empty() && t.quantiles.size() != kSeverityQuantiles + 1)
      return fmt::format("tenant \"{}\": {} severity quantiles", t.name, t.quantiles.size());
    for (const auto* q : {&t.quantiles, &t.calibration.quantiles})
      for (size_t i = 0; i < q->size(); ++i)
        if (!std::isfinite((*q)[i]) || (i > 0 && (*q)[i] < (*q)[i - 1]))
          return fmt::format("tenant \"{}\": severity quantiles are not ascending", t.name);
    if (t.calibrated() && (t.calibration.quantiles.size() != kSeverityQuantiles + 1 || !std::isfinite(t.calibration.threshold)))
      return fmt::format("tenant \"{}\": the calibration is incomplete", t.name);
  }
  if (users != m.users.size() || resources != m.resources.size())
    return "tenant ranges do not cover the users and resources";
  if (m.user_factors.rows() != users || m.resource_factors.rows() != resources ||
      m.user_factors.cols() != m.rank || m.resource_factors.cols() != m.rank)
    return fmt::format("factor matrices are {}x{} and {}x{} for {} users, {} resources, rank {}",
                       m.user_factors.rows(), m.user_factors.cols(), m.resource_factors.rows(),
                       m.resource_factors.cols(), users, resources, m.rank);
  if (m.user_component.size() != users || m.resource_component.size() != resources)
    return "component lists do not match the users and resources";
  const ModelPair* prev = nullptr;
  for (const auto& p : m.pairs) {
    if (p.user >= users || p.resource >= resources) return "a pair names a user or resource that does not exist";
    if (prev && std::tie(prev->user, prev->resource) >= std::tie(p.user, p.resource)) return "pairs are not sorted";
    if (p.count == 0 || !std::isfinite(p.likelihood) || !(p.likelihood > 0) || p.first > p.last)
      return "a pair has an invalid count, likelihood or time range";
    prev = &p;
  }
  return {};
}

}  // namespace

EncodedModel encode_access_anomaly(const AccessAnomalyModel& m) {
  EncodedModel out;
  out.meta["rank"] = m.rank;
  auto add = [&](std::string name, const auto& write) {
    SectionWriter w;
    write(w);
    out.sections.emplace_back(std::move(name), w.take());
  };
  add("tenants", [&](SectionWriter& w) {
    w.put(static_cast<uint32_t>(m.tenants.size()));
    for (const auto& t : m.tenants) {
      w.str(t.name);
      for (uint32_t v : {t.user_begin, t.user_end, t.resource_begin, t.resource_end}) w.put(v);
      for (double v : {t.likelihood_min, t.likelihood_max, t.mu, t.sigma, t.score_max}) w.put(v);
      w.put(t.components);
      w.put(static_cast<uint32_t>(t.quantiles.size()));
      w.bytes(t.quantiles.data(), 4 * t.quantiles.size());
    }
  });
  // Calibration came after the first models: a section of its own, optional when loading.
  add("calibration", [&](SectionWriter& w) {
    w.put(static_cast<uint32_t>(m.tenants.size()));
    for (const auto& t : m.tenants) {
      const TenantCalibration& c = t.calibration;
      w.put(c.threshold);
      w.put(c.candidates);
      w.put(c.users);
      w.put(c.days);
      w.put(static_cast<uint32_t>(c.quantiles.size()));
      w.bytes(c.quantiles.data(), 4 * c.quantiles.size());
    }
  });
  add("users", [&](SectionWriter& w) { w.strings(m.users); });
  add("resources", [&](SectionWriter& w) { w.strings(m.resources); });
  add("user_factors", [&](SectionWriter& w) { put_factors(w, m.user_factors); });
  add("resource_factors", [&](SectionWriter& w) { put_factors(w, m.resource_factors); });
  add("components", [&](SectionWriter& w) {
    w.u32s(m.user_component);
    w.u32s(m.resource_component);
  });
  add("pairs", [&](SectionWriter& w) {
    w.put(static_cast<uint64_t>(m.pairs.size()));
    for (const auto& p : m.pairs) {
      w.put(p.user);
      w.put(p.resource);
      w.put(p.count);
      w.put(p.first);
      w.put(p.last);
      w.put(p.likelihood);
    }
  });
  return out;
}

Result<std::unique_ptr<Model>> decode_access_anomaly(ParamSet params, const nlohmann::json& meta,
                                                     const ModelSections& sections, const std::string& source) {
  for (const char* need : {"tenants", "users", "resources", "user_factors", "resource_factors", "components", "pairs"})
    if (!sections.count(need)) return corrupt(source, fmt::format("section \"{}\" is missing", need));
  auto m = std::make_unique<AccessAnomalyModel>();
  if (!meta.contains("rank") || !meta["rank"].is_number_integer()) return corrupt(source, "metadata has no rank");
  m->rank = meta["rank"].get<int>();
  m->params = std::move(params);
  m->config = access_anomaly_params().bind(m->params);
  if (m->config.rank != m->rank) return corrupt(source, "rank disagrees with the parameters");
  m->low_value = m->config.low_value;
  m->high_value = m->config.high_value;

  SectionReader t(sections.at("tenants"), source + ": tenants");
  uint64_t tenants = t.count(t.get<uint32_t>(), 4 * 4 + 8 * 5 + 8);
  for (uint64_t i = 0; i < tenants && t.ok(); ++i) {
    TenantModel tm;
    tm.name = t.str();
    tm.user_begin = t.get<uint32_t>();
    tm.user_end = t.get<uint32_t>();
    tm.resource_begin = t.get<uint32_t>();
    tm.resource_end = t.get<uint32_t>();
    tm.likelihood_min = t.get<double>();
    tm.likelihood_max = t.get<double>();
    tm.mu = t.get<double>();
    tm.sigma = t.get<double>();
    tm.score_max = t.get<double>();
    tm.components = t.get<uint32_t>();
    tm.quantiles.resize(t.count(t.get<uint32_t>(), 4));
    t.raw(tm.quantiles.data(), 4 * tm.quantiles.size());
    m->tenants.push_back(std::move(tm));
  }
  SectionReader cal(sections.count("calibration") ? sections.at("calibration") : std::string_view(), source + ": calibration");
  if (sections.count("calibration")) {
    if (cal.get<uint32_t>() != m->tenants.size()) cal.fail("calibration is not one per tenant");
    for (auto& tm : m->tenants) {
      if (!cal.ok()) break;
      TenantCalibration& c = tm.calibration;
      c.threshold = cal.get<double>();
      c.candidates = cal.get<uint64_t>();
      c.users = cal.get<uint32_t>();
      c.days = cal.get<uint32_t>();
      c.quantiles.resize(cal.count(cal.get<uint32_t>(), 4));
      cal.raw(c.quantiles.data(), 4 * c.quantiles.size());
    }
  }
  SectionReader u(sections.at("users"), source + ": users");
  m->users = u.strings();
  SectionReader rs(sections.at("resources"), source + ": resources");
  m->resources = rs.strings();
  SectionReader uf(sections.at("user_factors"), source + ": user factors");
  m->user_factors = get_factors(uf);
  SectionReader rf(sections.at("resource_factors"), source + ": resource factors");
  m->resource_factors = get_factors(rf);
  SectionReader c(sections.at("components"), source + ": components");
  m->user_component = c.u32s();
  m->resource_component = c.u32s();
  SectionReader p(sections.at("pairs"), source + ": pairs");
  uint64_t pairs = p.count(p.get<uint64_t>(), 40);
  m->pairs.resize(pairs);
  for (auto& mp : m->pairs) {
    mp.user = p.get<uint32_t>();
    mp.resource = p.get<uint32_t>();
    mp.count = p.get<uint64_t>();
    mp.first = p.get<Ticks>();
    mp.last = p.get<Ticks>();
    mp.likelihood = p.get<double>();
  }
  for (SectionReader* x : {&t, &cal, &u, &rs, &uf, &rf, &c, &p}) {
    if (!x->ok()) return corrupt(source, x->error());
    if (!x->at_end()) return corrupt(source, "a section has bytes after its content");
  }
  if (std::string why = validate(*m); !why.empty()) return corrupt(source, why);
  m->build_index();
  if (m->tenant_index.size() != m->tenants.size()) return corrupt(source, "tenant names repeat");
  for (uint32_t ti = 0; ti < m->tenants.size(); ++ti) {
    const TenantModel& tm = m->tenants[ti];
    if (m->user_index[ti].size() != tm.user_end - tm.user_begin ||
        m->resource_index[ti].size() != tm.resource_end - tm.resource_begin)
      return corrupt(source, fmt::format("tenant \"{}\": user or resource names repeat", tm.name));
    for (uint32_t x = tm.user_begin; x < tm.user_end; ++x)
      if (m->user_component[x] >= tm.components) return corrupt(source, "a component id is out of range");
    for (uint32_t x = tm.resource_begin; x < tm.resource_end; ++x)
      if (m->resource_component[x] >= tm.components) return corrupt(source, "a component id is out of range");
  }
  for (const auto& mp : m->pairs)
    if (m->user_tenant[mp.user] != m->resource_tenant[mp.resource])
      return corrupt(source, "a pair joins a user and a resource of different tenants");
  return std::unique_ptr<Model>(std::move(m));
}

std::string data_fingerprint(const AccessAnomalyModel& m) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  auto add = [&](const void* p, size_t n) { XXH3_64bits_update(st, p, n); };
  auto add_str = [&](const std::string& s) { add(s.c_str(), s.size() + 1); };
  for (const auto& t : m.tenants) add_str(t.name);
  for (const auto& s : m.users) add_str(s);
  for (const auto& s : m.resources) add_str(s);
  for (const auto& p : m.pairs) {
    add(&p.user, sizeof p.user);
    add(&p.resource, sizeof p.resource);
    add(&p.count, sizeof p.count);
    add(&p.first, sizeof p.first);
    add(&p.last, sizeof p.last);
  }
  uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return fmt::format("{:016x}", h);
}

}  // namespace byoml
