#include "byoml/sources/input_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "byoml/sources/export_layout.h"
#include "byoml/sources/readers.h"

namespace byoml {
namespace fs = std::filesystem;
namespace {

bool has_extension(const std::string& path, std::initializer_list<const char*> exts) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(exts.begin(), exts.end(), [&](const char* e) { return ext == e; });
}

// Every regular file under `root`, sorted. A directory that cannot be read, and anything that
// is not a regular file (a FIFO would block, a device never ends), is listed as skipped, so
// that nothing disappears without a word.
std::vector<std::string> walk(const std::string& root, std::vector<SkippedFile>& skipped) {
  std::vector<std::string> files;
  std::vector<fs::path> dirs = {root};
  while (!dirs.empty()) {
    fs::path dir = std::move(dirs.back());
    dirs.pop_back();
    std::error_code ec;
    fs::directory_iterator it(dir, ec), end;
    if (ec) {
      skipped.push_back({dir.string(), fmt::format("cannot read directory: {}", ec.message())});
      continue;
    }
    for (; it != end; it.increment(ec)) {
      if (ec) {
        skipped.push_back({dir.string(), fmt::format("cannot list directory: {}", ec.message())});
        break;
      }
      bool link = it->is_symlink(ec);
      auto type = it->status(ec).type();
      if (type == fs::file_type::directory && !link) dirs.push_back(it->path());
      else if (type == fs::file_type::regular) files.push_back(it->path().string());
      else if (type == fs::file_type::directory) skipped.push_back({it->path().string(), "link to a directory (not followed)"});
      else skipped.push_back({it->path().string(), ec ? ec.message() : "not a regular file (device, FIFO or socket)"});
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Result<InputFormat> detect_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIo, "cannot open");
  char head[4096];
  in.read(head, sizeof(head));
  auto n = static_cast<size_t>(in.gcount());
  std::string_view h(head, n);
  if (h.substr(0, 8) == std::string_view("ElfFile\0", 8)) return InputFormat::kEvtx;
  if (has_extension(path, {".evtx"})) return InputFormat::kEvtx;  // libevtx will say what is wrong
  if (has_extension(path, {".json", ".jsonl", ".ndjson"})) return InputFormat::kJson;
  if (has_extension(path, {".csv"})) return InputFormat::kCsv;
  if (has_extension(path, {".xml"})) return InputFormat::kXml;
  size_t p = h.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  if (h.substr(0, 2) == "\xFF\xFE" || h.substr(0, 2) == "\xFE\xFF") return InputFormat::kXml;  // UTF-16: XML exports
  while (p < n && (h[p] == ' ' || h[p] == '\t' || h[p] == '\r' || h[p] == '\n')) ++p;
  if (p == n) return Status(ErrorCode::kParse, "empty file");
  if (h[p] == '<') return InputFormat::kXml;
  if (h[p] == '{' || h[p] == '[') return InputFormat::kJson;
  std::string_view first = h.substr(p, h.find('\n', p) - p);
  if (h.find('\0') == std::string_view::npos && first.find(',') != std::string_view::npos) return InputFormat::kCsv;
  return Status(ErrorCode::kUnsupported, "unrecognised format (not JSON, event XML, .evtx or CSV)");
}

Result<InputPlan> plan_inputs(const std::vector<std::string>& paths, const ReadOptions& options) {
  InputPlan plan;
  const TimeWindow& w = options.filter.window;
  for (const auto& root : paths) {
    std::error_code ec;
    auto status = fs::status(root, ec);
    if (ec || !fs::exists(status)) return Status(ErrorCode::kNotFound, fmt::format("{}: no such file or directory", root));
    std::vector<std::string> files;
    if (fs::is_directory(status)) files = walk(root, plan.skipped);
    else if (fs::is_regular_file(status)) files.push_back(root);
    else
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("{}: not a regular file or directory (a device, FIFO or socket never ends or blocks)", root));
    // The last six components decide, so a root anywhere in or above the tree works.
    bool tree = std::any_of(files.begin(), files.end(),
                            [](const std::string& f) { return parse_export_blob_path(f).is_ok(); });
    std::vector<InputFile> found;
    for (const auto& f : files) {
      if (tree) {
        auto blob = parse_export_blob_path(f);
        if (!blob) {
          plan.skipped.push_back({f, blob.status().message()});
          continue;
        }
        if (!TimeWindow{w.from == kMinTicks ? kMinTicks : w.from - options.path_slack,
                        w.to == kMaxTicks ? kMaxTicks : w.to + options.path_slack}
                 .overlaps(blob->start, blob->start + blob->span)) {
          ++plan.pruned;
          continue;
        }
        found.push_back({f, InputFormat::kJson, true, blob->start, blob->overflow});
        continue;
      }
      InputFormat format = options.format;
      if (format == InputFormat::kAuto) {
        auto detected = detect_format(f);
        if (!detected) {
          if (detected.status().message() != "empty file") plan.skipped.push_back({f, detected.status().message()});
          continue;
        }
        format = *detected;
      }
      found.push_back({f, format});
    }
    if (tree)
      std::stable_sort(found.begin(), found.end(), [](const InputFile& a, const InputFile& b) {
        return std::tie(a.blob_start, a.overflow) < std::tie(b.blob_start, b.overflow);
      });
    plan.files.insert(plan.files.end(), found.begin(), found.end());
  }
  return plan;
}

void read_inputs(const InputPlan& plan, ReadContext& ctx) {
  ReadStats& stats = ctx.stats();
  stats.files_pruned += plan.pruned;
  for (const auto& s : plan.skipped) ctx.skip_file(s.path, s.reason);
  for (const auto& f : plan.files) {
    Status st;
    switch (f.format) {
      case InputFormat::kAuto:
      case InputFormat::kJson: st = read_json_file(f.path, ctx); break;
      case InputFormat::kEvtx: st = read_evtx_file(f.path, ctx); break;
      case InputFormat::kXml: st = read_xml_file(f.path, ctx); break;
      case InputFormat::kCsv: st = read_csv_file(f.path, ctx); break;
    }
    ++stats.files_by_format[input_format_name(f.format)];
    if (st.is_ok()) ++stats.files_read;
    else ctx.skip_file(f.path, st.message());
  }
  ctx.flush();
}

}  // namespace byoml
