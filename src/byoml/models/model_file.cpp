#include "byoml/models/model_file.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

namespace byoml {

namespace {

constexpr char kMagic[8] = {'B', 'Y', 'O', 'M', 'L', 'M', 'D', 'L'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

class Writer {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(std::string_view s) {
    put(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Every read is bounds-checked; the first failure sticks and later reads return zeros.
class Reader {
 public:
  Reader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}
  template <typename T>
  T get() {
    T v{};
    if (need(sizeof v)) std::memcpy(&v, data_.data() + pos_, sizeof v), pos_ += sizeof v;
    return v;
  }
  std::string str() {
    auto n = get<uint32_t>();
    if (!need(n)) return {};
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of items of `item_bytes` each, checked against what is left so that a corrupt
  // count cannot ask for a huge allocation.
  uint64_t count(uint64_t n, size_t item_bytes) {
    if (item_bytes > 0 && n > (data_.size() - pos_) / item_bytes) fail(fmt::format("count {} exceeds the section", n));
    return ok() ? n : 0;
  }
  std::string_view view(uint64_t n) {
    if (!need(n)) return {};
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  void raw(void* dst, size_t n) {
    if (need(n)) std::memcpy(dst, data_.data() + pos_, n), pos_ += n;
  }
  bool ok() const { return error_.empty(); }
  bool at_end() const { return pos_ == data_.size(); }
  void fail(const std::string& why) {
    if (error_.empty()) error_ = fmt::format("{}: {}", what_, why);
  }
  const std::string& error() const { return error_; }

 private:
  bool need(uint64_t n) {
    if (!ok()) return false;
    if (n > data_.size() - pos_) {
      fail(fmt::format("truncated (needs {} bytes at offset {}, {} left)", n, pos_, data_.size() - pos_));
      return false;
    }
    return true;
  }
  std::string_view data_;
  std::string what_;
  size_t pos_ = 0;
  std::string error_;
};

void put_strings(Writer& w, const std::vector<std::string>& v) {
  w.put(static_cast<uint64_t>(v.size()));
  for (const auto& s : v) w.str(s);
}

std::vector<std::string> get_strings(Reader& r) {
  uint64_t n = r.count(r.get<uint64_t>(), 4);
  std::vector<std::string> v;
  v.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) v.push_back(r.str());
  return v;
}

void put_factors(Writer& w, const FactorMatrix& f) {
  w.put(static_cast<uint64_t>(f.rows()));
  w.put(static_cast<uint32_t>(f.cols()));
  w.bytes(f.data(), sizeof(float) * static_cast<size_t>(f.size()));
}

FactorMatrix get_factors(Reader& r) {
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

void put_u32s(Writer& w, const std::vector<uint32_t>& v) {
  w.put(static_cast<uint64_t>(v.size()));
  w.bytes(v.data(), 4 * v.size());
}

std::vector<uint32_t> get_u32s(Reader& r) {
  uint64_t n = r.count(r.get<uint64_t>(), 4);
  std::vector<uint32_t> v(n);
  r.raw(v.data(), 4 * n);
  return v;
}

nlohmann::json meta_of(const AccessAnomalyModel& m) {
  nlohmann::json j;
  j["format"] = "byoml-model";
  j["algorithm"] = "access-anomaly";
  j["rank"] = m.rank;
  j["params"] = m.params.values();
  j["info"] = m.info;
  return j;
}

std::string section(std::string_view name, const std::string& body) {
  Writer w;
  w.str(name);
  w.put(static_cast<uint64_t>(body.size()));
  w.bytes(body.data(), body.size());
  return w.take();
}

}  // namespace

std::string serialize_model(const AccessAnomalyModel& m) {
  std::string payload;
  auto add = [&](std::string_view name, const auto& write) {
    Writer w;
    write(w);
    payload += section(name, w.take());
  };
  payload += section("meta", meta_of(m).dump());
  add("tenants", [&](Writer& w) {
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
  add("users", [&](Writer& w) { put_strings(w, m.users); });
  add("resources", [&](Writer& w) { put_strings(w, m.resources); });
  add("user_factors", [&](Writer& w) { put_factors(w, m.user_factors); });
  add("resource_factors", [&](Writer& w) { put_factors(w, m.resource_factors); });
  add("components", [&](Writer& w) {
    put_u32s(w, m.user_component);
    put_u32s(w, m.resource_component);
  });
  add("pairs", [&](Writer& w) {
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
  Writer h;
  h.bytes(kMagic, sizeof kMagic);
  h.put(kModelFormatVersion);
  h.put(uint32_t{0});
  h.put(static_cast<uint64_t>(payload.size()));
  h.put(static_cast<uint64_t>(XXH3_64bits(payload.data(), payload.size())));
  return h.take() + payload;
}

namespace {

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
    for (size_t i = 0; i < t.quantiles.size(); ++i)
      if (!std::isfinite(t.quantiles[i]) || (i > 0 && t.quantiles[i] < t.quantiles[i - 1]))
        return fmt::format("tenant \"{}\": severity quantiles are not ascending", t.name);
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

Result<AccessAnomalyModel> parse_model(std::string_view bytes, const std::string& source) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return corrupt(source, "not a byoml model file");
  Reader h(bytes.substr(8, kHeaderBytes - 8), source);
  auto version = h.get<uint32_t>();
  h.get<uint32_t>();
  auto length = h.get<uint64_t>();
  auto checksum = h.get<uint64_t>();
  if (version != kModelFormatVersion)
    return Status(ErrorCode::kUnsupported,
                  fmt::format("{}: model format version {}, this byoml reads version {}{}", source, version,
                              kModelFormatVersion, version > kModelFormatVersion ? " (written by a newer byoml)" : ""));
  std::string_view payload = bytes.substr(kHeaderBytes);
  if (payload.size() != length)
    return corrupt(source, fmt::format("truncated or padded: {} payload bytes, header says {}", payload.size(), length));
  if (XXH3_64bits(payload.data(), payload.size()) != checksum) return corrupt(source, "checksum mismatch");

  std::map<std::string, std::string_view> sections;
  Reader r(payload, source);
  while (r.ok() && !r.at_end()) {
    std::string name = r.str();
    std::string_view body = r.view(r.get<uint64_t>());
    if (r.ok() && !sections.emplace(name, body).second) r.fail(fmt::format("section \"{}\" twice", name));
  }
  if (!r.ok()) return corrupt(source, r.error());
  for (const char* need : {"meta", "tenants", "users", "resources", "user_factors", "resource_factors", "components", "pairs"})
    if (!sections.count(need)) return corrupt(source, fmt::format("section \"{}\" is missing", need));

  AccessAnomalyModel m;
  try {
    auto meta = nlohmann::json::parse(sections["meta"]);
    if (meta.value("format", "") != "byoml-model" || meta.value("algorithm", "") != "access-anomaly")
      return Status(ErrorCode::kUnsupported, fmt::format("{}: not an access-anomaly model", source));
    m.rank = meta.at("rank").get<int>();
    m.params = ParamSet(access_anomaly_param_specs());
    for (const auto& [k, v] : meta.at("params").items()) {
      if (!m.params.has(k))
        return Status(ErrorCode::kUnsupported, fmt::format("{}: parameter \"{}\" is unknown to this byoml", source, k));
      Status st = m.params.set(k, v.get<std::string>());
      if (!st) return corrupt(source, st.message());
    }
    if (m.params.get_int("rank") != m.rank) return corrupt(source, "rank disagrees with the parameters");
    m.low_value = m.params.get_real("low_value");
    m.high_value = m.params.get_real("high_value");
    m.info = meta.value("info", nlohmann::json::object());
  } catch (const nlohmann::json::exception& e) {
    return corrupt(source, fmt::format("metadata: {}", e.what()));
  }

  Reader t(sections["tenants"], source + ": tenants");
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
    m.tenants.push_back(std::move(tm));
  }
  Reader u(sections["users"], source + ": users");
  m.users = get_strings(u);
  Reader rs(sections["resources"], source + ": resources");
  m.resources = get_strings(rs);
  Reader uf(sections["user_factors"], source + ": user factors");
  m.user_factors = get_factors(uf);
  Reader rf(sections["resource_factors"], source + ": resource factors");
  m.resource_factors = get_factors(rf);
  Reader c(sections["components"], source + ": components");
  m.user_component = get_u32s(c);
  m.resource_component = get_u32s(c);
  Reader p(sections["pairs"], source + ": pairs");
  uint64_t pairs = p.count(p.get<uint64_t>(), 40);
  m.pairs.resize(pairs);
  for (auto& mp : m.pairs) {
    mp.user = p.get<uint32_t>();
    mp.resource = p.get<uint32_t>();
    mp.count = p.get<uint64_t>();
    mp.first = p.get<Ticks>();
    mp.last = p.get<Ticks>();
    mp.likelihood = p.get<double>();
  }
  for (Reader* x : {&t, &u, &rs, &uf, &rf, &c, &p}) {
    if (!x->ok()) return corrupt(source, x->error());
    if (!x->at_end()) return corrupt(source, "a section has bytes after its content");
  }
  if (std::string why = validate(m); !why.empty()) return corrupt(source, why);
  m.build_index();
  if (m.tenant_index.size() != m.tenants.size()) return corrupt(source, "tenant names repeat");
  for (uint32_t ti = 0; ti < m.tenants.size(); ++ti) {
    const TenantModel& tm = m.tenants[ti];
    if (m.user_index[ti].size() != tm.user_end - tm.user_begin ||
        m.resource_index[ti].size() != tm.resource_end - tm.resource_begin)
      return corrupt(source, fmt::format("tenant \"{}\": user or resource names repeat", tm.name));
    for (uint32_t x = tm.user_begin; x < tm.user_end; ++x)
      if (m.user_component[x] >= tm.components) return corrupt(source, "a component id is out of range");
    for (uint32_t x = tm.resource_begin; x < tm.resource_end; ++x)
      if (m.resource_component[x] >= tm.components) return corrupt(source, "a component id is out of range");
  }
  for (const auto& mp : m.pairs)
    if (m.user_tenant[mp.user] != m.resource_tenant[mp.resource])
      return corrupt(source, "a pair joins a user and a resource of different tenants");
  return m;
}

Status save_model(const AccessAnomalyModel& m, const std::string& path) {
  return write_file_atomic(path, serialize_model(m));
}

Result<AccessAnomalyModel> load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kNotFound, fmt::format("{}: cannot open model", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model(ss.str(), path);
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
