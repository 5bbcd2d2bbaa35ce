#include "byoml/models/model_registry.h"
#include "byoml/common/atomic_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "byoml/models/model_file.h"

namespace fs = std::filesystem;

namespace byoml {

Result<ModelRegistry> ModelRegistry::open(const std::string& dir, bool create, WaitNotice on_wait) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    if (!create) return Status(ErrorCode::kNotFound, fmt::format("{}: no such model directory (run byoml train first)", dir));
    fs::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIo, fmt::format("{}: cannot create: {}", dir, ec.message()));
  } else if (!fs::is_directory(dir, ec)) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("{}: not a directory", dir));
  }
  ModelRegistry r;
  r.dir_ = dir;
  r.on_wait_ = std::move(on_wait);
  return r;
}

std::string ModelRegistry::path_of(int version) const {
  return (fs::path(dir_) / fmt::format("model-{:06d}.byoml", version)).string();
}

std::vector<int> ModelRegistry::versions() const {
  std::vector<int> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    int v = 0;
    if (name.size() == 18 && name.rfind("model-", 0) == 0 && name.substr(12) == ".byoml" &&
        std::all_of(name.begin() + 6, name.begin() + 12, ::isdigit) && (v = std::stoi(name.substr(6, 6))) > 0)
      out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<FileLock> ModelRegistry::lock() const { return FileLock::acquire((fs::path(dir_) / ".lock").string(), on_wait_); }

namespace {

// CURRENT or SHADOW: a version number that names a file of the directory; missing is nullopt.
Result<std::optional<int>> read_pointer(const ModelRegistry& reg, const std::string& name, const std::string& repair) {
  const auto path = fs::path(reg.dir()) / name;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<int>();
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (!in.good() && !in.eof()) return Status(ErrorCode::kIo, fmt::format("{}: cannot read", path.string()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  int v = 0;
  bool digits = !text.empty() && text.size() <= 6 && std::all_of(text.begin(), text.end(), ::isdigit);
  if (digits) v = std::stoi(text);
  if (v <= 0)
    return Status(ErrorCode::kCorrupt,
                  fmt::format("{}: damaged (it should hold a version number, it holds {} bytes); {}", path.string(),
                              text.size(), repair));
  if (!fs::exists(reg.path_of(v), ec))
    return Status(ErrorCode::kCorrupt, fmt::format("{}: names version {}, which is not in the directory; {}",
                                                   path.string(), v, repair));
  return std::optional<int>(v);
}

}  // namespace

Result<std::optional<int>> ModelRegistry::current() const {
  const std::string repair = fmt::format("`byoml models rollback --model {} --to N` makes version N current", dir_);
  auto v = read_pointer(*this, "CURRENT", repair);
  if (v && !*v && !versions().empty())
    return Status(ErrorCode::kCorrupt, fmt::format("{}: CURRENT is missing although the directory holds models; {}",
                                                   (fs::path(dir_) / "CURRENT").string(), repair));
  return v;
}

Result<std::optional<int>> ModelRegistry::shadow() const {
  return read_pointer(*this, "SHADOW", "remove it to score without a shadow model");
}

Result<int> ModelRegistry::promote() {
  auto held = lock();
  if (!held) return held.status();
  auto candidate = shadow();
  if (!candidate) return candidate.status();
  if (!*candidate) return Status(ErrorCode::kNotFound, fmt::format("{}: no shadow model to promote", dir_));
  auto m = load(**candidate);
  if (!m) return m.status();
  BYOML_RETURN_IF_ERROR(set_current(**candidate));
  std::error_code ec;
  fs::remove(fs::path(dir_) / "SHADOW", ec);
  if (ec) return Status(ErrorCode::kIo, fmt::format("{}: cannot remove SHADOW: {}", dir_, ec.message()));
  return **candidate;
}

Status ModelRegistry::set_current(int version) {
  if (!fs::exists(path_of(version)))
    return Status(ErrorCode::kNotFound, fmt::format("{}: no model version {}", dir_, version));
  return write_file_atomic((fs::path(dir_) / "CURRENT").string(), fmt::format("{}\n", version));
}

Result<int> ModelRegistry::add(Model& m, bool as_shadow) {
  auto held = lock();
  if (!held) return held.status();
  auto all = versions();
  int v = all.empty() ? 1 : all.back() + 1;
  m.info["version"] = v;
  BYOML_RETURN_IF_ERROR(save_model(m, path_of(v)));
  if (as_shadow) BYOML_RETURN_IF_ERROR(write_file_atomic((fs::path(dir_) / "SHADOW").string(), fmt::format("{}\n", v)));
  else BYOML_RETURN_IF_ERROR(set_current(v));
  return v;
}

Result<std::unique_ptr<Model>> ModelRegistry::load(std::optional<int> version) const {
  if (!version) {
    auto cur = current();
    if (!cur) return cur.status();
    version = *cur;
  }
  if (!version) return Status(ErrorCode::kNotFound, fmt::format("{}: holds no model (run byoml train first)", dir_));
  return load_model(path_of(*version));
}

Result<int> ModelRegistry::rollback(std::optional<int> to) {
  auto held = lock();
  if (!held) return held.status();
  auto cur_or = current();
  if (!cur_or && !to) return cur_or.status();  // with no trusted CURRENT, "older than current" means nothing
  std::optional<int> cur = cur_or ? *cur_or : std::nullopt;
  if (!to) {
    auto all = versions();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (cur && *it < *cur && load(*it)) {
        to = *it;
        break;
      }
    if (!to) return Status(ErrorCode::kNotFound, fmt::format("{}: no loadable model older than the current one", dir_));
  }
  auto m = load(*to);
  if (!m) return m.status();
  BYOML_RETURN_IF_ERROR(set_current(*to));
  return *to;
}

std::vector<ModelEntry> ModelRegistry::list() const {
  std::vector<ModelEntry> out;
  auto cur_or = current();
  std::optional<int> cur = cur_or ? *cur_or : std::nullopt;
  auto shadow_or = shadow();
  std::optional<int> candidate = shadow_or ? *shadow_or : std::nullopt;
  for (int v : versions()) {
    ModelEntry e;
    e.version = v;
    e.path = path_of(v);
    std::error_code ec;
    e.bytes = fs::file_size(e.path, ec);
    e.current = cur && *cur == v;
    e.shadow = candidate && *candidate == v;
    auto m = load_model(e.path);
    e.info = m ? (*m)->info : nlohmann::json{{"error", m.status().message()}};
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace byoml
