// Interns strings to dense ids (0 is always the empty string, meaning "absent").
// Ids follow first appearance; the stable 64-bit hash of each string (XXH3) does not depend
// on reading order, so partitions by hash agree across processes and machines.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "byoml/common/bytes.h"

namespace byoml {

uint64_t stable_hash(std::string_view s);

class StringPool {
 public:
  StringPool();
  StringPool(const StringPool&) = delete;
  StringPool& operator=(const StringPool&) = delete;
  StringPool(StringPool&&) = default;
  StringPool& operator=(StringPool&&) = default;

  uint32_t intern(std::string_view s) { return is_last(s) ? last_id_ : intern(s, stable_hash(s)); }
  // `h` must be stable_hash(s) (a worker's pool computed it already).
  uint32_t intern(std::string_view s, uint64_t h);
  std::optional<uint32_t> find(std::string_view s) const;
  // Starts fetching the table slot intern(s, h) will read first, so that several misses overlap.
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }
  std::string_view str(uint32_t id) const { return strings_[id]; }
  uint64_t hash(uint32_t id) const { return hashes_[id]; }
  // The id of the string interned last, when `s` is that string (consecutive events often
  // repeat a value: one tenant, one server per blob).
  std::optional<uint32_t> last(std::string_view s) const {
    return is_last(s) ? std::optional<uint32_t>(last_id_) : std::nullopt;
  }
  uint32_t size() const { return static_cast<uint32_t>(strings_.size()); }
  size_t bytes_used() const;

 private:
  uint32_t insert(std::string_view s, uint64_t h);
  bool is_last(std::string_view s) const { return s.size() == last_.size() && same_bytes(s.data(), last_.data(), s.size()); }
  void grow();
  std::string_view store(std::string_view s);

  std::vector<std::string_view> strings_;
  std::vector<uint64_t> hashes_;
  struct Slot {
    uint64_t hash;     // kept beside the text so a probe needs no other memory access
    const char* text;  // the stored string
    uint32_t size;
    uint32_t id1;      // id + 1, 0 = empty
  };
  std::vector<Slot> slots_;  // open addressing, linear probing, at most half full
  uint64_t mask_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* current_ = nullptr;  // block that short strings are appended to
  size_t block_used_ = 0;
  // A one-entry cache of the last string interned, which skips hashing (see last()).
  std::string_view last_;
  uint32_t last_id_ = 0;
  size_t arena_bytes_ = 0;
};

}  // namespace byoml
