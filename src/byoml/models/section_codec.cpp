#include "byoml/models/section_codec.h"

#include <fmt/format.h>

namespace byoml {

void SectionWriter::str(std::string_view s) {
  put(static_cast<uint32_t>(s.size()));
  out_.append(s);
}

void SectionWriter::strings(const std::vector<std::string>& v) {
  put(static_cast<uint64_t>(v.size()));
  for (const auto& s : v) str(s);
}

void SectionWriter::u32s(const std::vector<uint32_t>& v) {
  put(static_cast<uint64_t>(v.size()));
  bytes(v.data(), 4 * v.size());
}

std::string SectionReader::str() {
  auto n = get<uint32_t>();
  if (!need(n)) return {};
  std::string s(data_.substr(pos_, n));
  pos_ += n;
  return s;
}

uint64_t SectionReader::count(uint64_t n, size_t item_bytes) {
  if (item_bytes > 0 && n > (data_.size() - pos_) / item_bytes) fail(fmt::format("count {} exceeds the section", n));
  return ok() ? n : 0;
}

std::string_view SectionReader::view(uint64_t n) {
  if (!need(n)) return {};
  std::string_view v = data_.substr(pos_, n);
  pos_ += n;
  return v;
}

void SectionReader::raw(void* dst, size_t n) {
  if (n > 0 && need(n)) std::memcpy(dst, data_.data() + pos_, n), pos_ += n;  // an empty vector's dst is null
}

std::vector<std::string> SectionReader::strings() {
  uint64_t n = count(get<uint64_t>(), 4);
  std::vector<std::string> v;
  v.reserve(n);
  for (uint64_t i = 0; i < n && ok(); ++i) v.push_back(str());
  return v;
}

std::vector<uint32_t> SectionReader::u32s() {
  uint64_t n = count(get<uint64_t>(), 4);
  std::vector<uint32_t> v(n);
  raw(v.data(), 4 * n);
  return v;
}

void SectionReader::fail(const std::string& why) {
  if (error_.empty()) error_ = fmt::format("{}: {}", what_, why);
}

bool SectionReader::need(uint64_t n) {
  if (!ok()) return false;
  if (n > data_.size() - pos_) {
    fail(fmt::format("truncated (needs {} bytes at offset {}, {} left)", n, pos_, data_.size() - pos_));
    return false;
  }
  return true;
}

}  // namespace byoml
