#include "byoml/models/model_file.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <xxhash.h>

#include <cstring>

#include "byoml/common/atomic_file.h"
#include "byoml/models/section_codec.h"

namespace byoml {

namespace {

constexpr char kMagic[8] = {'B', 'Y', 'O', 'M', 'L', 'M', 'D', 'L'};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

void put_section(SectionWriter& w, std::string_view name, std::string_view body) {
  w.str(name);
  w.put(static_cast<uint64_t>(body.size()));
  w.bytes(body.data(), body.size());
}

Status corrupt(const std::string& source, const std::string& why) {
  return Status(ErrorCode::kCorrupt, fmt::format("{}: {}", source, why));
}

}  // namespace

std::string serialize_model(const Model& m) {
  const Detector& d = m.detector();
  EncodedModel enc = d.save(m);
  nlohmann::json meta = enc.meta;
  meta["format"] = "byoml-model";
  meta["algorithm"] = d.name();
  meta["params"] = m.params.values();
  meta["info"] = m.info;
  SectionWriter payload;
  put_section(payload, "meta", meta.dump());
  for (const auto& [name, body] : enc.sections) put_section(payload, name, body);
  std::string body = payload.take();
  SectionWriter h;
  h.bytes(kMagic, sizeof kMagic);
  h.put(kModelFormatVersion);
  h.put(uint32_t{0});
  h.put(static_cast<uint64_t>(body.size()));
  h.put(static_cast<uint64_t>(XXH3_64bits(body.data(), body.size())));
  return h.take() + body;
}

Result<std::unique_ptr<Model>> parse_model(std::string_view bytes, const std::string& source) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return corrupt(source, "not a byoml model file");
  SectionReader h(bytes.substr(8, kHeaderBytes - 8), source);
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

  ModelSections sections;
  SectionReader r(payload, source);
  while (r.ok() && !r.at_end()) {
    std::string name = r.str();
    std::string_view body = r.view(r.get<uint64_t>());
    if (r.ok() && !sections.emplace(name, body).second) r.fail(fmt::format("section \"{}\" twice", name));
  }
  if (!r.ok()) return corrupt(source, r.error());
  auto meta_it = sections.find("meta");
  if (meta_it == sections.end()) return corrupt(source, "section \"meta\" is missing");

  nlohmann::json meta = nlohmann::json::parse(meta_it->second, nullptr, false);
  if (!meta.is_object() || meta.value("format", "") != "byoml-model" || !meta.contains("algorithm") ||
      !meta["algorithm"].is_string() || !meta.contains("params") || !meta["params"].is_object())
    return corrupt(source, "metadata is not a byoml model's");
  const std::string algorithm = meta["algorithm"].get<std::string>();
  const Detector* d = find_detector(algorithm);
  if (!d)
    return Status(ErrorCode::kUnsupported, fmt::format("{}: a model of algorithm \"{}\", which this byoml does not have ({})",
                                                       source, algorithm, fmt::join(detector_names(), ", ")));
  ParamSet params(d->training_params());
  for (const auto& [k, v] : meta["params"].items()) {
    if (!params.has(k))
      return Status(ErrorCode::kUnsupported, fmt::format("{}: parameter \"{}\" is unknown to this byoml", source, k));
    if (!v.is_string()) return corrupt(source, fmt::format("parameter \"{}\" is not text", k));
    if (Status st = params.set(k, v.get<std::string>()); !st) return corrupt(source, st.message());
  }
  sections.erase(meta_it);
  auto m = d->load(std::move(params), meta, sections, source);
  if (!m) return m.status();
  (*m)->info = meta.contains("info") && meta["info"].is_object() ? meta["info"] : nlohmann::json::object();
  return m;
}

Status save_model(const Model& m, const std::string& path) { return write_file_atomic(path, serialize_model(m)); }

Result<std::unique_ptr<Model>> load_model(const std::string& path) {
  auto text = read_whole_file(path, "model");
  if (!text) return text.status();
  return parse_model(*text, path);
}

}  // namespace byoml
