#include "byoml/events/string_pool.h"

// Inlined: a call into the shared library costs as much as hashing a short string. (GCC 12
// reports false "uninitialized" warnings inside the AVX-512 intrinsics this pulls in.)
#define XXH_INLINE_ALL
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <xxhash.h>
#pragma GCC diagnostic pop

#include <cstring>

#include "byoml/common/bytes.h"
#include "byoml/common/status.h"

namespace byoml {
namespace {
constexpr size_t kBlockBytes = 1 << 20;
}

uint64_t stable_hash(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

StringPool::StringPool() : slots_(1024, Slot{0, nullptr, 0, 0}), mask_(1023) { insert("", stable_hash("")); }

size_t StringPool::bytes_used() const {
  return arena_bytes_ + strings_.capacity() * (sizeof(std::string_view) + sizeof(uint64_t)) +
         slots_.capacity() * sizeof(Slot);
}

std::string_view StringPool::store(std::string_view s) {
  if (s.empty()) return {};
  char* dst;
  if (s.size() > kBlockBytes / 4) {
    // A long string gets a block of its own; the current block keeps serving short ones.
    blocks_.push_back(std::make_unique<char[]>(s.size()));
    arena_bytes_ += s.size();
    dst = blocks_.back().get();
  } else {
    if (current_ == nullptr || block_used_ + s.size() > kBlockBytes) {
      blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
      arena_bytes_ += kBlockBytes;
      current_ = blocks_.back().get();
      block_used_ = 0;
    }
    dst = current_ + block_used_;
    block_used_ += s.size();
  }
  std::memcpy(dst, s.data(), s.size());
  return {dst, s.size()};
}

void StringPool::grow() {
  std::vector<Slot> bigger(slots_.size() * 2, Slot{0, nullptr, 0, 0});
  uint64_t mask = bigger.size() - 1;
  for (uint32_t id = 0; id < strings_.size(); ++id) {
    uint64_t i = hashes_[id] & mask;
    while (bigger[i].id1 != 0) i = (i + 1) & mask;
    bigger[i] = {hashes_[id], strings_[id].data(), static_cast<uint32_t>(strings_[id].size()), id + 1};
  }
  slots_.swap(bigger);
  mask_ = mask;
}

uint32_t StringPool::insert(std::string_view s, uint64_t h) {
  BYOML_CHECK(strings_.size() < UINT32_MAX - 1);
  if ((strings_.size() + 1) * 2 > slots_.size()) grow();
  uint32_t id = static_cast<uint32_t>(strings_.size());
  std::string_view stored = store(s);
  strings_.push_back(stored);
  hashes_.push_back(h);
  uint64_t i = h & mask_;
  while (slots_[i].id1 != 0) i = (i + 1) & mask_;
  slots_[i] = {h, stored.data(), static_cast<uint32_t>(stored.size()), id + 1};
  return id;
}

namespace {
bool same(const char* text, uint32_t size, std::string_view s) {
  return size == s.size() && same_bytes(text, s.data(), size);
}
}  // namespace

std::optional<uint32_t> StringPool::find(std::string_view s) const {
  uint64_t h = stable_hash(s);
  for (uint64_t i = h & mask_; slots_[i].id1 != 0; i = (i + 1) & mask_)
    if (slots_[i].hash == h && same(slots_[i].text, slots_[i].size, s)) return slots_[i].id1 - 1;
  return std::nullopt;
}

uint32_t StringPool::intern(std::string_view s, uint64_t h) {
  for (uint64_t i = h & mask_; slots_[i].id1 != 0; i = (i + 1) & mask_)
    if (slots_[i].hash == h && same(slots_[i].text, slots_[i].size, s)) {
      last_ = {slots_[i].text, slots_[i].size};
      return last_id_ = slots_[i].id1 - 1;
    }
  last_id_ = insert(s, h);
  last_ = strings_[last_id_];
  return last_id_;
}

}  // namespace byoml
