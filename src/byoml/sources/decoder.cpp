#include "byoml/sources/decoder.h"

#include <fmt/format.h>

#include <algorithm>

namespace byoml {
namespace {

bool has_extension(std::string_view name, std::initializer_list<const char*> exts) {
  auto dot = name.rfind('.');
  auto slash = name.find_last_of("/\\");
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return false;
  std::string ext(name.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(exts.begin(), exts.end(), [&](const char* e) { return ext == e; });
}

// The first character that is not a byte-order mark or white space.
size_t content_start(std::string_view h) {
  size_t p = h.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  while (p < h.size() && (h[p] == ' ' || h[p] == '\t' || h[p] == '\r' || h[p] == '\n')) ++p;
  return p;
}

int sniff_evtx(std::string_view h, std::string_view name) {
  if (h.substr(0, 8) == std::string_view("ElfFile\0", 8)) return 3;
  return has_extension(name, {".evtx"}) ? 2 : 0;  // libevtx will say what is wrong
}

int sniff_json(std::string_view h, std::string_view name) {
  if (has_extension(name, {".json", ".jsonl", ".ndjson"})) return 2;
  size_t p = content_start(h);
  return p < h.size() && (h[p] == '{' || h[p] == '[') ? 1 : 0;
}

int sniff_xml(std::string_view h, std::string_view name) {
  if (has_extension(name, {".xml"})) return 2;
  if (h.substr(0, 2) == "\xFF\xFE" || h.substr(0, 2) == "\xFE\xFF") return 1;  // UTF-16: XML exports
  size_t p = content_start(h);
  return p < h.size() && h[p] == '<' ? 1 : 0;
}

int sniff_csv(std::string_view h, std::string_view name) {
  if (has_extension(name, {".csv"})) return 2;
  size_t p = content_start(h);
  std::string_view first = h.substr(p, h.find('\n', p) - p);
  return h.find('\0') == std::string_view::npos && first.find(',') != std::string_view::npos ? 1 : 0;
}

}  // namespace

const std::vector<Decoder>& decoders() {
  static const std::vector<Decoder> table = {
      {"evtx", "raw Windows .evtx", sniff_evtx, decode_evtx},
      {"json", "JSON Lines or one document: export rows, Event Hub messages, NXLog", sniff_json, decode_json},
      {"xml", "Windows event XML", sniff_xml, decode_xml},
      {"csv", "CSV with a header line", sniff_csv, decode_csv},
  };
  return table;
}

const Decoder* find_decoder(std::string_view name) {
  for (const auto& d : decoders())
    if (name == d.name) return &d;
  return nullptr;
}

Result<const Decoder*> detect_decoder(std::string_view head, std::string_view name) {
  const Decoder* best = nullptr;
  int best_score = 0;
  for (const auto& d : decoders()) {
    int score = d.sniff(head, name);
    if (score > best_score) best = &d, best_score = score;
  }
  if (best_score >= 2) return best;  // a signature or a name says it, even for an empty object
  if (content_start(head) == head.size())
    return Status(ErrorCode::kNotFound, "empty file");
  if (best) return best;
  std::string names;
  for (const auto& d : decoders()) names += fmt::format("{}{}", names.empty() ? "" : ", ", d.name);
  return Status(ErrorCode::kUnsupported, fmt::format("unrecognised format (not {})", names));
}

}  // namespace byoml
