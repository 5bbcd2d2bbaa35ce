// Little-endian encoding of a model file's sections. Every read is bounds-checked: the first
// failure sticks (with where it happened) and later reads return zeros, so a detector decodes
// a section straight through and checks ok() once, and a corrupt file never crashes it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace byoml {

class SectionWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(std::string_view s);  // u32 length, bytes
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void strings(const std::vector<std::string>& v);  // u64 count, each str()
  void u32s(const std::vector<uint32_t>& v);        // u64 count, values
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class SectionReader {
 public:
  SectionReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v{};
    if (need(sizeof v)) std::memcpy(&v, data_.data() + pos_, sizeof v), pos_ += sizeof v;
    return v;
  }
  std::string str();
  // A count of items of `item_bytes` each, checked against what is left so that a corrupt
  // count cannot ask for a huge allocation.
  uint64_t count(uint64_t n, size_t item_bytes);
  std::string_view view(uint64_t n);
  void raw(void* dst, size_t n);
  std::vector<std::string> strings();
  std::vector<uint32_t> u32s();

  bool ok() const { return error_.empty(); }
  bool at_end() const { return pos_ == data_.size(); }
  void fail(const std::string& why);
  const std::string& error() const { return error_; }

 private:
  bool need(uint64_t n);
  std::string_view data_;
  std::string what_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace byoml
